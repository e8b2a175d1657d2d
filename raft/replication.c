/* replication: AppendEntries, heartbeats, fast backup and commitment (sections 5.3, 5.4).
 *
 * Owns the leader's sending (one coalesced replication event per instant, heartbeats every
 * RAFT_HEARTBEAT_US, catch-up in batches of RAFT_APPEND_ENTRIES_MAX), the reply handling that
 * moves nextIndex/matchIndex, the commit rule, and the follower's AppendEntries receiver.
 *
 * Messages (labgob, zero fields omitted; numbers are Go ints, raft_wire_put_num):
 *   AppendEntriesArgs  1 term  2 leader_id  3 prev_log_index  4 prev_log_term
 *                      5 entries: records {1 term, 2 command (an interface value)}
 *                      6 leader_commit
 *   AppendEntriesReply 1 term  2 success  3 conflict_term  4 conflict_index
 * The entries have the shape of a Go Raft's []LogEntry{Term int; Command interface{}}, so
 * labrpc's byte count (labgob's gob model) is what a canonical Go Raft would send.
 * The conflict fields are the lab's fast backup (the paper's end of section 5.3): on a
 * mismatch the follower names the term of its entry at prevLogIndex and the first index it
 * holds for that term, or, when its log is too short, conflict_term 0 and its last index + 1.
 */
#include <stdlib.h>

#include "raft_int.h"

struct append_args {
    uint64_t term;
    uint64_t leader;
    uint64_t prev_log_index;
    uint64_t prev_log_term;
    uint64_t leader_commit;
    size_t entries_count; /* entries are in rf->scratch_entries */
};

struct append_reply {
    uint64_t term;
    bool success;
    uint64_t conflict_term;
    uint64_t conflict_index;
};

/* Keeps prev_log_index + entries arithmetic far from overflow on hostile input. */
#define INDEX_SANE_MAX (UINT64_C(1) << 62)

static void on_append_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len);

/* ---------------------------------------------------------------- leader: sending */

static void append_args_encode(struct raft *rf, uint64_t prev, uint64_t count)
{
    struct gob_enc *e = &rf->enc_msg;
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, rf->current_term);
    raft_wire_put_num(e, 2, (uint64_t)rf->me);
    raft_wire_put_num(e, 3, prev);
    raft_wire_put_num(e, 4, raft_log_term_at(&rf->log, prev));
    raft_entries_put(rf, e, 5, prev + 1, count);
    raft_wire_put_num(e, 6, rf->commit_index);
}

/* Figure 2, Leaders: "If last log index >= nextIndex for a follower: send AppendEntries RPC
 * with log entries starting at nextIndex"; an empty one is the heartbeat. Entries already in
 * the snapshot go by InstallSnapshot instead (section 7). */
void raft_replicate_peer(struct raft *rf, int peer)
{
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    RAFT_ASSERT(rf, peer != rf->me);
    uint64_t next = rf->next_index[peer];
    uint64_t last = raft_log_last_index(&rf->log);
    RAFT_ASSERT(rf, next >= 1 && next <= last + 1);
    if (next <= rf->log.snapshot_index) {
        raft_send_install_snapshot(rf, peer);
        raft_pipe_snapshot_sent(rf, peer);
        return;
    }
    uint64_t prev = next - 1;
    uint64_t count = last - prev;
    if (count > RAFT_APPEND_ENTRIES_MAX) count = RAFT_APPEND_ENTRIES_MAX;
    append_args_encode(rf, prev, count);
    bool sent = raft_call_send(rf, peer, RAFT_CALL_APPEND, "Raft.AppendEntries", prev, count,
                               on_append_reply);
    if (sent && prev + count > rf->inflight_index[peer]) rf->inflight_index[peer] = prev + count;
    if (sent) raft_pipe_sent(rf, peer, prev, count);
}

/* Every voter and learner of the configuration in effect (every other peer without
 * membership). */
static void replicate_all(struct raft *rf)
{
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (raft_member_replicated(rf, peer)) raft_replicate_peer(rf, peer);
    }
}

