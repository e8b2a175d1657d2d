/* raft_ext: labsim's own Raft beyond the 6.824 lab (issue 15), as options that are off by default.
 *
 * raft.h stays the whole contract of the lab: a student's Raft never includes this header, and
 * a Raft made with no options is the lab's Raft, event for event (the graded suites' digests do
 * not change). This header adds, for our Raft only:
 *   - options, carried by the persister the harness hands to raft_make (below);
 *   - the calls of the mechanisms the options enable (sections below, one per mechanism).
 *
 * Why the persister carries the options: it is the one object the harness gives every Raft it
 * makes, directly (the Raft tester) or through a service that calls raft_make itself (kvraft,
 * shardkv), and a restarted server gets a copy of it, as a real server re-reads its
 * configuration file. The options are provided code (raft/persister.c), so a student's Raft
 * links and simply never reads them; the harness notices (raft_persister_options_taken) and
 * refuses to grade "with options" a Raft that ignored them.
 */
#ifndef RAFT_EXT_H
#define RAFT_EXT_H

#include <stdbool.h>
#include <stdint.h>

#include "raft.h"

/* ---------------------------------------------------------------- options */

/* Pre-vote (thesis section 9.6): a candidate first asks whether it could win, without raising
 * any term, so a node that rejoins after a partition does not depose a healthy leader. */
#define RAFT_OPT_PRE_VOTE (1u << 0)
/* Check-quorum (thesis section 6.2): a leader that has not heard from a majority within an
 * election timeout steps down; followers ignore votes while they hear from a leader. */
#define RAFT_OPT_CHECK_QUORUM (1u << 1)
/* Read-index (thesis section 6.4): linearizable reads without a log entry per read. */
#define RAFT_OPT_READ_INDEX (1u << 2)
/* Lease reads (thesis section 6.4.1): reads served during a leader lease, bounded by the
 * clock drift of raft_options.clock_drift_ppm. */
#define RAFT_OPT_LEASE_READ (1u << 3)
/* Batching and pipelining: several commands per AppendEntries and several AppendEntries in
 * flight per follower. */
#define RAFT_OPT_PIPELINE (1u << 4)
/* Membership change, one server at a time, with learners (thesis chapter 4): configuration
 * entries in the log and the raft_member_* calls below. With it on and no change made, the
 * configuration is every peer (or raft_options.voters_initial) and the Raft acts as without. */
#define RAFT_OPT_MEMBERSHIP (1u << 5)
/* UNSAFE, for the scenario twins only, implies membership: a change may switch several servers
 * at once (raft_member_change) and a learner is promoted however far behind it is. Never in
 * RAFT_OPT_ALL. */
#define RAFT_OPT_MEMBER_UNSAFE (1u << 6)
/* Every option bit this Raft knows (the UNSAFE ones excluded). */
#define RAFT_OPT_ALL                                                                               \
    (RAFT_OPT_PRE_VOTE | RAFT_OPT_CHECK_QUORUM | RAFT_OPT_READ_INDEX | RAFT_OPT_LEASE_READ |       \
     RAFT_OPT_PIPELINE | RAFT_OPT_MEMBERSHIP)

/* The bound on how much faster or slower one server's clock may run than another's, in parts
 * per million, that lease reads assume when clock_drift_ppm is 0. */
#define RAFT_CLOCK_DRIFT_PPM_DEFAULT 10000u

struct raft_options {
    uint32_t flags;           /* RAFT_OPT_* */
    uint32_t clock_drift_ppm; /* lease reads; 0 = RAFT_CLOCK_DRIFT_PPM_DEFAULT */
    uint32_t voters_initial;  /* membership: the first voters, bit per peer id; 0 = every peer */
};

/* Gives the Raft made next with this persister (and, through raft_persister_copy, every restart
 * of that server) these options. Call before raft_make. NULL clears them. */
void raft_persister_set_options(struct raft_persister *p, const struct raft_options *opts);
/* Fills *out with the persister's options (all zero when none were set) and marks them taken:
 * our raft_make calls it once. */
