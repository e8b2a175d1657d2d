/* ext_prevote: the scenario pairs of pre-vote, check-quorum and leadership transfer (issue 15;
 * raft/raft_ext.h, section "pre-vote, check-quorum and leadership transfer").
 *
 * Each pair is one body run twice on the same seed: with the mechanism (which must show the
 * failure's absence) and as the twin without it (which passes only when the failure shows, and
 * says what it saw). Every bound is stated where it is asserted.
 *   PreVoteRejoin   3 servers; a follower is cut off for 5 s (about ten of its election
 *                   timeouts), then rejoins. With pre-vote and check-quorum its term never
 *                   moves and the leader and term stay; the twin sees its term inflate and the
 *                   leader's term end when it rejoins.
 *   CheckQuorum     3 servers; the leader is cut off alone. With check-quorum it steps down
 *                   within RAFT_QUORUM_STEP_DOWN_MAX_US (700 ms, seen through a 5 ms poll);
 *                   the twin sees it still
 *                   believing it leads 3 s later.
 *   LeaderTransfer  5 servers under a steady load of commands (pre-vote and check-quorum on in
 *                   both runs, so the transfer must get through leader stickiness: with 5, the
 *                   old leader and the target are no majority without a follower that still
 *                   hears the leader, and without the transfer flag every seed fails). The leader
 *                   hands over to a chosen follower, which must lead within TRANSFER_BOUND_US
 *                   (200 ms, under the shortest election timeout); no acknowledged command is
 *                   lost; then a transfer to a cut-off follower is abandoned and the leader
 *                   takes commands again in its term. The twin hands over the only way a
 *                   lab Raft can, by silencing the leader (disconnect): no follower can time
 *                   out sooner than 200 ms after the last heartbeat could have reached it (the
 *                   300 ms minimum timeout less the 100 ms heartbeat), so the twin passes when
 *                   the new leader came 200 ms or later, or is not the chosen one, and reports
 *                   which.
 *
 * The calls of raft_ext.h exist only in labsim's own Raft. A raft.h-only Raft still links (the
 * weak fallbacks of ext_fallback.c answer RAFT_ENOTSUP) and these scenarios fail with a message.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "ext_prevote.h"
#include "raft_cfg.h"
#include "raft_ext.h"

/* The handover bound of the transfer scenario (see the file comment). */
#define TRANSFER_BOUND_US SIM_MS(200)
/* How often the scenarios poll the servers' state. */
#define POLL_US SIM_MS(5)
/* Acknowledged commands the load records (it stops earlier when full). */
#define LOAD_ACKS_MAX 256

