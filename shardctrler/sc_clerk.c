/* sc_clerk: the shard controller's client (Go's Clerk), blocking code for sim tasks.
 *
 * Each Join, Leave or Move takes the clerk's next sequence number, so retries of one op are
 * applied once. The clerk starts with the server that answered last and moves round-robin on
 * any failure; after a whole pass without an answer it sleeps SC_CLERK_PASS_SLEEP_US of
 * virtual time (Go's 100 ms), which also keeps a clerk with no reachable server from spinning
 * without letting time advance. The loop is unbounded by design (Go's clerk never gives up);
 * sc_clerk_cancel is the only way out, for clerks owned by a service that was killed.
 */
#include <stdlib.h>
#include <string.h>

#include "sc_int.h"

struct sc_clerk {
    struct sim *sim;
    struct rpc_end *ends[SC_SERVERS_MAX];
    int ends_count;
    int leader; /* index into ends of the server to try first */
    uint64_t client_id;
    uint64_t seq;
    bool canceled;
    bool busy; /* a task is inside a call (one op at a time) */
    struct gob_enc enc;
    struct sc_op op; /* the op being sent (too large for a task's frame twice over) */
};

struct sc_clerk *sc_clerk_new(struct sim *sim, struct rpc_end *const *ends, int ends_count,
                              uint64_t client_id)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > SC_SERVERS_MAX) return NULL;
    struct sc_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    for (int i = 0; i < ends_count; i++)
        ck->ends[i] = ends[i];
    ck->ends_count = ends_count;
    ck->client_id = client_id;
    gob_enc_init(&ck->enc);
    return ck;
}

void sc_clerk_free(struct sc_clerk *ck)
{
    if (ck == NULL) return;
    gob_enc_free(&ck->enc);
    free(ck);
}

void sc_clerk_cancel(struct sc_clerk *ck)
{
    ck->canceled = true;
}

/* One attempt at server `at`: true when it answered (anything but a reason to retry). */
static bool clerk_try(struct sc_clerk *ck, int at, enum sc_reply_err *err, struct sc_config *out)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    if (!rpc_end_call_wait(ck->ends[at], sc_method_full_names[ck->op.kind], gob_enc_bytes(&ck->enc),
                           gob_enc_len(&ck->enc), &reply, &reply_len))
        return false;
    bool answered = sc_reply_decode(reply, reply_len, err, out) == SC_OK &&
                    (*err == SC_REPLY_OK || *err == SC_REPLY_LIMIT || *err == SC_REPLY_BAD_ARGS);
    free(reply);
    return answered;
}

/* Sends ck->op until a server answers it. */
static int clerk_run(struct sc_clerk *ck, struct sc_config *out)
{
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, sim_task_current(ck->sim) != NULL);
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, !ck->busy);
    if (ck->canceled) return SC_ECANCELED;
    ck->op.client_id = ck->client_id;
    ck->op.seq = ++ck->seq;
    int rc = sc_op_encode(&ck->enc, &ck->op);
    if (rc != SC_OK) return rc;
    ck->busy = true;
    enum sc_reply_err err = SC_REPLY_OK;
    int failed_in_pass = 0;
    while (!clerk_try(ck, ck->leader, &err, out)) { /* unbounded by design */
        if (ck->canceled) break;
        ck->leader = (ck->leader + 1) % ck->ends_count;
        if (++failed_in_pass == ck->ends_count) {
            failed_in_pass = 0;
            sim_sleep_us(ck->sim, SC_CLERK_PASS_SLEEP_US);
        }
    }
    ck->busy = false;
    if (ck->canceled) return SC_ECANCELED;
    if (err == SC_REPLY_LIMIT) return SC_ELIMIT;
    return err == SC_REPLY_BAD_ARGS ? SC_EINVAL : SC_OK;
}

static bool name_fits(const char *name)
{
    return name != NULL && strnlen(name, SC_SERVER_NAME_MAX) < SC_SERVER_NAME_MAX;
}

int sc_clerk_join(struct sc_clerk *ck, const struct sc_group *groups, int groups_count)
{
    if (groups == NULL || groups_count < 1 || groups_count > SC_GROUPS_MAX) return SC_EINVAL;
    memset(&ck->op, 0, sizeof(ck->op));
    ck->op.kind = SC_OP_JOIN;
    for (int g = 0; g < groups_count; g++) {
        const struct sc_group *group = &groups[g];
        if (group->gid <= 0 || group->servers_count < 0) return SC_EINVAL;
        if (group->servers_count > SC_GROUP_SERVERS_MAX) return SC_EINVAL;
        for (int i = 0; i < group->servers_count; i++) {
            if (!name_fits(group->servers[i])) return SC_EINVAL;
        }
        ck->op.groups[g] = *group;
    }
    ck->op.groups_count = groups_count;
    return clerk_run(ck, NULL);
}

int sc_clerk_leave(struct sc_clerk *ck, const int *gids, int gids_count)
{
    if (gids == NULL || gids_count < 1 || gids_count > SC_GROUPS_MAX) return SC_EINVAL;
    memset(&ck->op, 0, sizeof(ck->op));
    ck->op.kind = SC_OP_LEAVE;
    for (int i = 0; i < gids_count; i++) {
        if (gids[i] <= 0) return SC_EINVAL;
        ck->op.gids[i] = gids[i];
    }
    ck->op.gids_count = gids_count;
    return clerk_run(ck, NULL);
}

int sc_clerk_move(struct sc_clerk *ck, int shard, int gid)
{
    if (shard < 0 || shard >= SC_NSHARDS || gid <= 0) return SC_EINVAL;
    memset(&ck->op, 0, sizeof(ck->op));
    ck->op.kind = SC_OP_MOVE;
    ck->op.shard = shard;
    ck->op.gid = gid;
    return clerk_run(ck, NULL);
}

int sc_clerk_query(struct sc_clerk *ck, int num, struct sc_config *out)
{
    if (out == NULL) return SC_EINVAL;
    memset(&ck->op, 0, sizeof(ck->op));
    ck->op.kind = SC_OP_QUERY;
    ck->op.num = num;
    return clerk_run(ck, out);
}