void raft_persister_take_options(struct raft_persister *p, struct raft_options *out);
/* Whether the options of this persister (or, for a copy, of the persister it was copied from)
 * were set with a nonzero flag and never taken: the Raft that used it ignores raft_ext.h. */
bool raft_persister_options_ignored(const struct raft_persister *p);

/* The options an instance runs with (what raft_make took from its persister). */
void raft_options_get(const struct raft *rf, struct raft_options *out);

/* ---------------------------------------------------------------- errors */

/* Errors of the calls below (negative, beside raft.c's own codes; raft_strerror names each). */
#define RAFT_EXT_ERRNO_MAP(X)                                                                      \
    X(RAFT_EOPTION, -20, "membership calls need RAFT_OPT_MEMBERSHIP")                              \
    X(RAFT_ENOTLEADER, -21, "not the leader")                                                      \
    X(RAFT_ECHANGE_PENDING, -22, "a configuration change is not committed yet")                    \
    X(RAFT_ENOTREADY, -23, "the leader has not committed an entry of its term yet")                \
    X(RAFT_ELAGGING, -24, "the learner has not caught up with the leader's log")                   \
    X(RAFT_EMULTI, -25, "a change may add, promote or remove only one server")                     \
    X(RAFT_ESERVER, -26, "no such server, or not in the state the change needs")                   \
    X(RAFT_EBUSY, -27, "a leadership transfer is already under way")                               \
    X(RAFT_ENOTSUP, -28, "this Raft has no such call (it implements raft.h only)")                 \
    X(RAFT_ELEASE, -29, "no leadership transfer with lease reads (the leases would be broken)")

enum raft_ext_err {
#define RAFT_EXT_ERR_ENUM(name, value, text) name = value,
    RAFT_EXT_ERRNO_MAP(RAFT_EXT_ERR_ENUM)
#undef RAFT_EXT_ERR_ENUM
};

/* One line of text for any raft error code (0, raft.c's and the ones above). */
const char *raft_strerror(int err);

/* ---------------------------------------------------------------- traces */

/* The mechanisms' own trace kinds live in their files, with ids from the Raft range of
 * trace_api.c (200-299): 215-224 pre-vote, check-quorum and leadership transfer; 225-234 reads;
 * 235-249 membership and learners; 250-259 pipelining. Their records go on this node: the
 * kernel node the Raft runs on, or `me` when none is set (trace_api.c says why). */
int raft_trace_node(const struct sim *sim, int me);

/* ---------------------------------------------------------------- pre-vote, check-quorum and
 * leadership transfer (raft/prevote.c, raft/quorum.c, raft/transfer.c) */

/* What the options change (thesis sections 9.6, 6.2, 4.2.3):
 *   pre-vote      on an election timeout a follower first sends Raft.PreVote (its term + 1, its
 *                 last log index and term) without raising its own term; a peer grants it when
 *                 that term is above its own, the log is at least as up to date as its own and
 *                 it has not heard from a leader within the minimum election timeout. Only with
 *                 a majority of grants does the follower become a candidate. A peer never
 *                 changes its term or vote for a pre-vote; the asker adopts a higher term it
 *                 sees in a reply (as any Raft message would teach it), or it could be locked
 *                 out by peers whose terms moved past its own.
 *   check-quorum  a leader that has had no reply from a majority (itself included) for an
 *                 election timeout (the maximum one) steps down, so within about one election
 *                 timeout plus a heartbeat of losing its majority; and a server that heard from
 *                 a current leader within the minimum election timeout (or is the leader)
 *                 ignores RequestVote (denies it, without taking its term) unless the request
 *                 carries the transfer flag of a TimeoutNow campaign.
 * Trace kinds 215-224: raft.prevote_request, raft.prevote_grant, raft.prevote_deny,
 * raft.vote_ignored, raft.quorum_lost, raft.transfer_start, raft.timeout_now, raft.transfer_done,
 * raft.transfer_abandoned, raft.transfer_campaign. */