static void replicate_fire(struct sim *sim, void *arg)
{
    (void)sim;
    struct raft *rf = arg;
    rf->replicate_event = 0;
    if (rf->dead || rf->role != RAFT_LEADER) return;
    /* Flow control: a follower with an AppendEntries in flight beyond its matchIndex gets the
     * new entries when that reply comes (raft_replicate_matched continues at once) or with the next
     * heartbeat, which is also the retransmission path. Without it, every Start would resend
     * the whole unacknowledged tail to a slow or cut-off follower. With RAFT_OPT_PIPELINE a
     * follower that matched gets them now, within a window (pipeline.c). */
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (raft_member_replicated(rf, peer) && raft_pipe_may_send(rf, peer))
            raft_pipe_send(rf, peer);
    }
    raft_commit_advance(rf); /* a single-peer cluster commits here */
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

void raft_replicate_schedule(struct raft *rf)
{
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    /* Starts in the same instant share one AppendEntries per follower (TestCount3B). */
    if (rf->replicate_event == 0) rf->replicate_event = sim_after(rf->sim, 0, replicate_fire, rf);
}

static void heartbeat_fire(struct sim *sim, void *arg)
{
    struct raft *rf = arg;
    rf->heartbeat_timer = 0;
    if (rf->dead || rf->role != RAFT_LEADER) return;
    if ((rf->opts.flags & RAFT_OPT_CHECK_QUORUM) != 0 && raft_quorum_check(rf)) {
        raft_persist_flush(rf);
        raft_check_invariants(rf);
        return; /* stepped down: no more heartbeats */
    }
    /* Also the retransmission path: a heartbeat carries whatever the follower still lacks. */
    raft_reads_heartbeat(rf);
    replicate_all(rf);
    rf->heartbeat_timer = sim_after(sim, RAFT_HEARTBEAT_US, heartbeat_fire, rf);
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

void raft_heartbeat_start(struct raft *rf)
{
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    sim_timer_cancel(rf->sim, rf->heartbeat_timer);
    replicate_all(rf);
    rf->heartbeat_timer = sim_after(rf->sim, RAFT_HEARTBEAT_US, heartbeat_fire, rf);
}

/* ---------------------------------------------------------------- leader: commitment */

void raft_commit_set(struct raft *rf, uint64_t index)
{
    if (index <= rf->commit_index) return;
    RAFT_ASSERT(rf, index <= raft_log_last_index(&rf->log));
    rf->commit_index = index;
    raft_trace_commit(rf->sim, rf->me, index, rf->current_term);
    raft_apply_schedule(rf);
}

/* Figure 2, Leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N" (5.3, 5.4).
 * N is the largest index a majority holds: the median of the match indices (self = last).
 * Only an entry of the current term is committed by counting (5.4.2, Figure 8); earlier
 * ones commit with it, by the Log Matching Property. Only voters count (thesis 4.1, 4.2.1),
 * the leader itself only while it is one (4.2.2); without membership every peer is a voter. */
void raft_commit_advance(struct raft *rf)
{
    if (rf->role != RAFT_LEADER) return;
    uint64_t match[RAFT_PEERS_MAX];
    int n = 0;
    for (int i = 0; i < rf->peers_count; i++) {
        if (raft_member_voter(rf, i))
            match[n++] = i == rf->me ? raft_log_last_index(&rf->log) : rf->match_index[i];
    }
    /* Insertion sort, descending; n <= RAFT_PEERS_MAX. */
    for (int i = 1; i < n; i++) {
        uint64_t v = match[i];
        int j = i;
        for (; j > 0 && match[j - 1] < v; j--)
            match[j] = match[j - 1];
        match[j] = v;
    }
    uint64_t majority_index = match[n / 2]; /* held by n/2 + 1 peers, a majority */
    if (majority_index <= rf->commit_index) return;
    if (raft_log_term_at(&rf->log, majority_index) == rf->current_term)
        raft_commit_set(rf, majority_index);
    raft_member_commit_check(rf); /* a leader that removed itself steps down (4.2.2) */
}

/* ---------------------------------------------------------------- leader: replies */

void raft_replicate_matched(struct raft *rf, int peer, uint64_t match)
{
    RAFT_ASSERT(rf, match <= raft_log_last_index(&rf->log));
    /* Figure 2, Leaders: "If successful: update nextIndex and matchIndex for follower".
     * Replies may come reordered, so neither ever moves backwards here. */
    if (match > rf->match_index[peer]) rf->match_index[peer] = match;
    if (rf->next_index[peer] < rf->match_index[peer] + 1)
        rf->next_index[peer] = rf->match_index[peer] + 1;
    raft_member_contact(rf, peer);
    raft_pipe_matched(rf, peer);
    raft_commit_advance(rf);
    if (rf->role != RAFT_LEADER) return; /* stepped down: removed by the entry it committed */
    /* Catch-up in batches: keep going unless an AppendEntries in flight carries the rest. */
    bool behind = rf->next_index[peer] <= raft_log_last_index(&rf->log);
    if (behind && raft_pipe_may_send(rf, peer)) raft_pipe_send(rf, peer);
    raft_transfer_matched(rf, peer);
}

/* Section 5.3: "After a rejection, the leader decrements nextIndex and retries", sped up by
 * the conflict term (the lab's XTerm/XIndex/XLen backup): skip a whole conflicting term per
 * round trip instead of one entry. */
static void append_rejected(struct raft *rf, int peer, uint64_t prev, const struct append_reply *r)
{
    if (raft_pipe_reject_stale(rf, peer, prev))
        return; /* stale: nextIndex moved since this probe was sent */
    uint64_t next = r->conflict_index;
    if (r->conflict_term != 0) {
        uint64_t last_of_term = raft_log_term_last_index(&rf->log, r->conflict_term);
        if (last_of_term != 0) next = last_of_term + 1;
    }
    /* The probe at prev failed, so the follower's log diverges at or before prev; and
     * everything through matchIndex is known to match. */
    if (next > prev) next = prev;
    if (next < rf->match_index[peer] + 1) next = rf->match_index[peer] + 1;
    rf->next_index[peer] = next;
    rf->inflight_index[peer] = 0;
    raft_replicate_peer(rf, peer);
}

/* A lost AppendEntries (dropped, undeliverable, or its reply lost). When it was the last RPC
 * sent to the peer, nothing in flight covers its entries any more: send again at once. An
 * older loss is ignored, since a later RPC is on its way; this keeps a cut-off follower at
 * about one retry per heartbeat instead of one per loss. */
static void append_lost(struct raft *rf, int peer, uint64_t term, uint64_t seq)
{
    if (rf->role != RAFT_LEADER || rf->current_term != term || seq != rf->call_seq[peer]) return;
    raft_pipe_lost(rf, peer);
    rf->inflight_index[peer] = rf->match_index[peer];
    raft_replicate_peer(rf, peer);
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

static bool append_reply_decode(const uint8_t *buf, size_t len, struct append_reply *r)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    bool nums_ok = raft_wire_get_num(&d, 1, &r->term);
    gob_get_bool(&d, 2, &r->success);
    nums_ok &= raft_wire_get_num(&d, 3, &r->conflict_term);
    nums_ok &= raft_wire_get_num(&d, 4, &r->conflict_index);
    return gob_dec_finish(&d) == GOB_OK && nums_ok && r->conflict_index < INDEX_SANE_MAX;
}

static void on_append_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct raft_call *call = ctx;
    struct raft *rf = call->rf;
    int peer = call->peer;
    uint64_t term = call->term;
    uint64_t prev = call->index;
    uint64_t count = call->entries_count;
    uint64_t seq = call->seq;
    uint64_t read_seq = call->read_seq;
    sim_time_us sent_us = call->sent_us;
    raft_call_release(call);
    if (rf->dead) return;
    raft_pipe_done(rf, peer, term);
    if (!ok) {
        append_lost(rf, peer, term, seq);
        return;
    }
    struct append_reply r = {0};
    if (!append_reply_decode(reply, reply_len, &r)) {
        raft_trace_reject(rf->sim, rf->me, peer, "bad AppendEntries reply");
        return;
    }
    if (r.term > rf->current_term) {
        raft_become_follower(rf, r.term);
    } else if (rf->role == RAFT_LEADER && rf->current_term == term && r.term == term) {
        /* Replies to a request of an older term, or to a leader that has since stepped down,
         * are stale and ignored (Figure 2 keys everything on currentTerm). Either answer says
         * the peer follows us in this term: a read round counts it (read_index.c). */
        raft_quorum_peer_heard(rf, peer);
        raft_reads_acked(rf, peer, read_seq, sent_us);
        if (r.success)
            raft_replicate_matched(rf, peer, prev + count);
        else
            append_rejected(rf, peer, prev, &r);
    }
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

/* ---------------------------------------------------------------- follower: receiver */

static bool scratch_reserve(struct raft *rf, uint64_t n)
{
    if (n <= rf->scratch_entries_cap) return true;
    size_t cap = rf->scratch_entries_cap < 64 ? 64 : rf->scratch_entries_cap;
    while (cap < n)
        cap *= 2;
    struct raft_entry_view *grown = realloc(rf->scratch_entries, cap * sizeof(*grown));
    if (grown == NULL) return false;
    rf->scratch_entries = grown;
    rf->scratch_entries_cap = cap;
    return true;
}

static void entries_decode(struct raft *rf, struct gob_dec *d, struct append_args *a)
{
    uint64_t n = gob_get_array_begin(d, 5, GOB_RECORD);
    if (n > RAFT_DECODE_ENTRIES_MAX || !scratch_reserve(rf, n)) {
        a->entries_count = SIZE_MAX; /* rejected by the caller */
        return;
    }
    bool nums_ok = true;
    for (uint64_t i = 0; i < n && gob_dec_err(d) == GOB_OK; i++) {
        struct raft_entry_view *v = &rf->scratch_entries[i];
        *v = (struct raft_entry_view){0};
        uint64_t type = 0;
        gob_get_elem_record_begin(d);
        nums_ok &= raft_wire_get_num(d, 1, &v->term);
        gob_get_iface(d, 2, &v->cmd, &v->cmd_len);
        nums_ok &= raft_wire_get_num(d, 3, &type);
        gob_get_record_end(d);
        nums_ok &= type <= UINT8_MAX;
        v->type = (uint8_t)type;
    }
    if (n > 0) gob_get_array_end(d);
    a->entries_count = nums_ok ? (size_t)n : SIZE_MAX;
}

/* Decodes and sanity-checks; anything that could not come from a correct leader is refused
 * so a hostile message can never break the log invariants. */
static bool append_args_decode(struct raft *rf, const uint8_t *buf, size_t len,
                               struct append_args *a)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    bool nums_ok = raft_wire_get_num(&d, 1, &a->term);
    nums_ok &= raft_wire_get_num(&d, 2, &a->leader);
    nums_ok &= raft_wire_get_num(&d, 3, &a->prev_log_index);
    nums_ok &= raft_wire_get_num(&d, 4, &a->prev_log_term);
    entries_decode(rf, &d, a);
    nums_ok &= raft_wire_get_num(&d, 6, &a->leader_commit);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok || a->entries_count == SIZE_MAX) return false;
    if (a->term == 0 || a->leader >= (uint64_t)rf->peers_count || a->leader == (uint64_t)rf->me)
        return false;
    if (a->prev_log_index >= INDEX_SANE_MAX || a->prev_log_term > a->term) return false;
    if ((a->prev_log_index == 0) != (a->prev_log_term == 0)) return false;
    uint64_t prev_term = a->prev_log_term;
    for (size_t i = 0; i < a->entries_count; i++) {
        uint64_t t = rf->scratch_entries[i].term;
        if (t == 0 || t < prev_term || t > a->term) return false;
        const struct raft_entry_view *v = &rf->scratch_entries[i];
        if (!raft_member_entry_valid(rf, v->type, v->cmd, v->cmd_len)) return false;
        prev_term = t;
    }
    return true;
}

