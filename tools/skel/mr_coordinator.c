/* coordinator.c: a MapReduce coordinator for labsim's lab 1, as `labsim init mr` starts it.
 *
 * The contract is mr.h (read it first): make, done, kill, free. The coordinator is
 * event-driven: its RPC handlers and timers run inside events of the sim, nothing blocks and
 * nothing needs a lock. The workers are worker.c, next to this file; they reach the
 * coordinator over labrpc, with methods of your choosing (both sides must agree).
 *
 * Build and grade (from the labsim clone):
 *   make grade MR_IMPL="/path/to/coordinator.c /path/to/worker.c" BUILD=build-mine
 */
/* TODO: this is the skeleton `labsim init mr` writes. Work through its TODO comments and grade
 * with `labsim run 1`. The messages between worker and coordinator are yours to define: put
 * their structs and labgob encode/decode in a header next to this file (say rpc.h, Go's
 * rpc.go), included by coordinator.c and worker.c, and write them like the example below. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "mr.h"

/* The example RPC, "Coordinator.Example": the worker sends a number x (labgob field 1) and
 * the coordinator answers y = x + 1 (field 1). Zero fields are left out (as Go's gob does),
 * so decode into zeroed variables: an absent field was zero. Replace it with your own. */
static void handle_example(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    struct mr_coordinator *c = receiver;
    (void)c;
    struct gob_dec d;
    int64_t x = 0;
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, 1, &x);
    if (gob_dec_finish(&d) != GOB_OK || x == INT64_MAX) {
        rpc_req_reply(req, NULL, 0); /* malformed: an empty reply */
        return;
    }
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_int(&e, 1, x + 1);
    if (gob_enc_finish(&e) == GOB_OK)
        rpc_req_reply(req, gob_enc_bytes(&e), gob_enc_len(&e));
    else
        rpc_req_reply(req, NULL, 0);
    gob_enc_free(&e);
}

struct mr_coordinator {
    struct sim *sim; /* time and timers come from here */
    int node;        /* for traces */
    char **files;    /* copies of the input names: map task i reads files[i] */
    size_t files_count;
    int n_reduce;
    bool dead; /* killed: schedule nothing more */

    /* TODO: the state of every map and reduce task (idle, in progress since when, done), so
     * that a task not finished within MR_TASK_TIMEOUT_US goes to another worker, reduces
     * start only after every map is done, and mr_coordinator_done can answer. */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

/* TODO: the handlers your workers call (ask for a task, report one finished), registered in
 * mr_coordinator_make like the example, and a timer (sim_after) or a check at each request
 * that notices tasks out for longer than MR_TASK_TIMEOUT_US. */

int mr_coordinator_make(struct sim *sim, int node, const char *const *files, size_t files_count,
                        int n_reduce, struct rpc_server *server, struct mr_coordinator **out)
{
    if (sim == NULL || files == NULL || files_count == 0 || files_count > MR_FILES_MAX ||
        n_reduce < 1 || n_reduce > (int)MR_REDUCE_MAX || server == NULL || out == NULL)
        return MR_EINVAL;
    struct mr_coordinator *c = calloc(1, sizeof(*c));
    if (c == NULL) return MR_ENOMEM;
    c->sim = sim;
    c->node = node;
    c->n_reduce = n_reduce;
    c->files = calloc(files_count, sizeof(*c->files));
    for (size_t i = 0; c->files != NULL && i < files_count; i++) {
        c->files[i] = strdup(files[i]);
        if (c->files[i] != NULL) c->files_count = i + 1;
    }
    if (c->files_count != files_count) {
        mr_coordinator_free(c);
        return MR_ENOMEM;
    }
    if (rpc_server_add_method(server, "Coordinator", "Example", handle_example, c) != RPC_OK) {
        mr_coordinator_free(c);
        return MR_ERPC;
    }
    *out = c;
    return MR_OK;
}

bool mr_coordinator_done(const struct mr_coordinator *c)
{
    /* TODO: true once every reduce task is done. */
    return false;
}

void mr_coordinator_kill(struct mr_coordinator *c)
{
    c->dead = true;
    /* TODO: cancel your timers (sim_timer_cancel); any that still fire must do nothing. */
}

void mr_coordinator_free(struct mr_coordinator *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i < c->files_count; i++)
        free(c->files[i]);
    free(c->files);
    free(c);
}
