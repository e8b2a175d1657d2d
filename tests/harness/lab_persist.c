/* lab_persist: the persister a graded run gives a Raft peer (see lab_persist.h). Owns nothing:
 * the persisters it makes belong to the suite's config, as the default ones do. */
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "lab_persist.h"
#include "raft.h"
#include "raft_ext.h"
#include "wal.h"

struct lab_raft_opt {
    const char *word;
    unsigned bits;
};

static const struct lab_raft_opt lab_raft_opt_words[] = {
    {"wal", LAB_RAFT_OPT_WAL},
    {"disk-faults", LAB_RAFT_OPT_DISK_FAULTS},
    {"wal-no-sync", LAB_RAFT_OPT_WAL | LAB_RAFT_OPT_WAL_NO_SYNC},
    {"pre-vote", RAFT_OPT_PRE_VOTE},
    {"check-quorum", RAFT_OPT_CHECK_QUORUM},
    {"read-index", RAFT_OPT_READ_INDEX},
    {"lease-read", RAFT_OPT_LEASE_READ},
    {"pipeline", RAFT_OPT_PIPELINE},
    {"membership", RAFT_OPT_MEMBERSHIP},
    {"member-unsafe", RAFT_OPT_MEMBERSHIP | RAFT_OPT_MEMBER_UNSAFE},
    {"local-read", RAFT_OPT_LOCAL_READ_UNSAFE},
    {"all", RAFT_OPT_ALL | LAB_RAFT_OPT_WAL},
};
_Static_assert((RAFT_OPT_ALL & ~LAB_RAFT_OPT_RAFT_MASK) == 0, "Raft options fit the low bits");
_Static_assert((RAFT_OPT_LOCAL_READ_UNSAFE & ~LAB_RAFT_OPT_RAFT_MASK) == 0, "and the unsafe one");

static int opts_word(const char *word, size_t len, unsigned *opts, char *err, size_t err_size)
{
    for (size_t k = 0; k < sizeof(lab_raft_opt_words) / sizeof(lab_raft_opt_words[0]); k++) {
        if (strlen(lab_raft_opt_words[k].word) != len ||
            strncmp(lab_raft_opt_words[k].word, word, len) != 0)
            continue;
        *opts |= lab_raft_opt_words[k].bits;
        return 0;
    }
    snprintf(err, err_size,
             "unknown Raft option '%.*s' (known: wal, disk-faults, wal-no-sync, pre-vote, "
             "check-quorum, read-index, lease-read, pipeline, membership, member-unsafe, "
             "local-read, all)",
             (int)(len < 64 ? len : 64), word);
    return -1;
}

int lab_raft_opts_parse(const char *text, unsigned *opts, char *err, size_t err_size)
{
    *opts = 0;
    if (text == NULL) return 0;
    for (const char *p = text; *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len > 0 && opts_word(p, len, opts, err, err_size) != 0) return -1;
        p += len + (comma != NULL ? 1 : 0);
    }
    if ((*opts & LAB_RAFT_OPT_DISK_FAULTS) != 0 && (*opts & LAB_RAFT_OPT_WAL) == 0) {
        snprintf(err, err_size, "Raft option disk-faults needs wal (--raft-opts wal,disk-faults)");
        return -1;
    }
    return 0;
}

/* The persister itself, with no Raft options yet. */
static struct raft_persister *persister_make(struct lab_ctx *ctx, int node, const char *prefix,
                                             unsigned opts)
{
    if ((opts & LAB_RAFT_OPT_WAL) == 0) {
        struct raft_persister *p = raft_persister_new();
        if (p == NULL) lab_fatalf(ctx, node, "out of memory making a persister");
        return p;
    }
    char name[WAL_NAME_MAX];
    snprintf(name, sizeof(name), "%s-%d.wal", prefix, node);
    unsigned flags = 0;
    if ((opts & LAB_RAFT_OPT_DISK_FAULTS) != 0) flags |= WAL_PERSISTER_FAULTS;
    if ((opts & LAB_RAFT_OPT_WAL_NO_SYNC) != 0) flags |= WAL_PERSISTER_NO_SYNC;
    char err[320];
    struct raft_persister *p = wal_persister_new(lab_sim(ctx), node, name, flags, err, sizeof(err));
    if (p == NULL) lab_fatalf(ctx, node, "%s", err);
    return p;
}

struct raft_persister *lab_persister_new(struct lab_ctx *ctx, int node, const char *prefix)
{
    unsigned opts = 0;
    char err[320];
    if (lab_raft_opts_parse(lab_raft_opts(ctx), &opts, err, sizeof(err)) != 0) {
        lab_fatalf(ctx, node, "--raft-opts: %s", err);
        return NULL;
    }
    struct raft_persister *p = persister_make(ctx, node, prefix, opts);
    if (p == NULL) return NULL;
    struct raft_options raft_opts = {.flags = opts & LAB_RAFT_OPT_RAFT_MASK,
                                     .voters_initial = lab_raft_voters(ctx)};
    if (raft_opts.flags != 0) raft_persister_set_options(p, &raft_opts);
    return p;
}

bool lab_persister_check_taken(struct lab_ctx *ctx, int node, const struct raft_persister *p)
{
    if (!raft_persister_options_ignored(p)) return true;
    lab_fatalf(ctx, node,
               "--raft-opts %s: this Raft does not read raft_ext.h options (they need labsim's "
               "own Raft, not a raft.h-only one)",
               lab_raft_opts(ctx));
    return false;
}
