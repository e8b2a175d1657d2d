/* ext_reads: the scenarios of read-index and lease reads (raft/raft_ext.h "reads"; thesis
 * sections 6.4 and 6.4.1), on the kvraft harness (kv_cfg.h), whose checker judges every history.
 *
 * The stale leader: five servers; the leader and one follower are cut off from the other three
 * (kv_cfg_make_partition), which elect a new leader and commit a Put. Meanwhile a clerk that can
 * reach only the minority keeps sending Gets. The old leader still believes it leads (nothing
 * here makes it step down), so a Get it answers from its own state after the Put completed
 * returns the old value: a stale read, which the linearizability checker calls ILLEGAL.
 *   - TestStaleReadIndexExt: read-index. The old leader cannot get a heartbeat round answered
 *     by a majority, so it answers no Get; the history is linearizable.
 *   - TestStaleReadLeaseExt: lease-read. Its lease runs out before the majority can elect
 *     anyone (the followers hold their votes for an election timeout), so it also answers none
 *     in time.
 *   - TestStaleReadLocalTwinExt: the UNSAFE local-read option; the history is ILLEGAL, and the
 *     twin passes saying so and naming the HTML page of the history.
 * The clock drift pair runs the same partition many times with lease-read and the leader's
 * clock slow while every other clock is fast:
 *   - TestLeaseDriftExt: 30 partitions, 0.4% each way, within the 1% bound the lease assumes
 *     (RAFT_CLOCK_DRIFT_PPM_DEFAULT); every history is linearizable;
 *   - TestLeaseDriftTwinExt: up to 180 partitions, 10% each way, far beyond it: the majority can
 *     elect a new leader and commit while the old one still trusts its lease, which then serves
 *     a stale Get (the twin passes when that happens, and says in which round). A race the drift
 *     makes possible, not a certainty: the election must come early in its timeout range; it
 *     shows on 59 of seeds 1-60, mostly within 50 partitions (not on seed 31). The rounds fit
 *     in the harness's 120 s of virtual time.
 */
#include <stdio.h>

#include "ext_reads.h"
#include "kv_cfg.h"
#include "lab.h"
#include "lin.h"
#include "sim.h"

#define READS_SERVERS 5
#define READS_GET_GAP_US SIM_MS(2)     /* between two Gets of the minority clerk */
#define READS_AFTER_PUT_US SIM_MS(100) /* Gets go on this long after the Put completed */
#define READS_HEAL_WAIT_US SIM_S(10)   /* the last Get must complete after the heal */
#define READS_LEADER_WAIT_US SIM_S(5)  /* a leader must exist by then */
#define READS_SETTLE_US SIM_MS(100)    /* before each partition */

struct reads_scenario {
    const char *name;
    const char *opts;  /* lab_raft_opts_set */
    bool twin;         /* passes when a history is ILLEGAL */
    int rounds;        /* partitions in one run */
    int32_t drift_ppm; /* leader slow by it, everyone else fast by it (0: no drift) */
};

struct reads_run {
    struct kv_cfg *cfg;
    struct kv_cfg_clerk *minority; /* reaches only the old leader's side */
    bool stop;                     /* the minority clerk sends no new Get */
    bool getter_done;
    struct sim_cond cond;
};

/* The minority clerk: Gets, one after the other, until told to stop. */
static void minority_getter(struct sim *sim, void *arg)
{
    struct reads_run *t = arg;
    while (!t->stop) {
        kv_cfg_get(t->cfg, t->minority, "k", -1);
        sim_sleep_us(sim, READS_GET_GAP_US);
    }
    t->getter_done = true;
    sim_cond_broadcast(sim, &t->cond);
}

static int leader_wait(struct kv_cfg *cfg)
{
    struct sim *sim = kv_cfg_sim(cfg);
    sim_time_us deadline_us = sim_now_us(sim) + READS_LEADER_WAIT_US;
    int leader = 0;
    while (!kv_cfg_leader(cfg, &leader)) {
        if (sim_now_us(sim) >= deadline_us)
            lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "no leader within 5 s");
        sim_sleep_us(sim, SIM_MS(50));
    }
    return leader;
}

/* Leader slow by drift_ppm, everyone else fast by it: the followers' election windows end
 * earliest, the leader's lease latest (read_index.c, lease_duration_us). */
static void drift_set(struct kv_cfg *cfg, int leader, int32_t drift_ppm)
{
    for (int i = 0; i < kv_cfg_servers(cfg); i++) {
        int rc = sim_node_set_drift_ppm(kv_cfg_sim(cfg), i, i == leader ? -drift_ppm : drift_ppm);
        if (rc != SIM_OK) lab_fatalf(kv_cfg_lab(cfg), i, "drift: %s", sim_strerror(rc));
    }
}

