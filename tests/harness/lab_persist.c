/* lab_persist: the persister a graded run gives a Raft peer (see lab_persist.h). Owns nothing:
 * the persisters it makes belong to the suite's config, as the default ones do. */
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "lab_persist.h"
#include "raft.h"
#include "wal.h"

struct lab_raft_opt {
    const char *word;
    unsigned bits;
};

static const struct lab_raft_opt lab_raft_opts[] = {
    {"wal", LAB_RAFT_OPT_WAL},
    {"disk-faults", LAB_RAFT_OPT_DISK_FAULTS},
    {"wal-no-sync", LAB_RAFT_OPT_WAL | LAB_RAFT_OPT_WAL_NO_SYNC},
};

static int opts_word(const char *word, size_t len, unsigned *opts, char *err, size_t err_size)
{
    for (size_t k = 0; k < sizeof(lab_raft_opts) / sizeof(lab_raft_opts[0]); k++) {
        if (strlen(lab_raft_opts[k].word) != len || strncmp(lab_raft_opts[k].word, word, len) != 0)
            continue;
        *opts |= lab_raft_opts[k].bits;
        return 0;
    }
    snprintf(err, err_size, "unknown Raft option '%.*s' (known: wal, disk-faults, wal-no-sync)",
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

struct raft_persister *lab_persister_new(struct lab_ctx *ctx, int node, const char *prefix)
{
    unsigned opts = 0;
    char err[320];
    if (lab_raft_opts_parse(lab_opts(ctx)->raft_opts, &opts, err, sizeof(err)) != 0) {
        lab_fatalf(ctx, node, "--raft-opts: %s", err);
        return NULL;
    }
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
    struct raft_persister *p = wal_persister_new(lab_sim(ctx), node, name, flags, err, sizeof(err));
    if (p == NULL) lab_fatalf(ctx, node, "%s", err);
    return p;
}
