/* raft_cfg_check: the checks of the Raft tester (config.go's checkOneLeader, checkTerms,
 * checkNoLeader, nCommitted, wait, one, begin, end, checkTimeout) and the continuous
 * election-safety hook that runs after every sim event.
 *
 * Every sleep, poll and limit is Go's, in virtual time: 10 rounds of 450-549 ms in
 * checkOneLeader, back-off from 10 ms doubling while under 1 s (30 polls) in wait, 10 s
 * overall / 2 s per attempt / 20 ms polls / 50 ms idle in one, 120 s per test.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_cfg_int.h"

#define CHECK_ONE_LEADER_ROUNDS 10
#define CHECK_ONE_LEADER_SLEEP_MS 450
#define CHECK_ONE_LEADER_JITTER_MS 100
#define WAIT_POLLS 30
#define WAIT_FIRST_US SIM_MS(10)
#define ONE_LIMIT_US SIM_S(10)
#define ONE_ATTEMPT_US SIM_S(2)
#define ONE_POLL_US SIM_MS(20)
#define ONE_IDLE_US SIM_MS(50)
#define TEST_LIMIT_US SIM_S(120)

/* ---------------------------------------------------------------- election safety */

/* Index of the first entry with term >= `term` in the sorted table. */
static size_t terms_lower_bound(const struct raft_cfg *cfg, uint64_t term)
{
    size_t lo = 0;
    size_t hi = cfg->terms_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cfg->terms[mid].term < term)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool terms_insert(struct raft_cfg *cfg, size_t at, uint64_t term, int leader)
{
    if (cfg->terms_count == cfg->terms_cap) {
        size_t cap = cfg->terms_cap == 0 ? 64 : cfg->terms_cap * 2;
        if (cap > RAFT_CFG_TERMS_MAX) cap = RAFT_CFG_TERMS_MAX;
        if (cap == cfg->terms_cap) return false;
        struct raft_cfg_term_leader *grown = realloc(cfg->terms, cap * sizeof(*grown));
        if (grown == NULL) return false;
        cfg->terms = grown;
        cfg->terms_cap = cap;
    }
    memmove(&cfg->terms[at + 1], &cfg->terms[at], (cfg->terms_count - at) * sizeof(cfg->terms[0]));
    cfg->terms[at] = (struct raft_cfg_term_leader){.term = term, .leader = leader};
    cfg->terms_count++;
    return true;
}

/* How many distinct servers claimed `term`: the remembered leader plus every running instance
 * claiming it now. */
static int terms_leaders_count(const struct raft_cfg *cfg, uint64_t term, int remembered)
{
    int count = 1; /* the remembered one */
    for (int i = 0; i < cfg->n; i++) {
        const struct raft_cfg_instance *inst = cfg->current[i];
        uint64_t t = 0;
        if (i == remembered || inst == NULL || inst->rf == NULL || raft_killed(inst->rf)) continue;
        if (raft_get_state(inst->rf, &t) && t == term) count++;
    }
    return count;
}

/* Records that server i leads `term`; fails the test if another server led it before. */
static void safety_note_leader(struct raft_cfg *cfg, int i, uint64_t term)
{
    size_t at = terms_lower_bound(cfg, term);
    if (at < cfg->terms_count && cfg->terms[at].term == term) {
        int remembered = cfg->terms[at].leader;
        if (remembered != i && cfg->safety_observe) {
            if (cfg->safety_violation_term == 0) cfg->safety_violation_term = term;
            return;
        }
        if (remembered != i)
            lab_failf(cfg->ctx, i, "term %" PRIu64 " has %d (>1) leaders", term,
                      terms_leaders_count(cfg, term, remembered));
        return;
    }
    if (!terms_insert(cfg, at, term, i))
        lab_failf(cfg->ctx, i, "tester limit: more than %u terms had a leader", RAFT_CFG_TERMS_MAX);
}

void raft_cfg_safety_observe(struct raft_cfg *cfg)
{
    cfg->safety_observe = true;
}

uint64_t raft_cfg_safety_violation(const struct raft_cfg *cfg)
{
    return cfg->safety_violation_term;
}

void raft_cfg_event_hook(struct sim *sim, void *arg)
{
    struct raft_cfg *cfg = arg;
    SIM_ASSERT(sim, SIM_NODE_NONE, cfg->sim == sim);
    if (lab_failed(cfg->ctx)) return;
    for (int i = 0; i < cfg->n && !lab_failed(cfg->ctx); i++) {
        const struct raft_cfg_instance *inst = cfg->current[i];
        uint64_t term = 0;
        if (inst == NULL || inst->rf == NULL || raft_killed(inst->rf)) continue;
        if (!raft_get_state(inst->rf, &term)) continue;
        /* The table is consulted only when this instance's claim is new. */
        if (cfg->seen_leader_rf[i] == inst->rf && cfg->seen_leader_term[i] == term) continue;
        cfg->seen_leader_rf[i] = inst->rf;
        cfg->seen_leader_term[i] = term;
        safety_note_leader(cfg, i, term);
    }
}