static void say(struct lab_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of what the scenario saw, in the run's output (a twin's verdict, a measured time). */
static void say(struct lab_ctx *ctx, const char *fmt, ...)
{
    FILE *out = lab_out(ctx);
    if (out == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", out);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    va_end(ap);
}

static double ms_of(sim_time_us us)
{
    return (double)us / (double)SIM_US_PER_MS;
}

/* The connected server that believes it leads, polling until `limit_us` has passed; -1 when
 * none did. With `only` >= 0, waits for that server alone. */
static int leader_wait(struct raft_cfg *cfg, int only, sim_time_us limit_us)
{
    struct sim *sim = raft_cfg_sim(cfg);
    sim_time_us until = sim_now_us(sim) + limit_us;
    for (;;) {
        for (int i = 0; i < raft_cfg_servers(cfg); i++) {
            if ((only >= 0 && i != only) || !raft_cfg_connected(cfg, i)) continue;
            if (raft_cfg_get_state(cfg, i, NULL)) return i;
        }
        if (sim_now_us(sim) >= until) return -1;
        sim_sleep_us(sim, POLL_US);
    }
}

static uint64_t term_of(struct raft_cfg *cfg, int i)
{
    uint64_t term = 0;
    raft_cfg_get_state(cfg, i, &term);
    return term;
}

/* ---------------------------------------------------------------- pre-vote rejoin */

static void prevote_rejoin(struct lab_ctx *ctx, bool on)
{
    lab_raft_opts_set(ctx, on ? "pre-vote,check-quorum" : "");
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    struct sim *sim = lab_sim(ctx);
    raft_cfg_begin(cfg, on ? "a rejoining follower does not depose the leader (pre-vote)"
                           : "twin: a rejoining follower deposes the leader (no pre-vote)");
    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_one_int(cfg, 101, servers, true);
    uint64_t term1 = term_of(cfg, leader1);
    int cut = (leader1 + 1) % servers;

    /* Cut one follower off for about ten of its election timeouts. */
    raft_cfg_disconnect(cfg, cut);
    sim_sleep_us(sim, 5 * RAFT_ELECTION_TIMEOUT_US);
    uint64_t cut_term = term_of(cfg, cut);
    raft_cfg_one_int(cfg, 102, servers - 1, true); /* the majority goes on meanwhile */
    if (!raft_cfg_get_state(cfg, leader1, NULL) || term_of(cfg, leader1) != term1)
        lab_fatalf(ctx, leader1,
                   "the leader of term %" PRIu64 " lost its place while it had a "
                   "majority and no one was rejoining",
                   term1);

    /* Heal, and let the cluster settle. */
    raft_cfg_connect(cfg, cut);
    sim_sleep_us(sim, 2 * RAFT_ELECTION_TIMEOUT_US);
    int leader2 = raft_cfg_check_one_leader(cfg);
    uint64_t term2 = (uint64_t)raft_cfg_check_terms(cfg);
    raft_cfg_one_int(cfg, 103, servers, true);

    say(ctx,
        "leader %d term %" PRIu64 "; cut-off follower %d reached term %" PRIu64
        "; after rejoin leader %d term %" PRIu64,
        leader1, term1, cut, cut_term, leader2, term2);
    if (on) {
        if (cut_term != term1)
            lab_fatalf(ctx, cut,
                       "with pre-vote the cut-off follower raised its term from %" PRIu64
                       " to %" PRIu64,
                       term1, cut_term);
        if (leader2 != leader1 || term2 != term1)
            lab_fatalf(ctx, leader1,
                       "with pre-vote the rejoining follower %d disrupted the "
                       "leader: leader %d term %" PRIu64 " became leader %d term %" PRIu64,
                       cut, leader1, term1, leader2, term2);
    } else {
        if (cut_term <= term1 || term2 <= term1)
            lab_fatalf(ctx, cut,
                       "twin: expected the cut-off follower to inflate its term and "
                       "depose leader %d of term %" PRIu64 ", but its term is %" PRIu64
                       " and the term after rejoin is %" PRIu64,
                       leader1, term1, cut_term, term2);
        say(ctx,
            "twin saw the failure: follower %d's term inflated by %" PRIu64
            " while cut off, and its return ended leader %d's term %" PRIu64,
            cut, cut_term - term1, leader1, term1);
    }
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void ext_prevote_rejoin(struct lab_ctx *ctx)
{
    prevote_rejoin(ctx, true);
}

void ext_prevote_rejoin_twin(struct lab_ctx *ctx)
{
    prevote_rejoin(ctx, false);
}

/* ---------------------------------------------------------------- check-quorum */

static void check_quorum(struct lab_ctx *ctx, bool on)
{
    lab_raft_opts_set(ctx, on ? "check-quorum" : "");
    const int servers = 3;
    const sim_time_us watch_us = 3 * RAFT_ELECTION_TIMEOUT_US;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    struct sim *sim = lab_sim(ctx);
    raft_cfg_begin(cfg, on ? "a leader cut off from its majority steps down (check-quorum)"
                           : "twin: a leader cut off from its majority leads on (no check-quorum)");
    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_one_int(cfg, 201, servers, true);
    uint64_t term1 = term_of(cfg, leader1);

    /* Cut the leader off alone (a minority of one) and watch whether it still leads. */
    raft_cfg_disconnect(cfg, leader1);
    sim_time_us cut_at = sim_now_us(sim);
    sim_time_us until = cut_at + watch_us;
    while (raft_cfg_get_state(cfg, leader1, NULL) && sim_now_us(sim) < until)
        sim_sleep_us(sim, POLL_US);
    bool still_leads = raft_cfg_get_state(cfg, leader1, NULL);
    sim_time_us led_us = sim_now_us(sim) - cut_at;
    int leader2 = raft_cfg_check_one_leader(cfg); /* the majority side elects its own */

    if (on) {
        if (still_leads)
            lab_fatalf(ctx, leader1,
                       "with check-quorum the cut-off leader of term %" PRIu64
                       " still leads %.0f ms later",
                       term1, ms_of(led_us));
        /* The bound, plus the resolution of this poll. */
        if (led_us > RAFT_QUORUM_STEP_DOWN_MAX_US + POLL_US)
            lab_fatalf(ctx, leader1,
                       "the cut-off leader stepped down after %.0f ms, over the "
                       "%.0f ms bound (and %.0f ms of polling)",
                       ms_of(led_us), ms_of(RAFT_QUORUM_STEP_DOWN_MAX_US), ms_of(POLL_US));
        say(ctx, "cut-off leader %d stepped down %.0f ms after the cut (bound %.0f ms)", leader1,
            ms_of(led_us), ms_of(RAFT_QUORUM_STEP_DOWN_MAX_US));
    } else {
        if (!still_leads)
            lab_fatalf(ctx, leader1,
                       "twin: expected the cut-off leader to lead on, but it "
                       "stepped down after %.0f ms",
                       ms_of(led_us));
        say(ctx,
            "twin saw the failure: cut-off leader %d still believes it leads term %" PRIu64
            " %.0f ms after the cut, while %d leads term %" PRIu64,
            leader1, term1, ms_of(led_us), leader2, term_of(cfg, leader2));
    }
    raft_cfg_connect(cfg, leader1);
    raft_cfg_check_one_leader(cfg);
    raft_cfg_one_int(cfg, 202, servers, true);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void ext_check_quorum(struct lab_ctx *ctx)
{
    check_quorum(ctx, true);
}

void ext_check_quorum_twin(struct lab_ctx *ctx)
{
    check_quorum(ctx, false);
}

/* ---------------------------------------------------------------- leadership transfer */

/* A steady load of commands, each acknowledged by one() (committed on `expected` servers). */
struct load {
    struct raft_cfg *cfg;
    struct lab_waitgroup wg;
    bool stop;
    int expected;
    int64_t next_value;
    uint64_t acked_index[LOAD_ACKS_MAX];
    int64_t acked_value[LOAD_ACKS_MAX];
    int acked_count;
};

static void load_task(struct sim *sim, void *arg)
{
    struct load *load = arg;
    while (!load->stop && load->acked_count < LOAD_ACKS_MAX) {
        int64_t value = load->next_value++;
        int64_t index = raft_cfg_one_int(load->cfg, value, load->expected, true);
        if (index < 0) break; /* the test is over */
        load->acked_index[load->acked_count] = (uint64_t)index;
        load->acked_value[load->acked_count] = value;
        load->acked_count++;
        sim_sleep_us(sim, SIM_MS(10));
    }
    lab_waitgroup_done(sim, &load->wg);
}

static void load_stop(struct sim *sim, struct load *load)
{
    load->stop = true;
    lab_waitgroup_wait(sim, &load->wg);
}

/* Every acknowledged command is still at its index, on every server. */
static void load_check(struct lab_ctx *ctx, struct raft_cfg *cfg, const struct load *load)
{
    for (int k = 0; k < load->acked_count; k++) {
        struct raft_cfg_value v;
        int n = raft_cfg_n_committed(cfg, load->acked_index[k], &v);
        if (n < load->expected || v.kind != RAFT_CFG_INT || v.num != load->acked_value[k])
            lab_fatalf(ctx, SIM_NODE_NONE,
                       "acknowledged command %" PRId64 " at index %" PRIu64
                       " is lost (%d servers hold it)",
                       load->acked_value[k], load->acked_index[k], n);
    }
}

/* Hands leadership from `leader` to `target` with raft_transfer_leadership; returns the time
 * it took, failing the test beyond the bound. */
static sim_time_us transfer_handover(struct lab_ctx *ctx, struct raft_cfg *cfg, int leader,
                                     int target)
{
    struct sim *sim = lab_sim(ctx);
    sim_time_us t0 = sim_now_us(sim);
    int rc = raft_transfer_leadership(raft_cfg_raft(cfg, leader), target);
    if (rc != 0)
        lab_fatalf(ctx, leader, "raft_transfer_leadership to %d: %s", target,
                   raft_transfer_strerror(rc));
    if (raft_cfg_start_int(cfg, leader, -1, NULL, NULL))
        lab_fatalf(ctx, leader, "the leader took a command while transferring leadership");
    int now_leader = leader_wait(cfg, target, RAFT_ELECTION_TIMEOUT_US);
    sim_time_us took_us = sim_now_us(sim) - t0;
    if (now_leader != target)
        lab_fatalf(ctx, target, "server %d does not lead %.0f ms after the transfer to it", target,
                   ms_of(took_us));
    if (took_us > TRANSFER_BOUND_US)
        lab_fatalf(ctx, target, "the transfer took %.0f ms, over the %.0f ms bound", ms_of(took_us),
                   ms_of(TRANSFER_BOUND_US));
    return took_us;
}

/* A transfer to a cut-off follower is abandoned within an election timeout, and the leader
 * takes commands again in its term. */
static void transfer_abandoned(struct lab_ctx *ctx, struct raft_cfg *cfg, int leader)
{
    struct sim *sim = lab_sim(ctx);
    int servers = raft_cfg_servers(cfg);
    int target = (leader + 1) % servers;
    uint64_t term = term_of(cfg, leader);
    raft_cfg_disconnect(cfg, target);
    int rc = raft_transfer_leadership(raft_cfg_raft(cfg, leader), target);
    if (rc != 0)
        lab_fatalf(ctx, leader, "raft_transfer_leadership to %d: %s", target,
                   raft_transfer_strerror(rc));
    sim_sleep_us(sim, RAFT_ELECTION_TIMEOUT_US); /* past the transfer's own timeout (600 ms) */
    if (!raft_cfg_get_state(cfg, leader, NULL) || term_of(cfg, leader) != term)
        lab_fatalf(ctx, leader,
                   "after a transfer to cut-off server %d was abandoned, %d no "
                   "longer leads term %" PRIu64,
                   target, leader, term);
    raft_cfg_one_int(cfg, 399, servers - 1, true);
    if (term_of(cfg, leader) != term || !raft_cfg_get_state(cfg, leader, NULL))
        lab_fatalf(ctx, leader, "the leader did not resume after the abandoned transfer");
    raft_cfg_connect(cfg, target);
    sim_sleep_us(sim, RAFT_ELECTION_TIMEOUT_US);
    if (raft_cfg_check_one_leader(cfg) != leader || term_of(cfg, leader) != term)
        lab_fatalf(ctx, leader, "the cut-off target disrupted the leader when it rejoined");
    say(ctx, "a transfer to cut-off server %d was abandoned; %d leads on in term %" PRIu64, target,
        leader, term);
}

/* The twin's handover: the leader goes silent; returns the time until a connected server
 * leads, and who, in *now_leader. */
static sim_time_us silent_handover(struct lab_ctx *ctx, struct raft_cfg *cfg, int leader,
                                   int *now_leader)
{
    struct sim *sim = lab_sim(ctx);
    sim_time_us t0 = sim_now_us(sim);
    raft_cfg_disconnect(cfg, leader);
    *now_leader = leader_wait(cfg, -1, 5 * RAFT_ELECTION_TIMEOUT_US);
    if (*now_leader < 0) lab_fatalf(ctx, SIM_NODE_NONE, "no new leader after the old went silent");
    return sim_now_us(sim) - t0;
}

static void leader_transfer(struct lab_ctx *ctx, bool on)
{
    lab_raft_opts_set(ctx, "pre-vote,check-quorum");
    const int servers = 5; /* old leader and target alone are no majority: stickiness must yield */
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    struct sim *sim = lab_sim(ctx);
    raft_cfg_begin(cfg, on ? "leadership transfer to a chosen follower under load"
                           : "twin: a leader change without transfer (the leader goes silent)");
    int leader1 = raft_cfg_check_one_leader(cfg);
    int target = (leader1 + 1) % servers;
    struct load *load = lab_alloc(ctx, sizeof(*load));
    if (load == NULL) lab_fatalf(ctx, SIM_NODE_NONE, "out of memory");
    *load = (struct load){.cfg = cfg, .expected = servers, .next_value = 1000};
    lab_waitgroup_init(&load->wg);
    lab_waitgroup_add(&load->wg, 1);
    lab_go(ctx, "load", load_task, load);
    sim_sleep_us(sim, SIM_MS(500));

    if (on) {
        sim_time_us took_us = transfer_handover(ctx, cfg, leader1, target);
        say(ctx, "leader %d handed over to %d in %.1f ms (bound %.0f ms)", leader1, target,
            ms_of(took_us), ms_of(TRANSFER_BOUND_US));
        sim_sleep_us(sim, SIM_MS(500)); /* the load goes on with the new leader */
        load_stop(sim, load);
        load_check(ctx, cfg, load);
        transfer_abandoned(ctx, cfg, target);
    } else {
        load_stop(sim, load); /* a silenced leader could not acknowledge on all three */
        int now_leader = -1;
        sim_time_us took_us = silent_handover(ctx, cfg, leader1, &now_leader);
        if (now_leader == target && took_us < TRANSFER_BOUND_US)
            lab_fatalf(ctx, now_leader,
                       "twin: expected no quick handover to %d without "
                       "transfer, but it led %.0f ms after the leader went silent",
                       target, ms_of(took_us));
        say(ctx,
            "twin saw the failure: without transfer the new leader is %d (chosen: %d) "
            "%.0f ms after the leader went silent (transfer bound %.0f ms)",
            now_leader, target, ms_of(took_us), ms_of(TRANSFER_BOUND_US));
        raft_cfg_connect(cfg, leader1);
        raft_cfg_one_int(cfg, 398, servers, true);
        load_check(ctx, cfg, load);
    }
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void ext_leader_transfer(struct lab_ctx *ctx)
{
    leader_transfer(ctx, true);
}

void ext_leader_transfer_twin(struct lab_ctx *ctx)
{
    leader_transfer(ctx, false);
}
