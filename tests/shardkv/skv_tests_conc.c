/* skv_tests_conc: the shardkv tests with clients running while configurations change:
 * TestConcurrent1_5B .. TestConcurrent3_5B and TestUnreliable1_5B .. TestUnreliable3_5B.
 *
 * Each of the 10 clients is a task with its own clerk and its own random stream
 * ("skv.client" i); it appends to its own key (or, in TestUnreliable3_5B, runs random
 * Gets/Puts/Appends over all keys) until the main task sets done, and the main task waits for
 * all of them before the final checks.
 */
#include <stdio.h>

#include "skv_tests.h"

#define CLIENTS 10

struct client {
    struct skv_cfg *cfg;
    struct skv_clerk *ck; /* NULL: the task makes its own */
    struct skv_vals *v;
    int i;
    int value_len;
    sim_time_us sleep_us;
    bool random_ops; /* TestUnreliable3_5B's mix instead of appends to key i */
    const bool *done;
    struct lab_waitgroup *wg;
    struct sim_rand rand;
};

static void random_op(struct client *c, char *x)
{
    int ki = (int)sim_rand_below(&c->rand, (uint64_t)c->v->n);
    skv_cfg_randstring(&c->rand, x, 5);
    if (sim_rand_below(&c->rand, 1000) < 500)
        skv_cfg_append(c->cfg, c->ck, c->v->ka[ki], x);
    else if (sim_rand_below(&c->rand, 1000) < 100)
        skv_cfg_put(c->cfg, c->ck, c->v->ka[ki], x);
    else
        skv_cfg_get(c->cfg, c->ck, c->v->ka[ki]);
}

static void client_task(struct sim *sim, void *arg)
{
    struct client *c = arg;
    char x[64];
    if (c->ck == NULL) c->ck = skv_cfg_make_client(c->cfg, 0);
    while (!*c->done) {
        if (c->random_ops) {
            random_op(c, x);
        } else {
            skv_cfg_randstring(&c->rand, x, c->value_len);
            skv_cfg_append(c->cfg, c->ck, c->v->ka[c->i], x);
            skv_vals_add(c->cfg, c->v, c->i, x);
        }
        if (c->sleep_us > 0) sim_sleep_us(sim, c->sleep_us);
    }
    lab_waitgroup_done(sim, c->wg);
}

struct clients {
    struct client c[CLIENTS];
    bool done;
    struct lab_waitgroup wg;
};

/* Starts the 10 clients; `premade` makes their clerks here (TestConcurrent2_5B) instead of in
 * the tasks. */
static struct clients *clients_start(struct skv_cfg *cfg, struct skv_vals *v, int value_len,
                                     sim_time_us sleep_us, bool premade, bool random_ops)
{
    struct clients *cs = skv_cfg_scratch(cfg, sizeof(*cs));
    lab_waitgroup_init(&cs->wg);
    for (int i = 0; i < CLIENTS; i++) {
        struct client *c = &cs->c[i];
        *c = (struct client){.cfg = cfg,
                             .ck = premade ? skv_cfg_make_client(cfg, 0) : NULL,
                             .v = v,
                             .i = i,
                             .value_len = value_len,
                             .sleep_us = sleep_us,
                             .random_ops = random_ops,
                             .done = &cs->done,
                             .wg = &cs->wg};
        sim_rand_init_n(&c->rand, skv_cfg_sim(cfg), "skv.client", i);
        lab_waitgroup_add(&cs->wg, 1);
        lab_go(skv_cfg_lab(cfg), "client", client_task, c);
    }
    return cs;
}

static void clients_stop(struct skv_cfg *cfg, struct clients *cs, bool reliable_again)
{
    cs->done = true;
    if (reliable_again) skv_cfg_set_reliable(cfg, true);
    lab_waitgroup_wait(skv_cfg_sim(cfg), &cs->wg);
}

static void sleep_ms(struct skv_cfg *cfg, uint64_t ms)
{
    sim_sleep_us(skv_cfg_sim(cfg), SIM_MS(ms));
}

void skv_test_concurrent1_5b(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestConcurrent1_5B", 3, false, 100);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    skv_cfg_begin(cfg, "concurrent puts and configuration changes");
    skv_cfg_join(cfg, 0);
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 10, 5);
    struct clients *cs = clients_start(cfg, v, 5, SIM_MS(10), false, false);
    sleep_ms(cfg, 150);
    skv_cfg_join(cfg, 1);
    sleep_ms(cfg, 500);
    skv_cfg_join(cfg, 2);
    sleep_ms(cfg, 500);
    skv_cfg_leave(cfg, 0);
    skv_cfg_shutdown_group(cfg, 0);
    sleep_ms(cfg, 100);
    skv_cfg_shutdown_group(cfg, 1);
    sleep_ms(cfg, 100);
    skv_cfg_shutdown_group(cfg, 2);
    skv_cfg_leave(cfg, 2);
    sleep_ms(cfg, 100);
    for (int gi = 0; gi < 3; gi++)
        skv_cfg_start_group(cfg, gi);
    sleep_ms(cfg, 100);
    skv_cfg_join(cfg, 0);
    skv_cfg_leave(cfg, 1);
    sleep_ms(cfg, 500);
    skv_cfg_join(cfg, 1);
    sleep_ms(cfg, 1000);
    clients_stop(cfg, cs, false);
    skv_vals_check(cfg, ck, v, 0, v->n);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

