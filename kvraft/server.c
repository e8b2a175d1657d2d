/* server: the kvraft server (Go's KVServer), event-driven on top of Raft.
 *
 * Life of a request ("KVServer.Get/Put/Append"):
 *   1. The handler decodes the arguments, re-encodes them as a log op and calls raft_start.
 *      A non-leader answers ErrWrongLeader. A leader keeps the struct rpc_req in the pending
 *      table with the index and term raft_start returned (Go's waiting channel). The server
 *      itself spends no virtual time: the CPU time per request is modelled by the harness
 *      (rpc_server_set_service_time, see kvraft.h), so it answers as soon as its op is applied.
 *   2. kv_apply applies committed ops in index order. Put/Append go through the duplicate
 *      table, so a retried op (same client id and seq) changes the store once. When the op at a
 *      pending request's index is that request's op and the server is still leader of the term
 *      the request started in, the request gets the result; otherwise ErrWrongLeader.
 *   3. kv_tick runs every KV_TICK_US while requests wait: a request whose term has moved on,
 *      whose server lost leadership or whose caller is gone gets ErrWrongLeader; one that has
 *      waited KV_WAIT_TIMEOUT_US gets ErrTimeout. Either way the clerk retries elsewhere.
 *
 * Gets without log entries: with read-index or lease-read on (raft_ext.h, "reads"), a Get does
 * not go through the log. The handler asks Raft for a read (raft_persister_read) and parks the
 * request in a read slot; Raft calls back once leadership is confirmed (or a lease holds) and
 * it has applied through the read index, and the Get is answered from the store as it is then.
 * A Raft that offers no reads (RAFT_READ_EOFF: a student's) sends the Get through the log as
 * before. With the UNSAFE local-read option (the stale-read scenario's twin) a Get is answered
 * at once from the store of whoever believes it is leader: no log entry, no confirmation.
 *
 * Snapshots: with maxraftstate > 0, after each applied op the server checks the persisted Raft
 * state size and, once it reaches maxraftstate, hands Raft a snapshot (applied index, store,
 * duplicate table). The snapshot is read back at start and when Raft installs one.
 *
 * Invariants:
 *  1. applied_index only grows; commands are applied exactly at applied_index + 1.
 *  2. Every pending request is answered exactly once: at its index, by the tick, on a snapshot
 *     that covers its index, or at kill.
 *  3. A pending request's index is > applied_index.
 *  4. A busy read slot has a request Raft will call back exactly once (raft_read_cb).
 */
#include <stdlib.h>
#include <string.h>

#include "kv_int.h"
#include "raft_ext.h"

/* A Get waiting for its read (ctx of raft_read_cb). */
struct kv_read {
    struct kv_server *kv;
    struct rpc_req *req;
    uint64_t client_id;
    uint64_t seq;
    uint8_t *key; /* owned copy, capacity key_cap (kept across uses) */
    size_t key_len;
    size_t key_cap;
    bool busy;
};

struct kv_pending {
    struct rpc_req *req;
    uint64_t index;
    uint64_t term;
    uint64_t client_id;
    uint64_t seq;
    sim_time_us deadline_us;
};

struct kv_server {
    struct sim *sim;
    int me;
    struct raft *rf;
    struct raft_persister *persister; /* borrowed; Raft writes it, we read its size */
    int64_t maxraftstate;
    bool dead;
    struct kv_store store;
    struct kv_dups dups;
    uint64_t applied_index;
    struct kv_pending pending[KV_PENDING_MAX]; /* in arrival order */
    uint32_t pending_count;
    sim_timer_id tick_timer; /* 0 when not armed */
    struct gob_enc enc_op;   /* handler scratch: the op given to raft_start */
    struct gob_enc enc_out;  /* apply scratch: replies and snapshots */
    struct kv_server_stats stats;
    struct kv_read *reads; /* RAFT_READS_MAX slots; NULL unless a read option is on */
};

static const struct sim_trace_kind trace_start = {
    300, SIM_TOPIC_CLIENT, "kv.start", {"client", "seq", "kind", "index"}};
static const struct sim_trace_kind trace_reply = {
    301, SIM_TOPIC_CLIENT, "kv.reply", {"client", "seq", "err", "index"}};
static const struct sim_trace_kind trace_snapshot = {
    302, SIM_TOPIC_SNAP, "kv.snapshot", {"index", "bytes"}};