/* The longest a leader cut off from its majority keeps leading with check-quorum: the window
 * (the maximum election timeout, 600 ms) plus one heartbeat (100 ms), as the check runs on
 * heartbeats. quorum.c asserts it against raft_int.h's tuning. */
#define RAFT_QUORUM_STEP_DOWN_MAX_US SIM_MS(700)

/* raft_transfer_leadership's errors (0 is success), codes of the error table below. */
#define RAFT_TRANSFER_ENOTLEADER RAFT_ENOTLEADER /* not the leader (or dead) */
#define RAFT_TRANSFER_EINVAL RAFT_ESERVER        /* target not a voter, or the leader itself */
#define RAFT_TRANSFER_EBUSY RAFT_EBUSY           /* a transfer is already under way */
#define RAFT_TRANSFER_ENOTSUP RAFT_ENOTSUP       /* this Raft has no such call (raft.h only) */
/* With RAFT_OPT_LEASE_READ a transfer is refused with RAFT_ELEASE: a follower that heard the
 * leader lately holds its vote so that the leader's lease stays true (thesis 6.4.1), and a
 * transfer's campaign that passed through that hold would elect a new leader while the old one
 * still serves reads from its lease. (etcd lets it through and relies on the old leader
 * stopping its lease reads; we have not built that.) */

/* Leadership transfer (thesis 3.10), whatever the options; nothing changes unless it is called.
 * Must be called on the leader. From now on raft_start returns false (the leader takes no new
 * command); the leader brings `target` up to date and then sends it TimeoutNow, on which the
 * target starts an election at once, skipping pre-vote, with a flag that lets its RequestVotes
 * through leader stickiness. The transfer is done when the leader sees the target's later term
 * and steps down; when that has not happened within an election timeout (the maximum one) the
 * transfer is abandoned and the leader takes commands again. Returns 0 when the transfer
 * started, else a RAFT_TRANSFER_E* code (nothing changed). */
int raft_transfer_leadership(struct raft *rf, int target);
/* The text of a raft_transfer_leadership result. Never NULL. */
const char *raft_transfer_strerror(int err);
/* ---------------------------------------------------------------- membership and learners */

/* Single-server membership change (Ongaro's thesis, section 4.1) with learners (4.2.1), under
 * RAFT_OPT_MEMBERSHIP (raft/membership.c). Every call below refuses with RAFT_EOPTION without it.
 *
 * Servers. The peers array given to raft_make names every server that may ever join (ids below
 * RAFT_PEERS_MAX); the configuration says which of them are voters (elections and commitment
 * count only them) and which are learners (they receive entries but neither vote in a quorum
 * nor start elections). A server in neither set is not a member: it starts no election and
 * waits to be contacted. The first configuration is raft_options.voters_initial (0 = every
 * peer, so the lab's clusters are unchanged); a server started with its own id outside that set
 * is a server that is not yet a member.
 *
 * Configuration entries (4.1, "configuration entries take effect on append"). A change is a log
 * entry holding the whole new configuration (voters and learners); every server uses the latest
 * one in its log, committed or not, as soon as it is appended, and goes back to the previous one
 * when a conflict truncates it. A snapshot carries the configuration at its index: Raft keeps it
 * in its own persisted state beside the snapshot point (the snapshot bytes are the service's)
 * and sends it with InstallSnapshot.
 *
 * Delivery. A configuration entry is not a service command, but it has an index: the apply
 * callback gets it as a command of length 0 (Go's nil command) at that index, so the service's
 * indices stay contiguous; services skip empty commands (the Raft tester records it as 0).
 *
 * One change at a time: a call is refused with RAFT_ECHANGE_PENDING while the latest
 * configuration entry is not committed, and with RAFT_ENOTREADY until the leader has committed
 * an entry of its own term (the fix to single-server changes from Ongaro's raft-dev note of
 * 2015: a new leader must not change the configuration before it commits in its term; start a
 * command first). On success *index (may be NULL) gets the entry's index.
 *
 * Removed servers. The leader stops sending to a removed server as soon as it appends the entry,
 * so a removed follower may never learn it was removed: still a voter in its own log, it will
 * time out and campaign, and its higher terms disturb the cluster (thesis 4.2.3). Shut removed
 * servers down (the scenarios crash them); pre-vote and check-quorum are the thesis's cure. A
 * leader that removed itself does hold the entry, so it never campaigns again. */

