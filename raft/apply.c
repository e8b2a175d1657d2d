/* apply: in-order delivery of committed entries and installed snapshots to the service.
 *
 * Figure 2, All Servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine". Delivery runs in its own event, never on the stack of an
 * RPC handler or of Start(), one message at a time. The callback may call raft_snapshot (which
 * trims the log), raft_start or raft_kill, so every step re-reads the state, and the bytes
 * handed out are a copy in rf->apply_buf rather than a pointer into the log.
 *
 * Order: a pending installed snapshot goes first (it covers everything up to its index), then
 * entries from last_applied + 1; entries the snapshot covers are never delivered again.
 */
#include <stdlib.h>
#include <string.h>

#include "raft_int.h"

bool raft_buf_reserve(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t grown_cap = *cap < 256 ? 256 : *cap;
    while (grown_cap < need)
        grown_cap = grown_cap > SIZE_MAX / 2 ? need : grown_cap * 2;
    uint8_t *grown = realloc(*buf, grown_cap);
    if (grown == NULL) return false;
    *buf = grown;
    *cap = grown_cap;
    return true;
}

/* Copies `len` bytes to rf->apply_buf; false on OOM. */
static bool apply_copy(struct raft *rf, const uint8_t *p, size_t len)
{
    if (!raft_buf_reserve(&rf->apply_buf, &rf->apply_buf_cap, len)) return false;
    if (len > 0) memcpy(rf->apply_buf, p, len);
    return true;
}

static bool deliver_snapshot(struct raft *rf)
{
    uint64_t index = rf->log.snapshot_index;
    uint64_t term = rf->log.snapshot_term;
    RAFT_ASSERT(rf, index > rf->last_applied);
    RAFT_ASSERT(rf, index <= rf->commit_index);
    if (!apply_copy(rf, raft_snapshot_bytes(rf), rf->snapshot_len)) return false;
    struct raft_apply_msg msg = {
        .snapshot_valid = true,
        .snapshot = rf->snapshot_len > 0 ? rf->apply_buf : NULL,
        .snapshot_len = rf->snapshot_len,
        .snapshot_term = term,
        .snapshot_index = index,
    };
    rf->snapshot_pending = false;
    rf->last_applied = index;
    raft_trace_apply_snapshot(rf->sim, rf->me, index, term);
    rf->apply(rf->apply_ctx, &msg);
    return true;
}

static bool deliver_entry(struct raft *rf)
{
    uint64_t index = rf->last_applied + 1;
    const struct raft_entry *entry = raft_log_get(&rf->log, index);
    RAFT_ASSERTF(rf, entry != NULL, "apply: index %llu not in log (snapshot %llu)",
                 (unsigned long long)index, (unsigned long long)rf->log.snapshot_index);
    /* A configuration entry is not the service's: it gets an empty (nil) command at its index,
     * so indices stay contiguous (raft_ext.h, "Delivery"). */
    size_t len = entry->type == RAFT_ENTRY_COMMAND ? entry->cmd_len : 0;
    if (!apply_copy(rf, entry->cmd, len)) return false;
    struct raft_apply_msg msg = {
        .command_valid = true,
        .command = len > 0 ? rf->apply_buf : NULL,
        .command_len = len,
        .command_index = index,
    };
    /* lastApplied moves before the callback: the service may snapshot through `index` from
     * inside it (the tester's applierSnap does). */
    rf->last_applied = index;
    raft_trace_apply(rf->sim, rf->me, index);
    rf->apply(rf->apply_ctx, &msg);
    return true;
}

static void apply_fire(struct sim *sim, void *arg)
{
    struct raft *rf = arg;
    rf->apply_event = 0;
    for (uint32_t n = 0; n < RAFT_APPLY_BATCH_MAX; n++) {
        /* Re-read everything each time: the previous callback may have killed us, compacted
         * the log or started new entries. */
        if (rf->dead) return;
        bool delivered;
        if (rf->snapshot_pending)
            delivered = deliver_snapshot(rf);
        else if (rf->last_applied < rf->commit_index)
            delivered = deliver_entry(rf);
        else
            break;
        if (!delivered) {
            /* Out of memory for the copy: retry a little later rather than spin. */
            rf->apply_event = sim_after(sim, SIM_MS(10), apply_fire, rf);
            return;
        }
    }
    if (rf->dead) return;
    raft_persist_flush(rf);
    raft_check_invariants(rf);
    raft_apply_schedule(rf); /* more left after a full batch */
    raft_reads_poke(rf);     /* reads waiting for apply to reach their index */
}

void raft_apply_schedule(struct raft *rf)
{
    if (rf->dead || rf->apply_event != 0 || rf->apply == NULL) return;
    if (!rf->snapshot_pending && rf->last_applied >= rf->commit_index) return;
    rf->apply_event = sim_after(rf->sim, 0, apply_fire, rf);
}