static const struct sim_trace_kind trace_install = {
    303, SIM_TOPIC_SNAP, "kv.install", {"index", "bytes"}};
static const struct sim_trace_kind trace_restore = {
    304, SIM_TOPIC_SNAP, "kv.restore", {"index", "bytes"}};
static const struct sim_trace_kind trace_duplicate = {
    305, SIM_TOPIC_APPLY, "kv.duplicate", {"client", "seq", "index"}};

/* Answers a request that is not (or no longer) in the pending table. */
static void reply_send(struct kv_server *kv, struct rpc_req *req, const struct kv_reply *reply)
{
    int rc = kv_reply_encode(&kv->enc_out, reply);
    SIM_ASSERTF(kv->sim, kv->me, rc == KV_OK, "encoding a reply: %s", kv_strerror(rc));
    rpc_req_reply(req, gob_enc_bytes(&kv->enc_out), gob_enc_len(&kv->enc_out));
}

static void reply_err(struct kv_server *kv, struct rpc_req *req, enum kv_reply_err err)
{
    struct kv_reply reply = {.err = err};
    SIM_ASSERT(kv->sim, kv->me, err != KV_REPLY_OK);
    reply_send(kv, req, &reply);
}

/* Removes pending[at] (keeping arrival order) and answers it. */
static void pending_answer(struct kv_server *kv, uint32_t at, const struct kv_reply *reply)
{
    SIM_ASSERT(kv->sim, kv->me, at < kv->pending_count);
    struct kv_pending p = kv->pending[at];
    memmove(&kv->pending[at], &kv->pending[at + 1],
            (kv->pending_count - at - 1) * sizeof(kv->pending[0]));
    kv->pending_count--;
    sim_trace4(kv->sim, kv->me, &trace_reply, (int64_t)p.client_id, (int64_t)p.seq,
               (int64_t)reply->err, (int64_t)p.index);
    reply_send(kv, p.req, reply);
}

static void pending_fail(struct kv_server *kv, uint32_t at, enum kv_reply_err err)
{
    struct kv_reply reply = {.err = err};
    pending_answer(kv, at, &reply);
}

static void kv_tick(struct sim *sim, void *arg);

static void tick_arm(struct kv_server *kv)
{
    if (kv->dead || kv->pending_count == 0 || kv->tick_timer != 0) return;
    kv->tick_timer = sim_after(kv->sim, KV_TICK_US, kv_tick, kv);
}

/* Re-checks every waiting request (step 3 of the file comment). */
static void kv_tick(struct sim *sim, void *arg)
{
    struct kv_server *kv = arg;
    SIM_ASSERT(sim, kv->me, kv->sim == sim);
    kv->tick_timer = 0;
    if (kv->dead) return;
    uint64_t term = 0;
    bool leader = raft_get_state(kv->rf, &term);
    sim_time_us now_us = sim_now_us(sim);
    uint32_t at = 0;
    while (at < kv->pending_count) {
        const struct kv_pending *p = &kv->pending[at];
        if (!leader || term != p->term || rpc_req_dead(p->req))
            pending_fail(kv, at, KV_REPLY_WRONG_LEADER);
        else if (now_us >= p->deadline_us)
            pending_fail(kv, at, KV_REPLY_TIMEOUT);
        else
            at++;
    }
    tick_arm(kv);
}

/* A client sends its next op only after the previous one returned, so a waiting request with
 * a lower seq from the same client has no caller any more. */
static void pending_drop_superseded(struct kv_server *kv, uint64_t client_id, uint64_t seq)
{
    uint32_t at = 0;
    while (at < kv->pending_count) {
        if (kv->pending[at].client_id == client_id && kv->pending[at].seq < seq)
            pending_fail(kv, at, KV_REPLY_WRONG_LEADER);
        else
            at++;
    }
}

/* ---------------------------------------------------------------- Gets without the log */

/* The Get's answer from the store as it is now. */
static void read_answer(struct kv_server *kv, struct rpc_req *req, const uint8_t *key,
                        size_t key_len)
{
    struct kv_reply reply = {.err = KV_REPLY_OK};
    const struct kv_entry *entry = kv_store_find(&kv->store, key, key_len);
    if (entry == NULL) {
        reply.err = KV_REPLY_NO_KEY;
    } else {
        reply.value = entry->value;
        reply.value_len = entry->value_len;
    }
    reply_send(kv, req, &reply);
}

