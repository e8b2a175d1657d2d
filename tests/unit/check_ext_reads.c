/* check_ext_reads: read-index and lease reads (raft/read_index.c, raft_ext.h "reads").
 *
 * - scenarios: the ext pairs of tests/raftext/ext_reads.c through lab_run over a handful of
 *   seeds: the on-tests pass (every history linearizable) and the twins pass (they saw the stale
 *   read and the checker said ILLEGAL).
 * - mechanism: a small hand-built cluster (sim, labrpc, Raft peers, no harness), driven with
 *   sim_run_until from outside any task: off means no reads at all; a non-leader refuses; a new
 *   leader's first read appends one no-op and is answered at or after it; a burst of reads costs
 *   one round; a lease answers without a round; a full queue refuses; a leader that steps down
 *   or is killed fails what is pending; a follower inside its lease window holds its vote.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ext_reads.h"
#include "lab.h"
#include "labgob.h"
#include "labrpc.h"
#include "raft.h"
#include "raft_ext.h"
#include "sim.h"

#define READS_PEERS 3
#define READS_SEEDS 3

/* ---------------------------------------------------------------- scenarios */

static void scenario_pass(lab_test_fn fn, const char *name, uint64_t seed, bool twin)
{
    struct lab_test test = {name, LAB_PART_EXT, name, fn};
    struct lab_opts opts = {0};
    opts.artifact_dir = "build/artifacts/check-ext-reads";
    struct lab_result r;
    ck_assert_int_eq(lab_run(&test, seed, &opts, &r), 0);
    ck_assert_msg(r.outcome == LAB_PASS, "%s seed %llu: outcome %d at %.3fs: %s", name,
                  (unsigned long long)seed, (int)r.outcome, (double)r.fail_at_us / 1e6, r.message);
    /* A twin passes by seeing an ILLEGAL history, whose page is the run's artifact; an on-test
     * never writes one. */
    ck_assert_int_eq(strstr(r.artifact, ".html") != NULL, twin);
}

START_TEST(test_ext_reads_stale_index)
{
    scenario_pass(ext_stale_read_index, "TestStaleReadIndexExt", 1 + (uint64_t)_i, false);
}
END_TEST

START_TEST(test_ext_reads_stale_lease)
{
    scenario_pass(ext_stale_read_lease, "TestStaleReadLeaseExt", 1 + (uint64_t)_i, false);
}
END_TEST

START_TEST(test_ext_reads_stale_twin)
{
    scenario_pass(ext_stale_read_local_twin, "TestStaleReadLocalTwinExt", 1 + (uint64_t)_i, true);
}
END_TEST

START_TEST(test_ext_reads_drift)
{
    scenario_pass(ext_lease_drift, "TestLeaseDriftExt", 1 + (uint64_t)_i, false);
}
END_TEST

/* Beyond the drift bound a stale lease read is a race the drift makes possible, not a certainty
 * on every seed (measured: 59 of seeds 1-60 within the run's 180 partitions), so the twin is not
 * a registered test that would fail on the seeds where the race never fires; instead most of
 * seeds 1-8 must show it. */
#define DRIFT_TWIN_SEEDS 8u
#define DRIFT_TWIN_SHOWN_MIN 6u

START_TEST(test_ext_reads_drift_twin)
{
    struct lab_test test = {"TestLeaseDriftTwinExt", LAB_PART_EXT, "drift twin",
                            ext_lease_drift_twin};
    struct lab_opts opts = {0};
    opts.artifact_dir = "build/artifacts/check-ext-reads";
    unsigned shown = 0;
    for (uint64_t seed = 1; seed <= DRIFT_TWIN_SEEDS; seed++) {
        struct lab_result r;
        ck_assert_int_eq(lab_run(&test, seed, &opts, &r), 0);
        shown += r.outcome == LAB_PASS ? 1u : 0u;
    }
    ck_assert_msg(shown >= DRIFT_TWIN_SHOWN_MIN,
                  "a stale lease read beyond the drift bound on %u of %u seeds", shown,
                  DRIFT_TWIN_SEEDS);
}
END_TEST

/* ---------------------------------------------------------------- a small cluster */

struct cluster;

struct peer {
    struct cluster *c;
    struct raft *rf;
    struct raft_persister *persister;
    struct rpc_end *ends[READS_PEERS];
    uint64_t last_applied;
    uint64_t empty_applied; /* no-ops delivered (command_len 0) */
};

