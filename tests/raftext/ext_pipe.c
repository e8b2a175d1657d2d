/* ext_pipe: the scenario of RAFT_OPT_PIPELINE (raft/pipeline.c), a steady stream of commands
 * over a long-latency network.
 *
 * Every message takes EXT_PIPE_HOP_US one way (a link between two data centres), so a round
 * trip from the leader is EXT_PIPE_RTT_US. The test starts one command on the leader every
 * EXT_PIPE_START_EVERY_US, far more often than a round trip, and records for each command the
 * virtual time from Start to the leader's commit of it.
 *   - Without pipelining the leader keeps one AppendEntries in flight per follower: a command
 *     started just after a send waits for that send's reply before it is even sent, so it
 *     commits only after about two round trips. The twin passes when it sees such a wait.
 *   - With pipelining each instant's commands leave at once, a new AppendEntries behind the
 *     ones in flight, so every command commits within one round trip plus the scheduling
 *     slack (EXT_PIPE_BOUND_US).
 * The raft tester's per-event safety checks stay on throughout, and at the end every command
 * must be committed on every server (raft_cfg_one of a last command, and nCommitted).
 */
#include <inttypes.h>
#include <stdio.h>

#include "ext_pipe.h"
#include "labrpc.h"
#include "raft_cfg.h"

#define EXT_PIPE_HOP_US SIM_MS(10)
#define EXT_PIPE_RTT_US (2u * EXT_PIPE_HOP_US)
#define EXT_PIPE_START_EVERY_US SIM_MS(2)
#define EXT_PIPE_COMMANDS 500
/* One round trip, plus the leader's poll period (below) and a little slack. */
#define EXT_PIPE_POLL_US 500u
#define EXT_PIPE_BOUND_US (EXT_PIPE_RTT_US + SIM_MS(5))

struct pipe_stats {
    sim_time_us max_us;  /* the longest Start -> leader commit */
    uint64_t max_index;  /* the command that waited it */
    uint64_t over_bound; /* commands that waited more than EXT_PIPE_BOUND_US */
    uint64_t sum_us;     /* for the mean */
    uint64_t measured;   /* commands measured */
    sim_time_us started_us[EXT_PIPE_COMMANDS]; /* when each command was started */
};

/* Every hop takes exactly hop_us: no scheduling jitter, so the figures are the mechanism's, not
 * the draw's. */
int ext_pipe_net_hop(struct rpc_net *net, uint64_t hop_us)
{
    struct rpc_latency lat;
    for (uint32_t i = 0; i < RPC_LATENCY_POINTS; i++)
        lat.quantile_us[i] = hop_us;
    return rpc_net_set_latency(net, &lat, &lat);
}

static void pipe_net_slow(struct raft_cfg *cfg)
{
    int rc = ext_pipe_net_hop(raft_cfg_net(cfg), EXT_PIPE_HOP_US);
    if (rc != RPC_OK) lab_fatalf(raft_cfg_lab(cfg), SIM_NODE_NONE, "latency: %s", rpc_strerror(rc));
}

static void pipe_note(struct pipe_stats *st, uint64_t index, sim_time_us waited_us)
{
    st->measured++;
    st->sum_us += waited_us;
    if (waited_us > EXT_PIPE_BOUND_US) st->over_bound++;
    if (waited_us > st->max_us) {
        st->max_us = waited_us;
        st->max_index = index;
    }
}

