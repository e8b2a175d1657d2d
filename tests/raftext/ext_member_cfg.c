/* ext_member_cfg: the Raft tester extended for membership scenarios (see ext_member_cfg.h).
 *
 * Owns nothing: the config (raft_cfg) owns the servers; these helpers only drive them through
 * raft_cfg.h and labsim's own raft_ext.h. Every wait polls in virtual time with a stated bound,
 * so a scenario that cannot make progress ends with a message, never hangs.
 */
#include <inttypes.h>
#include <stdio.h>

#include "ext_member_cfg.h"
#include "lab.h"

#define POLL_US SIM_MS(20)
#define LEADER_POLL_US SIM_MS(50)

/* The tester's node inspector (step's p), plus the configuration the server uses and, on a
 * leader, each member's progress. */
static int member_inspect(void *user, int node, FILE *out)
{
    int rc = raft_cfg_inspect(user, node, out);
    struct raft *rf = rc == 0 ? raft_cfg_raft(user, node) : NULL;
    if (rf == NULL) return rc;
    struct raft_config c;
    uint64_t index = 0;
    char text[160];
    raft_member_config(rf, &c, &index);
    ext_member_config_format(&c, text, sizeof(text));
    fprintf(out, "  config: %s (entry %" PRIu64 ")\n", text, index);
    for (int i = 0; i < raft_cfg_servers(user); i++) {
        struct raft_member_progress p;
        if (i == node || ((c.voters | c.learners) >> i & 1u) == 0) continue;
        if (raft_member_progress(rf, i, &p) != 0) break; /* not the leader */
        fprintf(out, "  progress of %d: match %" PRIu64 " of %" PRIu64 "%s\n", i, p.match_index,
                p.last_index, p.caught_up ? ", caught up" : "");
    }
    return 0;
}

struct raft_cfg *ext_member_cfg_make(struct lab_ctx *ctx, int n, uint32_t voters,
                                     const char *raft_opts, bool snapshot)
{
    lab_raft_opts_set(ctx, raft_opts);
    lab_raft_voters_set(ctx, voters);
    struct raft_cfg *cfg = raft_cfg_make(ctx, n, false, snapshot);
    if (cfg != NULL) lab_set_inspector(ctx, member_inspect);
    return cfg;
}

int ext_member_leader(struct raft_cfg *cfg, uint32_t mask, uint64_t *term)
{
    int best = -1;
    uint64_t best_term = 0;
    for (int i = 0; i < raft_cfg_servers(cfg); i++) {
        struct raft *rf = raft_cfg_raft(cfg, i);
        uint64_t t = 0;
        if (((mask >> i) & 1u) == 0 || rf == NULL || !raft_cfg_connected(cfg, i)) continue;
        if (raft_get_state(rf, &t) && t > best_term) {
            best = i;
            best_term = t;
        }
    }
    if (term != NULL) *term = best_term;
    return best;
}

int ext_member_wait_leader(struct raft_cfg *cfg, uint32_t mask, uint64_t term_above,
                           sim_time_us timeout_us)
{
    struct sim *sim = raft_cfg_sim(cfg);
    sim_time_us deadline = sim_now_us(sim) + timeout_us;
    for (;;) {
        uint64_t term = 0;
        int leader = ext_member_leader(cfg, mask, &term);
        if (leader >= 0 && term > term_above) return leader;
        if (sim_now_us(sim) >= deadline) return -1;
        sim_sleep_us(sim, LEADER_POLL_US);
    }
}

static bool config_equal(const struct raft_config *a, const struct raft_config *b)
{
    return a->voters == b->voters && a->learners == b->learners;
}

/* One attempt on the leader `leader`: 0 when `to` is in effect and committed there,
 * -1 to poll again, or a refusal retrying cannot cure. */
