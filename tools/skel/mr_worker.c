/* worker.c: a MapReduce worker for labsim's lab 1, as `labsim init mr` starts it.
 *
 * The contract is mr.h's "worker" part. A worker is straight-line blocking code running in a
 * sim task: it may wait for a reply (rpc_end_call_wait) and sleep (sim_sleep_us) in virtual
 * time. It reads and writes files only in the sim's file system (sim_fs_*, passing its own
 * node), and it may end inside an application's map or reduce (the crash test): keep every
 * allocation reachable from struct mr_worker, so that mr_worker_free releases it wherever the
 * worker stopped. The coordinator is coordinator.c, next to this file.
 */
/* TODO: this is the skeleton `labsim init mr` writes; see the TODO at the top of
 * coordinator.c. Until the TODOs here are done, a worker returns at once and the job never
 * finishes: the tests fail when the coordinator's time limit ends it. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "mr.h"

struct mr_worker {
    struct mr_worker_env env; /* sim, node, the end to the coordinator, the application */

    /* TODO: what a task needs while it runs (the input's contents, the pairs of a map
     * (struct mr_kvs), the intermediate file names, ...), so mr_worker_free can free it. */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

/* The example RPC (see coordinator.c): sends x, returns true with the coordinator's answer in
 * *y. False when the call failed: the coordinator has exited (Go's failed dial), so the
 * worker should exit too. */
static bool call_example(struct mr_worker *w, int64_t x, int64_t *y)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_int(&e, 1, x);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    bool ok = gob_enc_finish(&e) == GOB_OK &&
              rpc_end_call_wait(w->env.coordinator, "Coordinator.Example", gob_enc_bytes(&e),
                                gob_enc_len(&e), &reply, &reply_len);
    gob_enc_free(&e);
    if (!ok) return false;
    struct gob_dec d;
    *y = 0;
    gob_dec_init(&d, reply, reply_len);
    gob_get_int(&d, 1, y);
    ok = gob_dec_finish(&d) == GOB_OK;
    free(reply);
    return ok;
}

int mr_worker_new(const struct mr_worker_env *env, struct mr_worker **out)
{
    if (env == NULL || env->sim == NULL || env->coordinator == NULL || out == NULL)
        return MR_EINVAL;
    struct mr_worker *w = calloc(1, sizeof(*w));
    if (w == NULL) return MR_ENOMEM;
    w->env = *env;
    *out = w;
    return MR_OK;
}

void mr_worker_run(struct mr_worker *w)
{
    /* TODO: loop: ask the coordinator for a task (call_example shows a call) and do it.
     *  - a map: read the input (sim_fs_read), call w->env.app.map, and write each reduce
     *    bucket's pairs (mr_ihash(key) % nReduce) to an intermediate file, encoded as you
     *    like (labgob works), under a temporary name then sim_fs_rename;
     *  - a reduce: read its intermediate files, group the pairs by key (mr_kvs_group), call
     *    w->env.app.reduce per key and write "key result\n" lines to mr-out-Y, again through
     *    a temporary name;
     *  - no task yet: sim_sleep_us a little and ask again; a failed call: return.
     * Report each finished task, so the coordinator can move on. */
}

void mr_worker_free(struct mr_worker *w)
{
    if (w == NULL) return;
    /* TODO: free what the worker holds (it may have stopped in the middle of a task). */
    free(w);
}