/* A configuration: bit i set = peer i. voters is never empty; voters & learners == 0. */
struct raft_config {
    uint32_t voters;
    uint32_t learners;
};

/* Catch-up rule for promotion (4.2.1, the simple form of the rounds rule): a learner is caught
 * up when the leader heard from it within the last RAFT_MEMBER_CONTACT_US and its matchIndex is
 * within RAFT_MEMBER_CATCHUP_ENTRIES of the leader's last index, so that one AppendEntries
 * brings it level (one round rather than the thesis's ten of an election timeout each). */
#define RAFT_MEMBER_CATCHUP_ENTRIES 512u
#define RAFT_MEMBER_CONTACT_US SIM_MS(600)

/* Leader: appends a configuration with `server` (not a member) added as a learner. */
int raft_member_add_learner(struct raft *rf, int server, uint64_t *index);
/* Leader: makes learner `server` a voter, if caught up (else RAFT_ELAGGING). */
int raft_member_promote(struct raft *rf, int server, uint64_t *index);
/* Leader: removes voter or learner `server`, which may be the leader itself: it keeps leading
 * (without counting itself) until the entry commits, then steps down (4.2.2) and, no longer a
 * voter, never starts an election. The last voter cannot be removed. */
int raft_member_remove(struct raft *rf, int server, uint64_t *index);
/* Leader: appends `to` as the new configuration if it differs from the one in effect by one
 * server (added as a learner, promoted, or removed), else RAFT_EMULTI; under
 * RAFT_OPT_MEMBER_UNSAFE any change at all, however many servers it switches (the twin's bug). */
int raft_member_change(struct raft *rf, const struct raft_config *to, uint64_t *index);

/* The configuration in effect, and the index of its entry (0: the initial one; the snapshot
 * index when it came with the snapshot). */
void raft_member_config(const struct raft *rf, struct raft_config *out, uint64_t *index);

/* What the leader knows of a server's progress (4.2.1: the leader reports it). */
struct raft_member_progress {
    uint64_t match_index; /* highest entry known replicated on it */
    uint64_t last_index;  /* the leader's last index */
    bool caught_up;       /* promotable: see RAFT_MEMBER_CATCHUP_ENTRIES */
};
/* Leader: fills *out for `server`. RAFT_OK, RAFT_ENOTLEADER, RAFT_ESERVER or RAFT_EOPTION. */
int raft_member_progress(const struct raft *rf, int server, struct raft_member_progress *out);

/* ---------------------------------------------------------------- batching and pipelining */

/* RAFT_OPT_PIPELINE (raft/pipeline.c) needs no call: a leader with the option keeps up to 16
 * AppendEntries in flight per follower that matched (etcd/raft's probe and replicate states),
 * and traces each change of a follower's state as kind 250, "raft.pipe_state" (peer, state,
 * next_index, match_index; text "probe" or "replicate"). */

/* ---------------------------------------------------------------- reads */

/* Linearizable reads without a log entry per read (read_index.c), with RAFT_OPT_READ_INDEX or
 * RAFT_OPT_LEASE_READ:
 *   1. a leader that has no entry of its term in its log appends a no-op (an empty command) and
 *      serves no read before an entry of its term is committed (thesis section 6.4, step 1:
 *      only then does it know the commit index of the terms before it). The no-op is appended
 *      lazily, by the first read of the term, so a Raft that is never asked to read (the lab 3
 *      tester, which counts indices) never holds one. It is delivered to the service like any
 *      command, with command_len 0: kvraft applies it as a no-op;
 *   2. the read's index is the commit index once that holds (step 2);
 *   3. read-index: a heartbeat round sent after the read was asked is acknowledged by a majority
 *      of the term (step 3); lease-read (section 6.4.1): the leader still holds a lease, and
 *      skips the round;
 *   4. the callback runs once the Raft has applied through the read index (step 4): the service
 *      answers from its state at that moment.
 * RAFT_OPT_LEASE_READ also makes a follower that heard from its leader within the minimum
 * election timeout ignore RequestVote (thesis section 4.2.3, the follower half of check-quorum,
 * section 6.2): a lease is only safe if no other leader can be elected while it lasts. */

