/* check_raft_unit: unit tests of the Raft implementation on a small hand-built cluster.
 *
 * Independent of the graded harness (tests/raft/raft_cfg*.c): each test builds a sim, a labrpc
 * network and n Raft peers itself, drives the sim with sim_run_until from outside any task,
 * and checks through the public raft.h API and raft_inspect. Commands are 8-byte little-endian
 * integers; the service's "state" is the list of applied values, and its snapshot is the
 * 8-byte index it covers. The apply callback checks order and agreement as it runs, and can
 * snapshot every k entries from inside the callback (as the Go applierSnap does).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/gob_fuzz_oracle.h"
#include "labrpc.h"
#include "persister_hooks.h"
#include "raft.h"
#include "raft_ext.h"
#include "sim.h"

#define UNIT_PEERS_MAX 5
#define UNIT_INDEX_MAX 4096
#define UNIT_ZOMBIES_MAX 64

struct unit;

struct unit_peer {
    struct unit *u;
    int id;
    struct raft *rf;                      /* NULL while crashed */
    struct raft_persister *persister;     /* what a restart will see */
    struct rpc_end *ends[UNIT_PEERS_MAX]; /* ends[j]: this peer -> j */
    bool connected;
    uint64_t last_applied;
    uint64_t snapshots_applied;
};

struct unit {
    struct sim *sim;
    struct rpc_net *net;
    int n;
    int snap_every;      /* 0: the service never snapshots */
    int64_t chain_until; /* a leader's callback starts value + 1 while value < this */
    int kill_peer;       /* this peer's callback kills its own instance at kill_index */
    uint64_t kill_index;
    int applied_after_kill;
    struct unit_peer peers[UNIT_PEERS_MAX];
    int64_t values[UNIT_INDEX_MAX]; /* committed value per index, 0 = none seen yet */
    char error[256];                /* first apply error */
    struct raft *zombies[UNIT_ZOMBIES_MAX];
    struct raft_persister *old_persisters[UNIT_ZOMBIES_MAX];
    int zombies_count;
    int ends_made;
};

/* ---------------------------------------------------------------- encoding */

static void u64_put(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t u64_get(const uint8_t *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)in[i] << (8 * i);
    return v;
}

/* ---------------------------------------------------------------- the service */

static void unit_fail(struct unit *u, const char *msg)
{
    if (u->error[0] == '\0') snprintf(u->error, sizeof(u->error), "%s", msg);
}

static void unit_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct unit_peer *p = ctx;
    struct unit *u = p->u;
    if (msg->snapshot_valid) {
        if (msg->snapshot_len != 8 || u64_get(msg->snapshot) != msg->snapshot_index)
            unit_fail(u, "snapshot bytes do not match snapshot_index");
        if (msg->snapshot_index <= p->last_applied) unit_fail(u, "snapshot does not move forward");
        p->last_applied = msg->snapshot_index;
        p->snapshots_applied++;
        return;
    }
    ck_assert(msg->command_valid);
    if (raft_killed(p->rf)) u->applied_after_kill++;
    if (msg->command_index != p->last_applied + 1) unit_fail(u, "apply out of order");
    if (msg->command_len != 8 || msg->command_index >= UNIT_INDEX_MAX) {
        unit_fail(u, "bad command");
        return;
    }
    int64_t v = (int64_t)u64_get(msg->command);
    int64_t *seen = &u->values[msg->command_index];
    if (*seen != 0 && *seen != v) unit_fail(u, "committed values do not match");
    *seen = v;
    p->last_applied = msg->command_index;
    /* Re-entry: Start, GetState and Kill from inside the callback. */
    if (v < u->chain_until && raft_get_state(p->rf, NULL)) {
        uint8_t cmd[8];
        u64_put(cmd, (uint64_t)(v + 1));
        raft_start(p->rf, cmd, sizeof(cmd), NULL, NULL);
    }
    if (p->id == u->kill_peer && msg->command_index == u->kill_index) raft_kill(p->rf);
    /* Snapshot from inside the callback, as applierSnap does. */
    if (u->snap_every > 0 && msg->command_index % (uint64_t)u->snap_every == 0) {
        uint8_t snap[8];
        u64_put(snap, msg->command_index);
        raft_snapshot(p->rf, msg->command_index, snap, sizeof(snap));
    }
}

