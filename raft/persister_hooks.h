/* persister_hooks: how a durable back end (the WAL persister, raft/wal_persister.c) sees every
 * save of a 6.824 persister, without changing the interface Raft uses (raft.h); and the one
 * save beyond raft.h that our Raft uses (raft_persister_save_owned), which every persister
 * (raft/persister.c, net/net_persister.c) provides.
 *
 * A persister with no hooks (the default) is Go's in-memory Persister; hooks are installed only
 * by the harness's options, so the graded runs without them are unchanged.
 */
#ifndef RAFT_PERSISTER_HOOKS_H
#define RAFT_PERSISTER_HOOKS_H

#include <stddef.h>
#include <stdint.h>

struct raft_persister;

struct raft_persister_hooks {
    /* Called by raft_persister_save with the new bytes while `p` still holds the old ones;
     * nonzero fails the save and the persister keeps its old contents. */
    int (*save)(void *ctx, const struct raft_persister *p, const uint8_t *state, size_t state_len,
                const uint8_t *snapshot, size_t snapshot_len);
    /* Replaces raft_persister_copy (the harness's crash): returns the new persister or NULL. */
    struct raft_persister *(*copy)(void *ctx, const struct raft_persister *p);
    /* Called by raft_persister_free: releases ctx. */
    void (*free)(void *ctx);
};

/* Installs hooks (borrowed; static tables) and their ctx (owned: freed by hooks->free). */
void raft_persister_set_hooks(struct raft_persister *p, const struct raft_persister_hooks *hooks,
                              void *ctx);

/* raft_persister_save, handing over a new snapshot instead of copying it: `snapshot` is a
 * malloc'd buffer of snapshot_len > 0 bytes, which on success (0) the persister owns (and frees
 * when it is replaced) and on failure (-1, nothing changed) stays the caller's. Our Raft saves
 * each new snapshot this way (raft/persist.c), so a snapshot is not copied once more per save;
 * the bytes saved, and what the hooks see, are the same as raft_persister_save's. */
int raft_persister_save_owned(struct raft_persister *p, const uint8_t *state, size_t state_len,
                              uint8_t *snapshot, size_t snapshot_len);

#endif /* RAFT_PERSISTER_HOOKS_H */