static void read_done(void *ctx, bool ok, uint64_t read_index)
{
    struct kv_read *rd = ctx;
    struct kv_server *kv = rd->kv;
    SIM_ASSERT(kv->sim, kv->me, rd->busy);
    rd->busy = false;
    enum kv_reply_err err = KV_REPLY_WRONG_LEADER;
    if (ok && !kv->dead) {
        /* Raft applied through the read index, so our store is at least that fresh. */
        SIM_ASSERT(kv->sim, kv->me, kv->applied_index >= read_index);
        read_answer(kv, rd->req, rd->key, rd->key_len);
        err = KV_REPLY_OK;
    } else {
        reply_err(kv, rd->req, KV_REPLY_WRONG_LEADER);
    }
    sim_trace4(kv->sim, kv->me, &trace_reply, (int64_t)rd->client_id, (int64_t)rd->seq,
               (int64_t)err, (int64_t)read_index);
}

/* Grows the slot's key buffer (reused across reads: no allocation once warm). */
static bool key_reserve(struct kv_read *rd, size_t need)
{
    if (need <= rd->key_cap) return true;
    uint8_t *grown = realloc(rd->key, need);
    if (grown == NULL) return false;
    rd->key = grown;
    rd->key_cap = need;
    return true;
}

/* Parks a Get in a free slot and asks Raft for a read. False when Raft offers no reads (the
 * caller goes through the log); true when the request was taken care of (parked or answered). */
static bool read_start(struct kv_server *kv, struct rpc_req *req, const struct kv_op *op)
{
    struct kv_read *rd = NULL;
    for (uint32_t i = 0; i < RAFT_READS_MAX && rd == NULL; i++)
        rd = kv->reads[i].busy ? NULL : &kv->reads[i];
    if (rd == NULL) {
        reply_err(kv, req, KV_REPLY_WRONG_LEADER); /* overloaded: let the clerk try later */
        return true;
    }
    if (!key_reserve(rd, op->key_len + 1)) {
        reply_err(kv, req, KV_REPLY_WRONG_LEADER);
        return true;
    }
    if (op->key_len > 0) memcpy(rd->key, op->key, op->key_len);
    *rd =
        (struct kv_read){kv, req, op->client_id, op->seq, rd->key, op->key_len, rd->key_cap, true};
    int rc = raft_persister_read(kv->persister, read_done, rd);
    if (rc == RAFT_READ_OK) {
        sim_trace4(kv->sim, kv->me, &trace_start, (int64_t)op->client_id, (int64_t)op->seq,
                   (int64_t)KV_OP_GET, 0);
        return true;
    }
    rd->busy = false;
    if (rc == RAFT_READ_EOFF) return false;
    reply_err(kv, req, KV_REPLY_WRONG_LEADER); /* not leader, or too many reads */
    return true;
}

/* UNSAFE (RAFT_OPT_LOCAL_READ_UNSAFE): answers from whatever this server holds when its Raft
 * believes it leads, which a leader cut off in a minority still does. */
static void read_local_unsafe(struct kv_server *kv, struct rpc_req *req, const struct kv_op *op)
{
    if (!raft_get_state(kv->rf, NULL)) {
        reply_err(kv, req, KV_REPLY_WRONG_LEADER);
        return;
    }
    read_answer(kv, req, op->key, op->key_len);
}

