// C harness of the Verilated accelerator top, loaded with ctypes by the ``verilator`` backend.
// The host's per-cycle work (memory writes, command handshake, waiting for done, output
// reads) is a loop in C, so Python pays one call per batch of cycles. Each cycle: inputs are
// set with the clock low, eval() settles combinational outputs (sampled then), then one
// rising and one falling edge. Verilator spells Amaranth's "__" in port names "___05F".
#include <cstdint>
#include <cstring>

#include "Vaccelerator.h"
#include "ports.h"
#include "verilated.h"

namespace {

struct Acc {
    VerilatedContext* ctx;
    Vaccelerator* top;
    uint64_t cycles;
};

using mmsched_ports::clearp;
using mmsched_ports::getp;
using mmsched_ports::setp;

void tick(Acc* a) {
    mmsched_ports::step(a->top);
    a->cycles++;
}

}  // namespace

extern "C" {

void* acc_new() {
    Acc* a = new Acc;
    a->ctx = new VerilatedContext;
    a->top = new Vaccelerator{a->ctx};
    a->cycles = 0;
    a->top->clk = 0;
    clearp(a->top->act_wr);
    clearp(a->top->wt_wr);
    clearp(a->top->cmd___05Fpayload);
    a->top->cmd___05Fvalid = 0;
    a->top->done___05Fready = 0;
    a->top->out_rd_addr = 0;
    a->top->eval();  // registers start at their initial (reset) values; rst is tied to 0
    tick(a);
    tick(a);
    return a;
}

void acc_free(void* h) {
    Acc* a = static_cast<Acc*>(h);
    a->top->final();
    delete a->top;
    delete a->ctx;
    delete a;
}

uint64_t acc_cycles(void* h) { return static_cast<Acc*>(h)->cycles; }

// n packed act_wr values (stride 32-bit words each), one per cycle.
void acc_write_act(void* h, int n, const uint32_t* data, int stride) {
    Acc* a = static_cast<Acc*>(h);
    for (int i = 0; i < n; i++) {
        setp(a->top->act_wr, data + static_cast<std::size_t>(i) * stride);
        a->top->eval();
        tick(a);
    }
    clearp(a->top->act_wr);
    a->top->eval();
}

void acc_write_wt(void* h, int n, const uint32_t* data, int stride) {
    Acc* a = static_cast<Acc*>(h);
    for (int i = 0; i < n; i++) {
        setp(a->top->wt_wr, data + static_cast<std::size_t>(i) * stride);
        a->top->eval();
        tick(a);
    }
    clearp(a->top->wt_wr);
    a->top->eval();
}

// Issue the command, wait for done; done record words into done_out, accept-to-done span
// into *span. Returns 0, or 1 when max_cycles passed without done.
int acc_run(void* h, const uint32_t* cmd, uint32_t* done_out, uint64_t max_cycles,
            uint64_t* span) {
    Acc* a = static_cast<Acc*>(h);
    setp(a->top->cmd___05Fpayload, cmd);
    a->top->cmd___05Fvalid = 1;
    a->top->eval();
    uint64_t limit = a->cycles + max_cycles;
    while (!a->top->cmd___05Fready) {
        tick(a);
        if (a->cycles > limit) return 1;
    }
    uint64_t accept = a->cycles;
    tick(a);
    a->top->cmd___05Fvalid = 0;
    a->top->done___05Fready = 1;
    a->top->eval();
    while (!a->top->done___05Fvalid) {
        tick(a);
        if (a->cycles > limit) return 1;
    }
    *span = a->cycles - accept;
    getp(a->top->done___05Fpayload, done_out);
    tick(a);
    a->top->done___05Fready = 0;
    a->top->eval();
    return 0;
}

// Read n output words (synchronous read: the word is there the cycle after its address).
void acc_read_out(void* h, int n, const uint32_t* addrs, uint32_t* out, int stride) {
    Acc* a = static_cast<Acc*>(h);
    for (int i = 0; i < n; i++) {
        a->top->out_rd_addr = addrs[i];
        a->top->eval();
        tick(a);
        getp(a->top->out_rd_data, out + static_cast<std::size_t>(i) * stride);
    }
}

}  // extern "C"