/* The first index where the message's entries disagree with our log (0: none), which must be
 * above commitIndex: committed entries never change (Leader Completeness, 5.4). */
static uint64_t first_conflict(const struct raft *rf, const struct append_args *a, size_t skip)
{
    uint64_t last = raft_log_last_index(&rf->log);
    for (size_t i = skip; i < a->entries_count; i++) {
        uint64_t index = a->prev_log_index + 1 + i;
        if (index > last) return 0;
        if (raft_log_term_at(&rf->log, index) != rf->scratch_entries[i].term) return index;
    }
    return 0;
}

/* Steps 3 and 4 of the receiver: "If an existing entry conflicts with a new one (same index
 * but different terms), delete the existing entry and all that follow it. Append any new
 * entries not already in the log." Entries we already hold are kept as they are, so a
 * delayed, shorter AppendEntries never truncates what a later one appended. */
static bool append_merge(struct raft *rf, const struct append_args *a, size_t skip)
{
    uint64_t conflict = first_conflict(rf, a, skip);
    if (conflict != 0 && conflict <= rf->commit_index) {
        raft_trace_reject(rf->sim, rf->me, (int)a->leader,
                          "AppendEntries would truncate committed entries");
        return false;
    }
    if (conflict != 0) {
        raft_trace_truncate(rf->sim, rf->me, conflict, raft_log_last_index(&rf->log));
        raft_log_truncate(&rf->log, conflict);
        raft_persist_log_changed(rf, conflict);
        raft_persist_mark(rf);
        raft_member_refresh(rf); /* 4.1: a truncated configuration entry is undone */
    }
    for (size_t i = skip; i < a->entries_count; i++) {
        uint64_t index = a->prev_log_index + 1 + i;
        if (index <= raft_log_last_index(&rf->log)) continue;
        const struct raft_entry_view *v = &rf->scratch_entries[i];
        RAFT_ASSERT(rf, v->term >= raft_log_last_term(&rf->log)); /* terms never decrease */
        if (raft_log_append_typed(&rf->log, v->term, v->type, v->cmd, v->cmd_len) != RAFT_OK)
            return false; /* full or out of memory: keep the prefix, report failure */
        raft_persist_mark(rf);
        raft_trace_append(rf->sim, rf->me, index, v->term);
        raft_member_appended(rf, index); /* a configuration takes effect on append (4.1) */
    }
    return true;
}

