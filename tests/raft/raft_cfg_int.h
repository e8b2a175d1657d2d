/* raft_cfg_int: the Raft tester's state, shared by raft_cfg.c (servers and network),
 * raft_cfg_apply.c (appliers, snapshots, the tester's log copies) and raft_cfg_check.c (checks,
 * begin/end, the continuous election-safety hook). Not for test bodies: they use raft_cfg.h.
 *
 * Ownership: the config owns every instance it ever made (running or killed) and each
 * instance owns the persister it was given; saved[i] is either that same persister (lent to
 * the running instance, saved_lent[i]) or a copy owned by the slot.
 */
#ifndef RAFT_CFG_INT_H
#define RAFT_CFG_INT_H

#include "labgob.h"
#include "raft_cfg.h"

/* The tester's copy of what one server applied: slot `index` holds the value applied there,
 * RAFT_CFG_ABSENT when none (Go's map without the key). String bytes are owned here. */
struct raft_cfg_log {
    struct raft_cfg_value *slots;
    size_t slots_count; /* allocated slots */
};

/* One Raft instance made by start1, with what its apply callback needs. */
struct raft_cfg_instance {
    struct raft_cfg *cfg;
    int server;
    enum raft_cfg_applier applier;
    struct raft *rf;                  /* NULL only while raft_make runs */
    struct raft_persister *persister; /* owned: freed with the instance */
};

/* A term in which some server claimed leadership, and who (the election-safety record). */
struct raft_cfg_term_leader {
    uint64_t term;
    int leader;
};

struct raft_cfg {
    struct lab_ctx *ctx;
    struct sim *sim;
    struct rpc_net *net;
    int n;
    bool finished; /* cleanup() ran (Go's cfg.finished) */
    struct sim_rand rand_cfg;
    struct sim_rand rand_test;

    struct raft_cfg_instance *current[RAFT_CFG_SERVERS_MAX]; /* cfg.rafts; NULL = crashed */
    struct raft_cfg_instance **instances; /* every instance ever made, in creation order */
    size_t instances_count;
    size_t instances_cap;

    bool connected[RAFT_CFG_SERVERS_MAX];
    bool server_added[RAFT_CFG_SERVERS_MAX];
    struct raft_persister *saved[RAFT_CFG_SERVERS_MAX];
    bool saved_lent[RAFT_CFG_SERVERS_MAX];
    struct rpc_end *ends[RAFT_CFG_SERVERS_MAX][RAFT_CFG_SERVERS_MAX]; /* current i -> j */
    uint32_t generation[RAFT_CFG_SERVERS_MAX];                        /* start1 count */

    struct raft_cfg_log logs[RAFT_CFG_SERVERS_MAX];
    int64_t last_applied[RAFT_CFG_SERVERS_MAX];
    uint64_t max_index;

    /* begin()/end() statistics. */
    sim_time_us start_us; /* make_config */
    sim_time_us t0_us;    /* begin */
    uint64_t rpcs0;
    uint64_t bytes0;
    uint64_t max_index0;

    /* Election safety: terms that had a leader, sorted by term, and what each server was last
     * seen claiming (so the table is consulted only on a change). */
    struct raft_cfg_term_leader *terms;
    size_t terms_count;
    size_t terms_cap;
    uint64_t seen_leader_term[RAFT_CFG_SERVERS_MAX]; /* 0 = not seen leading */
    const struct raft *seen_leader_rf[RAFT_CFG_SERVERS_MAX];
    bool safety_observe;            /* record a violation instead of failing (twin scenarios) */
    uint64_t safety_violation_term; /* the first term seen with two leaders then (0: none) */
};

/* ---------------------------------------------------------------- raft_cfg_apply.c */

/* Commands: encodes into `e` (initialised by the caller). */
void raft_cfg_cmd_encode(const struct raft_cfg_value *cmd, struct gob_enc *e);
/* Decodes an applied command; *out->str views into `buf`. Returns a GOB_* code. */
int raft_cfg_cmd_decode(const uint8_t *buf, size_t len, struct raft_cfg_value *out);

/* The log store. get returns a borrowed view (kind ABSENT when not applied). */
const struct raft_cfg_value *raft_cfg_log_get(const struct raft_cfg_log *log, uint64_t index);
/* Copies v into slot `index`. Returns 0, or -1 on OOM or past RAFT_CFG_INDEX_MAX. */
int raft_cfg_log_set(struct raft_cfg_log *log, uint64_t index, const struct raft_cfg_value *v);
void raft_cfg_log_clear(struct raft_cfg_log *log);

/* The raft_apply_cb given to every instance (ctx = struct raft_cfg_instance). */
void raft_cfg_apply(void *ctx, const struct raft_apply_msg *msg);
/* ingestSnap(i, snapshot, index): replaces server i's log copy and lastApplied with the
 * snapshot's. Returns true, or false with the whole Go failure text in err ("nil snapshot",
 * "snapshot decode error", "apply error: server %d snapshot doesn't match ..."). index -1 =
 * do not compare with the snapshot's own index. */
bool raft_cfg_ingest_snap(struct raft_cfg *cfg, int i, const uint8_t *snap, size_t len,
                          int64_t index, char *err, size_t err_size);

/* ---------------------------------------------------------------- raft_cfg_check.c */

/* The sim event hook (arg = cfg): election safety across all running instances. */
void raft_cfg_event_hook(struct sim *sim, void *arg);

#endif /* RAFT_CFG_INT_H */