/* Step 1, the RPC handler proper: start the op in Raft and park the request. */
static void kv_handle(struct kv_server *kv, enum kv_op_kind kind, struct rpc_req *req,
                      const uint8_t *args, size_t args_len)
{
    struct kv_op op;
    if (kv->dead) {
        reply_err(kv, req, KV_REPLY_WRONG_LEADER); /* Go's killed server */
        return;
    }
    if (kv_op_decode(args, args_len, &op) != KV_OK || op.kind != kind) {
        reply_err(kv, req, KV_REPLY_BAD_ARGS);
        return;
    }
    pending_drop_superseded(kv, op.client_id, op.seq);
    if (kind == KV_OP_GET &&
        (raft_persister_option_flags(kv->persister) & RAFT_OPT_LOCAL_READ_UNSAFE) != 0) {
        read_local_unsafe(kv, req, &op);
        return;
    }
    if (kind == KV_OP_GET && kv->reads != NULL && read_start(kv, req, &op)) return;
    if (kv->pending_count >= KV_PENDING_MAX) {
        reply_err(kv, req, KV_REPLY_WRONG_LEADER); /* overloaded: let the clerk try later */
        return;
    }
    int rc = kv_op_encode(&kv->enc_op, &op);
    SIM_ASSERTF(kv->sim, kv->me, rc == KV_OK, "re-encoding a decoded op: %s", kv_strerror(rc));
    uint64_t index = 0;
    uint64_t term = 0;
    bool leader =
        raft_start(kv->rf, gob_enc_bytes(&kv->enc_op), gob_enc_len(&kv->enc_op), &index, &term);
    /* A Raft that applied the entry inside raft_start (a one-server cluster) leaves nothing to
     * wait for; the clerk's retry is answered from the duplicate table. */
    if (!leader || kv->dead || index <= kv->applied_index) {
        reply_err(kv, req, KV_REPLY_WRONG_LEADER);
        return;
    }
    kv->pending[kv->pending_count] = (struct kv_pending){
        .req = req,
        .index = index,
        .term = term,
        .client_id = op.client_id,
        .seq = op.seq,
        .deadline_us = sim_now_us(kv->sim) + KV_WAIT_TIMEOUT_US,
    };
    kv->pending_count++;
    sim_trace4(kv->sim, kv->me, &trace_start, (int64_t)op.client_id, (int64_t)op.seq, (int64_t)kind,
               (int64_t)index);
    tick_arm(kv);
}

static void kv_handle_get(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len)
{
    kv_handle(receiver, KV_OP_GET, req, args, args_len);
}

static void kv_handle_put(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len)
{
    kv_handle(receiver, KV_OP_PUT, req, args, args_len);
}

static void kv_handle_append(void *receiver, struct rpc_req *req, const uint8_t *args,
                             size_t args_len)
{
    kv_handle(receiver, KV_OP_APPEND, req, args, args_len);
}

/* Applies a Put or Append unless the duplicate table says it already was. */
static enum kv_reply_err apply_write(struct kv_server *kv, const struct kv_op *op, uint64_t index)
{
    const struct kv_session *session = kv_dups_find(&kv->dups, op->client_id);
    if (session != NULL && op->seq <= session->seq_last) {
        kv->stats.duplicates_skipped++;
        sim_trace4(kv->sim, kv->me, &trace_duplicate, (int64_t)op->client_id, (int64_t)op->seq,
                   (int64_t)index, 0);
        return op->seq == session->seq_last ? (enum kv_reply_err)session->err_last : KV_REPLY_OK;
    }
    int rc = op->kind == KV_OP_PUT
                 ? kv_store_put(&kv->store, op->key, op->key_len, op->value, op->value_len)
                 : kv_store_append(&kv->store, op->key, op->key_len, op->value, op->value_len);
    SIM_ASSERTF(kv->sim, kv->me, rc == KV_OK || rc == KV_ELIMIT, "applying op %llu: %s",
                (unsigned long long)index, kv_strerror(rc));
    enum kv_reply_err err = rc == KV_OK ? KV_REPLY_OK : KV_REPLY_TOO_BIG;
    rc = kv_dups_record(&kv->dups, op->client_id, op->seq, (uint32_t)err);
    SIM_ASSERTF(kv->sim, kv->me, rc == KV_OK, "recording client %llu: %s",
                (unsigned long long)op->client_id, kv_strerror(rc));
    return err;
}

/* The result of applying op; for a Get the value is a view into the store, valid until the
 * next change of the store. */
static struct kv_reply apply_op(struct kv_server *kv, const struct kv_op *op, uint64_t index)
{
    struct kv_reply result = {.err = KV_REPLY_OK};
    if (op->kind != KV_OP_GET) {
        result.err = apply_write(kv, op, index);
        return result;
    }
    const struct kv_entry *entry = kv_store_find(&kv->store, op->key, op->key_len);
    if (entry == NULL) {
        result.err = KV_REPLY_NO_KEY;
    } else {
        result.value = entry->value;
        result.value_len = entry->value_len;
    }
    return result;
}

/* Step 2: answers the requests waiting on `index`. op is NULL when the command there did not
 * decode (then nobody's op was applied). */
