/* explore_int: the explorer's private pieces, shared by its files: the cluster view the checker
 * and the fault executor work through (one per target, over the graded harness's config), the
 * per-event checker (explore_check.c) and the fault executor (explore_faults.c).
 *
 * Ownership: all of these live in memory the run owns (lab_alloc), borrowed by the sim's event
 * hook and by fault events until the run is over; a failure stops the sim and the body never
 * resumes, so nothing the body would free itself may hold them.
 */
#ifndef EXPLORE_INT_H
#define EXPLORE_INT_H

#include "explore.h"
#include "labrpc.h"
#include "raft.h"

struct explore_cluster;

/* How the checker sees server i (the checker never calls raft.h itself, so a unit test can show
 * it fabricated states). `instance` identifies the running instance (NULL when down); the rest
 * is raft_get_state, raft_inspect and raft_inspect_term_at of that instance. */
struct explore_view {
    const void *(*instance)(const struct explore_cluster *cl, int i);
    bool (*leader)(const struct explore_cluster *cl, int i, uint64_t *term);
    void (*inspect)(const struct explore_cluster *cl, int i, struct raft_inspect *out);
    uint64_t (*term_at)(const struct explore_cluster *cl, int i, uint64_t index);
};
/* The view through raft.h over cluster->raft (the targets use it). */
extern const struct explore_view explore_view_raft;

/* What the explorer needs of a target's harness config. */
struct explore_cluster {
    const struct explore_view *view;
    struct lab_ctx *ctx;
    struct sim *sim;
    struct rpc_net *net;
    int n;
    void *cfg;
    /* The running Raft of server i, NULL when it is down. */
    struct raft *(*raft)(void *cfg, int i);
    /* The current end from server i to server j (NULL when none). */
    struct rpc_end *(*end)(void *cfg, int from, int to);
    void (*crash)(void *cfg, int i);
    void (*restart)(void *cfg, int i);
};

/* ---------------------------------------------------------------- explore_check.c */

#define EXPLORE_TERMS_MAX (1u << 14) /* terms that had a leader */
#define EXPLORE_INDEX_MAX (1u << 15) /* committed log indices remembered */

/* What the checker last saw of one server (to look again only at what changed). */
struct explore_seen {
    const void *rf;       /* the instance these belong to */
    uint64_t leader_term; /* 0: not seen leading */
    uint64_t last_index;
    uint64_t last_term;
    uint64_t snapshot_index;
    uint64_t term;
    uint64_t last_applied;
    uint64_t commit_recorded; /* committed indices up to here are in the table */
};

struct explore_term_leader {
    uint64_t term;
    int leader;
};

struct explore_checker {
    const struct explore_cluster *cl;
    struct explore_seen seen[EXPLORE_SERVERS_MAX];
    struct explore_term_leader terms[EXPLORE_TERMS_MAX]; /* sorted by term */
    size_t terms_count;
    uint64_t committed_term[EXPLORE_INDEX_MAX];      /* term of the committed entry, 0 = unknown */
    uint64_t committed_seen_term[EXPLORE_INDEX_MAX]; /* lowest current term of a server that had
                                                        it committed */
    uint64_t committed_max;
    uint64_t checks; /* per-event checks run (for the unit tests) */
};

/* Starts checking `cl`. The checker must be zeroed memory (it is large: lab_alloc it). */
void explore_checker_init(struct explore_checker *c, const struct explore_cluster *cl);
/* Looks at every running Raft now; fails the run (lab_failf, "SAFETY <check>: ...") on the
 * first violation. */
void explore_checker_step(struct explore_checker *c);

/* ---------------------------------------------------------------- explore_faults.c */

struct explore_faults;
struct explore_fault_ev {
    struct explore_faults *f;
    uint32_t index;
    bool begin;
};

struct explore_faults {
    const struct explore_sched *s;
    const struct explore_cluster *cl;
    bool active[EXPLORE_FAULTS_MAX];
    bool down[EXPLORE_SERVERS_MAX];
    int target[EXPLORE_FAULTS_MAX]; /* crash-leader, isolate-leader: the leader when the fault
                                       began, -1 when there was none (the fault does nothing) */
    bool healed;                    /* the liveness phase began: no fault is active any more */
    /* crash-new-leader: the highest term when the fault began (a leader of a later term is the
     * new leader), whether that leader has been crashed, and the event that crashes it. */
    uint64_t armed_term[EXPLORE_FAULTS_MAX];
    bool struck[EXPLORE_FAULTS_MAX];
    struct explore_fault_ev evs[3u * EXPLORE_FAULTS_MAX];
};

/* Schedules every fault's begin and end, relative to now. */
void explore_faults_start(struct explore_faults *f, const struct explore_sched *s,
                          const struct explore_cluster *cl);
/* After every sim event: lets an active crash-new-leader fault notice a new leader. */
void explore_faults_step(struct explore_faults *f);
/* The liveness phase: every fault ends now and none begins again. */
void explore_faults_heal(struct explore_faults *f);
/* Applies the reachability of the active faults to every current end (also after a restart
 * made new ones). */
void explore_faults_apply_links(struct explore_faults *f);
/* The network-wide faults among s's active ones (active[k] for fault k), applied to `net`:
 * unreliable while a drop is, long reordering while a reorder is, the largest active
 * duplication and delay settings (none when none is active). The mr target uses it too. */
void explore_faults_apply_net(struct sim *sim, struct rpc_net *net, const struct explore_sched *s,
                              const bool *active);

/* ---------------------------------------------------------------- the targets' bodies */

/* explore_raft.c and explore_kv.c: one run of schedule `s` inside a graded-test body. */
void explore_raft_body(struct lab_ctx *ctx, const struct explore_sched *s);
void explore_kv_body(struct lab_ctx *ctx, const struct explore_sched *s);
/* explore_mr.c: a MapReduce job under the schedule, and the mr target's swarm draw (called by
 * explore_sched_draw with the stream "explore.sched" of the seed). */
void explore_mr_body(struct lab_ctx *ctx, const struct explore_sched *s);
void explore_mr_draw(struct explore_sched *s, struct sim_rand *r);

#endif /* EXPLORE_INT_H */
