/* sc_tests: the graded shard-controller tests, ports of 6.5840's src/shardctrler/test_test.go
 * (2024): TestBasic (6 subtests), TestMinimalAgain and TestMulti (5 subtests), 12 Passed lines,
 * part 5A as the handout's lab5a target has it. Each subtest prints its title and its Passed
 * line; the first failing check ends the test.
 *
 * Where the Go test is broken, the check it means is ported (README, "Where labsim differs"):
 * cfa[3] of the historical queries is the config after the server lists were checked (Go never
 * assigns it); the minimal-transfer checks look at the groups that exist (Go looks at gids
 * 1..10, which no subtest creates); the leader wait of "Check Same config on servers" waits up
 * to 3 attempts for a new leader (Go's loop is inverted).
 */
#include <stdio.h>
#include <string.h>

#include "sc_cfg.h"

#define SC_NPARA 10 /* concurrent clerks of the concurrent subtests */

void sc_test_basic(struct lab_ctx *ctx);
void sc_test_minimal_again(struct lab_ctx *ctx);
void sc_test_multi(struct lab_ctx *ctx);

const struct lab_test lab_sc_tests[] = {
    {"TestBasic", "5A", "Basic leave/join", sc_test_basic},
    {"TestMinimalAgain", "5A", "minimal movement again", sc_test_minimal_again},
    {"TestMulti", "5A", "Multi-group join/leave", sc_test_multi},
};
const size_t lab_sc_tests_count = sizeof(lab_sc_tests) / sizeof(lab_sc_tests[0]);

static const char *const names_xyz[] = {"x", "y", "z", NULL};
static const char *const names_abc[] = {"a", "b", "c", NULL};
static const char *const names_def[] = {"d", "e", "f", NULL};
static const char *const names_jkl[] = {"j", "k", "l", NULL};

/* Query(-1) must list gid with exactly `names`. */
static void check_servers(struct sc_cfg *cfg, const struct sc_config *c, int gid,
                          const char *const *names)
{
    const struct sc_group *g = sc_config_group(c, gid);
    struct sc_group want = sc_cfg_group(gid, names);
    bool same = g != NULL && g->servers_count == want.servers_count;
    for (int i = 0; same && i < want.servers_count; i++)
        same = strcmp(g->servers[i], want.servers[i]) == 0;
    if (!same)
        lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "wrong servers for gid %d: %s\n", gid,
                   g != NULL && g->servers_count > 0 ? g->servers[0] : "[]");
}

/* What the minimal-transfer subtests mean: no shard moved onto a group that was there before
 * (after joins), or off a group that stayed (after leaves). */
static void check_minimal(struct sc_cfg *cfg, const struct sc_config *before,
                          const struct sc_config *after, bool joins)
{
    const struct sc_config *kept = joins ? before : after;
    for (int g = 0; g < kept->groups_count; g++) {
        int gid = kept->groups[g].gid;
        for (int s = 0; s < SC_NSHARDS; s++) {
            bool moved = joins ? (after->shards[s] == gid && before->shards[s] != gid)
                               : (before->shards[s] == gid && after->shards[s] != gid);
            if (moved)
                lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "non-minimal transfer after %s",
                           joins ? "Join()s" : "Leave()s");
        }
    }
}

/* ---------------------------------------------------------------- TestBasic */

static void basic_leave_join(struct sc_cfg *cfg, struct sc_clerk *ck, struct sc_config *cfa)
{
    struct sc_config *cfx = sc_cfg_scratch(cfg, sizeof(*cfx));
    const int g1[] = {1};
    const int g12[] = {1, 2};
    const int g2[] = {2};
    sc_cfg_begin(cfg, "Basic leave/join");
    sc_cfg_query(cfg, ck, -1, &cfa[0]);
    sc_cfg_check(cfg, ck, NULL, 0);
    sc_cfg_join1(cfg, ck, 1, names_xyz);
    sc_cfg_check(cfg, ck, g1, 1);
    sc_cfg_query(cfg, ck, -1, &cfa[1]);
    sc_cfg_join1(cfg, ck, 2, names_abc);
    sc_cfg_check(cfg, ck, g12, 2);
    sc_cfg_query(cfg, ck, -1, &cfa[2]);
    sc_cfg_query(cfg, ck, -1, cfx);
    check_servers(cfg, cfx, 1, names_xyz);
    check_servers(cfg, cfx, 2, names_abc);
    sc_cfg_query(cfg, ck, -1, &cfa[3]); /* Go never sets cfa[3] (see the file comment) */
    sc_cfg_leave1(cfg, ck, 1);
    sc_cfg_check(cfg, ck, g2, 1);
    sc_cfg_query(cfg, ck, -1, &cfa[4]);
    sc_cfg_leave1(cfg, ck, 2);
    sc_cfg_query(cfg, ck, -1, &cfa[5]);
    sc_cfg_end(cfg);
}