static void answer_applied(struct kv_server *kv, uint64_t index, const struct kv_op *op,
                           const struct kv_reply *result)
{
    uint64_t term = 0;
    bool leader = raft_get_state(kv->rf, &term);
    uint32_t at = 0;
    while (at < kv->pending_count) {
        const struct kv_pending *p = &kv->pending[at];
        if (p->index != index) {
            at++;
            continue;
        }
        bool mine = op != NULL && p->client_id == op->client_id && p->seq == op->seq;
        if (mine && leader && term == p->term)
            pending_answer(kv, at, result);
        else
            pending_fail(kv, at, KV_REPLY_WRONG_LEADER);
    }
}

static void snapshot_maybe(struct kv_server *kv)
{
    if (kv->maxraftstate <= 0) return;
    if (raft_persister_state_size(kv->persister) < (size_t)kv->maxraftstate) return;
    int rc = kv_snapshot_encode(&kv->enc_out, kv->applied_index, &kv->store, &kv->dups);
    SIM_ASSERTF(kv->sim, kv->me, rc == KV_OK, "encoding a snapshot: %s", kv_strerror(rc));
    size_t len = gob_enc_len(&kv->enc_out);
    kv->stats.snapshots_taken++;
    sim_trace4(kv->sim, kv->me, &trace_snapshot, (int64_t)kv->applied_index, (int64_t)len, 0, 0);
    raft_snapshot(kv->rf, kv->applied_index, gob_enc_bytes(&kv->enc_out), len);
}

/* Replaces the store and table with a snapshot's. Returns the index it covers. */
static uint64_t snapshot_load(struct kv_server *kv, const uint8_t *buf, size_t len)
{
    struct kv_store store;
    struct kv_dups dups;
    uint64_t index = 0;
    kv_store_init(&store);
    kv_dups_init(&dups);
    int rc = kv_snapshot_decode(buf, len, &index, &store, &dups);
    SIM_ASSERTF(kv->sim, kv->me, rc == KV_OK, "decoding a snapshot of %zu bytes: %s", len,
                kv_strerror(rc));
    kv_store_close(&kv->store);
    kv_dups_close(&kv->dups);
    kv->store = store;
    kv->dups = dups;
    kv->stats.keys_count = store.entries_count;
    return index;
}

static void apply_snapshot(struct kv_server *kv, const struct raft_apply_msg *msg)
{
    if (msg->snapshot_index <= kv->applied_index) return; /* older than what we have: keep ours */
    uint64_t index = snapshot_load(kv, msg->snapshot, msg->snapshot_len);
    SIM_ASSERTF(kv->sim, kv->me, index == msg->snapshot_index,
                "snapshot says index %llu, Raft says %llu", (unsigned long long)index,
                (unsigned long long)msg->snapshot_index);
    kv->applied_index = index;
    kv->stats.snapshots_installed++;
    sim_trace4(kv->sim, kv->me, &trace_install, (int64_t)index, (int64_t)msg->snapshot_len, 0, 0);
    /* Whatever waited on a covered index can no longer be matched to its op. */
    uint32_t at = 0;
    while (at < kv->pending_count) {
        if (kv->pending[at].index <= index)
            pending_fail(kv, at, KV_REPLY_WRONG_LEADER);
        else
            at++;
    }
}

/* Raft's apply callback. */
static void kv_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct kv_server *kv = ctx;
    if (kv->dead) return;
    if (msg->snapshot_valid) {
        apply_snapshot(kv, msg);
        return;
    }
    if (!msg->command_valid || msg->command_index <= kv->applied_index)
        return; /* already covered by a snapshot */
    SIM_ASSERTF(kv->sim, kv->me, msg->command_index == kv->applied_index + 1,
                "apply out of order: applied %llu, got index %llu",
                (unsigned long long)kv->applied_index, (unsigned long long)msg->command_index);
    struct kv_op op;
    uint64_t index = msg->command_index;
    if (kv_op_decode(msg->command, msg->command_len, &op) != KV_OK) {
        /* Not one of ours: apply it as a no-op, the same way on every replica. */
        kv->applied_index = index;
        answer_applied(kv, index, NULL, NULL);
        snapshot_maybe(kv);
        return;
    }
    struct kv_reply result = apply_op(kv, &op, index);
    kv->applied_index = index;
    kv->stats.keys_count = kv->store.entries_count;
    answer_applied(kv, index, &op, &result);
    snapshot_maybe(kv);
}