/* Starts the stream on `leader` and polls its commit index; fills *st. */
static void pipe_stream(struct raft_cfg *cfg, int leader, uint64_t first, struct pipe_stats *st)
{
    struct sim *sim = raft_cfg_sim(cfg);
    uint64_t started = 0;
    uint64_t committed = 0; /* commands seen committed so far */
    sim_time_us next_start_us = sim_now_us(sim);
    sim_time_us deadline_us = next_start_us + SIM_S(10);
    while (committed < EXT_PIPE_COMMANDS && sim_now_us(sim) < deadline_us) {
        if (started < EXT_PIPE_COMMANDS && sim_now_us(sim) >= next_start_us) {
            uint64_t index = 0;
            if (!raft_cfg_start_int(cfg, leader, (int64_t)(1000 + started), &index, NULL) ||
                index != first + started) {
                lab_fatalf(raft_cfg_lab(cfg), leader,
                           "leader %d lost leadership or index %" PRIu64 " != %" PRIu64, leader,
                           index, first + started);
                return;
            }
            st->started_us[started++] = sim_now_us(sim);
            next_start_us += EXT_PIPE_START_EVERY_US;
        }
        struct raft_inspect in;
        raft_inspect(raft_cfg_raft(cfg, leader), &in);
        while (committed < started && in.commit_index >= first + committed) {
            pipe_note(st, first + committed, sim_now_us(sim) - st->started_us[committed]);
            committed++;
        }
        sim_sleep_us(sim, EXT_PIPE_POLL_US);
    }
    if (committed < EXT_PIPE_COMMANDS)
        lab_fatalf(raft_cfg_lab(cfg), leader, "only %" PRIu64 " of %d commands committed in 10 s",
                   committed, EXT_PIPE_COMMANDS);
}

static void pipe_scenario(struct lab_ctx *ctx, bool pipeline)
{
    const int servers = 3;
    lab_raft_opts_set(ctx, pipeline ? "pipeline" : "");
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, pipeline ? "pipelining commits a stream within one round trip"
                                 : "without pipelining a stream waits two round trips");
    raft_cfg_one_int(cfg, 1, servers, false); /* a leader, and everyone at index 1 */
    pipe_net_slow(cfg);
    int leader = raft_cfg_check_one_leader(cfg);
    struct pipe_stats st = {0};
    pipe_stream(cfg, leader, 2, &st);
    if (lab_failed(ctx)) return;
    int64_t last = raft_cfg_one_int(cfg, 2, servers, true);
    for (uint64_t index = 2; last > 0 && index <= (uint64_t)last; index++) {
        if (raft_cfg_n_committed(cfg, index, NULL) < servers)
            lab_fatalf(ctx, SIM_NODE_NONE, "index %" PRIu64 " not on every server", index);
    }
    uint64_t mean_us = st.measured > 0 ? st.sum_us / st.measured : 0;
    FILE *out = lab_out(ctx); /* NULL: a silent run */
    if (out != NULL)
        fprintf(out,
                "  round trip %" PRIu64 " ms, a Start every %" PRIu64
                " ms: Start -> commit mean %" PRIu64 " us, max %" PRIu64 " us (index %" PRIu64
                "), %" PRIu64 " of %d over %" PRIu64 " us\n",
                (uint64_t)EXT_PIPE_RTT_US / 1000u, (uint64_t)EXT_PIPE_START_EVERY_US / 1000u,
                mean_us, (uint64_t)st.max_us, st.max_index, st.over_bound, EXT_PIPE_COMMANDS,
                (uint64_t)EXT_PIPE_BOUND_US);
    if (pipeline && st.over_bound > 0)
        lab_fatalf(ctx, leader,
                   "with pipelining, index %" PRIu64 " waited %" PRIu64 " us > %" PRIu64
                   " us from Start to commit",
                   st.max_index, (uint64_t)st.max_us, (uint64_t)EXT_PIPE_BOUND_US);
    if (!pipeline && st.over_bound == 0)
        lab_fatalf(ctx, leader,
                   "twin: without pipelining no command waited more than %" PRIu64
                   " us (max %" PRIu64 " us); the scenario no longer shows the lag",
                   (uint64_t)EXT_PIPE_BOUND_US, (uint64_t)st.max_us);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void ext_test_pipeline_stream(struct lab_ctx *ctx)
{
    pipe_scenario(ctx, true);
}

void ext_test_pipeline_stream_twin(struct lab_ctx *ctx)
{
    pipe_scenario(ctx, false);
}