/* Step 2 of the receiver: "Reply false if log doesn't contain an entry at prevLogIndex whose
 * term matches prevLogTerm", filling the fast-backup fields. Entries at or below our
 * snapshot are committed, so identical to the leader's: they are skipped, not compared. */
static void append_process(struct raft *rf, const struct append_args *a, struct append_reply *r)
{
    uint64_t snap = rf->log.snapshot_index;
    uint64_t last = raft_log_last_index(&rf->log);
    size_t skip = 0;
    if (a->prev_log_index < snap) {
        uint64_t covered = snap - a->prev_log_index;
        if (covered >= a->entries_count) {
            r->success = true; /* everything sent is already in our snapshot */
            return;
        }
        skip = (size_t)covered;
    } else if (a->prev_log_index > last) {
        r->conflict_index = last + 1;
        return;
    } else if (raft_log_term_at(&rf->log, a->prev_log_index) != a->prev_log_term) {
        if (a->prev_log_index == snap) {
            raft_trace_reject(rf->sim, rf->me, (int)a->leader,
                              "AppendEntries disagrees with snapshot");
            r->conflict_index = snap + 1;
            return;
        }
        r->conflict_term = raft_log_term_at(&rf->log, a->prev_log_index);
        r->conflict_index = raft_log_term_first_index(&rf->log, a->prev_log_index);
        return;
    }
    if (skip > 0 && rf->scratch_entries[skip - 1].term != rf->log.snapshot_term) {
        raft_trace_reject(rf->sim, rf->me, (int)a->leader, "AppendEntries disagrees with snapshot");
        return;
    }
    if (!append_merge(rf, a, skip)) {
        r->conflict_index = raft_log_last_index(&rf->log) + 1;
        return;
    }
    r->success = true;
    /* Step 5: "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of
     * last new entry)": only what this message proved to match the leader. */
    uint64_t last_new = a->prev_log_index + a->entries_count;
    raft_commit_set(rf, a->leader_commit < last_new ? a->leader_commit : last_new);
}

