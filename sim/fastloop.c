/* The engine's single-accelerator loop with the Dysta benchmark's policies, compiled.
 *
 * A transcription of mmsched.sim.engine._run_single driving the policies of
 * sched/policies/ (_base.py, dysta.py, prema.py, sdrm3.py, sjf.py, fcfs.py, edf.py,
 * planaria.py, rr.py) and mmsched.sched.gamma.observe:
 * the same events in the same order, and every floating-point operation of the Python code
 * in the same order, so that its records equal the Python loop's bit for bit (tested in
 * tests/sim/test_fastloop.py). Times are doubles: integer cycles below 2^53 are exact, and
 * the Python wrapper (sim/fastloop.py) converts them back to ints. Compile without
 * -ffast-math and with -ffp-contract=off (no fused multiply-add), as sim/fastloop.py does.
 *
 * No Python API: the wrapper passes arrays through ctypes. Returns 0 on success, 1 when a
 * policy finds no task to run (the Python loop then runs the same case and reports it), 2
 * when memory runs out.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { DYSTA = 0, PREMA = 1, SDRM3 = 2, SJF = 3, FCFS = 4, EDF = 5, PLANARIA = 6, RR = 7 };

typedef struct {
    /* requests, in (arrival, id) order */
    int64_t n;
    const double *arrival, *deadline, *prio;
    const int64_t *row;      /* offset of the request's layers in cycles / density */
    const int64_t *prof;     /* offset of its profile block in rem / lay / dens */
    const int64_t *nlayers;
    const int64_t *stream;   /* rr: the request's stream, numbered in order of first arrival */
    /* layers of every row used: time, monitored density (nnz / total) */
    const double *cycles, *density;
    int64_t ncycles;         /* their length */
    /* profile blocks of nlayers + 1 values: remaining (suffix sums), layer estimate, density */
    const double *rem, *lay, *dens;
    /* the policy */
    int64_t kind, monitor, last_one, sparse, trivial, oracle;
    double beta, fair, alpha, resources;
    int64_t cumulative, shared_gamma, per_layer, compat_max;
    /* the engine's compat switches */
    int64_t strict, rewind;
    int64_t keep;            /* the layer log's length: its first layers are logged */
} Params;

typedef struct {
    double *start, *finish;  /* per request */
    int64_t *order;          /* finish rank per request */
    int64_t *lreq, *lj;      /* layer log (keep): request index, layer, start time */
    double *lstart;
    int64_t decisions;
    double end;
} Output;

typedef struct {             /* per-request policy state (_base._State) */
    int64_t *j, *gn;
    double *last, *iso, *g, *gsum, *est, *enext, *token, *acct;
    double *trem;            /* dysta_oracle: true remaining time per (row, layer) */
    int64_t streams, ptr;    /* rr: streams seen, the cyclic pointer */
} State;

static void refresh(const Params *p, State *s, int64_t k) {
    int64_t o = p->prof[k] + s->j[k];
    double g = s->g[k];
    switch (p->kind) {
    case DYSTA:
        s->est[k] = p->oracle ? s->trem[p->row[k] + s->j[k]] : g * p->rem[o];
        break;
    case PREMA:
        s->est[k] = p->rem[o];
        break;
    case SDRM3:
        if (p->sparse) {
            s->est[k] = g * p->rem[o];
            s->enext[k] = g * (p->per_layer ? p->lay[o] : s->iso[k]);
        } else {
            s->est[k] = p->rem[o];
            s->enext[k] = p->per_layer ? p->lay[o] : s->iso[k];
        }
        break;
    default:  /* _base.EstimatePolicy._refresh (sjf, planaria); unused by fcfs, edf, rr */
        s->est[k] = g * p->rem[o];
    }
}

/* dysta_oracle's true remaining times (_base.true_suffix_sums): each suffix summed left to
   right, as suffix_sums_ltr in seconds; in cycles the sums are exact integers either way */
static void true_suffix_sums(const Params *p, State *s, int64_t k) {
    int64_t r = p->row[k], n = p->nlayers[k];
    for (int64_t j = 0; j < n; j++) {
        double acc = 0.0;
        for (int64_t i = j; i < n; i++) acc += p->cycles[r + i];
        s->trem[r + j] = acc;
    }
}

static void admit(const Params *p, State *s, int64_t k) {
    s->j[k] = 0;
    s->gn[k] = 0;
    s->last[k] = p->arrival[k];
    s->acct[k] = p->arrival[k];
    if (p->oracle) true_suffix_sums(p, s, k);
    s->iso[k] = p->oracle ? s->trem[p->row[k]] : p->rem[p->prof[k]];
    if (p->kind == RR && p->stream[k] == s->streams) s->streams++;  /* on_arrival */
    s->g[k] = 1.0;
    s->gsum[k] = 0.0;
    s->est[k] = 0.0;
    s->enext[k] = 0.0;
    s->token[k] = -1.0;
    refresh(p, s, k);
}