static void basic_historical(struct sc_cfg *cfg, struct sc_clerk *ck, const struct sc_config *cfa)
{
    struct sc_config *c = sc_cfg_scratch(cfg, sizeof(*c));
    sc_cfg_begin(cfg, "Historical queries");
    for (int s = 0; s < 3; s++) {
        sc_cfg_shutdown_server(cfg, s);
        for (int i = 0; i < 6; i++) {
            sc_cfg_query(cfg, ck, cfa[i].num, c);
            sc_cfg_check_same(cfg, c, &cfa[i]);
        }
        sc_cfg_start_server(cfg, s);
        sc_cfg_connect_all(cfg);
    }
    sc_cfg_end(cfg);
}

static void basic_move(struct sc_cfg *cfg, struct sc_clerk *ck)
{
    static const char *const names_3[] = {"3a", "3b", "3c", NULL};
    static const char *const names_4[] = {"4a", "4b", "4c", NULL};
    struct sc_config *cf = sc_cfg_scratch(cfg, sizeof(*cf));
    struct sc_config *cf1 = sc_cfg_scratch(cfg, sizeof(*cf1));
    const int gid3 = 503;
    const int gid4 = 504;
    sc_cfg_begin(cfg, "Move");
    sc_cfg_join1(cfg, ck, gid3, names_3);
    sc_cfg_join1(cfg, ck, gid4, names_4);
    for (int i = 0; i < SC_NSHARDS; i++) {
        int gid = i < SC_NSHARDS / 2 ? gid3 : gid4;
        sc_cfg_query(cfg, ck, -1, cf);
        sc_cfg_move(cfg, ck, i, gid);
        if (cf->shards[i] != gid) {
            sc_cfg_query(cfg, ck, -1, cf1);
            if (cf1->num <= cf->num)
                lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "Move should increase Config.Num");
        }
    }
    sc_cfg_query(cfg, ck, -1, cf);
    for (int i = 0; i < SC_NSHARDS; i++) {
        int gid = i < SC_NSHARDS / 2 ? gid3 : gid4;
        if (cf->shards[i] != gid)
            lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "expected shard %d on gid %d actually %d", i,
                       gid, cf->shards[i]);
    }
    sc_cfg_leave1(cfg, ck, gid3);
    sc_cfg_leave1(cfg, ck, gid4);
    sc_cfg_end(cfg);
}

/* One concurrent clerk's work: its clerk, its gid and the shared wait group. */
struct para {
    struct sc_cfg *cfg;
    struct sc_clerk *ck;
    int gid;
    bool multi;
    struct lab_waitgroup *wg;
};

static void para_task(struct sim *sim, void *arg)
{
    struct para *p = arg;
    char a[3][SC_SERVER_NAME_MAX];
    if (p->multi) {
        struct sc_group groups[3];
        for (int k = 0; k < 3; k++) {
            int gid = p->gid + 1000 * k;
            snprintf(a[0], sizeof(a[0]), "%da", gid);
            snprintf(a[1], sizeof(a[1]), "%db", gid);
            snprintf(a[2], sizeof(a[2]), "%dc", gid);
            const char *names[] = {a[0], a[1], a[2], NULL};
            if (k > 0) names[1] = NULL;
            groups[k] = sc_cfg_group(gid, names);
        }
        const int leaving[] = {p->gid + 1000, p->gid + 2000};
        sc_cfg_join(p->cfg, p->ck, groups, 3);
        sc_cfg_leave(p->cfg, p->ck, leaving, 2);
    } else {
        snprintf(a[0], sizeof(a[0]), "s%da", p->gid);
        snprintf(a[1], sizeof(a[1]), "s%db", p->gid);
        const char *first[] = {a[0], NULL};
        const char *second[] = {a[1], NULL};
        sc_cfg_join1(p->cfg, p->ck, p->gid + 1000, first);
        sc_cfg_join1(p->cfg, p->ck, p->gid, second);
        sc_cfg_leave1(p->cfg, p->ck, p->gid + 1000);
    }
    lab_waitgroup_done(sim, p->wg);
}

