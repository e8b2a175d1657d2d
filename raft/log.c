/* log: the in-memory Raft log, offset by the snapshot (section 7, Figure 12).
 *
 * Owns the entries and their command bytes. Indices are absolute and start at 1; the array
 * holds (snapshot_index, snapshot_index + count], so compaction moves the offset instead of
 * renumbering anything. The term of snapshot_index is kept (snapshot_term) because the
 * AppendEntries consistency check needs the term of the entry just before the first one held.
 *
 * This file knows nothing of roles or the network; callers assert the Raft-level invariants
 * (terms never decrease, committed entries are never truncated).
 */
#include <stdlib.h>
#include <string.h>

#include "raft_int.h"

void raft_log_init(struct raft_log *log)
{
    memset(log, 0, sizeof(*log));
}

static void entries_free(struct raft_entry *entries, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(entries[i].cmd);
}

void raft_log_close(struct raft_log *log)
{
    entries_free(log->entries, log->count);
    free(log->entries);
    raft_log_init(log);
}

uint64_t raft_log_last_index(const struct raft_log *log)
{
    return log->snapshot_index + log->count;
}

uint64_t raft_log_last_term(const struct raft_log *log)
{
    return log->count > 0 ? log->entries[log->count - 1].term : log->snapshot_term;
}

uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index)
{
    if (index == 0 || index < log->snapshot_index || index > raft_log_last_index(log)) return 0;
    if (index == log->snapshot_index) return log->snapshot_term;
    return log->entries[index - log->snapshot_index - 1].term;
}

const struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index)
{
    if (index <= log->snapshot_index || index > raft_log_last_index(log)) return NULL;
    return &log->entries[index - log->snapshot_index - 1];
}

static int log_grow(struct raft_log *log)
{
    if (log->count < log->cap) return RAFT_OK;
    if (log->count >= RAFT_LOG_ENTRIES_MAX) return RAFT_ELIMIT;
    size_t cap = log->cap < 16 ? 16 : log->cap * 2;
    if (cap > RAFT_LOG_ENTRIES_MAX) cap = RAFT_LOG_ENTRIES_MAX;
    struct raft_entry *grown = realloc(log->entries, cap * sizeof(*grown));
    if (grown == NULL) return RAFT_ENOMEM;
    log->entries = grown;
    log->cap = cap;
    return RAFT_OK;
}

int raft_log_append(struct raft_log *log, uint64_t term, const uint8_t *cmd, size_t cmd_len)
{
    return raft_log_append_typed(log, term, RAFT_ENTRY_COMMAND, cmd, cmd_len);
}

int raft_log_append_typed(struct raft_log *log, uint64_t term, uint8_t type, const uint8_t *cmd,
                          size_t cmd_len)
{
    int rc = log_grow(log);
    if (rc != RAFT_OK) return rc;
    uint8_t *copy = NULL;
    if (cmd_len > 0 && cmd != NULL) {
        copy = malloc(cmd_len);
        if (copy == NULL) return RAFT_ENOMEM;
        memcpy(copy, cmd, cmd_len);
    }
    log->entries[log->count].term = term;
    log->entries[log->count].type = type;
    log->entries[log->count].cmd = copy;
    log->entries[log->count].cmd_len = copy != NULL ? cmd_len : 0;
    log->count++;
    return RAFT_OK;
}

void raft_log_truncate(struct raft_log *log, uint64_t index)
{
    if (index > raft_log_last_index(log)) return;
    size_t keep = index > log->snapshot_index ? (size_t)(index - log->snapshot_index - 1) : 0;
    entries_free(log->entries + keep, log->count - keep);
    log->count = keep;
}

void raft_log_compact(struct raft_log *log, uint64_t index)
{
    if (index <= log->snapshot_index || index > raft_log_last_index(log)) return;
    size_t drop = (size_t)(index - log->snapshot_index);
    uint64_t term = log->entries[drop - 1].term;
    entries_free(log->entries, drop);
    /* O(remaining) per compaction; the service compacts rarely and keeps the tail short. */
    memmove(log->entries, log->entries + drop, (log->count - drop) * sizeof(*log->entries));
    log->count -= drop;
    log->snapshot_index = index;
    log->snapshot_term = term;
}

void raft_log_reset(struct raft_log *log, uint64_t index, uint64_t term)
{
    entries_free(log->entries, log->count);
    log->count = 0;
    log->snapshot_index = index;
    log->snapshot_term = term;
}

uint64_t raft_log_term_first_index(const struct raft_log *log, uint64_t index)
{
    uint64_t term = raft_log_term_at(log, index);
    uint64_t first = index;
    /* Bounded by the entries held: the scan stops at the snapshot boundary. */
    while (first - 1 > log->snapshot_index && raft_log_term_at(log, first - 1) == term)
        first--;
    return first;
}

uint64_t raft_log_term_last_index(const struct raft_log *log, uint64_t term)
{
    /* Terms never decrease along the log, so scan back from the end while they are larger. */
    for (size_t i = log->count; i > 0; i--) {
        uint64_t t = log->entries[i - 1].term;
        if (t == term) return log->snapshot_index + i;
        if (t < term) return 0;
    }
    return 0;
}
