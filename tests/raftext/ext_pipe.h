/* ext_pipe: the pipelining scenario pair (ext_pipe.c), registered in ext_tests.c. */
#ifndef EXT_PIPE_H
#define EXT_PIPE_H

#include "lab.h"

/* TestPipelineStreamExt: with RAFT_OPT_PIPELINE, a steady stream over a slow network commits
 * every command within one round trip. */
void ext_test_pipeline_stream(struct lab_ctx *ctx);
/* TestPipelineStreamTwinExt: the same without it; passes when a command waits longer. */
void ext_test_pipeline_stream_twin(struct lab_ctx *ctx);

#endif /* EXT_PIPE_H */
