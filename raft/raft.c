/* raft: the lifecycle of an instance and the lab API (Make, Start, GetState, Kill), plus the
 * introspection used by the study tools and the invariant checks of raft_int.h.
 *
 * Owns `struct raft` itself. Everything else an instance does happens in events: its timers
 * (election.c, replication.c), its RPC handlers and completions, and the apply event
 * (apply.c). Every such callback checks `dead` first, so a killed instance stops acting at
 * once but stays allocated until raft_free, when no event can name it any more.
 */
#include <stdlib.h>
#include <string.h>

#include "raft_int.h"

const char *raft_strerror(int err)
{
    switch (err) {
#define RAFT_ERR_TEXT(name, value, text)                                                           \
    case name:                                                                                     \
        return text;
        RAFT_ERRNO_MAP(RAFT_ERR_TEXT)
        RAFT_EXT_ERRNO_MAP(RAFT_ERR_TEXT)
#undef RAFT_ERR_TEXT
    default:
        return "unknown raft error";
    }
}

struct raft *raft_make(struct sim *sim, struct rpc_end *const *peers, int peers_count, int me,
                       struct raft_persister *persister, raft_apply_cb apply, void *apply_ctx)
{
    if (sim == NULL || peers == NULL || peers_count < 1 || peers_count > RAFT_PEERS_MAX || me < 0 ||
        me >= peers_count)
        return NULL;
    struct raft *rf = calloc(1, sizeof(*rf));
    if (rf == NULL) return NULL;
    rf->sim = sim;
    for (int i = 0; i < peers_count; i++)
        rf->peers[i] = peers[i];
    rf->peers_count = peers_count;
    rf->me = me;
    rf->persister = persister;
    raft_persister_take_options(persister, &rf->opts);
    if (rf->opts.clock_drift_ppm == 0) rf->opts.clock_drift_ppm = RAFT_CLOCK_DRIFT_PPM_DEFAULT;
    rf->apply = apply;
    rf->apply_ctx = apply_ctx;
    rf->voted_for = -1;
    rf->role = RAFT_FOLLOWER;
    rf->transfer_target = -1;
    raft_log_init(&rf->log);
    gob_enc_init(&rf->enc_msg);
    gob_enc_init(&rf->enc_state);
    gob_enc_init(&rf->enc_chunk);
    sim_rand_init_n(&rf->rand, sim, "raft.timer", me);
    raft_member_init(rf);
    if (!raft_reads_init(rf)) {
        raft_free(rf);
        return NULL;
    }
    int rc = raft_persist_restore(rf);
    raft_member_refresh(rf); /* the configuration the restored log and snapshot give */
    if (rc == RAFT_ENOMEM) {
        raft_free(rf);
        return NULL;
    }
    if (rc != RAFT_OK)
        raft_trace_reject(rf->sim, rf->me, -1, "persisted state unreadable: starting empty");
    raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
    raft_election_reset(rf);
    raft_check_invariants(rf);
    return rf;
}

int raft_register(struct raft *rf, struct rpc_server *server)
{
    int rc = rpc_server_add_method(server, "Raft", "RequestVote", raft_handle_request_vote, rf);
    if (rc == RPC_OK)
        rc = rpc_server_add_method(server, "Raft", "AppendEntries", raft_handle_append_entries, rf);
    if (rc == RPC_OK)
        rc = rpc_server_add_method(server, "Raft", "InstallSnapshot", raft_handle_install_snapshot,
                                   rf);
    if (rc == RPC_OK)
        rc = rpc_server_add_method(server, "Raft", "TimeoutNow", raft_handle_timeout_now, rf);
    if (rc == RPC_OK && (rf->opts.flags & RAFT_OPT_PRE_VOTE) != 0)
        rc = rpc_server_add_method(server, "Raft", "PreVote", raft_handle_prevote, rf);
    return rc;
}

/* Go's Start(command). Figure 2, Leaders: "If command received from client: append entry to
 * local log, respond after entry applied to state machine". The entry is persisted and sent
 * by the coalesced replication event, in this same instant. */
bool raft_start(struct raft *rf, const uint8_t *command, size_t command_len, uint64_t *index,
                uint64_t *term)
{
    uint64_t next = raft_log_last_index(&rf->log) + 1;
    if (index != NULL) *index = next;
    if (term != NULL) *term = rf->current_term;
    if (rf->dead || rf->role != RAFT_LEADER) return false;
    if (rf->transfer_target >= 0) return false; /* section 3.10: no new commands meanwhile */
    RAFT_ASSERT(rf, raft_log_last_term(&rf->log) <= rf->current_term);
    if (raft_log_append(&rf->log, rf->current_term, command, command_len) != RAFT_OK)
        return false; /* log full or out of memory: refuse, as a non-leader would */
    raft_persist_mark(rf);
    raft_trace_append(rf->sim, rf->me, next, rf->current_term);
    raft_replicate_schedule(rf);
    raft_check_invariants(rf);
    return true;
}

bool raft_get_state(const struct raft *rf, uint64_t *term)
{
    if (term != NULL) *term = rf->current_term;
    return !rf->dead && rf->role == RAFT_LEADER;
}

static void timer_cancel(struct raft *rf, sim_timer_id *id)
{
    if (*id != 0) sim_timer_cancel(rf->sim, *id);
    *id = 0;
}

void raft_kill(struct raft *rf)
{
    if (rf == NULL || rf->dead) return;
    rf->dead = true;
    timer_cancel(rf, &rf->election_timer);
    timer_cancel(rf, &rf->heartbeat_timer);
    timer_cancel(rf, &rf->replicate_event);
    timer_cancel(rf, &rf->apply_event);
    timer_cancel(rf, &rf->transfer_timer);
    rf->transfer_target = -1; /* a dead leader transfers nothing */
    raft_reads_kill(rf);
    raft_check_invariants(rf);
}