/* ---------------------------------------------------------------- leaders and terms */

/* One round of checkOneLeader: the leader of the highest term among connected servers, or -1.
 * Fails when a term has more than one leader. */
static int check_one_leader_round(struct raft_cfg *cfg)
{
    uint64_t terms[RAFT_CFG_SERVERS_MAX];
    bool leading[RAFT_CFG_SERVERS_MAX] = {false};
    int leader_best = -1;
    for (int i = 0; i < cfg->n; i++) {
        if (cfg->connected[i]) leading[i] = raft_cfg_get_state(cfg, i, &terms[i]);
    }
    for (int i = 0; i < cfg->n; i++) {
        int count = 0;
        for (int j = 0; j < cfg->n && leading[i]; j++)
            count += leading[j] && terms[j] == terms[i];
        if (count > 1) {
            lab_fatalf(cfg->ctx, i, "term %" PRIu64 " has %d (>1) leaders", terms[i], count);
            return -1;
        }
        if (leading[i] && (leader_best < 0 || terms[i] > terms[leader_best])) leader_best = i;
    }
    return leader_best;
}

int raft_cfg_check_one_leader(struct raft_cfg *cfg)
{
    for (int iters = 0; iters < CHECK_ONE_LEADER_ROUNDS; iters++) {
        uint64_t ms =
            CHECK_ONE_LEADER_SLEEP_MS + sim_rand_below(&cfg->rand_cfg, CHECK_ONE_LEADER_JITTER_MS);
        sim_sleep_us(cfg->sim, SIM_MS(ms));
        int leader = check_one_leader_round(cfg);
        if (leader >= 0) return leader;
    }
    lab_fatalf(cfg->ctx, SIM_NODE_NONE, "expected one leader, got none");
    return -1;
}

int64_t raft_cfg_check_terms(struct raft_cfg *cfg)
{
    int64_t term = -1;
    for (int i = 0; i < cfg->n; i++) {
        uint64_t xterm = 0;
        if (!cfg->connected[i]) continue;
        raft_cfg_get_state(cfg, i, &xterm);
        if (term == -1)
            term = (int64_t)xterm;
        else if ((uint64_t)term != xterm)
            lab_fatalf(cfg->ctx, i, "servers disagree on term");
    }
    return term;
}

void raft_cfg_check_no_leader(struct raft_cfg *cfg)
{
    for (int i = 0; i < cfg->n; i++) {
        if (cfg->connected[i] && raft_cfg_get_state(cfg, i, NULL))
            lab_fatalf(cfg->ctx, i,
                       "expected no leader among connected servers, but %d claims to be leader", i);
    }
}

/* ---------------------------------------------------------------- agreement */

int raft_cfg_n_committed(struct raft_cfg *cfg, uint64_t index, struct raft_cfg_value *value)
{
    int count = 0;
    const struct raft_cfg_value *cmd = NULL;
    for (int i = 0; i < cfg->n; i++) {
        const struct raft_cfg_value *cmd1 = raft_cfg_log_get(&cfg->logs[i], index);
        if (cmd1->kind == RAFT_CFG_ABSENT) continue;
        if (count > 0 && !raft_cfg_value_equal(cmd, cmd1)) {
            char text[64];
            char text1[64];
            raft_cfg_value_format(cmd, text, sizeof(text));
            raft_cfg_value_format(cmd1, text1, sizeof(text1));
            lab_fatalf(cfg->ctx, i, "committed values do not match: index %" PRIu64 ", %s, %s",
                       index, text, text1);
        }
        count++;
        cmd = cmd1;
    }
    if (value != NULL) *value = cmd != NULL ? *cmd : (struct raft_cfg_value){.kind = RAFT_CFG_NIL};
    return count;
}

/* True when some running server's term passed start_term ("someone has moved on"). */
static bool wait_moved_on(struct raft_cfg *cfg, int64_t start_term)
{
    for (int i = 0; i < cfg->n; i++) {
        uint64_t term = 0;
        if (cfg->current[i] == NULL) continue;
        raft_cfg_get_state(cfg, i, &term);
        if (term > (uint64_t)start_term) return true;
    }
    return false;
}