/* ---------------------------------------------------------------- the cluster */

static void unit_enable(struct unit *u, int i, int j, bool on)
{
    rpc_net_enable(u->net, u->peers[i].ends[j], on);
    rpc_net_enable(u->net, u->peers[j].ends[i], on);
}

static void unit_connect(struct unit *u, int i)
{
    u->peers[i].connected = true;
    for (int j = 0; j < u->n; j++) {
        if (j != i && u->peers[j].connected) unit_enable(u, i, j, true);
    }
}

static void unit_disconnect(struct unit *u, int i)
{
    u->peers[i].connected = false;
    for (int j = 0; j < u->n; j++) {
        if (j != i) unit_enable(u, i, j, false);
    }
}

static void unit_crash(struct unit *u, int i)
{
    struct unit_peer *p = &u->peers[i];
    if (p->rf == NULL) return;
    unit_disconnect(u, i);
    rpc_net_delete_server(u->net, i);
    ck_assert_int_lt(u->zombies_count, UNIT_ZOMBIES_MAX);
    /* The zombie keeps writing to its old persister; the restart sees a copy. */
    struct raft_persister *copy = raft_persister_copy(p->persister);
    ck_assert_ptr_nonnull(copy);
    raft_kill(p->rf);
    u->zombies[u->zombies_count] = p->rf;
    u->old_persisters[u->zombies_count] = p->persister;
    u->zombies_count++;
    p->persister = copy;
    p->rf = NULL;
}

static void unit_start(struct unit *u, int i)
{
    struct unit_peer *p = &u->peers[i];
    unit_crash(u, i);
    for (int j = 0; j < u->n; j++) {
        char name[32];
        snprintf(name, sizeof(name), "end-%d", u->ends_made++);
        p->ends[j] = rpc_net_make_end(u->net, name);
        rpc_net_connect(u->net, p->ends[j], j);
    }
    /* The service restores itself from the snapshot; Raft resumes after it. */
    size_t snap_len = 0;
    const uint8_t *snap = raft_persister_snapshot(p->persister, &snap_len);
    p->last_applied = snap_len == 8 ? u64_get(snap) : 0;
    p->rf = raft_make(u->sim, p->ends, u->n, i, p->persister, unit_apply, p);
    ck_assert_ptr_nonnull(p->rf);
    struct rpc_server *server = rpc_server_new(u->net);
    ck_assert_int_eq(raft_register(p->rf, server), RPC_OK);
    rpc_net_add_server(u->net, i, server);
}

static struct unit *unit_new(uint64_t seed, int n, bool reliable)
{
    struct unit *u = calloc(1, sizeof(*u));
    ck_assert_ptr_nonnull(u);
    u->sim = sim_new(seed);
    u->net = rpc_net_new(u->sim);
    rpc_net_set_reliable(u->net, reliable);
    rpc_net_set_long_delays(u->net, true);
    u->n = n;
    u->kill_peer = -1;
    for (int i = 0; i < n; i++) {
        u->peers[i].u = u;
        u->peers[i].id = i;
        u->peers[i].persister = raft_persister_new();
    }
    for (int i = 0; i < n; i++)
        unit_start(u, i);
    for (int i = 0; i < n; i++)
        unit_connect(u, i);
    return u;
}

static void unit_free(struct unit *u)
{
    for (int i = 0; i < u->n; i++)
        raft_kill(u->peers[i].rf);
    rpc_net_free(u->net);
    for (int i = 0; i < u->n; i++) {
        raft_free(u->peers[i].rf);
        raft_persister_free(u->peers[i].persister);
    }
    for (int z = 0; z < u->zombies_count; z++) {
        raft_free(u->zombies[z]);
        raft_persister_free(u->old_persisters[z]);
    }
    sim_free(u->sim);
    free(u);
}

static void unit_run_for(struct unit *u, sim_time_us d)
{
    sim_run_until(u->sim, NULL, NULL, sim_now_us(u->sim) + d);
    ck_assert_msg(u->error[0] == '\0', "%s", u->error);
}

/* The leader of the highest term among connected peers, -1 if none; fails on two leaders
 * in one term. */