struct cluster {
    struct sim *sim;
    struct rpc_net *net;
    struct peer peers[READS_PEERS];
};

/* What the reads of a test saw. */
struct read_log {
    int ok;
    int failed;
    uint64_t last_index;
};

static void peer_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct peer *p = ctx;
    if (!msg->command_valid) return;
    ck_assert_uint_eq(msg->command_index, p->last_applied + 1);
    p->last_applied = msg->command_index;
    p->empty_applied += msg->command_len == 0 ? 1 : 0;
}

static struct cluster *cluster_new(uint64_t seed, uint32_t flags)
{
    struct cluster *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    c->sim = sim_new(seed);
    c->net = rpc_net_new(c->sim);
    rpc_net_set_reliable(c->net, true);
    for (int i = 0; i < READS_PEERS; i++) {
        struct peer *p = &c->peers[i];
        p->c = c;
        p->persister = raft_persister_new();
        struct raft_options opts = {.flags = flags};
        if (flags != 0) raft_persister_set_options(p->persister, &opts);
        for (int j = 0; j < READS_PEERS; j++) {
            char name[32];
            snprintf(name, sizeof(name), "e%d-%d", i, j);
            p->ends[j] = rpc_net_make_end(c->net, name);
            rpc_net_connect(c->net, p->ends[j], j);
            rpc_net_enable(c->net, p->ends[j], true);
        }
        int prev = sim_node_swap(c->sim, i);
        p->rf = raft_make(c->sim, p->ends, READS_PEERS, i, p->persister, peer_apply, p);
        sim_node_swap(c->sim, prev);
        ck_assert_ptr_nonnull(p->rf);
        struct rpc_server *server = rpc_server_new(c->net);
        ck_assert_int_eq(raft_register(p->rf, server), RPC_OK);
        rpc_net_add_server(c->net, i, server);
    }
    return c;
}

static void cluster_free(struct cluster *c)
{
    for (int i = 0; i < READS_PEERS; i++)
        raft_kill(c->peers[i].rf);
    rpc_net_free(c->net);
    for (int i = 0; i < READS_PEERS; i++) {
        raft_free(c->peers[i].rf);
        raft_persister_free(c->peers[i].persister);
    }
    sim_free(c->sim);
    free(c);
}

static void cluster_cut(struct cluster *c, int i)
{
    for (int j = 0; j < READS_PEERS; j++) {
        rpc_net_enable(c->net, c->peers[i].ends[j], false);
        rpc_net_enable(c->net, c->peers[j].ends[i], false);
    }
}

static bool pred_leader(struct sim *sim, void *arg)
{
    (void)sim;
    struct cluster *c = arg;
    for (int i = 0; i < READS_PEERS; i++) {
        if (raft_get_state(c->peers[i].rf, NULL)) return true;
    }
    return false;
}

static int cluster_leader(struct cluster *c)
{
    ck_assert(sim_run_until(c->sim, pred_leader, c, sim_now_us(c->sim) + SIM_S(5)));
    for (int i = 0; i < READS_PEERS; i++) {
        if (raft_get_state(c->peers[i].rf, NULL)) return i;
    }
    return -1;
}

static void cluster_run_for(struct cluster *c, sim_time_us d)
{
    sim_run_until(c->sim, NULL, NULL, sim_now_us(c->sim) + d);
}

static void read_done(void *ctx, bool ok, uint64_t read_index)
{
    struct read_log *log = ctx;
    if (ok) {
        log->ok++;
        log->last_index = read_index;
    } else {
        log->failed++;
    }
}

/* ---------------------------------------------------------------- mechanism */

START_TEST(test_ext_reads_off)
{
    struct cluster *c = cluster_new(11, 0);
    int l = cluster_leader(c);
    struct read_log log = {0};
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_EOFF);
    ck_assert_int_eq(raft_persister_read(c->peers[l].persister, read_done, &log), RAFT_READ_EOFF);
    struct raft_read_stats st;
    raft_read_stats_get(c->peers[l].rf, &st);
    ck_assert_uint_eq(st.asked, 0);
    cluster_run_for(c, SIM_S(1));
    ck_assert_int_eq(log.ok + log.failed, 0);
    ck_assert_uint_eq(c->peers[l].empty_applied, 0); /* no no-op with the options off */
    cluster_free(c);
}
END_TEST