bool raft_cfg_wait(struct raft_cfg *cfg, uint64_t index, int n, int64_t start_term,
                   struct raft_cfg_value *value)
{
    sim_time_us to_us = WAIT_FIRST_US;
    for (int iters = 0; iters < WAIT_POLLS; iters++) {
        if (raft_cfg_n_committed(cfg, index, NULL) >= n) break;
        sim_sleep_us(cfg->sim, to_us);
        if (to_us < SIM_S(1)) to_us *= 2;
        if (start_term > -1 && wait_moved_on(cfg, start_term)) return false;
    }
    int nd = raft_cfg_n_committed(cfg, index, value);
    if (nd < n)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "only %d decided for index %" PRIu64 "; wanted %d", nd,
                   index, n);
    return true;
}

/* Offers cmd to the connected servers round-robin from *starts; the index a leader accepted
 * it at, or -1. */
static int64_t one_submit(struct raft_cfg *cfg, const struct raft_cfg_value *cmd, int *starts)
{
    for (int si = 0; si < cfg->n; si++) {
        *starts = (*starts + 1) % cfg->n;
        uint64_t index = 0;
        if (!cfg->connected[*starts] || cfg->current[*starts] == NULL) continue;
        if (raft_cfg_start_cmd(cfg, *starts, cmd, &index, NULL)) return (int64_t)index;
    }
    return -1;
}

/* Polls for 2 s whether `expected` servers applied cmd at index. */
static bool one_await(struct raft_cfg *cfg, const struct raft_cfg_value *cmd, int64_t index,
                      int expected)
{
    sim_time_us t1_us = sim_now_us(cfg->sim);
    while (sim_now_us(cfg->sim) - t1_us < ONE_ATTEMPT_US) {
        struct raft_cfg_value cmd1;
        int nd = raft_cfg_n_committed(cfg, (uint64_t)index, &cmd1);
        if (nd > 0 && nd >= expected && raft_cfg_value_equal(&cmd1, cmd)) return true;
        sim_sleep_us(cfg->sim, ONE_POLL_US);
    }
    return false;
}

int64_t raft_cfg_one(struct raft_cfg *cfg, const struct raft_cfg_value *cmd, int expected,
                     bool retry)
{
    char text[64];
    sim_time_us t0_us = sim_now_us(cfg->sim);
    int starts = 0;
    raft_cfg_value_format(cmd, text, sizeof(text));
    while (sim_now_us(cfg->sim) - t0_us < ONE_LIMIT_US && !cfg->finished) {
        int64_t index = one_submit(cfg, cmd, &starts);
        if (index == -1) {
            sim_sleep_us(cfg->sim, ONE_IDLE_US);
            continue;
        }
        if (one_await(cfg, cmd, index, expected)) return index;
        if (!retry) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "one(%s) failed to reach agreement", text);
    }
    if (!cfg->finished)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "one(%s) failed to reach agreement", text);
    return -1;
}

int64_t raft_cfg_one_int(struct raft_cfg *cfg, int64_t v, int expected, bool retry)
{
    struct raft_cfg_value cmd = raft_cfg_int(v);
    return raft_cfg_one(cfg, &cmd, expected, retry);
}

/* ---------------------------------------------------------------- begin and end */

void raft_cfg_begin(struct raft_cfg *cfg, const char *title)
{
    lab_begin(cfg->ctx, title);
    cfg->t0_us = sim_now_us(cfg->sim);
    cfg->rpcs0 = raft_cfg_rpc_total(cfg);
    cfg->bytes0 = raft_cfg_bytes_total(cfg);
    cfg->max_index0 = cfg->max_index;
}

void raft_cfg_end(struct raft_cfg *cfg)
{
    char counts[96];
    raft_cfg_check_timeout(cfg);
    if (lab_failed(cfg->ctx)) return;
    double seconds = (double)(sim_now_us(cfg->sim) - cfg->t0_us) / (double)SIM_US_PER_S;
    uint64_t nrpc = raft_cfg_rpc_total(cfg) - cfg->rpcs0;
    uint64_t nbytes = raft_cfg_bytes_total(cfg) - cfg->bytes0;
    uint64_t ncmds = cfg->max_index - cfg->max_index0;
    snprintf(counts, sizeof(counts), "%d %4" PRIu64 " %7" PRIu64 " %4" PRIu64, cfg->n, nrpc, nbytes,
             ncmds);
    lab_passed(cfg->ctx, seconds, counts);
}

void raft_cfg_check_timeout(struct raft_cfg *cfg)
{
    if (!lab_failed(cfg->ctx) && sim_now_us(cfg->sim) - cfg->start_us > TEST_LIMIT_US)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "test took longer than 120 seconds");
}
