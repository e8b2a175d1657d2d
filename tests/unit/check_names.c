/* check_names: node names and the lab 5 view of the study tools.
 *
 * - kernel: the node-name table (sim_node_name_set / sim_node_name): bounds, the character
 *   set, renaming and removal, bad input refused with SIM_ENAME or SIM_EINVAL and nothing
 *   changed; names never reach the digest.
 * - file: names round-trip through a trace file ("# name" header lines, only for nodes that
 *   appear) into `labsim log` (columns and --flat), --nodes by name and `export`; a file
 *   without name lines, and a version 1 file, still read (by number); malformed name lines are
 *   refused with their line.
 * - lab5: a traced run of TestJoinLeave5B: every server of every Raft group and controller is
 *   a node of its own, named g<gid>/i and ctl/i, with its own role events; the configuration
 *   and shard-move events are there, each on a node of the group it names; `log --nodes` takes
 *   the names; `step` names the nodes, its g prints each group's leader, the configurations
 *   applied and the shard assignment, and its p prints any server's Raft state.
 * - chromium: the exported page of that run draws ten shard-ownership lanes with owner bars and
 *   move markers.
 * The tools run as the real binary (LABSIM_BIN), as a user runs them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "check_suites.h"
#include "check_util.h"
#include "lab.h"
#include "sim.h"

static const struct sim_trace_kind kind_ping = {
    777, SIM_TOPIC_CLIENT, "zz.ping", {"n", NULL, NULL, NULL, NULL, NULL}};

/* The environment of the runs: no colour hints, no width from the caller's terminal. */
static const char *const names_env[] = {"COLUMNS", "NO_COLOR", NULL};
static const struct cu_spawn names_plain = {.env = names_env};
#define names_labsim(r, ...) cu_labsim((r), &names_plain, __VA_ARGS__)

/* ---------------------------------------------------------------- kernel */

START_TEST(test_names_kernel_table)
{
    /* Goal: a name is kept as given, renamed and removed; every bad node or name is refused
     * with its own code and leaves the table as it was. */
    struct sim *sim = sim_new(1);
    ck_assert_ptr_nonnull(sim);
    ck_assert_ptr_null(sim_node_name(sim, 3));
    ck_assert_int_eq(sim_node_name_set(sim, 3, "g101/2"), SIM_OK);
    ck_assert_str_eq(sim_node_name(sim, 3), "g101/2");
    ck_assert_int_eq(sim_node_name_set(sim, 0, "abcdefghijklmno"), SIM_OK); /* 15 bytes */
    ck_assert_int_eq(sim_node_name_set(sim, SIM_NODE_NAMES_MAX - 1, "w.1_a-b:c"), SIM_OK);
    static const char *const bad[] = {"",     "abcdefghijklmnop", "1abc",     "/x", "a b", "a,b",
                                      "test", "tab\tx",           "\xc3\xa4", "-x", "g1\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!sim_node_name_valid(bad[i]), "'%s' is valid", bad[i]);
        ck_assert_int_eq(sim_node_name_set(sim, 3, bad[i]), SIM_ENAME);
        ck_assert_str_eq(sim_node_name(sim, 3), "g101/2");
    }
    ck_assert(!sim_node_name_valid(NULL));
    ck_assert_int_eq(sim_node_name_set(sim, -1, "x"), SIM_EINVAL);
    ck_assert_int_eq(sim_node_name_set(sim, SIM_NODE_NAMES_MAX, "x"), SIM_EINVAL);
    ck_assert_ptr_null(sim_node_name(sim, -1));
    ck_assert_ptr_null(sim_node_name(sim, SIM_NODE_NAMES_MAX));
    ck_assert_ptr_nonnull(strstr(sim_strerror(SIM_ENAME), "node name"));
    ck_assert_int_eq(sim_node_name_set(sim, 3, "ctl/0"), SIM_OK);
    ck_assert_str_eq(sim_node_name(sim, 3), "ctl/0");
    ck_assert_int_eq(sim_node_name_set(sim, 3, NULL), SIM_OK);
    ck_assert_ptr_null(sim_node_name(sim, 3));
    sim_free(sim);
}
END_TEST

/* Traces the same four events on nodes -1, 0, 1 and 2, with or without names for 0 and 2 (and
 * for node 5, which traces nothing). Returns the sim, left for the caller to free. */
