/* ext_pipe_kv: a kvraft workload of several concurrent clerks, for the pipelining benchmark
 * (tools/bench_kv.c): what RAFT_OPT_PIPELINE buys a service, beside TestSpeed4A/4B's single
 * sequential clerk.
 *
 * N clerks each append EXT_PIPE_KV_OPS values to a key of their own as fast as their replies
 * come back, on the kvraft tester's servers (kv_cfg: its per-request CPU cost included), over
 * the default network or one where every hop takes params->hop_us. The body prints one line,
 * "  clerks=N ops=M virtual_us=T ops_per_s=R", and checks every clerk's appends are all there
 * in order. Not a graded test: the benchmark runs it through lab_run with its own parameters
 * (lab_body_arg) and Raft options (lab_opts.raft_opts).
 */
#include <inttypes.h>
#include <stdio.h>

#include "ext_pipe.h"
#include "kv_cfg.h"
#include "labrpc.h"

#define EXT_PIPE_KV_CLERKS_MAX 64

struct pipe_kv_run;

struct pipe_kv_clerk {
    struct pipe_kv_run *run;
    int cli;
};

struct pipe_kv_run {
    struct kv_cfg *cfg;
    const struct ext_pipe_kv_params *p;
    struct lab_waitgroup wg;
    struct pipe_kv_clerk clerks[EXT_PIPE_KV_CLERKS_MAX];
};

static void pipe_kv_clerk_task(struct sim *sim, void *arg)
{
    struct pipe_kv_clerk *c = arg;
    struct kv_cfg *cfg = c->run->cfg;
    int all[KV_CFG_SERVERS_MAX];
    char key[24];
    char value[64];
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    snprintf(key, sizeof(key), "%d", c->cli);
    for (int j = 0; j < c->run->p->ops_per_clerk; j++) {
        snprintf(value, sizeof(value), "x %d %d y", c->cli, j);
        kv_cfg_append(cfg, ck, key, value, c->cli);
    }
    lab_waitgroup_done(sim, &c->run->wg);
}

static void pipe_kv_slow(struct kv_cfg *cfg, uint64_t hop_us)
{
    int rc = ext_pipe_net_hop(kv_cfg_net(cfg), hop_us);
    if (rc != RPC_OK) lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "latency: %s", rpc_strerror(rc));
}

void ext_pipe_kv_clerks(struct lab_ctx *ctx)
{
    const struct ext_pipe_kv_params *p = lab_body_arg(ctx);
    if (p == NULL || p->clerks < 1 || p->clerks > EXT_PIPE_KV_CLERKS_MAX || p->ops_per_clerk < 1) {
        lab_fatalf(ctx, SIM_NODE_NONE, "ext_pipe_kv_clerks: bad parameters");
        return;
    }
    struct sim *sim = lab_sim(ctx);
    struct kv_cfg *cfg = kv_cfg_make(ctx, "PipelineClerks", 3, false, -1);
    struct pipe_kv_run *run = kv_cfg_scratch(cfg, sizeof(*run));
    run->cfg = cfg;
    run->p = p;
    kv_cfg_begin(cfg, "concurrent clerks append");
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_op(cfg, ck, KV_CFG_GET, "x", NULL, -1, false); /* a leader serves */
    if (p->hop_us > 0) pipe_kv_slow(cfg, p->hop_us);
    lab_waitgroup_init(&run->wg);
    lab_waitgroup_add(&run->wg, (uint32_t)p->clerks);
    sim_time_us start_us = sim_now_us(sim);
    for (int i = 0; i < p->clerks; i++) {
        run->clerks[i] = (struct pipe_kv_clerk){.run = run, .cli = i};
        lab_go(ctx, "clerk", pipe_kv_clerk_task, &run->clerks[i]);
    }
    lab_waitgroup_wait(sim, &run->wg);
    sim_time_us took_us = sim_now_us(sim) - start_us;
    for (int i = 0; i < p->clerks; i++) {
        char key[24];
        snprintf(key, sizeof(key), "%d", i);
        const char *v = kv_cfg_op(cfg, ck, KV_CFG_GET, key, NULL, -1, false);
        kv_cfg_check_clnt_appends(cfg, i, v, p->ops_per_clerk);
    }
    uint64_t ops = (uint64_t)p->clerks * (uint64_t)p->ops_per_clerk;
    FILE *out = lab_out(ctx); /* NULL: a silent run */
    if (out != NULL)
        fprintf(out, "  clerks=%d ops=%" PRIu64 " virtual_us=%" PRIu64 " ops_per_s=%.1f\n",
                p->clerks, ops, (uint64_t)took_us,
                took_us > 0 ? (double)ops * 1e6 / (double)took_us : 0.0);
    kv_cfg_end(cfg, "");
    kv_cfg_cleanup(cfg);
}