START_TEST(test_ext_reads_noop_once)
{
    struct cluster *c = cluster_new(12, RAFT_OPT_READ_INDEX);
    int l = cluster_leader(c);
    int f = (l + 1) % READS_PEERS;
    struct read_log log = {0};
    ck_assert_int_eq(raft_read_index(c->peers[f].rf, read_done, &log), RAFT_READ_ENOTLEADER);
    ck_assert_str_eq(raft_read_strerror(RAFT_READ_ENOTLEADER), "not the leader");
    /* The first read of the term appends the no-op and is answered once it is applied. */
    ck_assert_int_eq(raft_persister_read(c->peers[l].persister, read_done, &log), RAFT_READ_OK);
    ck_assert_int_eq(log.ok, 0); /* never inside the call */
    cluster_run_for(c, SIM_MS(200));
    ck_assert_int_eq(log.ok, 1);
    ck_assert_uint_eq(log.last_index, 1);
    ck_assert_uint_eq(c->peers[l].empty_applied, 1);
    /* The second one needs no other no-op. */
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_MS(200));
    ck_assert_int_eq(log.ok, 2);
    struct raft_read_stats st;
    raft_read_stats_get(c->peers[l].rf, &st);
    ck_assert_uint_eq(st.noops, 1);
    ck_assert_uint_eq(st.served, 2);
    ck_assert_uint_eq(st.by_lease, 0);
    cluster_free(c);
}
END_TEST

START_TEST(test_ext_reads_burst_one_round)
{
    struct cluster *c = cluster_new(13, RAFT_OPT_READ_INDEX);
    int l = cluster_leader(c);
    struct read_log log = {0};
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_MS(50));
    struct raft_read_stats before;
    raft_read_stats_get(c->peers[l].rf, &before);
    for (int k = 0; k < 100; k++)
        ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_MS(50)); /* less than a heartbeat interval */
    struct raft_read_stats after;
    raft_read_stats_get(c->peers[l].rf, &after);
    ck_assert_int_eq(log.ok, 101);
    ck_assert_uint_le(after.rounds - before.rounds, 1);
    cluster_free(c);
}
END_TEST

START_TEST(test_ext_reads_lease)
{
    struct cluster *c = cluster_new(14, RAFT_OPT_LEASE_READ);
    int l = cluster_leader(c);
    struct read_log log = {0};
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_MS(150));
    ck_assert_int_eq(log.ok, 1);
    struct raft_read_stats st;
    raft_read_stats_get(c->peers[l].rf, &st);
    ck_assert(st.lease_valid);
    uint64_t rounds = st.rounds;
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_MS(1));
    raft_read_stats_get(c->peers[l].rf, &st);
    ck_assert_int_eq(log.ok, 2);
    ck_assert_uint_eq(st.by_lease, 1);
    ck_assert_uint_eq(st.rounds, rounds);
    /* Cut off, the lease runs out within the election timeout and reads stop. */
    for (int i = 0; i < READS_PEERS; i++)
        if (i != l) cluster_cut(c, i);
    cluster_run_for(c, SIM_MS(300));
    raft_read_stats_get(c->peers[l].rf, &st);
    ck_assert(!st.lease_valid);
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_S(1));
    ck_assert_int_eq(log.ok, 2);
    ck_assert_int_eq(log.failed, 1); /* timed out: no round can be confirmed */
    cluster_free(c);
}
END_TEST

START_TEST(test_ext_reads_full_and_kill)
{
    struct cluster *c = cluster_new(15, RAFT_OPT_READ_INDEX);
    int l = cluster_leader(c);
    for (int i = 0; i < READS_PEERS; i++)
        if (i != l) cluster_cut(c, i);
    struct read_log log = {0};
    for (uint32_t k = 0; k < RAFT_READS_MAX; k++)
        ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_EFULL);
    cluster_run_for(c, SIM_MS(100));
    ck_assert_int_eq(log.ok + log.failed, 0);
    raft_kill(c->peers[l].rf);
    ck_assert_int_eq(log.failed, (int)RAFT_READS_MAX);
    cluster_free(c);
}
END_TEST

struct vote_seen {
    bool replied;
    bool granted;
    int64_t term;
};

static void vote_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct vote_seen *v = ctx;
    if (!ok) return;
    struct gob_dec d;
    gob_dec_init(&d, reply, reply_len);
    gob_get_int(&d, 1, &v->term);
    gob_get_bool(&d, 2, &v->granted);
    v->replied = true;
}