/* UNSAFE, for the twin of the stale-read scenario only: kvraft answers a Get from the local
 * state of whoever believes it is leader, with no log entry and no confirmation. Our Raft itself
 * ignores the flag; never part of RAFT_OPT_ALL. */
#define RAFT_OPT_LOCAL_READ_UNSAFE (1u << 12)
_Static_assert((RAFT_OPT_ALL & RAFT_OPT_LOCAL_READ_UNSAFE) == 0, "unsafe reads are never 'all'");

/* Reads pending at once per instance; raft_read_index refuses more (RAFT_READ_EFULL). */
#define RAFT_READS_MAX 256u

#define RAFT_READ_ERRNO_MAP(X)                                                                     \
    X(RAFT_READ_OK, 0, "success")                                                                  \
    X(RAFT_READ_EOFF, -1, "read-index and lease-read are both off")                                \
    X(RAFT_READ_ENOTLEADER, -2, "not the leader")                                                  \
    X(RAFT_READ_EFULL, -3, "too many reads pending")

enum raft_read_err {
#define RAFT_READ_ERR_ENUM(name, value, text) name = value,
    RAFT_READ_ERRNO_MAP(RAFT_READ_ERR_ENUM)
#undef RAFT_READ_ERR_ENUM
};

const char *raft_read_strerror(int err);

/* A read's outcome: ok with the index the Raft has applied through (at least the read index:
 * the service may answer from its state now), or !ok (leadership lost, the read timed out, or
 * the instance was killed: the caller retries elsewhere, as after ErrWrongLeader). */
typedef void (*raft_read_cb)(void *ctx, bool ok, uint64_t read_index);

/* Asks for a linearizable read. RAFT_READ_OK: `cb` runs exactly once, from a later event (or
 * from raft_kill), never inside this call. Any other return: `cb` never runs. */
int raft_read_index(struct raft *rf, raft_read_cb cb, void *ctx);

struct raft_read_stats {
    uint64_t asked;          /* accepted by raft_read_index */
    uint64_t served;         /* called back ok */
    uint64_t failed;         /* called back !ok */
    uint64_t by_lease;       /* served without a heartbeat round */
    uint64_t rounds;         /* heartbeat rounds sent for reads (beyond the regular ones) */
    uint64_t noops;          /* no-op entries appended */
    uint64_t votes_held;     /* RequestVotes ignored inside a follower's lease window */
    uint32_t pending;        /* reads waiting now */
    bool lease_valid;        /* leader, and its lease runs now */
    uint64_t lease_until_us; /* when the lease ends (virtual time; 0: none) */
};

void raft_read_stats_get(const struct raft *rf, struct raft_read_stats *out);

/* What a service calls, whatever Raft it runs on (persister.c, provided): our raft_make registers
 * raft_read_index on its persister when a read option is on; a Raft that registered nothing
 * answers RAFT_READ_EOFF, and the service goes through the log as the lab's does. */
typedef int (*raft_read_fn)(struct raft *rf, raft_read_cb cb, void *ctx);
void raft_persister_set_reader(struct raft_persister *p, struct raft *rf, raft_read_fn fn);
int raft_persister_read(struct raft_persister *p, raft_read_cb cb, void *ctx);
/* The RAFT_OPT_* flags the persister carries, without taking them (a service's view). */
uint32_t raft_persister_option_flags(const struct raft_persister *p);

#endif /* RAFT_EXT_H */
