/* raft_test_3a: the leader-election tests (test_test.go, 3A). Each body is the Go test
 * function line for line; time.Sleep is sim_sleep_us in virtual time. */
#include <inttypes.h>

#include "raft_tests.h"

void raft_test_initial_election_3a(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    struct sim *sim = lab_sim(ctx);
    raft_cfg_begin(cfg, "initial election");

    /* Is a leader elected? */
    raft_cfg_check_one_leader(cfg);

    /* Sleep a bit to avoid racing with followers learning of the election, then check that
     * all peers agree on the term. */
    sim_sleep_us(sim, SIM_MS(50));
    int64_t term1 = raft_cfg_check_terms(cfg);
    if (term1 < 1)
        lab_fatalf(ctx, SIM_NODE_NONE, "term is %" PRId64 ", but should be at least 1", term1);

    /* Does the leader+term stay the same if there is no network failure? Go only warns. */
    sim_sleep_us(sim, 2 * RAFT_ELECTION_TIMEOUT_US);
    int64_t term2 = raft_cfg_check_terms(cfg);
    if (term1 != term2 && lab_out(ctx) != NULL)
        fprintf(lab_out(ctx), "warning: term changed even though there were no failures\n");

    /* There should still be a leader. */
    raft_cfg_check_one_leader(cfg);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_re_election_3a(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "election after network failure");

    int leader1 = raft_cfg_check_one_leader(cfg);

    /* If the leader disconnects, a new one should be elected. */
    raft_cfg_disconnect(cfg, leader1);
    raft_cfg_check_one_leader(cfg);

    /* If the old leader rejoins, that shouldn't disturb the new leader, and the old leader
     * should switch to follower. */
    raft_cfg_connect(cfg, leader1);
    int leader2 = raft_cfg_check_one_leader(cfg);

    /* If there's no quorum, no new leader should be elected. */
    raft_cfg_disconnect(cfg, leader2);
    raft_cfg_disconnect(cfg, (leader2 + 1) % servers);
    sim_sleep_us(lab_sim(ctx), 2 * RAFT_ELECTION_TIMEOUT_US);

    /* Check that the one connected server does not think it is the leader. */
    raft_cfg_check_no_leader(cfg);

    /* If a quorum arises, it should elect a leader. */
    raft_cfg_connect(cfg, (leader2 + 1) % servers);
    raft_cfg_check_one_leader(cfg);

    /* Re-join of the last node shouldn't prevent a leader from existing. */
    raft_cfg_connect(cfg, leader2);
    raft_cfg_check_one_leader(cfg);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_many_elections_3a(struct lab_ctx *ctx)
{
    const int servers = 7;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "multiple elections");

    raft_cfg_check_one_leader(cfg);

    const int iters = 10;
    for (int ii = 1; ii < iters; ii++) {
        /* Disconnect three nodes (they may repeat). */
        int i1 = raft_test_rand_below(cfg, servers);
        int i2 = raft_test_rand_below(cfg, servers);
        int i3 = raft_test_rand_below(cfg, servers);
        raft_cfg_disconnect(cfg, i1);
        raft_cfg_disconnect(cfg, i2);
        raft_cfg_disconnect(cfg, i3);

        /* Either the current leader should still be alive, or the remaining four should
         * elect a new one. */
        raft_cfg_check_one_leader(cfg);

        raft_cfg_connect(cfg, i1);
        raft_cfg_connect(cfg, i2);
        raft_cfg_connect(cfg, i3);
    }

    raft_cfg_check_one_leader(cfg);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}