static struct sim *names_run(bool named)
{
    struct sim *sim = sim_new(5);
    ck_assert_ptr_nonnull(sim);
    sim_trace_record(sim, SIM_TOPICS_ALL, 100);
    if (named) {
        ck_assert_int_eq(sim_node_name_set(sim, 0, "ctl/0"), SIM_OK);
        ck_assert_int_eq(sim_node_name_set(sim, 2, "g101/2"), SIM_OK);
        ck_assert_int_eq(sim_node_name_set(sim, 5, "unused"), SIM_OK);
    }
    for (int node = -1; node <= 2; node++)
        sim_trace4(sim, node, &kind_ping, node + 10, 0, 0, 0);
    return sim;
}

START_TEST(test_names_not_in_digest)
{
    /* Goal: names are labels; a run with them has the digest of the same run without. */
    struct sim *plain = names_run(false);
    struct sim *named = names_run(true);
    ck_assert_uint_eq(sim_trace_events(plain), 4);
    ck_assert_uint_eq(sim_digest(plain), sim_digest(named));
    sim_free(plain);
    sim_free(named);
}
END_TEST

/* ---------------------------------------------------------------- file */

START_TEST(test_names_trace_round_trip)
{
    /* Goal: the writer lists a name line per named node that appears (never one for a node
     * with no events), and log, --nodes and export show the names; unnamed nodes keep their
     * numbers. */
    struct cu_dir dir;
    char path[160];
    struct cu_run r;
    cu_dir_make(&dir, "names");
    cu_dir_file(&dir, "n.trace", path, sizeof(path));
    struct sim *sim = names_run(true);
    ck_assert_int_eq(sim_trace_write(sim, path, "TestNames"), SIM_OK);
    sim_free(sim);
    char *text = cu_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "# nodes -1 0 1 2\n# name 0 ctl/0\n# name 2 g101/2\nK "));
    ck_assert_ptr_null(strstr(text, "unused"));
    free(text);
    names_labsim(&r, "log", path, "--flat");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "     0.000 test zz.ping n=9\n"
                            "     0.000 ctl/0 zz.ping n=10\n"
                            "     0.000 1    zz.ping n=11\n"
                            "     0.000 g101/2 zz.ping n=12\n");
    cu_run_free(&r);
    names_labsim(&r, "log", path, "--width", "100");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, " time (s) test"));
    ck_assert_ptr_nonnull(strstr(r.out, "ctl/0"));
    ck_assert_ptr_nonnull(strstr(r.out, "node 1"));
    ck_assert_ptr_nonnull(strstr(r.out, "g101/2\n"));
    cu_run_free(&r);
    names_labsim(&r, "log", path, "--flat", "--nodes", "g101/2,1");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "     0.000 1    zz.ping n=11\n"
                            "     0.000 g101/2 zz.ping n=12\n");
    cu_run_free(&r);
    names_labsim(&r, "log", path, "--nodes", "g102/0");
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err,
                     "labsim log: no node g102/0 in this trace (nodes: test,ctl/0,1,g101/2)\n");
    cu_run_free(&r);
    names_labsim(&r, "log", path, "--nodes", "g1 x");
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, "bad node 'g1 x'"));
    cu_run_free(&r);
    names_labsim(&r, "export", path, "-o", "-");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"name\":\"ctl/0 (node 0)\""));
    ck_assert_ptr_nonnull(strstr(r.out, "\"name\":\"node 1\""));
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* Copies the trace at `from` to `to` without its name lines and with a new end digest, as the
 * writer made files before names existed. */
static void names_strip(const char *from, const char *to)
{
    char *text = cu_read_file(from, NULL);
    size_t len = strlen(text);
    char *out = malloc(len + 64);
    ck_assert_ptr_nonnull(out);
    size_t out_len = 0;
    for (const char *p = text; *p != '\0';) {
        const char *end = strchr(p, '\n');
        ck_assert_ptr_nonnull(end);
        size_t line = (size_t)(end - p) + 1;
        bool keep = strncmp(p, "# name ", 7) != 0 && strncmp(p, "# end ", 6) != 0;
        if (keep) {
            memcpy(out + out_len, p, line);
            out_len += line;
        }
        p += line;
    }
    XXH64_hash_t digest = XXH3_64bits(out, out_len);
    out_len += (size_t)snprintf(out + out_len, 64, "# end %016llx\n", (unsigned long long)digest);
    cu_write_file(to, out, out_len);
    free(out);
    free(text);
}

