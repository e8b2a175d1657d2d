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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft_ext.h"

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

/* What a persister carries for raft_ext.h beyond its bytes: the server's Raft options and the
 * read entry point its Raft registered. Every persister implementation (raft/persister.c, the
 * raftkv binary's net/net_persister.c) embeds one and returns it from raft_persister_ext_of;
 * raft/persister_ext.c implements the raft_ext.h calls on it once for both. A copy keeps
 * `opts` (the restarted server's configuration) and nothing else. */
struct raft_persister_ext {
    struct raft_options opts; /* all zero: none */
    bool opts_taken;          /* a Raft read opts (raft_persister_take_options) */
    raft_read_fn read_fn;     /* NULL: no reader registered */
    struct raft *read_rf;     /* borrowed; the Raft read_fn serves */
};

/* The persister's raft_ext.h part; NULL for p == NULL. */
struct raft_persister_ext *raft_persister_ext_of(struct raft_persister *p);

#endif /* RAFT_PERSISTER_HOOKS_H */