/* One partition: Put through the majority while the minority clerk keeps reading, then heal. */
static void reads_round(struct reads_run *t, const struct reads_scenario *s, int round)
{
    struct kv_cfg *cfg = t->cfg;
    struct lab_ctx *ctx = kv_cfg_lab(cfg);
    struct sim *sim = kv_cfg_sim(cfg);
    int all[KV_CFG_SERVERS_MAX];
    int p1[KV_CFG_SERVERS_MAX];
    int p2[KV_CFG_SERVERS_MAX];
    int p1_count = 0;
    int p2_count = 0;
    int n = kv_cfg_all(cfg, all);
    /* Time passes between ops (a history's ties count as concurrent: a Put that returns in the
     * instant the next one is called could be ordered after it). */
    sim_sleep_us(sim, READS_SETTLE_US);
    int leader = leader_wait(cfg);
    if (s->drift_ppm != 0) drift_set(cfg, leader, s->drift_ppm);
    kv_cfg_make_partition(cfg, p1, &p1_count, p2, &p2_count);
    struct kv_cfg_clerk *majority = kv_cfg_make_client(cfg, p1, p1_count);
    t->minority = kv_cfg_make_client(cfg, p2, p2_count);
    t->stop = false;
    t->getter_done = false;
    kv_cfg_partition(cfg, p1, p1_count, p2, p2_count);
    lab_go(ctx, "minority getter", minority_getter, t);
    char value[32];
    snprintf(value, sizeof(value), "new %d", round);
    kv_cfg_put(cfg, majority, "k", value, -1);
    sim_sleep_us(sim, READS_AFTER_PUT_US);
    t->stop = true;
    kv_cfg_connect_all(cfg);
    kv_cfg_connect_client(cfg, t->minority, all, n);
    sim_time_us deadline_us = sim_now_us(sim) + READS_HEAL_WAIT_US;
    while (!t->getter_done && sim_now_us(sim) < deadline_us)
        sim_cond_wait(sim, &t->cond, deadline_us - sim_now_us(sim));
    if (!t->getter_done) lab_fatalf(ctx, SIM_NODE_NONE, "a Get did not complete after the heal");
}

static void reads_scenario_run(struct lab_ctx *ctx, const struct reads_scenario *s)
{
    lab_raft_opts_set(ctx, s->opts);
    struct kv_cfg *cfg = kv_cfg_make(ctx, s->name, READS_SERVERS, false, -1);
    struct reads_run *t = kv_cfg_scratch(cfg, sizeof(*t));
    t->cfg = cfg;
    sim_cond_init(&t->cond);
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_put(cfg, ck, "k", "old", -1);
    kv_cfg_begin(cfg, s->twin ? "a stale leader in a minority reads (twin)"
                              : "a stale leader in a minority reads");
    for (int round = 0; round < s->rounds; round++) {
        reads_round(t, s, round);
        int verdict = kv_cfg_history_verdict(cfg);
        if (verdict == LIN_ILLEGAL && !s->twin)
            lab_fatalf(ctx, SIM_NODE_NONE, "history is not linearizable (round %d)", round);
        if (verdict == LIN_ILLEGAL && lab_out(ctx) != NULL) {
            fprintf(lab_out(ctx),
                    "info: twin shows the failure: a stale Get in round %d, the checker says "
                    "ILLEGAL; history: %s\n",
                    round, lab_artifact(ctx));
        }
        if (verdict == LIN_ILLEGAL) break;
        if (verdict != LIN_OK && !s->twin)
            lab_fatalf(ctx, SIM_NODE_NONE, "history not proven linearizable (round %d)", round);
        if (round == s->rounds - 1 && s->twin)
            lab_fatalf(ctx, SIM_NODE_NONE, "twin: no stale read in %d rounds (history %s)",
                       s->rounds, verdict == LIN_OK ? "linearizable" : "unknown");
    }
    kv_cfg_end(cfg, NULL);
    kv_cfg_cleanup(cfg);
}

#define READS_TEST(fn, name, opts, twin, rounds, drift)                                            \
    void fn(struct lab_ctx *ctx)                                                                   \
    {                                                                                              \
        static const struct reads_scenario s = {name, opts, twin, rounds, drift};                  \
        reads_scenario_run(ctx, &s);                                                               \
    }

READS_TEST(ext_stale_read_index, "TestStaleReadIndexExt", "read-index", false, 1, 0)
READS_TEST(ext_stale_read_lease, "TestStaleReadLeaseExt", "lease-read", false, 1, 0)
READS_TEST(ext_stale_read_local_twin, "TestStaleReadLocalTwinExt", "local-read", true, 1, 0)
READS_TEST(ext_lease_drift, "TestLeaseDriftExt", "lease-read", false, 30, 4000)
READS_TEST(ext_lease_drift_twin, "TestLeaseDriftTwinExt", "lease-read", true, 180, 100000)