START_TEST(test_names_old_traces_read)
{
    /* Goal: a version 2 file without name lines (as written before names) and a version 1
     * file read as before: every node by its number. */
    struct cu_dir dir;
    char named[160];
    char plain[160];
    char v1[160];
    struct cu_run r;
    cu_dir_make(&dir, "names");
    cu_dir_file(&dir, "named.trace", named, sizeof(named));
    cu_dir_file(&dir, "plain.trace", plain, sizeof(plain));
    struct sim *sim = names_run(true);
    ck_assert_int_eq(sim_trace_write(sim, named, "TestNames"), SIM_OK);
    sim_free(sim);
    names_strip(named, plain);
    names_labsim(&r, "log", plain, "--flat");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "     0.000 test zz.ping n=9\n"
                            "     0.000 0    zz.ping n=10\n"
                            "     0.000 1    zz.ping n=11\n"
                            "     0.000 2    zz.ping n=12\n");
    cu_run_free(&r);
    const char *old = "# labsim-trace 1\n# title TestOld\n# seed 1\n# digest 0123456789abcdef\n"
                      "K 777 client zz.ping n\nE 10 2 777 4\t\n";
    cu_write_file(cu_dir_file(&dir, "v1.trace", v1, sizeof(v1)), old, strlen(old));
    names_labsim(&r, "log", v1, "--flat");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_str_eq(r.out, "     0.000 2    zz.ping n=4\n");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* Malformed name lines: each is refused with its line and what is wrong. */
static const struct {
    const char *lines; /* after "# labsim-trace 2", the events line and "# nodes -1 0 1" */
    int line;
    const char *says;
} names_bad[] = {
    {"# name 2 x\n", 4, "name for node '2', which is not listed"},
    {"# name -1 x\n", 4, "name for node '-1'"},
    {"# name 0 1x\n", 4, "bad node name '1x'"},
    {"# name 0 test\n", 4, "bad node name 'test'"},
    {"# name 0 abcdefghijklmnop\n", 4, "bad node name"},
    {"# name 0 a\n# name 0 b\n", 5, "node 0 is named twice"},
    {"# name 0 a\n# name 1 a\n", 5, "two nodes are named 'a'"},
    {"# name 0\n", 4, "malformed name line"},
    {"# name 0 a b\n", 4, "malformed name line"},
};

START_TEST(test_names_bad_lines)
{
    /* Goal: a damaged name line stops the read with "FILE:LINE: problem", exit 2. */
    struct cu_dir dir;
    char path[160];
    char text[512];
    char want[256];
    struct cu_run r;
    cu_dir_make(&dir, "names");
    cu_dir_file(&dir, "bad.trace", path, sizeof(path));
    snprintf(text, sizeof(text), "# labsim-trace 2\n# events 0 recorded 0\n# nodes -1 0 1\n%s",
             names_bad[_i].lines);
    cu_write_file(path, text, strlen(text));
    names_labsim(&r, "log", path);
    ck_assert_int_eq(r.status, 2);
    snprintf(want, sizeof(want), "labsim: %s:%d: %s", path, names_bad[_i].line, names_bad[_i].says);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "want '%s', got '%s'", want, r.err);
    cu_run_free(&r);
    /* A name line before the nodes line names nothing yet. */
    const char *early = "# labsim-trace 2\n# name 0 a\n# nodes -1 0\n";
    cu_write_file(path, early, strlen(early));
    names_labsim(&r, "log", path);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.err, ":2: a name line before the '# nodes' line"));
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- lab 5 */

/* Writes the trace of TestJoinLeave5B, seed 1, to `path`. */
static void names_lab5_trace(const char *path)
{
    const struct lab_test *test = lab_test_find("TestJoinLeave5B");
    ck_assert_ptr_nonnull(test);
    struct lab_opts opts = {.trace_path = path, .trace_topics = SIM_TOPICS_ALL};
    struct lab_result result;
    ck_assert_int_eq(lab_run(test, 1, &opts, &result), SIM_OK);
    ck_assert_msg(result.outcome == LAB_PASS, "%s", result.message);
}

/* The kind id the trace's K line gives `name`, or -1 ("K <id> <topic> <name> <field>..."). */
static int names_kind_id(const char *text, const char *name)
{
    char topic[32];
    char kind[80];
    int id = -1;
    for (const char *p = strstr(text, "\nK "); p != NULL; p = strstr(p + 1, "\nK ")) {
        if (sscanf(p + 1, "K %d %31s %79s", &id, topic, kind) == 3 && strcmp(kind, name) == 0)
            return id;
    }
    return -1;
}

/* The gid in the name of `node` ("g101/2" is 101); 0 for a controller or no name. */
static int names_gid_of(const char *text, int node)
{
    char want[32];
    snprintf(want, sizeof(want), "\n# name %d g", node);
    const char *at = strstr(text, want);
    return at != NULL ? atoi(at + strlen(want)) : 0;
}

