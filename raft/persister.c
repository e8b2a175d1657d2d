/* persister: 6.824's Persister, the "stable storage" of one Raft peer.
 *
 * Owns two byte buffers, the encoded Raft state and the service's snapshot, which are always
 * replaced together by raft_persister_save (Go's Save). A crash is modelled by the harness,
 * which keeps a copy (raft_persister_copy) of what was saved and hands the copy to the
 * restarted peer; the old object may keep receiving writes from the zombie instance, which
 * then go nowhere. This file is linked even when a student supplies their own Raft.
 *
 * A durable back end may hook the saves, the copy and the free (persister_hooks.h); with no
 * hooks, the default, this is Go's in-memory Persister.
 *
 * It also carries the server's Raft options (raft_ext.h), which a copy keeps: they are the
 * server's configuration, not its state, and are never saved or counted in any size. And it
 * carries the read entry point our Raft registers (raft_ext.h, "reads"): the persister is the one
 * provided object a service shares with its Raft, so kvraft can ask any Raft for a read and a
 * Raft that registered nothing (a student's) answers RAFT_READ_EOFF.
 *
 * Invariants: (len == 0) implies the buffer may be NULL; a failed save changes nothing.
 * Sizes: raft_persister_state_size / snapshot_size report Go's gob size under labgob's model
 * (gob_size_stream), so the tests' byte limits mean what they mean in Go.
 */
#include <stdlib.h>
#include <string.h>

#include "../labgob/labgob.h"
#include "persister_hooks.h"
#include "raft.h"
#include "raft_ext.h"

struct raft_persister {
    uint8_t *state; /* owned; NULL when state_len == 0 */
    size_t state_len;
    uint8_t *snapshot; /* owned; NULL when snapshot_len == 0 */
    size_t snapshot_len;
    const struct raft_persister_hooks *hooks; /* NULL: no durable back end */
    void *hooks_ctx;                          /* owned through hooks->free */
    struct raft_persister_ext ext;            /* options and reader (raft/persister_ext.c) */
};

void raft_persister_set_hooks(struct raft_persister *p, const struct raft_persister_hooks *hooks,
                              void *ctx)
{
    p->hooks = hooks;
    p->hooks_ctx = ctx;
}

struct raft_persister *raft_persister_new(void)
{
    return calloc(1, sizeof(struct raft_persister));
}

/* Returns a malloc'd copy of n bytes, NULL for n == 0; *oom is set when allocation failed. */
static uint8_t *bytes_dup(const uint8_t *p, size_t n, bool *oom)
{
    if (n == 0 || p == NULL) return NULL;
    uint8_t *copy = malloc(n);
    if (copy == NULL) {
        *oom = true;
        return NULL;
    }
    memcpy(copy, p, n);
    return copy;
}

static struct raft_persister *persister_copy_bytes(const struct raft_persister *p)
{
    if (p != NULL && p->hooks != NULL) return p->hooks->copy(p->hooks_ctx, p);
    struct raft_persister *c = raft_persister_new();
    if (c == NULL || p == NULL) return c;
    if (raft_persister_save(c, p->state, p->state_len, p->snapshot, p->snapshot_len) != 0) {
        raft_persister_free(c);
        return NULL;
    }
    return c;
}

struct raft_persister_ext *raft_persister_ext_of(struct raft_persister *p)
{
    return p != NULL ? &p->ext : NULL;
}

struct raft_persister *raft_persister_copy(const struct raft_persister *p)
{
    struct raft_persister *c = persister_copy_bytes(p);
    if (c != NULL && p != NULL) c->ext.opts = p->ext.opts; /* the restarted server's config */
    return c;
}

/* The read entry point is not copied: a restarted server's Raft registers its own. */

void raft_persister_free(struct raft_persister *p)
{
    if (p == NULL) return;
    if (p->hooks != NULL) p->hooks->free(p->hooks_ctx);
    free(p->state);
    free(p->snapshot);
    free(p);
}

/* Save, with the new snapshot's buffer `owned` (snapshot itself, taken over) or NULL (copied). */
static int persister_save(struct raft_persister *p, const uint8_t *state, size_t state_len,
                          const uint8_t *snapshot, size_t snapshot_len, uint8_t *owned)
{
    if (p == NULL) return -1;
    if (state == NULL) state_len = 0;
    if (snapshot == NULL) snapshot_len = 0;
    /* Saving the snapshot this persister holds (the buffer raft_persister_snapshot returned)
     * keeps it as it is: a Raft saves its unchanged snapshot with every state, and copying it
     * each time made persistence cost the snapshot's size per save. */
    bool keep_snapshot = snapshot == p->snapshot && snapshot_len == p->snapshot_len;
    /* Copy first, so a failed allocation keeps the old contents (Save is atomic in Go). */
    bool oom = false;
    uint8_t *new_state = bytes_dup(state, state_len, &oom);
    uint8_t *new_snapshot = keep_snapshot ? p->snapshot : owned;
    if (!keep_snapshot && owned == NULL) new_snapshot = bytes_dup(snapshot, snapshot_len, &oom);
    if (oom || (p->hooks != NULL &&
                p->hooks->save(p->hooks_ctx, p, state, state_len, snapshot, snapshot_len) != 0)) {
        free(new_state);
        if (!keep_snapshot && owned == NULL) free(new_snapshot);
        return -1;
    }
    free(p->state);
    if (!keep_snapshot) free(p->snapshot);
    p->state = new_state;
    p->state_len = new_state != NULL ? state_len : 0;
    p->snapshot = new_snapshot;
    p->snapshot_len = new_snapshot != NULL ? snapshot_len : 0;
    return 0;
}

int raft_persister_save(struct raft_persister *p, const uint8_t *state, size_t state_len,
                        const uint8_t *snapshot, size_t snapshot_len)
{
    return persister_save(p, state, state_len, snapshot, snapshot_len, NULL);
}

int raft_persister_save_owned(struct raft_persister *p, const uint8_t *state, size_t state_len,
                              uint8_t *snapshot, size_t snapshot_len)
{
    if (p == NULL || snapshot == NULL || snapshot_len == 0 || snapshot == p->snapshot) return -1;
    return persister_save(p, state, state_len, snapshot, snapshot_len, snapshot);
}

const uint8_t *raft_persister_state(const struct raft_persister *p, size_t *len)
{
    *len = p != NULL ? p->state_len : 0;
    return p != NULL ? p->state : NULL;
}

const uint8_t *raft_persister_snapshot(const struct raft_persister *p, size_t *len)
{
    *len = p != NULL ? p->snapshot_len : 0;
    return p != NULL ? p->snapshot : NULL;
}

/* The sizes the tests compare with Go's limits (MAXLOGSIZE, 8 x maxraftstate, 500 bytes): what
 * Go's persister would hold, under labgob's gob model (labgob.h), not the raw length. The state
 * and snapshot are each a sequence of Encode calls in Go (persist(), a KV snapshot), so the
 * stream model; bytes that are not a labgob message count as their raw length. O(1). */
size_t raft_persister_state_size(const struct raft_persister *p)
{
    return p != NULL ? gob_size_stream(p->state, p->state_len) : 0;
}

size_t raft_persister_snapshot_size(const struct raft_persister *p)
{
    return p != NULL ? gob_size_stream(p->snapshot, p->snapshot_len) : 0;
}
