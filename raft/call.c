/* call: the records of RPCs in flight and the one send path every request goes through.
 *
 * Go sends each RPC from its own goroutine and keeps what the reply handler needs on that
 * goroutine's stack. Here a `struct raft_call` plays that role: it is the completion context
 * of rpc_end_call. Records are owned by the instance (a live list plus a free list), so
 * raft_free releases the ones whose completions never ran (network cleaned up, sim ended).
 *
 * Invariants: calls_live_count == length of calls_live <= RAFT_CALLS_MAX; a record is on
 * exactly one list.
 */
#include <stdlib.h>

#include "raft_int.h"

static struct raft_call *call_take(struct raft *rf)
{
    if (rf->calls_live_count >= RAFT_CALLS_MAX) return NULL;
    struct raft_call *call = rf->calls_free;
    if (call != NULL) {
        rf->calls_free = call->next;
    } else {
        /* Grows only to the peak number in flight; records are recycled after that. */
        call = calloc(1, sizeof(*call));
        if (call == NULL) return NULL;
    }
    call->rf = rf;
    call->prev = NULL;
    call->next = rf->calls_live;
    if (rf->calls_live != NULL) rf->calls_live->prev = call;
    rf->calls_live = call;
    rf->calls_live_count++;
    return call;
}

void raft_call_release(struct raft_call *call)
{
    struct raft *rf = call->rf;
    RAFT_ASSERT(rf, rf->calls_live_count > 0);
    if (call->prev != NULL)
        call->prev->next = call->next;
    else
        rf->calls_live = call->next;
    if (call->next != NULL) call->next->prev = call->prev;
    rf->calls_live_count--;
    call->prev = NULL;
    call->next = rf->calls_free;
    rf->calls_free = call;
}

static void call_list_free(struct raft_call *call)
{
    /* Bounded: each list holds at most RAFT_CALLS_MAX records. */
    while (call != NULL) {
        struct raft_call *next = call->next;
        free(call);
        call = next;
    }
}

void raft_calls_free_all(struct raft *rf)
{
    call_list_free(rf->calls_live);
    call_list_free(rf->calls_free);
    rf->calls_live = NULL;
    rf->calls_free = NULL;
    rf->calls_live_count = 0;
}

bool raft_call_send(struct raft *rf, int peer, enum raft_call_kind kind, const char *method,
                    uint64_t index, uint64_t entries_count, rpc_reply_cb cb)
{
    RAFT_ASSERT(rf, !rf->dead);
    RAFT_ASSERT(rf, peer >= 0 && peer < rf->peers_count && peer != rf->me);
    int rc = gob_enc_finish(&rf->enc_msg);
    RAFT_ASSERTF(rf, rc == GOB_OK || rc == GOB_ENOMEM, "encode: %s", gob_strerror(rc));
    if (rc != GOB_OK) return false; /* out of memory: as if the network dropped it */
    /* Figure 2: persistent state is on stable storage before any message leaves. */
    raft_persist_flush(rf);
    struct raft_call *call = call_take(rf);
    if (call == NULL) {
        raft_trace_reject(rf->sim, rf->me, peer, "send skipped: too many calls in flight");
        return false;
    }
    call->kind = kind;
    call->peer = peer;
    call->term = rf->current_term;
    call->index = index;
    call->entries_count = entries_count;
    call->seq = ++rf->call_seq[peer];
    raft_reads_on_send(rf, call);
    rpc_end_call(rf->peers[peer], method, gob_enc_bytes(&rf->enc_msg), gob_enc_len(&rf->enc_msg),
                 cb, call);
    return true;
}

void raft_reply(struct raft *rf, struct rpc_req *req)
{
    int rc = gob_enc_finish(&rf->enc_msg);
    RAFT_ASSERTF(rf, rc == GOB_OK || rc == GOB_ENOMEM, "encode: %s", gob_strerror(rc));
    if (rc != GOB_OK) {
        RAFT_REPLY_IGNORED(req);
        return;
    }
    rpc_req_reply(req, gob_enc_bytes(&rf->enc_msg), gob_enc_len(&rf->enc_msg));
}
