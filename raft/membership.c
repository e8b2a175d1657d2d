/* membership: configurations, learners and single-server membership changes (Ongaro's thesis,
 * chapter 4), under RAFT_OPT_MEMBERSHIP; the calls are declared in raft_ext.h.
 *
 * Owns rf->member: the configuration in effect (voters and learners, bit per peer), the index of
 * the entry it came from, the configuration at the snapshot point, and the leader's view of each
 * peer's last contact (the catch-up rule). The other files ask it who votes
 * (raft_member_voter, raft_member_quorum: elections and commit counting) and who gets entries
 * (raft_member_replicated); without the option the configuration is every peer, which gives
 * the lab's arithmetic exactly, and nothing here traces, draws or schedules anything.
 *
 * Section 4.1: a change is one log entry holding the whole new configuration; a server uses the
 * latest configuration in its log as soon as the entry is appended, committed or not, so a
 * truncation that removes the entry also rolls the configuration back (raft_member_refresh).
 * Changing one server at a time keeps any majority of the old voters and any majority of the
 * new ones overlapping, so two leaders of one term cannot arise; the calls refuse a second
 * change while one is uncommitted, and a change before the leader committed an entry of its
 * own term (the raft-dev fix of 2015 to the single-server algorithm). Section 4.2.1: a new
 * server first joins as a learner, which gets entries but neither counts nor votes, and is
 * promoted only once caught up. Section 4.2.2: a leader that removes itself keeps leading,
 * without counting itself, until the entry commits, then steps down.
 *
 * Configuration entry bytes (labgob, zero fields omitted): 1 voters  2 learners (bit masks).
 */
#include "raft_int.h"

static const struct sim_trace_kind kind_config = {
    235, SIM_TOPIC_ROLE, "raft.config", {"index", "voters", "learners", NULL}};
static const struct sim_trace_kind kind_caught_up = {
    236, SIM_TOPIC_ROLE, "raft.learner_caught_up", {"peer", "match_index", "last_index", NULL}};
static const struct sim_trace_kind kind_refused = {
    237, SIM_TOPIC_ROLE, "raft.member_refused", {"server", "err", NULL}};
static const struct sim_trace_kind kind_removed = {
    238, SIM_TOPIC_ROLE, "raft.removed_step_down", {"index", "term", NULL}};

static bool member_on(const struct raft *rf)
{
    return (rf->opts.flags & RAFT_OPT_MEMBERSHIP) != 0;
}

static bool member_unsafe(const struct raft *rf)
{
    return (rf->opts.flags & RAFT_OPT_MEMBER_UNSAFE) != 0;
}

static uint32_t peers_all(const struct raft *rf)
{
    return rf->peers_count >= 32 ? UINT32_MAX : (1u << rf->peers_count) - 1u;
}

static int bits_count(uint32_t v)
{
    int n = 0;
    for (; v != 0; v &= v - 1)
        n++;
    return n;
}

static bool config_valid(const struct raft *rf, const struct raft_config *c)
{
    return c->voters != 0 && (c->voters & c->learners) == 0 &&
           ((c->voters | c->learners) & ~peers_all(rf)) == 0;
}

/* The first configuration: raft_options.voters_initial, or every peer. */
static struct raft_config config_initial(const struct raft *rf)
{
    uint32_t voters = member_on(rf) ? rf->opts.voters_initial & peers_all(rf) : 0;
    return (struct raft_config){.voters = voters != 0 ? voters : peers_all(rf)};
}

static bool config_decode(const struct raft *rf, const uint8_t *buf, size_t len,
                          struct raft_config *out)
{
    struct gob_dec d;
    uint64_t voters = 0;
    uint64_t learners = 0;
    gob_dec_init(&d, buf, len);
    bool nums_ok = raft_wire_get_num(&d, 1, &voters);
    nums_ok &= raft_wire_get_num(&d, 2, &learners);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok || voters > UINT32_MAX || learners > UINT32_MAX)
        return false;
    *out = (struct raft_config){.voters = (uint32_t)voters, .learners = (uint32_t)learners};
    return config_valid(rf, out);
}