/* AppendEntries receiver implementation (Figure 2). */
void raft_handle_append_entries(void *receiver, struct rpc_req *req, const uint8_t *args,
                                size_t args_len)
{
    struct raft *rf = receiver;
    if (rf->dead) return; /* a killed peer answers nothing; its server is deleted anyway */
    struct append_args a = {0};
    if (!append_args_decode(rf, args, args_len, &a)) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad AppendEntries args");
        RAFT_REPLY_IGNORED(req);
        return;
    }
    struct append_reply r = {0};
    /* Step 1: "Reply false if term < currentTerm". Otherwise the sender is the leader of our
     * (possibly new) term: follow it (All Servers; Candidates: "If AppendEntries RPC received
     * from new leader: convert to follower") and restart the election timeout (Followers). */
    if (a.term >= rf->current_term) {
        raft_become_follower(rf, a.term);
        raft_election_reset(rf);
        raft_quorum_leader_heard(rf);
        raft_reads_heard(rf);
        append_process(rf, &a, &r);
    }
    r.term = rf->current_term;
    raft_persist_flush(rf); /* before responding */
    struct gob_enc *e = &rf->enc_msg;
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, r.term);
    gob_put_bool(e, 2, r.success);
    raft_wire_put_num(e, 3, r.conflict_term);
    raft_wire_put_num(e, 4, r.conflict_index);
    raft_reply(rf, req);
    raft_check_invariants(rf);
}