static int64_t select_dysta(const Params *p, const State *s, const int64_t *q, int64_t n,
                            double now) {
    if (n == 1) return 0;
    int64_t best = -1;
    double bv = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = q[i];
        double r = s->est[k];
        double u = p->deadline[k] - now - r;
        if (u < 0) u = 0.0;
        double v = r + p->beta * (u + (now - s->last[k]) / s->iso[k] / (double)n * p->fair);
        if (best < 0 || v < bv) {
            bv = v;
            best = i;
        }
    }
    return best;
}

static int64_t select_prema(const Params *p, State *s, const int64_t *q, int64_t n,
                            double now) {
    double max_token = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = q[i];
        if (s->token[k] < 0) {
            s->token[k] = p->prio[k];
        } else {
            double since = (p->cumulative || s->acct[k] < s->last[k]) ? s->last[k]
                                                                       : s->acct[k];
            double norm = p->sparse ? s->g[k] * s->iso[k] : s->iso[k];
            double wait = now - since;
            /* prema._stalled when the norm is 0 */
            s->token[k] += p->prio[k] * (norm != 0 ? wait / norm : wait != 0 ? HUGE_VAL : 0.0);
            if (max_token < s->token[k]) max_token = s->token[k];
        }
        s->acct[k] = now;
    }
    double g_last = s->g[q[n - 1]];
    double threshold = max_token >= 9 ? 9.0 : max_token >= 3 ? 3.0 : 1.0;
    int64_t best = -1;
    double bv = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = q[i];
        if (s->token[k] >= threshold) {
            double v = s->est[k];
            if (p->sparse) v = (p->shared_gamma ? g_last : s->g[k]) * v;
            if (best < 0 || v < bv) {
                bv = v;
                best = i;
            }
        }
    }
    return best;
}

/* One step of _base.artifact_running_max (the artifact's arg-max, defect 5): whether the
   queue's request k with this score replaces the best so far (queue position best, -1 for
   none; the maximum *mx starts at -1) */
static int running_max_takes(const Params *p, const int64_t *q, int64_t best, int64_t k,
                             double score, double *mx) {
    if (!(*mx < 0 || *mx <= score)) return 0;
    if (*mx == score && best >= 0 && p->arrival[q[best]] < p->arrival[k]) return 0;
    *mx = score;
    return 1;
}

static int64_t select_sdrm3(const Params *p, const State *s, const int64_t *q, int64_t n,
                            double now) {
    int64_t best = -1;
    if (p->compat_max) {  /* _base.artifact_running_max over IEEE quotients (ieee_div) */
        double mx = -1.0;
        for (int64_t i = 0; i < n; i++) {
            int64_t k = q[i];
            double urg = s->est[k] / (p->deadline[k] - now);
            if (urg > 1) urg = 1.0;
            double score = urg + p->alpha * ((now - s->last[k]) / s->enext[k]);
            if (running_max_takes(p, q, best, k, score, &mx)) best = i;
        }
        return best;
    }
    double bv = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = q[i];
        double slack = p->deadline[k] - now;
        double urg = slack > 0 ? s->est[k] / slack : 1.0;
        if (urg > 1) urg = 1.0;
        double v = urg + p->alpha * (s->enext[k] != 0 ? (now - s->last[k]) / s->enext[k] : 0.0);
        if (best < 0 || v > bv) {
            bv = v;
            best = i;
        }
    }
    return best;
}

/* The first least v[k] over the queue (sjf: the estimate; edf: the deadline) */
static int64_t first_min(const double *v, const int64_t *q, int64_t n) {
    int64_t best = 0;
    double bv = v[q[0]];
    for (int64_t i = 0; i < n; i++) {
        if (v[q[i]] < bv) {
            bv = v[q[i]];
            best = i;
        }
    }
    return best;
}

static int64_t select_planaria(const Params *p, const int64_t *q, int64_t n, double now) {
    if (n == 1) return 0;
    int64_t best = -1;
    if (p->compat_max) {  /* artifact_running_max over ieee_div(prio, slack x resources) */
        double mx = -1.0;
        for (int64_t i = 0; i < n; i++) {
            int64_t k = q[i];
            double score = p->prio[k] / ((p->deadline[k] - now) * p->resources);
            if (running_max_takes(p, q, best, k, score, &mx)) best = i;
        }
        return best;
    }
    /* the least key: (-1, -prio, deadline) when late, else (0, -(prio / (slack x res))) */
    int late_best = 0;
    double a = 0.0, b = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int64_t k = q[i];
        double slack = p->deadline[k] - now;
        int late = slack <= 0;
        double ka = late ? -p->prio[k] : -(p->prio[k] / (slack * p->resources));
        double kb = late ? p->deadline[k] : 0.0;
        int less;
        if (best < 0 || late != late_best)
            less = best < 0 || late > late_best;
        else
            less = ka < a || (!(a < ka) && late && kb < b);
        if (less) {
            best = i;
            late_best = late;
            a = ka;
            b = kb;
        }
    }
    return best;
}