static int unit_leader(struct unit *u)
{
    int leader = -1;
    uint64_t leader_term = 0;
    for (int i = 0; i < u->n; i++) {
        struct unit_peer *p = &u->peers[i];
        uint64_t term = 0;
        if (p->rf == NULL || !p->connected || !raft_get_state(p->rf, &term)) continue;
        ck_assert_msg(leader < 0 || term != leader_term, "two leaders in term %llu",
                      (unsigned long long)term);
        if (leader < 0 || term > leader_term) {
            leader = i;
            leader_term = term;
        }
    }
    return leader;
}

static bool pred_leader(struct sim *sim, void *arg)
{
    (void)sim;
    return unit_leader(arg) >= 0;
}

static int unit_wait_leader(struct unit *u)
{
    bool ok = sim_run_until(u->sim, pred_leader, u, sim_now_us(u->sim) + SIM_S(5));
    ck_assert_msg(ok, "no leader within 5 s");
    return unit_leader(u);
}

struct applied_goal {
    struct unit *u;
    uint64_t index;
    int count;
};

static bool pred_applied(struct sim *sim, void *arg)
{
    (void)sim;
    struct applied_goal *g = arg;
    int n = 0;
    for (int i = 0; i < g->u->n; i++)
        n += g->u->peers[i].rf != NULL && g->u->peers[i].last_applied >= g->index;
    return n >= g->count;
}

static void unit_wait_applied(struct unit *u, uint64_t index, int count)
{
    struct applied_goal g = {u, index, count};
    bool ok = sim_run_until(u->sim, pred_applied, &g, sim_now_us(u->sim) + SIM_S(10));
    ck_assert_msg(u->error[0] == '\0', "%s", u->error);
    ck_assert_msg(ok, "index %llu not applied on %d peers", (unsigned long long)index, count);
}

/* Start(v) on the current leader; returns the index. */
static uint64_t unit_propose(struct unit *u, int64_t v)
{
    int leader = unit_wait_leader(u);
    uint8_t cmd[8];
    u64_put(cmd, (uint64_t)v);
    uint64_t index = 0;
    uint64_t term = 0;
    ck_assert(raft_start(u->peers[leader].rf, cmd, sizeof(cmd), &index, &term));
    return index;
}

/* ---------------------------------------------------------------- tests */

/* One leader, stable terms, heartbeats within the 3A/3B budgets. */
START_TEST(test_raft_unit_elect)
{
    struct unit *u = unit_new(100 + (uint64_t)_i, 3, true);
    int leader = unit_wait_leader(u);
    uint64_t term0 = 0;
    raft_get_state(u->peers[leader].rf, &term0);
    ck_assert_uint_ge(term0, 1);
    /* 1 s of idleness: no new election, at most 60 RPCs (TestCount3B). */
    uint64_t rpcs0 = rpc_net_total_count(u->net);
    unit_run_for(u, SIM_S(1));
    uint64_t idle = rpc_net_total_count(u->net) - rpcs0;
    ck_assert_uint_le(idle, 60);
    ck_assert_uint_ge(idle, 10); /* heartbeats do flow */
    ck_assert_int_eq(unit_leader(u), leader);
    for (int i = 0; i < 3; i++) {
        uint64_t term = 0;
        raft_get_state(u->peers[i].rf, &term);
        ck_assert_uint_eq(term, term0);
    }
    /* Lose the leader: the other two elect a new one, in a later term. */
    unit_disconnect(u, leader);
    int leader2 = unit_wait_leader(u);
    ck_assert_int_ne(leader2, leader);
    unit_connect(u, leader);
    unit_run_for(u, SIM_S(1));
    ck_assert_int_ge(unit_leader(u), 0);
    unit_free(u);
}
END_TEST