/* This tests the various sources from which a re-starting group might need to fetch shard
 * contents. */
void skv_test_concurrent2_5b(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestConcurrent2_5B", 3, false, -1);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    skv_cfg_begin(cfg, "more concurrent puts and configuration changes");
    skv_cfg_join(cfg, 1);
    skv_cfg_join(cfg, 0);
    skv_cfg_join(cfg, 2);
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 10, 1);
    struct clients *cs = clients_start(cfg, v, 1, SIM_MS(50), true, false);
    skv_cfg_leave(cfg, 0);
    skv_cfg_leave(cfg, 2);
    sleep_ms(cfg, 3000);
    skv_cfg_join(cfg, 0);
    skv_cfg_join(cfg, 2);
    skv_cfg_leave(cfg, 1);
    sleep_ms(cfg, 3000);
    skv_cfg_join(cfg, 1);
    skv_cfg_leave(cfg, 0);
    skv_cfg_leave(cfg, 2);
    sleep_ms(cfg, 3000);
    skv_cfg_shutdown_group(cfg, 1);
    skv_cfg_shutdown_group(cfg, 2);
    sleep_ms(cfg, 1000);
    skv_cfg_start_group(cfg, 1);
    skv_cfg_start_group(cfg, 2);
    sleep_ms(cfg, 2000);
    clients_stop(cfg, cs, false);
    skv_vals_check(cfg, ck, v, 0, v->n);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

void skv_test_concurrent3_5b(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestConcurrent3_5B", 3, false, 300);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    struct sim *sim = skv_cfg_sim(cfg);
    struct sim_rand *r = skv_cfg_rand(cfg);
    skv_cfg_begin(cfg, "concurrent configuration change and restart");
    skv_cfg_join(cfg, 0);
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 10, 1);
    struct clients *cs = clients_start(cfg, v, 1, 0, false, false);
    sim_time_us t0_us = sim_now_us(sim);
    while (sim_now_us(sim) - t0_us < SIM_S(12)) {
        skv_cfg_join(cfg, 2);
        skv_cfg_join(cfg, 1);
        sleep_ms(cfg, sim_rand_below(r, 900));
        for (int gi = 0; gi < 3; gi++)
            skv_cfg_shutdown_group(cfg, gi);
        for (int gi = 0; gi < 3; gi++)
            skv_cfg_start_group(cfg, gi);
        sleep_ms(cfg, sim_rand_below(r, 900));
        skv_cfg_leave(cfg, 1);
        skv_cfg_leave(cfg, 2);
        sleep_ms(cfg, sim_rand_below(r, 900));
    }
    sleep_ms(cfg, 2000);
    clients_stop(cfg, cs, false);
    skv_vals_check(cfg, ck, v, 0, v->n);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

void skv_test_unreliable1_5b(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestUnreliable1_5B", 3, true, 100);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    char x[8];
    skv_cfg_begin(cfg, "unreliable 1");
    skv_cfg_join(cfg, 0);
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 10, 5);
    skv_cfg_join(cfg, 1);
    skv_cfg_join(cfg, 2);
    skv_cfg_leave(cfg, 0);
    for (int ii = 0; ii < v->n * 2; ii++) {
        int i = ii % v->n;
        skv_cfg_check(cfg, ck, v->ka[i], v->va[i]);
        skv_cfg_randstring(skv_cfg_rand(cfg), x, 5);
        skv_cfg_append(cfg, ck, v->ka[i], x);
        skv_vals_add(cfg, v, i, x);
    }
    skv_cfg_join(cfg, 0);
    skv_cfg_leave(cfg, 1);
    for (int ii = 0; ii < v->n * 2; ii++)
        skv_cfg_check(cfg, ck, v->ka[ii % v->n], v->va[ii % v->n]);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

/* The schedule TestUnreliable2_5B and TestUnreliable3_5B share. */
static void unreliable_schedule(struct skv_cfg *cfg)
{
    sleep_ms(cfg, 150);
    skv_cfg_join(cfg, 1);
    sleep_ms(cfg, 500);
    skv_cfg_join(cfg, 2);
    sleep_ms(cfg, 500);
    skv_cfg_leave(cfg, 0);
    sleep_ms(cfg, 500);
    skv_cfg_leave(cfg, 1);
    sleep_ms(cfg, 500);
    skv_cfg_join(cfg, 1);
    skv_cfg_join(cfg, 0);
    sleep_ms(cfg, 2000);
}

void skv_test_unreliable2_5b(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestUnreliable2_5B", 3, true, 100);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    skv_cfg_begin(cfg, "unreliable 2");
    skv_cfg_join(cfg, 0);
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 10, 5);
    struct clients *cs = clients_start(cfg, v, 5, 0, false, false);
    unreliable_schedule(cfg);
    clients_stop(cfg, cs, true);
    skv_vals_check(cfg, ck, v, 0, v->n);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

/* Go checks this history with porcupine; here every test's is checked (skv_cfg_end). */
void skv_test_unreliable3_5b(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestUnreliable3_5B", 3, true, 100);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    skv_cfg_begin(cfg, "unreliable 3");
    skv_cfg_join(cfg, 0);
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 10, 5);
    struct clients *cs = clients_start(cfg, v, 5, 0, false, true);
    unreliable_schedule(cfg);
    clients_stop(cfg, cs, true);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}