static int move_attempt(struct raft_cfg *cfg, int leader, const struct raft_config *to,
                        int64_t *cmd)
{
    struct raft *rf = raft_cfg_raft(cfg, leader);
    struct raft_config cur;
    uint64_t cur_index = 0;
    struct raft_inspect in;
    raft_member_config(rf, &cur, &cur_index);
    raft_inspect(rf, &in);
    if (config_equal(&cur, to) && cur_index <= in.commit_index) return 0;
    /* A new leader commits an entry of its own term before it may change anything, and before
     * entries of earlier terms (a change among them) count as committed (5.4.2): give it one. */
    if (raft_inspect_term_at(rf, in.last_index) != in.term) {
        raft_cfg_start_int(cfg, leader, (*cmd)++, NULL, NULL);
        return -1;
    }
    if (config_equal(&cur, to)) return -1;
    int rc = raft_member_change(rf, to, NULL);
    if (rc == 0 || rc == RAFT_ECHANGE_PENDING || rc == RAFT_ENOTLEADER || rc == RAFT_ENOTREADY)
        return -1;
    return rc;
}

int ext_member_move(struct raft_cfg *cfg, uint32_t mask, const struct raft_config *to, int64_t *cmd,
                    sim_time_us timeout_us)
{
    struct sim *sim = raft_cfg_sim(cfg);
    sim_time_us deadline = sim_now_us(sim) + timeout_us;
    while (sim_now_us(sim) < deadline) {
        int leader = ext_member_leader(cfg, mask, NULL);
        int rc = leader >= 0 ? move_attempt(cfg, leader, to, cmd) : -1;
        if (rc != -1) return rc;
        sim_sleep_us(sim, POLL_US);
    }
    return EXT_MEMBER_TIMEOUT;
}

int ext_member_step(struct raft_cfg *cfg, uint32_t mask, enum ext_member_op op, int server,
                    int64_t *cmd, sim_time_us timeout_us)
{
    int leader = ext_member_wait_leader(cfg, mask, 0, timeout_us);
    if (leader < 0) return EXT_MEMBER_TIMEOUT;
    struct raft_config to;
    raft_member_config(raft_cfg_raft(cfg, leader), &to, NULL);
    uint32_t bit = 1u << server;
    if (op == EXT_MEMBER_ADD_LEARNER) {
        to.learners |= bit;
    } else if (op == EXT_MEMBER_PROMOTE) {
        to.learners &= ~bit;
        to.voters |= bit;
    } else {
        to.learners &= ~bit;
        to.voters &= ~bit;
    }
    return ext_member_move(cfg, mask, &to, cmd, timeout_us);
}

void ext_member_run_only(struct raft_cfg *cfg, uint32_t side, enum raft_cfg_applier applier)
{
    int n = raft_cfg_servers(cfg);
    for (int i = 0; i < n; i++) {
        if (((side >> i) & 1u) == 0 && raft_cfg_raft(cfg, i) != NULL) raft_cfg_crash1(cfg, i);
    }
    for (int i = 0; i < n; i++) {
        if (((side >> i) & 1u) == 0) continue;
        if (raft_cfg_raft(cfg, i) == NULL) raft_cfg_start1(cfg, i, applier);
        raft_cfg_connect(cfg, i);
    }
}

static size_t mask_format(uint32_t mask, char *buf, size_t size)
{
    size_t used = 0;
    int w = snprintf(buf, size, "{");
    used += w > 0 ? (size_t)w : 0;
    for (int i = 0; i < 32 && used < size; i++) {
        if (((mask >> i) & 1u) == 0) continue;
        w = snprintf(buf + used, size - used, "%s%d", used > 1 ? "," : "", i);
        used += w > 0 ? (size_t)w : 0;
    }
    if (used < size) {
        w = snprintf(buf + used, size - used, "}");
        used += w > 0 ? (size_t)w : 0;
    }
    return used;
}

void ext_member_config_format(const struct raft_config *c, char *buf, size_t size)
{
    char voters[64];
    char learners[64];
    mask_format(c->voters, voters, sizeof(voters));
    mask_format(c->learners, learners, sizeof(learners));
    snprintf(buf, size, "voters %s learners %s", voters, learners);
}