/* Runs SC_NPARA clerks at once, each joining and leaving its own groups; checks the gids. */
static void concurrent_leave_join(struct sc_cfg *cfg, struct sc_clerk *ck, bool multi)
{
    struct para *paras = sc_cfg_scratch(cfg, SC_NPARA * sizeof(*paras));
    struct lab_waitgroup *wg = sc_cfg_scratch(cfg, sizeof(*wg));
    int gids[SC_NPARA];
    lab_waitgroup_init(wg);
    for (int i = 0; i < SC_NPARA; i++) {
        gids[i] = multi ? 1000 + i : i * 10 + 100;
        paras[i] = (struct para){cfg, sc_cfg_make_client(cfg), gids[i], multi, wg};
        lab_waitgroup_add(wg, 1);
        lab_go(sc_cfg_lab(cfg), "para", para_task, &paras[i]);
    }
    lab_waitgroup_wait(sc_cfg_sim(cfg), wg);
    sc_cfg_check(cfg, ck, gids, SC_NPARA);
}

static void basic_minimal(struct sc_cfg *cfg, struct sc_clerk *ck)
{
    struct sc_config *c1 = sc_cfg_scratch(cfg, sizeof(*c1));
    struct sc_config *c2 = sc_cfg_scratch(cfg, sizeof(*c2));
    struct sc_config *c3 = sc_cfg_scratch(cfg, sizeof(*c3));
    char a[2][SC_SERVER_NAME_MAX];
    sc_cfg_begin(cfg, "Minimal transfers after joins");
    sc_cfg_query(cfg, ck, -1, c1);
    for (int i = 0; i < 5; i++) {
        int gid = SC_NPARA + 1 + i;
        snprintf(a[0], sizeof(a[0]), "%da", gid);
        snprintf(a[1], sizeof(a[1]), "%db", gid);
        const char *names[] = {a[0], a[1], a[1], NULL};
        sc_cfg_join1(cfg, ck, gid, names);
    }
    sc_cfg_query(cfg, ck, -1, c2);
    check_minimal(cfg, c1, c2, true);
    sc_cfg_end(cfg);

    sc_cfg_begin(cfg, "Minimal transfers after leaves");
    for (int i = 0; i < 5; i++)
        sc_cfg_leave1(cfg, ck, SC_NPARA + 1 + i);
    sc_cfg_query(cfg, ck, -1, c3);
    check_minimal(cfg, c2, c3, false);
    sc_cfg_end(cfg);
}

void sc_test_basic(struct lab_ctx *ctx)
{
    struct sc_cfg *cfg = sc_cfg_make(ctx, 3, false);
    struct sc_clerk *ck = sc_cfg_make_client(cfg);
    struct sc_config *cfa = sc_cfg_scratch(cfg, 6 * sizeof(*cfa));
    basic_leave_join(cfg, ck, cfa);
    basic_historical(cfg, ck, cfa);
    basic_move(cfg, ck);
    sc_cfg_begin(cfg, "Concurrent leave/join");
    concurrent_leave_join(cfg, ck, false);
    sc_cfg_end(cfg);
    basic_minimal(cfg, ck);
    sc_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- TestMinimalAgain */

/* Every shard not on `except` in `from` must be where it was; at most NShards/3 + 1 moved. */
static void check_moved(struct sc_cfg *cfg, const struct sc_config *from,
                        const struct sc_config *to, const struct sc_config *fixed, int except,
                        const char *after)
{
    int changed = 0;
    for (int i = 0; i < SC_NSHARDS; i++) {
        if (fixed->shards[i] != except && from->shards[i] != to->shards[i])
            lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE,
                       "shard %d moved from gid %d to gid %d, but shouldn't have\n", i,
                       from->shards[i], to->shards[i]);
        changed += from->shards[i] != to->shards[i];
    }
    if (changed > SC_NSHARDS / 3 + 1)
        lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "too many shards (%d) moved after %s\n", changed,
                   after);
}

