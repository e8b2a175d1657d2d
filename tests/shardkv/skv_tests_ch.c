/* skv_tests_ch: the challenge tests of shardkv: TestChallenge1Delete (moved shards are
 * deleted: the persisted bytes of all groups stay within 117,000) and TestChallenge2Unaffected
 * / TestChallenge2Partial (shards not affected by a stuck migration, or already received, are
 * still served).
 */
#include <stdio.h>
#include <string.h>

#include "skv_tests.h"

void skv_test_challenge1_delete(struct lab_ctx *ctx)
{
    /* "1" means force snapshot after every log entry. */
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestChallenge1Delete", 3, false, 1);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    struct sim *sim = skv_cfg_sim(cfg);
    skv_cfg_begin(cfg, "shard deletion (challenge 1)");
    skv_cfg_join(cfg, 0);
    /* 30,000 bytes of total values. */
    struct skv_vals *v = skv_vals_put_random(cfg, ck, 30, 1000);
    skv_vals_check(cfg, ck, v, 0, 3);
    for (int iters = 0; iters < 2; iters++) {
        skv_cfg_join(cfg, 1);
        skv_cfg_leave(cfg, 0);
        skv_cfg_join(cfg, 2);
        sim_sleep_us(sim, SIM_S(3));
        skv_vals_check(cfg, ck, v, 0, 3);
        skv_cfg_leave(cfg, 1);
        skv_cfg_join(cfg, 0);
        skv_cfg_leave(cfg, 2);
        sim_sleep_us(sim, SIM_S(3));
        skv_vals_check(cfg, ck, v, 0, 3);
    }
    skv_cfg_join(cfg, 1);
    skv_cfg_join(cfg, 2);
    for (int k = 0; k < 3; k++) {
        sim_sleep_us(sim, SIM_S(1));
        skv_vals_check(cfg, ck, v, 0, 3);
    }
    size_t total = skv_cfg_total_size(cfg);
    /* 27 keys should be stored once; 3 keys should also be stored in client dup tables; 3
     * replicas each. */
    size_t expected = 3 * (((size_t)v->n - 3) * 1000 + 2 * 3 * 1000 + 6000);
    if (total > expected)
        lab_fatalf(ctx, SIM_NODE_NONE, "snapshot + persisted Raft state are too big: %zu > %zu\n",
                   total, expected);
    skv_vals_check(cfg, ck, v, 0, v->n);
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

void skv_test_challenge2_unaffected(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestChallenge2Unaffected", 3, true, 100);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    struct sc_config *c = skv_cfg_scratch(cfg, sizeof(*c));
    struct skv_vals *v = skv_cfg_scratch(cfg, sizeof(*v));
    bool owned[SC_NSHARDS];
    char x[SKV_TEST_KEYS_MAX + 16];
    skv_cfg_begin(cfg, "unaffected shard access (challenge 2)");
    /* JOIN 100. */
    skv_cfg_join(cfg, 0);
    v->n = 10;
    for (int i = 0; i < v->n; i++) {
        snprintf(v->ka[i], sizeof(v->ka[i]), "%d", i);
        skv_vals_set(cfg, v, i, "100");
        skv_cfg_put(cfg, ck, v->ka[i], v->va[i]);
    }
    /* JOIN 101, and note which shards are going to 101. */
    skv_cfg_join(cfg, 1);
    skv_cfg_query(cfg, c);
    for (int s = 0; s < SC_NSHARDS; s++)
        owned[s] = c->shards[s] == 101;
    /* Wait for the migration to new config to complete, and for clients to start using the
     * new config. */
    sim_sleep_us(skv_cfg_sim(cfg), SIM_S(1));
    /* Write to shards owned by 101 (Go indexes owned[] by key number here; kept). */
    for (int i = 0; i < v->n; i++) {
        if (!owned[i]) continue;
        skv_vals_set(cfg, v, i, "101");
        skv_cfg_put(cfg, ck, v->ka[i], v->va[i]);
    }
    /* KILL 100, LEAVE 100: 101 does not get a chance to migrate things previously owned by 100. */
    skv_cfg_shutdown_group(cfg, 0);
    skv_cfg_leave(cfg, 0);
    sim_sleep_us(skv_cfg_sim(cfg), SIM_S(1));
    /* Check that we can still access the shards that 101 owned. */
    for (int i = 0; i < v->n; i++) {
        if (!owned[skv_key2shard(v->ka[i])]) continue;
        skv_cfg_check(cfg, ck, v->ka[i], v->va[i]);
        snprintf(x, sizeof(x), "%.32s-1", v->va[i]); /* "100" or "101" */
        skv_cfg_put(cfg, ck, v->ka[i], x);
        skv_cfg_check(cfg, ck, v->ka[i], x);
    }
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}

void skv_test_challenge2_partial(struct lab_ctx *ctx)
{
    struct skv_cfg *cfg = skv_cfg_make(ctx, "TestChallenge2Partial", 3, true, 100);
    struct skv_clerk *ck = skv_cfg_make_client(cfg, 0);
    struct sc_config *c = skv_cfg_scratch(cfg, sizeof(*c));
    struct skv_vals *v = skv_cfg_scratch(cfg, sizeof(*v));
    const int all[] = {0, 1, 2};
    const int leaving[] = {0, 2};
    bool owned[SC_NSHARDS];
    skv_cfg_begin(cfg, "partial migration shard access (challenge 2)");
    /* JOIN 100 + 101 + 102. */
    skv_cfg_joinm(cfg, all, 3);
    /* Give the implementation some time to reconfigure. */
    sim_sleep_us(skv_cfg_sim(cfg), SIM_S(1));
    v->n = 10;
    for (int i = 0; i < v->n; i++) {
        snprintf(v->ka[i], sizeof(v->ka[i]), "%d", i);
        skv_vals_set(cfg, v, i, "100");
        skv_cfg_put(cfg, ck, v->ka[i], v->va[i]);
    }
    /* Note which shards are with 102. */
    skv_cfg_query(cfg, c);
    for (int s = 0; s < SC_NSHARDS; s++)
        owned[s] = c->shards[s] == 102;
    /* KILL 100, LEAVE 100 + 102: 101 can get old shards from 102, but not from 100. */
    skv_cfg_shutdown_group(cfg, 0);
    skv_cfg_leavem(cfg, leaving, 2);
    sim_sleep_us(skv_cfg_sim(cfg), SIM_S(1));
    /* Check that we can still access the shards that were on 102. */
    for (int i = 0; i < v->n; i++) {
        if (!owned[skv_key2shard(v->ka[i])]) continue;
        skv_cfg_check(cfg, ck, v->ka[i], v->va[i]);
        skv_cfg_put(cfg, ck, v->ka[i], "100-2");
        skv_cfg_check(cfg, ck, v->ka[i], "100-2");
    }
    skv_cfg_end(cfg);
    skv_cfg_cleanup(cfg);
}