/* Starts in one instant share AppendEntries; everything is applied in order everywhere. */
START_TEST(test_raft_unit_replicate)
{
    struct unit *u = unit_new(200 + (uint64_t)_i, 3, true);
    unit_wait_leader(u);
    uint64_t rpcs0 = rpc_net_total_count(u->net);
    for (int v = 1; v <= 12; v++)
        ck_assert_uint_eq(unit_propose(u, 1000 + v), (uint64_t)v);
    unit_wait_applied(u, 12, 3);
    /* TestCount3B: an agreement of 12 Starts costs well under (10+1+3)*3 = 42 RPCs. */
    ck_assert_uint_le(rpc_net_total_count(u->net) - rpcs0, 42);
    for (int v = 1; v <= 12; v++)
        ck_assert_int_eq(u->values[v], 1000 + v);
    /* A follower that was away catches up. */
    int leader = unit_leader(u);
    int away = (leader + 1) % 3;
    unit_disconnect(u, away);
    for (int v = 13; v <= 40; v++)
        unit_propose(u, 1000 + v);
    unit_wait_applied(u, 40, 2);
    unit_connect(u, away);
    unit_wait_applied(u, 40, 3);
    unit_free(u);
}
END_TEST

/* Crash and restart from a copy of the persister: term, vote and log survive. */
START_TEST(test_raft_unit_restart)
{
    struct unit *u = unit_new(300 + (uint64_t)_i, 3, true);
    for (int v = 1; v <= 5; v++)
        unit_propose(u, v);
    unit_wait_applied(u, 5, 3);
    uint64_t term_before = 0;
    raft_get_state(u->peers[unit_leader(u)].rf, &term_before);
    for (int i = 0; i < 3; i++)
        unit_crash(u, i);
    for (int i = 0; i < 3; i++) {
        unit_start(u, i);
        struct raft_inspect in;
        raft_inspect(u->peers[i].rf, &in);
        ck_assert_uint_ge(in.term, term_before);
        ck_assert_uint_ge(in.last_index, 5);
        ck_assert_uint_eq(in.commit_index, 0);
        ck_assert_uint_eq(raft_inspect_term_at(u->peers[i].rf, 5), term_before);
    }
    for (int i = 0; i < 3; i++)
        unit_connect(u, i);
    uint64_t index = unit_propose(u, 6);
    ck_assert_uint_eq(index, 6);
    unit_wait_applied(u, 6, 3); /* re-applies 1..5 with the same values, then 6 */
    uint64_t term_after = 0;
    raft_get_state(u->peers[unit_leader(u)].rf, &term_after);
    ck_assert_uint_gt(term_after, term_before);
    unit_free(u);
}
END_TEST

/* Snapshots taken from inside the apply callback; a lagging follower gets InstallSnapshot;
 * a full restart keeps the snapshot (TestSnapshotInit3D). */
