/* ext_member: the membership scenarios of part ext (thesis chapter 4; raft/membership.c), each a
 * pair with one body: the on-test runs with "membership", the twin with "member-unsafe".
 *
 * TestMemberPartitionExt / TestMemberPartitionTwinExt (4.1). Five servers, voters {0,1,2}. The
 * leader L and the two newcomers {3,4} form side A, the other two old voters side B, and only
 * one side runs at a time (the other crashed), so each side elects on its own. The body asks for
 * all five as voters in one step. The UNSAFE twin accepts it: A commits {0..4} with its own three
 * votes (3 of 5) while B still has {0,1,2} and elects with its two (2 of 3); switching sides
 * until both have elected in the same term shows two leaders of one term, which the tester's
 * per-event election-safety record sees (the twin passes when it does). The on-test refuses the
 * one-step change (RAFT_EMULTI) and goes one server at a time: the learner it adds on side A
 * cannot commit without a majority of the old voters, side A can never elect, and no term ever
 * has two leaders (the check fails the test at once). After healing, the on-test finishes the
 * growth one server at a time, crashes and removes a follower, removes the leader itself
 * (it steps down once that commits, 4.2.2), and checks a command commits on the three left.
 *
 * TestMemberLearnerExt / TestMemberLearnerTwinExt (4.2.1). Four servers, voters {0,1,2}; server 3
 * is added as a learner while cut off, so it lags. The body promotes it at once. The on-test
 * refuses (RAFT_ELAGGING): voters stay {0,1,2}, so when one of them crashes the other two still
 * commit; later, reconnected and caught up (the leader reports its progress), 3 is promoted. The
 * UNSAFE twin promotes it: voters {0,1,2,3} need 3 of 4, so with one old voter down and 3 still
 * empty-handed no command commits for 5 s, an availability loss one failure was supposed to
 * be tolerated without; the twin passes when it sees that.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ext_member.h"
#include "ext_member_cfg.h"
#include "lab.h"

#define PARTITION_ROUNDS 8
#define SIDE_ELECTION_US SIM_S(3)
#define CHANGE_US SIM_S(10)
#define STALLED_CHANGE_US SIM_S(2)
#define AVAILABILITY_US SIM_S(5)
#define ALL_MASK(n) ((1u << (n)) - 1u)

/* A scenario ends in the twin: say what it saw, then the usual Passed line. */
static void twin_saw(struct raft_cfg *cfg, const char *what)
{
    FILE *out = lab_out(raft_cfg_lab(cfg));
    if (out != NULL) fprintf(out, "  twin: %s\n", what);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

static void change_ok(struct raft_cfg *cfg, int rc, const char *what)
{
    if (rc == 0) return;
    lab_fatalf(raft_cfg_lab(cfg), SIM_NODE_NONE, "%s: %s", what,
               rc == EXT_MEMBER_TIMEOUT ? "not committed within 10 s" : raft_strerror(rc));
}

/* ---------------------------------------------------------------- partition pair */

/* Alternates which side runs until the two sides have led one term, or the rounds run out. */
static void partition_rounds(struct raft_cfg *cfg, uint32_t side_a, uint32_t side_b)
{
    uint64_t term_a = 0;
    uint64_t term_b = 0;
    ext_member_leader(cfg, side_a, &term_a);
    for (int round = 0; round < PARTITION_ROUNDS; round++) {
        if (raft_cfg_safety_violation(cfg) != 0) return;
        bool run_b = term_b <= term_a; /* the side whose last leader had the lower term */
        uint32_t side = run_b ? side_b : side_a;
        /* All crashed first, so the side restarts and elects afresh, even twice in a row. */
        ext_member_run_only(cfg, 0, RAFT_CFG_APPLIER);
        ext_member_run_only(cfg, side, RAFT_CFG_APPLIER);
        uint64_t term = 0;
        int leader = ext_member_wait_leader(cfg, side, 0, SIDE_ELECTION_US);
        if (leader >= 0) ext_member_leader(cfg, side, &term);
        if (run_b && leader >= 0) term_b = term;
        if (!run_b && leader >= 0) term_a = term;
        if (!run_b && leader < 0) term_a = term_b + 1; /* A cannot elect: let B run again */
    }
}

static void member_partition(struct lab_ctx *ctx, bool twin)
{
    const int servers = 5;
    struct raft_cfg *cfg =
        ext_member_cfg_make(ctx, servers, 0x7u, twin ? "member-unsafe" : "membership", false);
    if (twin) raft_cfg_safety_observe(cfg);
    raft_cfg_begin(cfg, twin ? "UNSAFE: 3 -> 5 voters in one step under a partition"
                             : "membership changes one server at a time under partitions");
    int64_t cmd = 1000;
    raft_cfg_one_int(cfg, cmd++, 3, true);
    int leader = ext_member_wait_leader(cfg, 0x7u, 0, SIM_S(5));
    if (leader < 0) lab_fatalf(ctx, SIM_NODE_NONE, "no leader among the first voters");
    uint32_t side_a = (1u << leader) | 0x18u;
    uint32_t side_b = 0x7u & ~(1u << leader);

    /* Side A alone; ask for all five as voters at once. */
    ext_member_run_only(cfg, side_a, RAFT_CFG_APPLIER);
    struct raft_config grown = {.voters = ALL_MASK(servers)};
    int rc = ext_member_move(cfg, side_a, &grown, &cmd, STALLED_CHANGE_US);
    if (rc == RAFT_EMULTI) /* one at a time: stalls without a majority of the old voters */
        rc = ext_member_step(cfg, side_a, EXT_MEMBER_ADD_LEARNER, 3, &cmd, STALLED_CHANGE_US);
    partition_rounds(cfg, side_a, side_b);

    uint64_t term = raft_cfg_safety_violation(cfg);
    if (twin) {
        if (term == 0)
            lab_fatalf(ctx, SIM_NODE_NONE,
                       "twin: no term had two leaders after a one-step change (change: %s)",
                       rc == 0 ? "committed" : raft_strerror(rc));
        char what[160];
        snprintf(what, sizeof(what),
                 "term %" PRIu64 " had two leaders: side A with voters {0..4}, side B with {0,1,2}",
                 term);
        twin_saw(cfg, what);
        return;
    }

    /* Healed: finish the growth one server at a time, then shrink under crashes. */
    ext_member_run_only(cfg, ALL_MASK(servers), RAFT_CFG_APPLIER);
    uint32_t all = ALL_MASK(servers);
    change_ok(cfg, ext_member_step(cfg, all, EXT_MEMBER_ADD_LEARNER, 3, &cmd, CHANGE_US),
              "add learner 3");
    change_ok(cfg, ext_member_step(cfg, all, EXT_MEMBER_PROMOTE, 3, &cmd, CHANGE_US), "promote 3");
    change_ok(cfg, ext_member_step(cfg, all, EXT_MEMBER_ADD_LEARNER, 4, &cmd, CHANGE_US),
              "add learner 4");
    change_ok(cfg, ext_member_step(cfg, all, EXT_MEMBER_PROMOTE, 4, &cmd, CHANGE_US), "promote 4");
    raft_cfg_one_int(cfg, cmd++, servers, true);

    /* A follower crashes and is removed (4 of 5 still up). */
    leader = ext_member_wait_leader(cfg, all, 0, SIM_S(5));
    if (leader < 0) lab_fatalf(ctx, SIM_NODE_NONE, "no leader after growing to five voters");
    int gone = (leader + 1 + (int)sim_rand_range(raft_cfg_rand(cfg), 0, servers - 2)) % servers;
    raft_cfg_crash1(cfg, gone);
    uint32_t live = all & ~(1u << gone);
    change_ok(cfg, ext_member_step(cfg, live, EXT_MEMBER_REMOVE, gone, &cmd, CHANGE_US),
              "remove a crashed follower");

    /* The leader removes itself: it steps down once that commits (4.2.2). */
    leader = ext_member_wait_leader(cfg, live, 0, SIM_S(5));
    if (leader < 0) lab_fatalf(ctx, SIM_NODE_NONE, "no leader after removing a follower");
    change_ok(cfg, ext_member_step(cfg, live, EXT_MEMBER_REMOVE, leader, &cmd, CHANGE_US),
              "remove the leader");
    raft_cfg_crash1(cfg, leader); /* the operator shuts the removed server down */
    live &= ~(1u << leader);
    raft_cfg_one_int(cfg, cmd++, 3, true);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void ext_member_partition(struct lab_ctx *ctx)
{
    member_partition(ctx, false);
}

void ext_member_partition_twin(struct lab_ctx *ctx)
{
    member_partition(ctx, true);
}

/* ---------------------------------------------------------------- learner pair */

/* Starts a command on `leader` and waits up to `timeout_us` for the leader to commit it. */
static bool commits_within(struct raft_cfg *cfg, int leader, int64_t value, sim_time_us timeout_us)
{
    struct sim *sim = raft_cfg_sim(cfg);
    uint64_t index = 0;
    if (!raft_cfg_start_int(cfg, leader, value, &index, NULL)) return false;
    sim_time_us deadline = sim_now_us(sim) + timeout_us;
    while (sim_now_us(sim) < deadline) {
        struct raft_inspect in;
        raft_inspect(raft_cfg_raft(cfg, leader), &in);
        if (in.commit_index >= index) return true;
        sim_sleep_us(sim, SIM_MS(20));
    }
    return false;
}

static void member_learner(struct lab_ctx *ctx, bool twin)
{
    const int servers = 4;
    const int learner = 3;
    struct raft_cfg *cfg =
        ext_member_cfg_make(ctx, servers, 0x7u, twin ? "member-unsafe" : "membership", false);
    raft_cfg_begin(cfg, twin ? "UNSAFE: a lagging learner promoted at once"
                             : "a learner is promoted only once caught up");
    int64_t cmd = 2000;
    raft_cfg_one_int(cfg, cmd++, 3, true);

    /* The learner joins cut off, and the log moves on without it. */
    raft_cfg_disconnect(cfg, learner);
    change_ok(cfg, ext_member_step(cfg, 0x7u, EXT_MEMBER_ADD_LEARNER, learner, &cmd, CHANGE_US),
              "add learner 3");
    for (int k = 0; k < 20; k++)
        raft_cfg_one_int(cfg, cmd++, 3, true);

    int leader = ext_member_wait_leader(cfg, 0x7u, 0, SIM_S(5));
    if (leader < 0) lab_fatalf(ctx, SIM_NODE_NONE, "no leader among the voters");
    struct raft_member_progress progress;
    raft_member_progress(raft_cfg_raft(cfg, leader), learner, &progress);
    int rc = raft_member_promote(raft_cfg_raft(cfg, leader), learner, NULL);
    if (!twin && rc != RAFT_ELAGGING)
        lab_fatalf(ctx, leader, "promoting learner 3 at match %" PRIu64 " of %" PRIu64 ": %s",
                   progress.match_index, progress.last_index, raft_strerror(rc));

    /* One old voter fails: a cluster of three voters tolerates it. */
    int down = (leader + 1) % 3;
    raft_cfg_crash1(cfg, down);
    bool committed = commits_within(cfg, leader, cmd++, AVAILABILITY_US);
    if (twin) {
        if (rc != 0 || committed)
            lab_fatalf(ctx, leader, "twin: promotion %s and a command %s with server %d down",
                       raft_strerror(rc), committed ? "committed" : "did not commit", down);
        char what[200];
        snprintf(what, sizeof(what),
                 "learner 3 promoted at match %" PRIu64 " of %" PRIu64
                 "; with server %d down nothing committed for 5 s (voters {0,1,2,3} need 3)",
                 progress.match_index, progress.last_index, down);
        twin_saw(cfg, what);
        return;
    }
    if (!committed)
        lab_fatalf(ctx, leader, "no commit with voters {0,1,2} and only server %d down", down);

    /* Reconnected, it catches up; then the promotion goes through. */
    raft_cfg_connect(cfg, learner);
    uint32_t live = 0xfu & ~(1u << down);
    sim_time_us deadline = sim_now_us(raft_cfg_sim(cfg)) + CHANGE_US;
    do {
        sim_sleep_us(raft_cfg_sim(cfg), SIM_MS(50));
        rc = ext_member_step(cfg, live, EXT_MEMBER_PROMOTE, learner, &cmd, CHANGE_US);
    } while (rc == RAFT_ELAGGING && sim_now_us(raft_cfg_sim(cfg)) < deadline);
    change_ok(cfg, rc, "promote caught-up learner 3");
    raft_cfg_start1(cfg, down, RAFT_CFG_APPLIER);
    raft_cfg_connect(cfg, down);
    raft_cfg_one_int(cfg, cmd++, servers, true);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void ext_member_learner(struct lab_ctx *ctx)
{
    member_learner(ctx, false);
}

void ext_member_learner_twin(struct lab_ctx *ctx)
{
    member_learner(ctx, true);
}