static int64_t select_rr(const Params *p, State *s, const int64_t *q, int64_t n) {
    int64_t m = s->streams, ptr = s->ptr, best = -1, br = m;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = ((p->stream[q[i]] - ptr) % m + m) % m;
        if (r < br) {
            br = r;
            best = i;
            if (r == 0) break;
        }
    }
    s->ptr = (ptr + br + 1) % m;
    return best;
}

int mm_fastloop(const Params *p, Output *o) {
    int64_t n = p->n;
    int rc = 0;
    int64_t *ibuf = malloc(sizeof(int64_t) * 3 * (size_t)(n ? n : 1));
    double *dbuf = malloc(sizeof(double) * (8 * (size_t)n + (size_t)p->ncycles + 1));
    if (!ibuf || !dbuf) {
        free(ibuf);
        free(dbuf);
        return 2;
    }
    State s = {ibuf, ibuf + n, dbuf, dbuf + n, dbuf + 2 * n, dbuf + 3 * n, dbuf + 4 * n,
               dbuf + 5 * n, dbuf + 6 * n, dbuf + 7 * n, dbuf + 8 * n, 0, 0};
    int64_t *q = ibuf + 2 * n;  /* the queue: request indices in arrival order */
    int64_t qn = 0, nxt = 0, done = 0, decisions = 0, rank = 0, logged = 0;
    double now = 0.0;
    double nxt_arrival = n ? p->arrival[0] : 0.0;
    while (done < n) {
        /* intake (the queue stays in arrival order: requests come sorted) */
        if (nxt < n && (qn == 0 || nxt_arrival < now || (nxt_arrival == now && !p->strict))) {
            if (qn == 0 && (p->rewind || nxt_arrival > now)) now = nxt_arrival;
            for (;;) {
                admit(p, &s, nxt);
                q[qn++] = nxt;
                nxt++;
                if (nxt == n) break;
                nxt_arrival = p->arrival[nxt];
                if (!(nxt_arrival < now || (nxt_arrival == now && !p->strict))) break;
            }
        }
        int64_t pick;
        if (p->trivial && qn == 1)
            pick = 0;
        else
            switch (p->kind) {
            case DYSTA: pick = select_dysta(p, &s, q, qn, now); break;
            case PREMA: pick = select_prema(p, &s, q, qn, now); break;
            case SDRM3: pick = select_sdrm3(p, &s, q, qn, now); break;
            case SJF: pick = first_min(s.est, q, qn); break;
            case FCFS: pick = 0; break;
            case EDF: pick = first_min(p->deadline, q, qn); break;
            case PLANARIA: pick = select_planaria(p, q, qn, now); break;
            default: pick = select_rr(p, &s, q, qn);
            }
        decisions++;
        if (pick < 0) {
            rc = 1;
            break;
        }
        int64_t k = q[pick];
        int64_t j = s.j[k];
        if (j == 0) o->start[k] = now;
        double c = p->cycles[p->row[k] + j];
        if (logged < p->keep) {
            o->lreq[logged] = k;
            o->lj[logged] = j;
            o->lstart[logged] = now;
            logged++;
        }
        now += c;
        /* on_layer_done: gamma from the monitored density, then the next layer's estimate */
        if (p->monitor) {
            double avg = p->dens[p->prof[k] + j];
            double ratio = avg != 0 ? p->density[p->row[k] + j] / avg : 1.0;
            if (p->last_one) {
                s.g[k] = ratio;
            } else {
                s.gsum[k] += ratio;
                s.gn[k] += 1;
                s.g[k] = s.gsum[k] / (double)s.gn[k];
            }
        }
        j++;
        s.j[k] = j;
        s.last[k] = now;
        if (j < p->nlayers[k]) {
            refresh(p, &s, k);
        } else {
            o->finish[k] = now;
            memmove(q + pick, q + pick + 1, sizeof(int64_t) * (size_t)(qn - pick - 1));
            qn--;
            done++;
            o->order[k] = rank++;
        }
    }
    o->decisions = decisions;
    o->end = now;
    free(ibuf);
    free(dbuf);
    return rc;
}
