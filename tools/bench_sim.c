/* bench_sim: kernel events per wall second (timer churn through the heap, and task switches). */
#include <time.h>

#include "bench.h"
#include "sim.h"

double bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct bench_chain {
    struct sim_rand r;
    uint64_t fired;
};

/* Each event schedules one successor at a random small delay, keeping ~1000 timers pending so
 * the heap works at a realistic depth. */
static void bench_chain_cb(struct sim *sim, void *arg)
{
    struct bench_chain *c = arg;
    c->fired++;
    sim_after(sim, 1 + sim_rand_below(&c->r, 1000), bench_chain_cb, c);
}

static void bench_events(FILE *out)
{
    struct sim *sim = sim_new(1);
    struct bench_chain c = {{{0}}, 0};
    sim_rand_init(&c.r, sim, "bench");
    for (int i = 0; i < 1000; i++)
        sim_after(sim, sim_rand_below(&c.r, 1000), bench_chain_cb, &c);
    const uint64_t events = 10000000;
    double t0 = bench_wall_ms();
    while (sim_events_run(sim) < events)
        sim_step(sim);
    double ms = bench_wall_ms() - t0;
    fprintf(out, "bench sim events=%llu pending=%zu wall_ms=%.1f events_per_s=%.0f\n",
            (unsigned long long)events, sim_pending(sim), ms, (double)events / (ms / 1e3));
    sim_free(sim);
}

static void bench_switch_fn(struct sim *sim, void *arg)
{
    uint64_t *rounds = arg;
    for (uint64_t i = 0; i < *rounds; i++)
        sim_sleep_us(sim, 1);
}

static void bench_task_switches(FILE *out)
{
    struct sim *sim = sim_new(1);
    uint64_t rounds = 2000000;
    sim_task_spawn(sim, "bench", bench_switch_fn, &rounds);
    double t0 = bench_wall_ms();
    sim_run_until(sim, NULL, NULL, SIM_TIMEOUT_NEVER);
    double ms = bench_wall_ms() - t0;
    fprintf(out, "bench sim task_sleeps=%llu wall_ms=%.1f sleeps_per_s=%.0f\n",
            (unsigned long long)rounds, ms, (double)rounds / (ms / 1e3));
    sim_free(sim);
}

void bench_sim(FILE *out)
{
    bench_events(out);
    bench_task_switches(out);
}