bool raft_member_entry_valid(const struct raft *rf, uint64_t type, const uint8_t *cmd, size_t len)
{
    if (type == RAFT_ENTRY_COMMAND) return true;
    struct raft_config c;
    return type == RAFT_ENTRY_CONFIG && member_on(rf) && config_decode(rf, cmd, len, &c);
}

/* The configuration in effect at `index` (<= last): the latest configuration entry at or before
 * it, else the snapshot's, else the initial one; *from gets where it came from (0: initial).
 * Scans back through the log: changes are rare, and so are truncations and compactions. */
static struct raft_config config_at(const struct raft *rf, uint64_t index, uint64_t *from)
{
    const struct raft_log *log = &rf->log;
    for (uint64_t i = index; i > log->snapshot_index; i--) {
        const struct raft_entry *entry = raft_log_get(log, i);
        struct raft_config c;
        if (entry->type != RAFT_ENTRY_CONFIG) continue;
        bool ok = config_decode(rf, entry->cmd, entry->cmd_len, &c);
        RAFT_ASSERT(rf, ok); /* checked before it entered the log */
        *from = i;
        return c;
    }
    if (rf->member.snap_config.voters != 0) {
        *from = log->snapshot_index;
        return rf->member.snap_config;
    }
    *from = 0;
    return config_initial(rf);
}

static void config_set(struct raft *rf, struct raft_config c, uint64_t from)
{
    bool changed = c.voters != rf->member.config.voters || c.learners != rf->member.config.learners;
    rf->member.config = c;
    rf->member.config_index = from;
    rf->member.caught_up_traced &= c.learners;
    if (changed)
        sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_config, (int64_t)from,
                   (int64_t)c.voters, (int64_t)c.learners, 0);
}

void raft_member_init(struct raft *rf)
{
    /* With the option, none until raft_member_refresh (raft_make, after the restore) sets and
     * traces the configuration the server starts in, so the tools see non-members too. */
    rf->member = (struct raft_member){0};
    if (!member_on(rf)) rf->member.config = config_initial(rf);
}

void raft_member_refresh(struct raft *rf)
{
    if (!member_on(rf)) return;
    uint64_t from = 0;
    struct raft_config c = config_at(rf, raft_log_last_index(&rf->log), &from);
    config_set(rf, c, from);
}

void raft_member_appended(struct raft *rf, uint64_t index)
{
    if (!member_on(rf)) return;
    const struct raft_entry *entry = raft_log_get(&rf->log, index);
    struct raft_config c;
    if (entry == NULL || entry->type != RAFT_ENTRY_CONFIG) return;
    bool ok = config_decode(rf, entry->cmd, entry->cmd_len, &c);
    RAFT_ASSERT(rf, ok);
    config_set(rf, c, index); /* 4.1: in effect on append, committed or not */
}

void raft_member_compacting(struct raft *rf, uint64_t index)
{
    if (!member_on(rf)) return;
    uint64_t from = 0;
    struct raft_config c = config_at(rf, index, &from);
    rf->member.snap_config = from != 0 ? c : (struct raft_config){0};
}

bool raft_member_voter(const struct raft *rf, int peer)
{
    return ((rf->member.config.voters >> peer) & 1u) != 0;
}

bool raft_member_replicated(const struct raft *rf, int peer)
{
    uint32_t members = rf->member.config.voters | rf->member.config.learners;
    return peer != rf->me && ((members >> peer) & 1u) != 0;
}

bool raft_member_quorum(const struct raft *rf, uint32_t votes)
{
    uint32_t voters = rf->member.config.voters;
    return 2 * bits_count(votes & voters) > bits_count(voters);
}

/* The catch-up rule of raft_ext.h: heard from lately, and one AppendEntries from level. */
static bool caught_up(const struct raft *rf, int peer)
{
    sim_time_us contact = rf->member.contact_us[peer];
    sim_time_us now = sim_now_us(rf->sim);
    uint64_t last = raft_log_last_index(&rf->log);
    return contact != 0 && now - contact <= RAFT_MEMBER_CONTACT_US &&
           rf->match_index[peer] + RAFT_MEMBER_CATCHUP_ENTRIES >= last;
}

