/* persister_ext: the raft_ext.h calls on a persister (its Raft options and the read entry point
 * of its Raft), written once for every persister implementation, each of which embeds a struct
 * raft_persister_ext and returns it from raft_persister_ext_of (persister_hooks.h).
 *
 * Provided like persister.c: linked whatever RAFT_IMPL names, so a service (our kvraft) reaches
 * reads through the persister even on a raft.h-only Raft, which never registers a reader and so
 * answers RAFT_READ_EOFF; and so the harness can tell a Raft that never took its options.
 */
#include <stddef.h>

#include "persister_hooks.h"
#include "raft_ext.h"

void raft_persister_set_options(struct raft_persister *p, const struct raft_options *opts)
{
    struct raft_persister_ext *x = raft_persister_ext_of(p);
    if (x == NULL) return;
    x->opts = opts != NULL ? *opts : (struct raft_options){0};
    x->opts_taken = false;
}

void raft_persister_take_options(struct raft_persister *p, struct raft_options *out)
{
    struct raft_persister_ext *x = raft_persister_ext_of(p);
    *out = x != NULL ? x->opts : (struct raft_options){0};
    if (x != NULL) x->opts_taken = true;
}

bool raft_persister_options_ignored(const struct raft_persister *p)
{
    const struct raft_persister_ext *x = raft_persister_ext_of((struct raft_persister *)p);
    return x != NULL && x->opts.flags != 0 && !x->opts_taken;
}

uint32_t raft_persister_option_flags(const struct raft_persister *p)
{
    const struct raft_persister_ext *x = raft_persister_ext_of((struct raft_persister *)p);
    return x != NULL ? x->opts.flags : 0;
}

void raft_persister_set_reader(struct raft_persister *p, struct raft *rf, raft_read_fn fn)
{
    struct raft_persister_ext *x = raft_persister_ext_of(p);
    if (x == NULL) return;
    x->read_rf = fn != NULL ? rf : NULL;
    x->read_fn = rf != NULL ? fn : NULL;
}

int raft_persister_read(struct raft_persister *p, raft_read_cb cb, void *ctx)
{
    struct raft_persister_ext *x = raft_persister_ext_of(p);
    if (x == NULL || x->read_fn == NULL) return RAFT_READ_EOFF;
    return x->read_fn(x->read_rf, cb, ctx);
}
