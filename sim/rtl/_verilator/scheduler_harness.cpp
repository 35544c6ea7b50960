// C harness of the Verilated Dysta scheduler (hw/dysta), loaded with ctypes by
// mmsched.sim.rtl.verilator.VerilatorSession. One call per command: the handshake, the wait for the
// response and the cycle counting run in C, with the same conventions as the cocotb server
// (mmsched/sim/rtl/_cocotb_scheduler_server.py): inputs set with the clock low, eval() settles the
// outputs (sampled then), then one rising and one falling edge. Cycle 0 is the first cycle
// (counter value 0); rst is tied to 0 (registers start at their initial values).
#include <cstdint>

#include "Vdysta_sched.h"
#include "ports.h"
#include "verilated.h"

namespace {

struct Sched {
    VerilatedContext* ctx;
    Vdysta_sched* top;
    uint64_t cycles;
};

void tick(Sched* s) {
    mmsched_ports::step(s->top);
    s->cycles++;
}

}  // namespace

extern "C" {

void* ds_new() {
    Sched* s = new Sched;
    s->ctx = new VerilatedContext;
    s->top = new Vdysta_sched{s->ctx};
    s->cycles = 0;
    s->top->clk = 0;
    for (int i = 0; i < 5; i++) s->top->cmd___05Fpayload[i] = 0;
    s->top->cmd___05Fvalid = 0;
    s->top->resp___05Fready = 1;
    s->top->eval();
    return s;
}

void ds_free(void* h) {
    Sched* s = static_cast<Sched*>(h);
    s->top->final();
    delete s->top;
    delete s->ctx;
    delete s;
}

// word: 5 x 32-bit words (143-bit command, LSB first); out: accept cycle, response cycle,
// and the 70-bit response in 3 x 32-bit words. Returns 0, or -1 if no response came within
// max_wait cycles.
int ds_issue(void* h, const uint32_t* word, int gap, uint64_t* out_cycles, uint32_t* out_resp,
             uint64_t max_wait) {
    Sched* s = static_cast<Sched*>(h);
    for (int i = 0; i < gap; i++) tick(s);
    for (int i = 0; i < 5; i++) s->top->cmd___05Fpayload[i] = word[i];
    s->top->cmd___05Fvalid = 1;
    s->top->eval();
    while (!s->top->cmd___05Fready) tick(s);
    uint64_t accept = s->cycles;
    tick(s);
    s->top->cmd___05Fvalid = 0;
    s->top->eval();
    while (!s->top->resp___05Fvalid) {
        tick(s);
        if (s->cycles - accept > max_wait) return -1;
    }
    out_cycles[0] = accept;
    out_cycles[1] = s->cycles;
    for (int i = 0; i < 3; i++) out_resp[i] = s->top->resp___05Fpayload[i];
    tick(s);
    return 0;
}

}  // extern "C"