void raft_member_contact(struct raft *rf, int peer)
{
    if (!member_on(rf)) return;
    rf->member.contact_us[peer] = sim_now_us(rf->sim);
    uint32_t bit = 1u << peer;
    if ((rf->member.config.learners & bit) == 0 || (rf->member.caught_up_traced & bit) != 0) return;
    if (!caught_up(rf, peer)) return;
    rf->member.caught_up_traced |= bit; /* the leader reports the learner's progress (4.2.1) */
    sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_caught_up, peer,
               (int64_t)rf->match_index[peer], (int64_t)raft_log_last_index(&rf->log), 0);
}

void raft_member_commit_check(struct raft *rf)
{
    if (!member_on(rf) || rf->role != RAFT_LEADER || raft_member_voter(rf, rf->me)) return;
    if (rf->commit_index < rf->member.config_index) return;
    /* 4.2.2: the entry that removed us is committed: the new configuration goes on without us. */
    sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_removed,
               (int64_t)rf->member.config_index, (int64_t)rf->current_term, 0, 0);
    raft_become_follower(rf, rf->current_term);
}

void raft_member_snap_put(const struct raft *rf, struct gob_enc *e, uint32_t field)
{
    /* Not even a zero put without one: labgob's stream model counts zero top-level puts, and a
     * lab run's state must keep its size to the byte. */
    if (rf->member.snap_config.voters == 0) return;
    raft_wire_put_num(e, field, rf->member.snap_config.voters);
    raft_wire_put_num(e, field + 1, rf->member.snap_config.learners);
}

bool raft_member_snap_get(const struct raft *rf, struct gob_dec *d, uint32_t field,
                          struct raft_config *out)
{
    uint64_t voters = 0;
    uint64_t learners = 0;
    bool nums_ok = raft_wire_get_num(d, field, &voters);
    nums_ok &= raft_wire_get_num(d, field + 1, &learners);
    if (!nums_ok || voters > UINT32_MAX || learners > UINT32_MAX) return false;
    *out = (struct raft_config){.voters = (uint32_t)voters, .learners = (uint32_t)learners};
    if (voters == 0 && learners == 0) return true; /* the initial configuration */
    return member_on(rf) && config_valid(rf, out);
}

void raft_member_check(const struct raft *rf)
{
    const struct raft_member *m = &rf->member;
    RAFT_ASSERT(rf, config_valid(rf, &m->config));
    RAFT_ASSERT(rf, m->config_index <= raft_log_last_index(&rf->log));
    if (!member_on(rf)) RAFT_ASSERT(rf, m->config.voters == peers_all(rf) && m->config_index == 0);
}

/* ---------------------------------------------------------------- the calls */

static int refused(struct raft *rf, int server, int err)
{
    sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_refused, server, err, 0, 0);
    return err;
}

/* Whether a change may start now (one at a time, and not before the leader's own term has a
 * committed entry). */
static int change_ready(const struct raft *rf)
{
    if (!member_on(rf)) return RAFT_EOPTION;
    if (rf->dead || rf->role != RAFT_LEADER) return RAFT_ENOTLEADER;
    if (rf->member.config_index > rf->commit_index) return RAFT_ECHANGE_PENDING;
    if (raft_log_term_at(&rf->log, rf->commit_index) != rf->current_term) return RAFT_ENOTREADY;
    return RAFT_OK;
}