/* What the E lines of the trace say, per node: role events, and move events whose own group
 * (to_gid for receive, from_gid for send and delete) is not the node's. */
struct names_scan {
    int role; /* kind ids */
    int receive;
    int send;
    int del;
    int assign;
    int config;
    int roles[SIM_NODE_NAMES_MAX];
    int moves;
    int moves_elsewhere;
    int assigns;
    int configs;
};

static void names_scan_line(const char *text, const char *line, struct names_scan *sc)
{
    long long at = 0;
    int node = 0;
    int kind = 0;
    long long v[4] = {0, 0, 0, 0};
    int n = sscanf(line, "E %lld %d %d %lld %lld %lld %lld", &at, &node, &kind, &v[0], &v[1], &v[2],
                   &v[3]);
    ck_assert_int_ge(n, 3);
    if (kind == sc->role && node >= 0 && node < (int)SIM_NODE_NAMES_MAX) sc->roles[node]++;
    sc->assigns += kind == sc->assign;
    sc->configs += kind == sc->config;
    if (kind != sc->receive && kind != sc->send && kind != sc->del) return;
    ck_assert_int_eq(n, 7); /* num shard from_gid to_gid */
    sc->moves++;
    long long own = kind == sc->receive ? v[3] : v[2];
    sc->moves_elsewhere += own != names_gid_of(text, node);
}

