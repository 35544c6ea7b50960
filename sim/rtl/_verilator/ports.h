// Shared by the C harnesses of the Verilated models (*_harness.cpp):
// port access by 32-bit words and the clock step. Part of every harness's build cache key
// (mmsched.sim.rtl.build.cache_key).
#pragma once
#include <cstddef>
#include <cstdint>

#include "verilated.h"

namespace mmsched_ports {

// Ports of up to 64 bits are integers; wider ones are VlWide<N> arrays of 32-bit words.
// Buffers passed in hold at least 2 words.
template <typename T>
inline void setp(T& port, const uint32_t* w) {
    port = static_cast<T>(static_cast<uint64_t>(w[0]) | (static_cast<uint64_t>(w[1]) << 32));
}
template <std::size_t N>
inline void setp(VlWide<N>& port, const uint32_t* w) {
    for (std::size_t i = 0; i < N; i++) port[i] = w[i];
}
template <typename T>
inline void getp(const T& port, uint32_t* w) {
    uint64_t v = static_cast<uint64_t>(port);
    w[0] = static_cast<uint32_t>(v);
    w[1] = static_cast<uint32_t>(v >> 32);
}
template <std::size_t N>
inline void getp(const VlWide<N>& port, uint32_t* w) {
    for (std::size_t i = 0; i < N; i++) w[i] = port[i];
}
template <typename T>
inline void clearp(T& port) { port = 0; }
template <std::size_t N>
inline void clearp(VlWide<N>& port) { for (std::size_t i = 0; i < N; i++) port[i] = 0; }

// One clock cycle: a rising and a falling edge (inputs were set, and outputs sampled, with
// the clock low).
template <typename Top>
inline void step(Top* top) {
    top->clk = 1;
    top->eval();
    top->clk = 0;
    top->eval();
}

}  // namespace mmsched_ports