void raft_options_get(const struct raft *rf, struct raft_options *out)
{
    *out = rf->opts;
}

bool raft_killed(const struct raft *rf)
{
    return rf->dead;
}

void raft_free(struct raft *rf)
{
    if (rf == NULL) return;
    raft_kill(rf);
    raft_reads_free(rf);
    raft_log_close(&rf->log);
    free(rf->snapshot);
    raft_calls_free_all(rf);
    gob_enc_free(&rf->enc_msg);
    gob_enc_free(&rf->enc_state);
    raft_persist_close(rf);
    free(rf->scratch_entries);
    free(rf->apply_buf);
    free(rf);
}

void raft_inspect(const struct raft *rf, struct raft_inspect *out)
{
    memset(out, 0, sizeof(*out));
    out->role = rf->role;
    out->term = rf->current_term;
    out->voted_for = rf->voted_for;
    out->snapshot_index = rf->log.snapshot_index;
    out->snapshot_term = rf->log.snapshot_term;
    out->last_index = raft_log_last_index(&rf->log);
    out->commit_index = rf->commit_index;
    out->last_applied = rf->last_applied;
    out->peers_count = rf->peers_count;
    if (rf->role != RAFT_LEADER) return;
    for (int i = 0; i < rf->peers_count; i++) {
        out->next_index[i] = rf->next_index[i];
        out->match_index[i] = rf->match_index[i];
    }
}

uint64_t raft_inspect_term_at(const struct raft *rf, uint64_t index)
{
    if (index <= rf->log.snapshot_index) return 0; /* compacted: only the snapshot knows */
    return raft_log_term_at(&rf->log, index);
}

static void check_leader(const struct raft *rf, uint64_t last)
{
    RAFT_ASSERT(rf, rf->voted_for == rf->me);
    RAFT_ASSERT(rf, !rf->dead || rf->heartbeat_timer == 0);
    for (int i = 0; i < rf->peers_count; i++) {
        if (i == rf->me) continue;
        RAFT_ASSERT(rf, rf->match_index[i] < rf->next_index[i]);
        RAFT_ASSERT(rf, rf->next_index[i] <= last + 1);
    }
}

static void check_reads(const struct raft *rf)
{
    const struct raft_reads *r = rf->reads;
    RAFT_ASSERT(rf, (rf->opts.flags & (RAFT_OPT_READ_INDEX | RAFT_OPT_LEASE_READ)) != 0);
    RAFT_ASSERT(rf, r->count <= RAFT_READS_MAX);
    if (rf->dead) RAFT_ASSERT(rf, r->count == 0 && r->event == 0);
    for (uint32_t i = 0; i < r->count; i++) {
        if (r->queue[i].confirmed) RAFT_ASSERT(rf, r->queue[i].read_index <= rf->commit_index);
    }
}

void raft_check_invariants(const struct raft *rf)
{
    const struct raft_log *log = &rf->log;
    uint64_t last = raft_log_last_index(log);
    /* 1. */
    RAFT_ASSERT(rf, log->snapshot_index <= rf->commit_index);
    RAFT_ASSERT(rf, rf->commit_index <= last);
    /* 2. */
    RAFT_ASSERT(rf, rf->last_applied <= rf->commit_index);
    if (!rf->snapshot_pending) RAFT_ASSERT(rf, log->snapshot_index <= rf->last_applied);
    /* 3. (the full order is kept inductively: every append asserts it against the last) */
    RAFT_ASSERT(rf, log->snapshot_term <= rf->current_term);
    RAFT_ASSERT(rf, raft_log_last_term(log) <= rf->current_term);
    if (log->count > 0) {
        RAFT_ASSERT(rf, log->entries[0].term >= log->snapshot_term);
        RAFT_ASSERT(rf, log->entries[log->count - 1].term >= log->entries[0].term);
    }
    /* 7., 8. and 9. */
    if (rf->prevoting) RAFT_ASSERT(rf, rf->role == RAFT_FOLLOWER);
    if (rf->prevoting) RAFT_ASSERT(rf, (rf->prevotes_mask >> rf->me) & 1u);
    if (!rf->prevoting) RAFT_ASSERT(rf, rf->prevotes_mask == 0);
    if (rf->transfer_campaign) RAFT_ASSERT(rf, rf->role == RAFT_CANDIDATE);
    RAFT_ASSERT(rf, rf->transfer_target >= -1 && rf->transfer_target < rf->peers_count);
    RAFT_ASSERT(rf, rf->transfer_target != rf->me);
    if (rf->transfer_target >= 0) RAFT_ASSERT(rf, rf->role == RAFT_LEADER && !rf->dead);
    if (rf->transfer_target >= 0) RAFT_ASSERT(rf, rf->transfer_timer != 0);
    if (rf->opts.flags == 0) RAFT_ASSERT(rf, !rf->prevoting);
    /* 4. and 5. */
    RAFT_ASSERT(rf, rf->voted_for >= -1 && rf->voted_for < rf->peers_count);
    if (rf->role == RAFT_CANDIDATE) RAFT_ASSERT(rf, rf->voted_for == rf->me);
    if (rf->role == RAFT_LEADER) check_leader(rf, last);
    raft_pipe_check(rf); /* 11. */
    /* 6. */
    if (rf->dead) {
        RAFT_ASSERT(rf, rf->election_timer == 0 && rf->heartbeat_timer == 0);
        RAFT_ASSERT(rf, rf->replicate_event == 0 && rf->apply_event == 0);
        RAFT_ASSERT(rf, rf->transfer_timer == 0);
    }
    /* 10. */
    raft_member_check(rf);
    /* 12. */
    if (rf->reads != NULL) check_reads(rf);
}