START_TEST(test_raft_unit_snapshot)
{
    struct unit *u = unit_new(400 + (uint64_t)_i, 3, true);
    u->snap_every = 10;
    int leader = unit_wait_leader(u);
    int away = (leader + 1) % 3;
    unit_disconnect(u, away);
    for (int v = 1; v <= 35; v++)
        unit_propose(u, v);
    unit_wait_applied(u, 35, 2);
    struct raft_inspect in;
    raft_inspect(u->peers[leader].rf, &in);
    ck_assert_uint_eq(in.snapshot_index, 30);
    ck_assert_uint_eq(raft_inspect_term_at(u->peers[leader].rf, 30), 0);
    ck_assert_uint_lt(raft_persister_state_size(u->peers[leader].persister), 2000);
    ck_assert_uint_eq(raft_persister_snapshot_size(u->peers[leader].persister), 8);
    unit_connect(u, away);
    unit_wait_applied(u, 35, 3);
    ck_assert_uint_ge(u->peers[away].snapshots_applied, 1);
    raft_inspect(u->peers[away].rf, &in);
    ck_assert_uint_ge(in.snapshot_index, 30);
    /* Crash all, restart all, commit: indices continue, the snapshot stays saved. */
    for (int i = 0; i < 3; i++)
        unit_crash(u, i);
    for (int i = 0; i < 3; i++)
        unit_start(u, i);
    for (int i = 0; i < 3; i++)
        unit_connect(u, i);
    ck_assert_uint_eq(unit_propose(u, 36), 36);
    unit_wait_applied(u, 36, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(raft_persister_snapshot_size(u->peers[i].persister), 8);
    unit_free(u);
}
END_TEST

/* The persister keeps a snapshot handed back as its own view (what our Raft does at every
 * save while its snapshot is unchanged) and still replaces the state; any other snapshot is
 * copied, and NULL erases it, as Go's Save does. */
START_TEST(test_raft_unit_persister_keep_snapshot)
{
    struct raft_persister *p = raft_persister_new();
    size_t len = 0;
    ck_assert_int_eq(raft_persister_save(p, (const uint8_t *)"s1", 2, (const uint8_t *)"snap", 4),
                     0);
    const uint8_t *held = raft_persister_snapshot(p, &len);
    ck_assert_int_eq(raft_persister_save(p, (const uint8_t *)"s2x", 3, held, len), 0);
    ck_assert_ptr_eq(raft_persister_snapshot(p, &len), held); /* kept, not copied */
    ck_assert_mem_eq(held, "snap", 4);
    ck_assert_mem_eq(raft_persister_state(p, &len), "s2x", 3);
    ck_assert_uint_eq(len, 3);
    struct raft_persister *copy = raft_persister_copy(p);
    ck_assert_int_eq(raft_persister_save(p, (const uint8_t *)"s3", 2, (const uint8_t *)"other", 5),
                     0);
    ck_assert_mem_eq(raft_persister_snapshot(p, &len), "other", 5);
    ck_assert_mem_eq(raft_persister_snapshot(copy, &len), "snap", 4); /* the copy kept its own */
    ck_assert_int_eq(raft_persister_save(p, (const uint8_t *)"s4", 2, NULL, 0), 0);
    ck_assert_uint_eq(raft_persister_snapshot_size(p), 0);
    raft_persister_free(copy);
    raft_persister_free(p);
}
END_TEST

static int refuse_save(void *ctx, const struct raft_persister *p, const uint8_t *state,
                       size_t state_len, const uint8_t *snapshot, size_t snapshot_len)
{
    (void)ctx;
    (void)p;
    (void)state;
    (void)state_len;
    (void)snapshot;
    (void)snapshot_len;
    return -1; /* as a durable back end whose write failed */
}

static void hooks_ctx_free(void *ctx)
{
    (void)ctx;
}

static uint8_t *bytes_new(const char *s)
{
    uint8_t *b = malloc(strlen(s));
    ck_assert_ptr_nonnull(b);
    memcpy(b, s, strlen(s));
    return b;
}

/* raft_persister_save_owned (how our Raft saves a new snapshot): on success the persister holds
 * the very buffer it was given (no copy) and frees it when replaced; a refused save (a durable
 * back end failing, or bad arguments) changes nothing and leaves the buffer the caller's. Under
 * ASan a wrong owner shows as a leak or a double free. */
START_TEST(test_raft_unit_persister_save_owned)
{
    struct raft_persister *p = raft_persister_new();
    size_t len = 0;
    uint8_t *snap = bytes_new("snap1");
    ck_assert_int_eq(raft_persister_save_owned(p, (const uint8_t *)"s1", 2, snap, 5), 0);
    ck_assert_ptr_eq(raft_persister_snapshot(p, &len), snap); /* taken, not copied */
    ck_assert_uint_eq(len, 5);
    ck_assert_mem_eq(raft_persister_state(p, &len), "s1", 2);
    ck_assert_int_eq(raft_persister_save_owned(p, (const uint8_t *)"s2", 2, snap, 5), -1);
    ck_assert_int_eq(raft_persister_save_owned(p, (const uint8_t *)"s2", 2, NULL, 0), -1);
    ck_assert_mem_eq(raft_persister_state(p, &len), "s1", 2); /* refused: unchanged */
    /* Handing back the held snapshot with a new state keeps it, as raft_persister_save does. */
    ck_assert_int_eq(raft_persister_save(p, (const uint8_t *)"s3", 2, snap, 5), 0);
    ck_assert_ptr_eq(raft_persister_snapshot(p, &len), snap);
    static const struct raft_persister_hooks refuse = {refuse_save, NULL, hooks_ctx_free};
    raft_persister_set_hooks(p, &refuse, NULL);
    uint8_t *other = bytes_new("other");
    ck_assert_int_eq(raft_persister_save_owned(p, (const uint8_t *)"s4", 2, other, 5), -1);
    ck_assert_ptr_eq(raft_persister_snapshot(p, &len), snap); /* nothing changed */
    ck_assert_mem_eq(raft_persister_state(p, &len), "s3", 2);
    raft_persister_set_hooks(p, NULL, NULL);
    ck_assert_int_eq(raft_persister_save_owned(p, (const uint8_t *)"s5", 2, other, 5), 0);
    ck_assert_mem_eq(raft_persister_snapshot(p, &len), "other", 5); /* snap was freed */
    raft_persister_free(p);
}
END_TEST

/* The apply callback may call Start, GetState and Snapshot on its own instance. */
static void unit_apply_ignore(void *ctx, const struct raft_apply_msg *msg)
{
    (void)ctx;
    (void)msg;
}

START_TEST(test_raft_unit_persister_options)
{
    /* Goal: raft_ext.h options travel with the persister into a copy (a restart), our Raft takes
     * them at make, and a persister whose options nobody took is reported as ignored. */
    struct raft_persister *p = raft_persister_new();
    ck_assert_ptr_nonnull(p);
    ck_assert(!raft_persister_options_ignored(p)); /* none set: nothing to ignore */
    const struct raft_options want = {.flags = RAFT_OPT_PRE_VOTE | RAFT_OPT_CHECK_QUORUM};
    raft_persister_set_options(p, &want);
    ck_assert(raft_persister_options_ignored(p));
    struct raft_persister *c = raft_persister_copy(p);
    ck_assert_ptr_nonnull(c);
    ck_assert(raft_persister_options_ignored(c)); /* a restart must take them again */
    struct sim *sim = sim_new(3);
    ck_assert_ptr_nonnull(sim);
    struct rpc_end *ends[1] = {NULL};
    struct raft *rf = raft_make(sim, ends, 1, 0, c, unit_apply_ignore, NULL);
    ck_assert_ptr_nonnull(rf);
    ck_assert(!raft_persister_options_ignored(c));
    struct raft_options got = {0};
    raft_options_get(rf, &got);
    ck_assert_uint_eq(got.flags, want.flags);
    ck_assert_uint_eq(got.clock_drift_ppm, RAFT_CLOCK_DRIFT_PPM_DEFAULT);
    raft_free(rf);
    sim_free(sim);
    raft_persister_free(c);
    raft_persister_free(p);
}
END_TEST

START_TEST(test_raft_unit_reentry_start)
{
    struct unit *u = unit_new(700 + (uint64_t)_i, 3, true);
    u->snap_every = 7;
    u->chain_until = 30;
    /* Value 1, then each application of v on the leader starts v + 1. */
    ck_assert_uint_eq(unit_propose(u, 1), 1);
    unit_wait_applied(u, 30, 3);
    for (int64_t v = 1; v <= 30; v++)
        ck_assert_int_eq(u->values[v], v);
    unit_free(u);
}
END_TEST

/* Kill from inside the callback: nothing more is delivered, even from the same batch. */
START_TEST(test_raft_unit_reentry_kill)
{
    struct unit *u = unit_new(750 + (uint64_t)_i, 3, true);
    int leader = unit_wait_leader(u);
    u->kill_peer = (leader + 1) % 3;
    u->kill_index = 12;
    for (int64_t v = 1; v <= 20; v++) /* one instant: one batch for the followers */
        unit_propose(u, v);
    unit_wait_applied(u, 20, 2);
    unit_run_for(u, SIM_S(1));
    struct unit_peer *victim = &u->peers[u->kill_peer];
    ck_assert(raft_killed(victim->rf));
    ck_assert_uint_eq(victim->last_applied, 12);
    ck_assert_int_eq(u->applied_after_kill, 0);
    unit_free(u);
}
END_TEST

static void garbage_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    (void)reply;
    int *replies = ctx;
    if (ok && reply_len == 0) (*replies)++;
}

