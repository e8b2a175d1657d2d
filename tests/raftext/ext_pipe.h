/* ext_pipe: the pipelining scenario pair (ext_pipe.c), registered in ext_tests.c. */
#ifndef EXT_PIPE_H
#define EXT_PIPE_H

#include <stdint.h>

#include "lab.h"

/* TestPipelineStreamExt: with RAFT_OPT_PIPELINE, a steady stream over a slow network commits
 * every command within one round trip. */
void ext_test_pipeline_stream(struct lab_ctx *ctx);
/* TestPipelineStreamTwinExt: the same without it; passes when a command waits longer. */
void ext_test_pipeline_stream_twin(struct lab_ctx *ctx);

struct rpc_net;
/* Makes every hop of `net` (request and reply) take exactly hop_us. RPC_OK or rpc_net_set_latency's
 * error. */
int ext_pipe_net_hop(struct rpc_net *net, uint64_t hop_us);

/* The concurrent-clerks workload of the pipelining benchmark (ext_pipe_kv.c), not a graded
 * test: run it with lab_run, a struct lab_test of your own and these parameters as
 * lab_opts.body_arg. */
struct ext_pipe_kv_params {
    int clerks;        /* concurrent clerks, 1..64 */
    int ops_per_clerk; /* sequential Appends each */
    uint64_t hop_us;   /* every network hop takes this long; 0 = the default network */
};
void ext_pipe_kv_clerks(struct lab_ctx *ctx);

#endif /* EXT_PIPE_H */