void sc_test_minimal_again(struct lab_ctx *ctx)
{
    struct sc_cfg *cfg = sc_cfg_make(ctx, 3, false);
    struct sc_clerk *ck = sc_cfg_make_client(cfg);
    struct sc_config *c = sc_cfg_scratch(cfg, 3 * sizeof(*c));
    sc_cfg_begin(cfg, "minimal movement again");
    sc_cfg_join1(cfg, ck, 1, names_xyz);
    sc_cfg_join1(cfg, ck, 2, names_abc);
    sc_cfg_query(cfg, ck, -1, &c[0]);
    sc_cfg_join1(cfg, ck, 3, names_def);
    sc_cfg_query(cfg, ck, -1, &c[1]);
    check_moved(cfg, &c[0], &c[1], &c[1], 3, "join");
    sc_cfg_leave1(cfg, ck, 1);
    sc_cfg_query(cfg, ck, -1, &c[2]);
    check_moved(cfg, &c[1], &c[2], &c[1], 1, "leave");
    sc_cfg_end(cfg);
    sc_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- TestMulti */

static void multi_leave_join(struct sc_cfg *cfg, struct sc_clerk *ck)
{
    struct sc_config *cfx = sc_cfg_scratch(cfg, sizeof(*cfx));
    struct sc_group groups[2] = {sc_cfg_group(1, names_xyz), sc_cfg_group(2, names_abc)};
    struct sc_group third = sc_cfg_group(3, names_jkl);
    const int g12[] = {1, 2};
    const int g123[] = {1, 2, 3};
    const int g13[] = {1, 3};
    const int g2[] = {2};
    sc_cfg_begin(cfg, "Multi-group join/leave");
    sc_cfg_query(cfg, ck, -1, cfx);
    sc_cfg_check(cfg, ck, NULL, 0);
    sc_cfg_join(cfg, ck, groups, 2);
    sc_cfg_check(cfg, ck, g12, 2);
    sc_cfg_join(cfg, ck, &third, 1);
    sc_cfg_check(cfg, ck, g123, 3);
    sc_cfg_query(cfg, ck, -1, cfx);
    check_servers(cfg, cfx, 1, names_xyz);
    check_servers(cfg, cfx, 2, names_abc);
    check_servers(cfg, cfx, 3, names_jkl);
    sc_cfg_leave(cfg, ck, g13, 2);
    sc_cfg_check(cfg, ck, g2, 1);
    sc_cfg_query(cfg, ck, -1, cfx);
    check_servers(cfg, cfx, 2, names_abc);
    sc_cfg_leave(cfg, ck, g2, 1);
    sc_cfg_end(cfg);
}

static void multi_minimal(struct sc_cfg *cfg, struct sc_clerk *ck)
{
    struct sc_config *c = sc_cfg_scratch(cfg, 3 * sizeof(*c));
    struct sc_group *groups = sc_cfg_scratch(cfg, 5 * sizeof(*groups));
    char a[5][2][SC_SERVER_NAME_MAX];
    int gids[5];
    sc_cfg_begin(cfg, "Minimal transfers after multijoins");
    sc_cfg_query(cfg, ck, -1, &c[0]);
    for (int i = 0; i < 5; i++) {
        gids[i] = SC_NPARA + 1 + i;
        snprintf(a[i][0], sizeof(a[i][0]), "%da", gids[i]);
        snprintf(a[i][1], sizeof(a[i][1]), "%db", gids[i]);
        const char *names[] = {a[i][0], a[i][1], NULL};
        groups[i] = sc_cfg_group(gids[i], names);
    }
    sc_cfg_join(cfg, ck, groups, 5);
    sc_cfg_query(cfg, ck, -1, &c[1]);
    check_minimal(cfg, &c[0], &c[1], true);
    sc_cfg_end(cfg);

    sc_cfg_begin(cfg, "Minimal transfers after multileaves");
    sc_cfg_leave(cfg, ck, gids, 5);
    sc_cfg_query(cfg, ck, -1, &c[2]);
    check_minimal(cfg, &c[1], &c[2], false);
    sc_cfg_end(cfg);
}

static void multi_agree(struct sc_cfg *cfg, struct sc_clerk *ck)
{
    struct sc_config *c = sc_cfg_scratch(cfg, 2 * sizeof(*c));
    int leader = 0;
    sc_cfg_begin(cfg, "Check Same config on servers");
    if (!sc_cfg_leader(cfg, &leader))
        lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "Leader not found");
    sc_cfg_query(cfg, ck, -1, &c[0]);
    sc_cfg_shutdown_server(cfg, leader);
    /* What Go's inverted loop means: a new leader within three tries a second apart. */
    for (int attempts = 0; !sc_cfg_leader(cfg, &leader); attempts++) {
        if (attempts >= 3) lab_fatalf(sc_cfg_lab(cfg), SIM_NODE_NONE, "Leader not found");
        sim_sleep_us(sc_cfg_sim(cfg), SIM_S(1));
    }
    sc_cfg_query(cfg, ck, -1, &c[1]);
    sc_cfg_check_same(cfg, &c[0], &c[1]);
    sc_cfg_end(cfg);
}

void sc_test_multi(struct lab_ctx *ctx)
{
    struct sc_cfg *cfg = sc_cfg_make(ctx, 3, false);
    struct sc_clerk *ck = sc_cfg_make_client(cfg);
    multi_leave_join(cfg, ck);
    sc_cfg_begin(cfg, "Concurrent multi leave/join");
    concurrent_leave_join(cfg, ck, true);
    sc_cfg_end(cfg);
    multi_minimal(cfg, ck);
    multi_agree(cfg, ck);
    sc_cfg_cleanup(cfg);
}