/* Undecodable requests are ignored (answered empty), never a crash. */
START_TEST(test_raft_unit_bad_input)
{
    struct unit *u = unit_new(500, 3, true);
    unit_wait_leader(u);
    struct rpc_end *end = rpc_net_make_end(u->net, "fuzz");
    rpc_net_connect(u->net, end, 0);
    rpc_net_enable(u->net, end, true);
    static const char *methods[] = {"Raft.RequestVote", "Raft.AppendEntries",
                                    "Raft.InstallSnapshot"};
    struct sim_rand r;
    sim_rand_seed(&r, 7);
    int replies = 0;
    int sent = 0;
    for (int k = 0; k < 300; k++) {
        uint8_t junk[64];
        uint8_t framed[GOB_FUZZ_FRAME_HEADER_MAX + sizeof(junk)];
        size_t len = (size_t)sim_rand_below(&r, sizeof(junk) + 1);
        for (size_t b = 0; b < len; b++)
            junk[b] = (uint8_t)sim_rand_below(&r, 256);
        /* Make some keys plausible: field 1 int with a large term. */
        if (k % 3 == 0 && len > 2) {
            junk[0] = (1u << 3) | GOB_INT;
            junk[1] = 0x7e;
        }
        /* Most go behind a valid labgob header, so Raft's decoders see the junk. */
        const uint8_t *in = junk;
        if (k % 4 != 0) {
            len = gob_fuzz_frame(junk, len, framed);
            in = framed;
        }
        rpc_end_call(end, methods[k % 3], in, len, garbage_reply, &replies);
        sent++;
        unit_run_for(u, SIM_MS(5));
    }
    unit_run_for(u, SIM_S(1));
    ck_assert_int_gt(replies, 0);
    /* The cluster still works. */
    uint64_t index = unit_propose(u, 77);
    unit_wait_applied(u, index, 3);
    unit_free(u);
}
END_TEST