/* Appends `to` as a configuration entry, in effect at once, and sends it. */
static int config_append(struct raft *rf, const struct raft_config *to, uint64_t *index)
{
    struct gob_enc e;
    gob_enc_init(&e);
    raft_wire_put_num(&e, 1, to->voters);
    raft_wire_put_num(&e, 2, to->learners);
    int rc = gob_enc_finish(&e) == GOB_OK ? RAFT_OK : RAFT_ENOMEM;
    uint64_t next = raft_log_last_index(&rf->log) + 1;
    if (rc == RAFT_OK)
        rc = raft_log_append_typed(&rf->log, rf->current_term, RAFT_ENTRY_CONFIG, gob_enc_bytes(&e),
                                   gob_enc_len(&e));
    gob_enc_free(&e);
    if (rc != RAFT_OK) return rc;
    raft_persist_mark(rf);
    raft_trace_append(rf->sim, rf->me, next, rf->current_term);
    raft_member_appended(rf, next);
    if (index != NULL) *index = next;
    raft_replicate_schedule(rf); /* also recounts commitment under the new voters */
    raft_check_invariants(rf);
    return RAFT_OK;
}

int raft_member_change(struct raft *rf, const struct raft_config *to, uint64_t *index)
{
    int rc = change_ready(rf);
    if (rc != RAFT_OK) return refused(rf, -1, rc);
    if (!config_valid(rf, to)) return refused(rf, -1, RAFT_ESERVER);
    const struct raft_config *cur = &rf->member.config;
    uint32_t diff = (to->voters ^ cur->voters) | (to->learners ^ cur->learners);
    if (diff == 0) return refused(rf, -1, RAFT_ESERVER);
    uint32_t new_voters = to->voters & ~cur->voters;
    if (!member_unsafe(rf)) {
        if (bits_count(diff) != 1) return refused(rf, -1, RAFT_EMULTI);
        /* 4.2.1: a server votes only once it holds (nearly) the leader's log. */
        int server = __builtin_ctz(diff);
        if (new_voters != 0 && !caught_up(rf, server)) return refused(rf, server, RAFT_ELAGGING);
    }
    return config_append(rf, to, index);
}

static bool server_valid(const struct raft *rf, int server)
{
    return server >= 0 && server < rf->peers_count;
}

int raft_member_add_learner(struct raft *rf, int server, uint64_t *index)
{
    if (!server_valid(rf, server)) return refused(rf, server, RAFT_ESERVER);
    struct raft_config to = rf->member.config;
    uint32_t bit = 1u << server;
    if (((to.voters | to.learners) & bit) != 0) return refused(rf, server, RAFT_ESERVER);
    to.learners |= bit;
    return raft_member_change(rf, &to, index);
}

int raft_member_promote(struct raft *rf, int server, uint64_t *index)
{
    if (!server_valid(rf, server)) return refused(rf, server, RAFT_ESERVER);
    struct raft_config to = rf->member.config;
    uint32_t bit = 1u << server;
    if ((to.learners & bit) == 0) return refused(rf, server, RAFT_ESERVER);
    to.learners &= ~bit;
    to.voters |= bit;
    return raft_member_change(rf, &to, index);
}

int raft_member_remove(struct raft *rf, int server, uint64_t *index)
{
    if (!server_valid(rf, server)) return refused(rf, server, RAFT_ESERVER);
    struct raft_config to = rf->member.config;
    uint32_t bit = 1u << server;
    if (((to.voters | to.learners) & bit) == 0 || to.voters == bit)
        return refused(rf, server, RAFT_ESERVER); /* not a member, or the last voter */
    to.voters &= ~bit;
    to.learners &= ~bit;
    return raft_member_change(rf, &to, index);
}

void raft_member_config(const struct raft *rf, struct raft_config *out, uint64_t *index)
{
    *out = rf->member.config;
    if (index != NULL) *index = rf->member.config_index;
}

int raft_member_progress(const struct raft *rf, int server, struct raft_member_progress *out)
{
    *out = (struct raft_member_progress){0};
    if (!member_on(rf)) return RAFT_EOPTION;
    if (rf->dead || rf->role != RAFT_LEADER) return RAFT_ENOTLEADER;
    if (!server_valid(rf, server)) return RAFT_ESERVER;
    out->last_index = raft_log_last_index(&rf->log);
    out->match_index = server == rf->me ? out->last_index : rf->match_index[server];
    out->caught_up = server == rf->me || caught_up(rf, server);
    return RAFT_OK;
}