START_TEST(test_names_lab5_trace)
{
    /* Goal: in a lab 5 trace each Raft server is a node of its own with its name, and the
     * configuration and move events appear, each on a server of the group it speaks for. */
    struct cu_dir dir;
    char path[160];
    cu_dir_make(&dir, "names");
    names_lab5_trace(cu_dir_file(&dir, "jl.trace", path, sizeof(path)));
    char *text = cu_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\n# nodes -1 0 1 2 6 7 8 9 10 11 12 13 14\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n# name 0 ctl/0\n# name 1 ctl/1\n# name 2 ctl/2\n"
                                       "# name 6 g100/0\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n# name 11 g101/2\n"));
    static const char *const kinds[] = {"sc.config", "sc.assign",   "skv.config",
                                        "skv.send",  "skv.receive", "skv.delete"};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        ck_assert_msg(names_kind_id(text, kinds[k]) > 0, "no %s events", kinds[k]);
    struct names_scan sc;
    memset(&sc, 0, sizeof(sc));
    sc.role = names_kind_id(text, "raft.role");
    sc.receive = names_kind_id(text, "skv.receive");
    sc.send = names_kind_id(text, "skv.send");
    sc.del = names_kind_id(text, "skv.delete");
    sc.assign = names_kind_id(text, "sc.assign");
    sc.config = names_kind_id(text, "skv.config");
    for (const char *p = strstr(text, "\nE "); p != NULL; p = strstr(p + 1, "\nE "))
        names_scan_line(text, p + 1, &sc);
    /* Every server of the controller and of the three groups traced its own role changes;
     * nothing landed on the nodes of the second controller service, which this test never
     * starts. */
    static const int servers[] = {0, 1, 2, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++)
        ck_assert_msg(sc.roles[servers[i]] > 0, "no role events on node %d", servers[i]);
    for (int node = 3; node <= 5; node++)
        ck_assert_int_eq(sc.roles[node], 0);
    ck_assert_int_ge(sc.assigns, 10); /* config 1 gives every shard to the first group */
    ck_assert_int_gt(sc.configs, 0);
    ck_assert_int_gt(sc.moves, 0);
    ck_assert_int_eq(sc.moves_elsewhere, 0);
    free(text);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_names_lab5_log_and_step)
{
    /* Goal: log takes a lab 5 trace's names for --nodes and shows them; step names the nodes
     * and its g shows each group's leader, the configurations applied and the shards. */
    struct cu_dir dir;
    char path[160];
    struct cu_run r;
    cu_dir_make(&dir, "names");
    names_lab5_trace(cu_dir_file(&dir, "jl.trace", path, sizeof(path)));
    names_labsim(&r, "log", path, "--flat", "--nodes", "g101/2", "--topics", "role");
    ck_assert_msg(r.status == 0, "%s", r.err);
    ck_assert_uint_gt(r.out_len, 0);
    ck_assert_uint_eq(cu_count(r.out, "\n"), cu_count(r.out, " g101/2 raft.role "));
    cu_run_free(&r);
    const struct cu_spawn how = {.env = names_env, .input = "e\ng\nt 1.5\ng\np 11\np 4\nq\n"};
    cu_labsim(&r, &how, "step", "TestJoinLeave5B", "--seed", "1", "--topics", "role");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "   0.000000 g101/2 raft.role term=0 role=follower\n"));
    ck_assert_ptr_nonnull(strstr(r.out, " (ctl/1) became leader of term 1\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "\n  ctl    leader: ctl/1 (term 1)\n"));
    const char *later = strstr(r.out, "-- groups at 1.500000 s virtual:\n");
    ck_assert_ptr_nonnull(later);
    static const char *const groups[] = {"\n  ctl    leader: ctl/", "\n  g100   leader: g100/",
                                         "\n  g101   leader: g101/", "\n  g102   leader: g102/"};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        ck_assert_msg(strstr(later, groups[i]) != NULL, "no '%s' in:\n%s", groups[i] + 1, later);
    ck_assert_ptr_nonnull(strstr(later, "; config applied: g100/0 "));
    ck_assert_ptr_nonnull(strstr(later, "\n  shards in config "));
    ck_assert_ptr_nonnull(strstr(later, " 9:10"));
    /* p reads a server's Raft through raft.h; the second controller service never started. */
    ck_assert_ptr_nonnull(strstr(later, "\nnode 11 (g101/2, group server): "));
    ck_assert_ptr_nonnull(strstr(later, "\n  log: snapshot through "));
    ck_assert_ptr_nonnull(
        strstr(later, "\nnode 4 (ctl1/1, controller, never started): not running"));
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- chromium */

START_TEST(test_names_lab5_html_owners)
{
    /* Goal: the exported page of a lab 5 run names its lanes and, rendered, draws one lane per
     * shard with the owning groups' bars and a marker per move; a Raft-only page draws none. */
    struct cu_dir dir;
    char path[160];
    char page[160];
    struct cu_run r;
    cu_chromium();
    cu_dir_make(&dir, "names");
    names_lab5_trace(cu_dir_file(&dir, "jl.trace", path, sizeof(path)));
    cu_dir_file(&dir, "jl.html", page, sizeof(page));
    names_labsim(&r, "export", path, "--format", "html", "-o", page);
    ck_assert_msg(r.status == 0, "%s", r.err);
    cu_run_free(&r);
    char *html = cu_read_file(page, NULL);
    ck_assert_ptr_nonnull(strstr(html, "\"names\":[\"\",\"ctl/0\",\"ctl/1\",\"ctl/2\",\"g100/0\""));
    free(html);
    cu_chromium_render(&r, &dir, page, NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "data-shard-lanes=\"10\""));
    ck_assert_ptr_null(strstr(r.out, "data-owners=\"0\""));
    ck_assert_ptr_null(strstr(r.out, "data-moves=\"0\""));
    ck_assert_ptr_nonnull(strstr(r.out, "data-owners=\""));
    ck_assert_ptr_nonnull(strstr(r.out, ">g101/2</text>"));
    ck_assert_ptr_nonnull(strstr(r.out, ">shard 9</text>"));
    cu_run_free(&r);
    /* The same page with only the Raft topics: no sc.assign events, no shard lanes. */
    names_labsim(&r, "export", path, "--format", "html", "-o", page, "--topics", "role,net");
    ck_assert_msg(r.status == 0, "%s", r.err);
    cu_run_free(&r);
    cu_chromium_render(&r, &dir, page, NULL);
    ck_assert_ptr_nonnull(strstr(r.out, "data-lanes=\""));
    ck_assert_ptr_null(strstr(r.out, "data-shard-lanes=\""));
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

Suite *names_suite(void)
{
    Suite *s = suite_create("names");
    TCase *tc = tcase_create("kernel");
    tcase_add_test(tc, test_names_kernel_table);
    tcase_add_test(tc, test_names_not_in_digest);
    suite_add_tcase(s, tc);
    tc = tcase_create("file");
    tcase_add_test(tc, test_names_trace_round_trip);
    tcase_add_test(tc, test_names_old_traces_read);
    tcase_add_loop_test(tc, test_names_bad_lines, 0, sizeof(names_bad) / sizeof(names_bad[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("lab5");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_names_lab5_trace);
    tcase_add_test(tc, test_names_lab5_log_and_step);
    suite_add_tcase(s, tc);
    tc = tcase_create("chromium");
    tcase_set_timeout(tc, 4 * 90);
    tcase_add_test(tc, test_names_lab5_html_owners);
    suite_add_tcase(s, tc);
    return s;
}