/* Sends `to` a RequestVote of `term` from `from`, with a log far ahead. */
static void vote_send(struct cluster *c, int from, int to, uint64_t term, struct vote_seen *v)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_int(&e, 1, (int64_t)term);
    gob_put_int(&e, 2, from);
    gob_put_int(&e, 3, 1000);
    gob_put_int(&e, 4, (int64_t)term);
    ck_assert_int_eq(gob_enc_finish(&e), 0);
    rpc_end_call(c->peers[from].ends[to], "Raft.RequestVote", gob_enc_bytes(&e), gob_enc_len(&e),
                 vote_reply, v);
    gob_enc_free(&e);
}

/* A RequestVote of a higher term, with a log far ahead, right after a heartbeat: granted
 * without leases; held (no vote, no new term) with them. */
static struct vote_seen vote_after_heartbeat(uint32_t flags)
{
    struct cluster *c = cluster_new(17, flags);
    int l = cluster_leader(c);
    cluster_run_for(c, SIM_MS(500));
    int f = (l + 1) % READS_PEERS;
    int candidate = (l + 2) % READS_PEERS;
    uint64_t term = 0;
    raft_get_state(c->peers[l].rf, &term);
    struct vote_seen v = {0};
    vote_send(c, candidate, f, term + 1, &v);
    cluster_run_for(c, SIM_MS(20));
    ck_assert(v.replied);
    struct raft_read_stats st;
    raft_read_stats_get(c->peers[f].rf, &st);
    ck_assert_uint_eq(st.votes_held, v.granted ? 0 : 1);
    v.term -= (int64_t)term; /* 0: the follower kept its term; 1: it moved on */
    cluster_free(c);
    return v;
}

START_TEST(test_ext_reads_step_down)
{
    struct cluster *c = cluster_new(16, RAFT_OPT_READ_INDEX);
    int l = cluster_leader(c);
    cluster_run_for(c, SIM_MS(200));
    int f = (l + 1) % READS_PEERS;
    cluster_cut(c, (l + 2) % READS_PEERS); /* no majority for a round: the read waits */
    rpc_net_enable(c->net, c->peers[l].ends[f], false);
    struct read_log log = {0};
    ck_assert_int_eq(raft_read_index(c->peers[l].rf, read_done, &log), RAFT_READ_OK);
    cluster_run_for(c, SIM_MS(100));
    ck_assert_int_eq(log.ok + log.failed, 0);
    /* A higher term deposes the leader: the pending read fails at once, not at its timeout. */
    uint64_t term = 0;
    raft_get_state(c->peers[l].rf, &term);
    struct vote_seen v = {0};
    vote_send(c, f, l, term + 1, &v);
    cluster_run_for(c, SIM_MS(20));
    ck_assert(v.replied);
    ck_assert(!raft_get_state(c->peers[l].rf, NULL));
    ck_assert_int_eq(log.ok, 0);
    ck_assert_int_eq(log.failed, 1);
    cluster_free(c);
}
END_TEST

START_TEST(test_ext_reads_vote_held)
{
    struct vote_seen off = vote_after_heartbeat(RAFT_OPT_READ_INDEX);
    ck_assert(off.granted);
    ck_assert_int_eq(off.term, 1);
    struct vote_seen on = vote_after_heartbeat(RAFT_OPT_LEASE_READ);
    ck_assert(!on.granted);
    ck_assert_int_eq(on.term, 0);
}
END_TEST

Suite *ext_reads_suite(void)
{
    Suite *s = suite_create("ext_reads");
    TCase *tc = tcase_create("scenarios");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_ext_reads_stale_index, 0, READS_SEEDS);
    tcase_add_loop_test(tc, test_ext_reads_stale_lease, 0, READS_SEEDS);
    tcase_add_loop_test(tc, test_ext_reads_stale_twin, 0, READS_SEEDS);
    tcase_add_loop_test(tc, test_ext_reads_drift, 0, 2);
    tcase_add_test(tc, test_ext_reads_drift_twin);
    suite_add_tcase(s, tc);
    TCase *mech = tcase_create("mechanism");
    tcase_set_timeout(mech, 30);
    tcase_add_test(mech, test_ext_reads_off);
    tcase_add_test(mech, test_ext_reads_noop_once);
    tcase_add_test(mech, test_ext_reads_burst_one_round);
    tcase_add_test(mech, test_ext_reads_lease);
    tcase_add_test(mech, test_ext_reads_full_and_kill);
    tcase_add_test(mech, test_ext_reads_step_down);
    tcase_add_test(mech, test_ext_reads_vote_held);
    suite_add_tcase(s, mech);
    return s;
}