static void server_release(struct kv_server *kv)
{
    for (uint32_t i = 0; kv->reads != NULL && i < RAFT_READS_MAX; i++)
        free(kv->reads[i].key);
    free(kv->reads);
    kv_store_close(&kv->store);
    kv_dups_close(&kv->dups);
    gob_enc_free(&kv->enc_op);
    gob_enc_free(&kv->enc_out);
    free(kv);
}

static int server_register(struct kv_server *kv, struct rpc_server *server)
{
    static const rpc_handler_fn handlers[KV_OP_KINDS_COUNT] = {kv_handle_get, kv_handle_put,
                                                               kv_handle_append};
    for (int kind = 0; kind < KV_OP_KINDS_COUNT; kind++) {
        if (rpc_server_add_method(server, "KVServer", kv_method_names[kind], handlers[kind], kv) !=
            RPC_OK)
            return KV_ERPC;
    }
    return raft_register(kv->rf, server) == 0 ? KV_OK : KV_ERPC;
}

int kv_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                    struct raft_persister *persister, int64_t maxraftstate,
                    struct rpc_server *server, struct kv_server **out)
{
    if (sim == NULL || ends == NULL || persister == NULL || server == NULL || out == NULL)
        return KV_EINVAL;
    if (ends_count < 1 || ends_count > KV_SERVERS_MAX || me < 0 || me >= ends_count)
        return KV_EINVAL;
    struct kv_server *kv = calloc(1, sizeof(*kv));
    if (kv == NULL) return KV_ENOMEM;
    kv->sim = sim;
    kv->me = me;
    kv->persister = persister;
    kv->maxraftstate = maxraftstate;
    kv_store_init(&kv->store);
    kv_dups_init(&kv->dups);
    gob_enc_init(&kv->enc_op);
    gob_enc_init(&kv->enc_out);
    size_t snap_len = 0;
    const uint8_t *snap = raft_persister_snapshot(persister, &snap_len);
    if (snap_len > 0) {
        int rc = kv_snapshot_decode(snap, snap_len, &kv->applied_index, &kv->store, &kv->dups);
        if (rc != KV_OK) {
            server_release(kv);
            return rc == KV_ENOMEM ? KV_ENOMEM : KV_EDECODE;
        }
        kv->stats.keys_count = kv->store.entries_count;
        sim_trace4(sim, me, &trace_restore, (int64_t)kv->applied_index, (int64_t)snap_len, 0, 0);
    }
    kv->stats.applied_index = kv->applied_index;
    uint32_t read_flags = RAFT_OPT_READ_INDEX | RAFT_OPT_LEASE_READ;
    if ((raft_persister_option_flags(persister) & read_flags) != 0) {
        kv->reads = calloc(RAFT_READS_MAX, sizeof(*kv->reads));
        if (kv->reads == NULL) {
            server_release(kv);
            return KV_ENOMEM;
        }
    }
    kv->rf = raft_make(sim, ends, ends_count, me, persister, kv_apply, kv);
    if (kv->rf == NULL) {
        server_release(kv);
        return KV_ENOMEM;
    }
    int rc = server_register(kv, server);
    if (rc != KV_OK) {
        raft_kill(kv->rf);
        raft_free(kv->rf);
        server_release(kv);
        return rc;
    }
    *out = kv;
    return KV_OK;
}

void kv_server_kill(struct kv_server *kv)
{
    if (kv->dead) return;
    kv->dead = true;
    raft_kill(kv->rf);
    if (kv->tick_timer != 0) sim_timer_cancel(kv->sim, kv->tick_timer);
    kv->tick_timer = 0;
    /* Invariant 2: answer everything; labrpc drops replies of a deleted server. */
    while (kv->pending_count > 0)
        pending_fail(kv, 0, KV_REPLY_WRONG_LEADER);
}

bool kv_server_killed(const struct kv_server *kv)
{
    return kv->dead;
}

void kv_server_free(struct kv_server *kv)
{
    if (kv == NULL) return;
    kv_server_kill(kv);
    raft_free(kv->rf);
    server_release(kv);
}

struct raft *kv_server_raft(const struct kv_server *kv)
{
    return kv->rf;
}

void kv_server_stats(const struct kv_server *kv, struct kv_server_stats *out)
{
    *out = kv->stats;
    out->applied_index = kv->applied_index;
    out->keys_count = kv->store.entries_count;
}
