// C harness of the Verilated system top (hw/system.py: DystaSystem with one accelerator),
// loaded with ctypes by mmsched.sim.rtl.verilator.VerilatorSystemSession. One simulation holds
// the Dysta scheduler and the accelerator; the system sends the scheduler LAYER_DONE itself
// from the accelerator's monitor. The host's per-cycle work (command handshakes, memory
// writes, waiting for done, output reads) runs here, a handful of calls per layer.
// Same cycle conventions as dysta_harness.cpp and harness.cpp: inputs are set with the clock
// low, eval() settles the outputs (sampled then), then one rising and one falling edge.
// Cycle 0 is the first cycle; rst is tied to 0 (registers start at their initial values).
// Verilator spells Amaranth's "__" in port names "___05F".
#include <cstdint>

#include "Vdysta_system.h"
#include "ports.h"
#include "verilated.h"

namespace {

struct Sys {
    VerilatedContext* ctx;
    Vdysta_system* top;
    uint64_t cycles;
};

using mmsched_ports::clearp;
using mmsched_ports::getp;
using mmsched_ports::setp;

void tick(Sys* s) {
    mmsched_ports::step(s->top);
    s->cycles++;
}

// Wait for a host response (max_wait cycles), record it, take it. out_cycles[1]: the response
// cycle; out_now: the counter then; out_resp: 3 words; out_sent: 3 words of `sent`.
int take_response(Sys* s, uint64_t from, uint64_t max_wait, uint64_t* out_cycles,
                  uint64_t* out_now, uint32_t* out_resp, uint32_t* out_sent) {
    while (!s->top->host_resp___05Fvalid) {
        tick(s);
        if (s->cycles - from > max_wait) return -1;
    }
    out_cycles[1] = s->cycles;
    *out_now = static_cast<uint64_t>(s->top->now);
    getp(s->top->host_resp___05Fpayload, out_resp);
    tick(s);
    getp(s->top->sent, out_sent);  // registered: final once the response was taken
    return 0;
}

}  // namespace

extern "C" {

void* sys_new() {
    Sys* s = new Sys;
    s->ctx = new VerilatedContext;
    s->top = new Vdysta_system{s->ctx};
    s->cycles = 0;
    s->top->clk = 0;
    clearp(s->top->host_cmd___05Fpayload);
    s->top->host_cmd___05Fvalid = 0;
    s->top->host_resp___05Fready = 1;
    clearp(s->top->acc0_act_wr);
    clearp(s->top->acc0_wt_wr);
    clearp(s->top->acc0_job___05Fpayload);
    s->top->acc0_job___05Fvalid = 0;
    s->top->acc0_done___05Fready = 0;
    s->top->acc0_out_rd_addr = 0;
    s->top->eval();
    return s;
}

void sys_free(void* h) {
    Sys* s = static_cast<Sys*>(h);
    s->top->final();
    delete s->top;
    delete s->ctx;
    delete s;
}

uint64_t sys_cycles(void* h) { return static_cast<Sys*>(h)->cycles; }

// A host command (word: 5 x 32-bit words). out_cycles: accept and response cycle; out_now:
// the counter in the response cycle. Returns 0, or -1 without a response in max_wait cycles.
int sys_issue(void* h, const uint32_t* word, uint64_t* out_cycles, uint64_t* out_now,
              uint32_t* out_resp, uint32_t* out_sent, uint64_t max_wait) {
    Sys* s = static_cast<Sys*>(h);
    setp(s->top->host_cmd___05Fpayload, word);
    s->top->host_cmd___05Fvalid = 1;
    s->top->eval();
    uint64_t start = s->cycles;
    while (!s->top->host_cmd___05Fready) {
        tick(s);
        if (s->cycles - start > max_wait) return -1;
    }
    out_cycles[0] = s->cycles;
    tick(s);
    s->top->host_cmd___05Fvalid = 0;
    s->top->eval();
    return take_response(s, out_cycles[0], max_wait, out_cycles, out_now, out_resp, out_sent);
}

// n packed act_wr / wt_wr values (stride 32-bit words each), one per cycle.
void sys_write_act(void* h, int n, const uint32_t* data, int stride) {
    Sys* s = static_cast<Sys*>(h);
    for (int i = 0; i < n; i++) {
        setp(s->top->acc0_act_wr, data + static_cast<std::size_t>(i) * stride);
        s->top->eval();
        tick(s);
    }
    clearp(s->top->acc0_act_wr);
    s->top->eval();
}

void sys_write_wt(void* h, int n, const uint32_t* data, int stride) {
    Sys* s = static_cast<Sys*>(h);
    for (int i = 0; i < n; i++) {
        setp(s->top->acc0_wt_wr, data + static_cast<std::size_t>(i) * stride);
        s->top->eval();
        tick(s);
    }
    clearp(s->top->acc0_wt_wr);
    s->top->eval();
}

// Start a tagged job (job_layout payload words) and wait for its done record (into done_out;
// accept-to-done span into *span). take != 0: the record is taken (one cycle); take == 0: it
// is left waiting (done.ready low) for sys_release. Returns 0, or 1 after max_cycles.
int sys_job(void* h, const uint32_t* job, int take, uint32_t* done_out, uint64_t max_cycles,
            uint64_t* span) {
    Sys* s = static_cast<Sys*>(h);
    setp(s->top->acc0_job___05Fpayload, job);
    s->top->acc0_job___05Fvalid = 1;
    s->top->eval();
    uint64_t limit = s->cycles + max_cycles;
    while (!s->top->acc0_job___05Fready) {
        tick(s);
        if (s->cycles > limit) return 1;
    }
    uint64_t accept = s->cycles;
    tick(s);
    s->top->acc0_job___05Fvalid = 0;
    s->top->eval();
    while (!s->top->acc0_done___05Fvalid) {
        tick(s);
        if (s->cycles > limit) return 1;
    }
    *span = s->cycles - accept;
    getp(s->top->acc0_done___05Fpayload, done_out);
    if (take) {
        s->top->acc0_done___05Fready = 1;
        s->top->eval();
        tick(s);
        s->top->acc0_done___05Fready = 0;
        s->top->eval();
    }
    return 0;
}

// Take the waiting done record of a layer's last job (one cycle) and wait for the response
// to the LAYER_DONE the system then sends the scheduler (same outputs as sys_issue; the
// accept cycle is left to the caller: response cycle - latency).
int sys_release(void* h, uint64_t* out_cycles, uint64_t* out_now, uint32_t* out_resp,
                uint32_t* out_sent, uint64_t max_wait) {
    Sys* s = static_cast<Sys*>(h);
    s->top->acc0_done___05Fready = 1;
    s->top->eval();
    uint64_t start = s->cycles;
    tick(s);
    s->top->acc0_done___05Fready = 0;
    s->top->eval();
    out_cycles[0] = start;
    return take_response(s, start, max_wait, out_cycles, out_now, out_resp, out_sent);
}

// Read n output words (synchronous read: the word is there the cycle after its address).
void sys_read_out(void* h, int n, const uint32_t* addrs, uint32_t* out, int stride) {
    Sys* s = static_cast<Sys*>(h);
    for (int i = 0; i < n; i++) {
        s->top->acc0_out_rd_addr = addrs[i];
        s->top->eval();
        tick(s);
        getp(s->top->acc0_out_rd_data, out + static_cast<std::size_t>(i) * stride);
    }
}

}  // extern "C"