/* 5 peers on the unreliable net with crashes, restarts and partitions; then heal and agree. */
START_TEST(test_raft_unit_churn)
{
    struct unit *u = unit_new(600 + (uint64_t)_i, 5, false);
    u->snap_every = (_i % 2 == 0) ? 10 : 0;
    struct sim_rand r;
    sim_rand_seed(&r, 900 + (uint64_t)_i);
    int64_t next_value = 1;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < u->n; i++) {
            uint8_t cmd[8];
            u64_put(cmd, (uint64_t)next_value++);
            if (u->peers[i].rf != NULL) raft_start(u->peers[i].rf, cmd, sizeof(cmd), NULL, NULL);
        }
        int victim = (int)sim_rand_below(&r, (uint64_t)u->n);
        uint64_t what = sim_rand_below(&r, 10);
        if (what < 2)
            unit_crash(u, victim);
        else if (what < 4)
            unit_disconnect(u, victim);
        else if (what < 8) {
            if (u->peers[victim].rf == NULL) unit_start(u, victim);
            unit_connect(u, victim);
        }
        unit_run_for(u, SIM_MS(sim_rand_below(&r, 500)));
    }
    rpc_net_set_reliable(u->net, true);
    for (int i = 0; i < u->n; i++) {
        if (u->peers[i].rf == NULL) unit_start(u, i);
        unit_connect(u, i);
    }
    unit_run_for(u, SIM_S(2));
    uint64_t index = unit_propose(u, 1000000);
    unit_wait_applied(u, index, 5);
    ck_assert_int_eq(u->values[index], 1000000);
    unit_free(u);
}
END_TEST

Suite *raft_unit_suite(void)
{
    Suite *s = suite_create("raft_unit");
    TCase *basic = tcase_create("basic");
    tcase_set_timeout(basic, 30);
    tcase_add_loop_test(basic, test_raft_unit_elect, 0, 5);
    tcase_add_loop_test(basic, test_raft_unit_replicate, 0, 5);
    tcase_add_loop_test(basic, test_raft_unit_restart, 0, 5);
    tcase_add_loop_test(basic, test_raft_unit_snapshot, 0, 5);
    tcase_add_loop_test(basic, test_raft_unit_reentry_start, 0, 5);
    tcase_add_loop_test(basic, test_raft_unit_reentry_kill, 0, 5);
    tcase_add_test(basic, test_raft_unit_bad_input);
    tcase_add_test(basic, test_raft_unit_persister_keep_snapshot);
    tcase_add_test(basic, test_raft_unit_persister_options);
    tcase_add_test(basic, test_raft_unit_persister_save_owned);
    suite_add_tcase(s, basic);
    TCase *churn = tcase_create("churn");
    tcase_set_timeout(churn, 60);
    tcase_add_loop_test(churn, test_raft_unit_churn, 0, 10);
    suite_add_tcase(s, churn);
    return s;
}
