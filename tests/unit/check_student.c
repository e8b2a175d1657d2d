/* check_student: a student's path through the Raft lab, end to end, from files outside the
 * repository, as a student takes it:
 *  - `labsim init raft DIR` writes the skeleton (byte for byte tools/skel/raft.c) and refuses
 *    bad input with one line and the right exit status, never overwriting without --force;
 *  - that skeleton, built with `make RAFT_IMPL=DIR/raft.c`, fails 3A the way an empty Raft
 *    should: the lab's own messages, exit 1, no crash;
 *  - the filled copy (tests/data/student/raft/raft.c) keeps the skeleton's scaffolding: every
 *    skeleton line outside its TODO comments and TODO-marked lines appears in it, in order;
 *  - the filled copy, copied to a scratch directory and built from there, passes every 3A-3D
 *    test on seeds 1-3, and `labsim log` and `labsim step` (e, c, b) find its role, vote and
 *    commit events;
 *  - a copy with its trace calls compiled out: step's `e` says the run has no role events;
 *  - in this process: the raft_trace_* calls emit exactly the kinds the tools know (ids
 *    200-214, names, topics, fields), with numbers past INT64_MAX clamped.
 * The builds share one scratch build directory (an unchecked fixture makes it), so after the
 * first only the Raft file is compiled again. LABSIM_ROOT names the repository. The other labs'
 * skeletons (mr, kvsrv, kvraft, shardctrler, shardkv) are tested by check_student_labs.c, in
 * this suite too.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "raft.h"
#include "sim.h"

#define ST_BUILD_TIMEOUT_S 900
#define ST_RUN_TIMEOUT_S 600
#define ST_PATH_MAX 600

/* The scratch build directory shared by the tests of the "end to end" case ("" when making it
 * failed; each test then fails saying so). */
static char st_build_dir[256];

static void st_build_dir_make(void)
{
    cu_scratch_make(st_build_dir, sizeof(st_build_dir), "student");
}

static void st_build_dir_remove(void)
{
    cu_scratch_remove(st_build_dir);
}

static const char *st_root(void)
{
    const char *root = getenv("LABSIM_ROOT");
    return root != NULL ? root : ".";
}

static char *st_read_repo_file(const char *rel)
{
    char path[ST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", st_root(), rel);
    return cu_read_file(path, NULL);
}

/* Builds labsim against `impl` (a .c path) into the shared build directory, as a student
 * would; its path into bin. */
static void st_build(const char *impl, char *bin, size_t bin_size)
{
    ck_assert_msg(st_build_dir[0] != '\0', "no scratch build directory (mkdtemp failed)");
    cu_build_labsim(cu_shared_build(), impl, bin, bin_size, ST_BUILD_TIMEOUT_S);
}

/* Runs `bin ARGS...` (NULL-terminated, at most 10) in d with stdin `input` into r. */
static void st_run(struct cu_run *r, const struct cu_dir *d, const char *input, const char *bin,
                   const char *const *args)
{
    char *argv[12];
    size_t n = 0;
    argv[n++] = (char *)bin;
    for (size_t i = 0; args[i] != NULL && n < 11; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    struct cu_spawn how = {.cwd = d->path, .input = input, .timeout_s = ST_RUN_TIMEOUT_S};
    cu_run(r, argv, &how);
}

/* `labsim init raft SUB` in d into r (SUB relative to d). */
static void st_init(struct cu_run *r, const struct cu_dir *d, const char *sub, bool force)
{
    static const char *const plain[] = {"init", "raft", NULL, NULL, NULL};
    const char *args[5];
    memcpy(args, plain, sizeof(args));
    args[2] = sub;
    if (force) args[3] = "--force";
    st_run(r, d, NULL, cu_labsim_bin(), args);
}

/* ---------------------------------------------------------------- init */

START_TEST(test_student_init_writes_the_skeleton)
{
    /* Goal: init writes tools/skel/raft.c as it is, creates a missing directory, and prints
     * the make line that grades the file it wrote. */
    struct cu_dir d;
    cu_dir_make(&d, "init");
    struct cu_run r;
    st_init(&r, &d, "mine", false);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    char path[ST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/mine/raft.c", d.path);
    char *written = cu_read_file(path, NULL);
    char *skel = st_read_repo_file("tools/skel/raft.c");
    ck_assert_msg(strcmp(written, skel) == 0, "init did not write tools/skel/raft.c as it is");
    char make_line[ST_PATH_MAX + 64];
    snprintf(make_line, sizeof(make_line), "make grade RAFT_IMPL=\"%s\" BUILD=", path);
    ck_assert_msg(strstr(r.out, make_line) != NULL, "no '%s' in:\n%s", make_line, r.out);
    free(written);
    free(skel);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_student_init_bad_input)
{
    /* Goal: each bad input is one line on stderr with exit 2 (arguments) or 1 (cannot write),
     * and an existing file survives unless --force. */
    struct cu_dir d;
    cu_dir_make(&d, "init-bad");
    char path[ST_PATH_MAX];
    cu_write_file(cu_dir_file(&d, "afile", path, sizeof(path)), "x", 1);
    static const struct {
        const char *args[4];
        int status;
        const char *says;
    } cases[] = {
        {{"init", NULL}, 2, "needs a lab and a directory"},
        {{"init", "raft", NULL}, 2, "needs a lab and a directory"},
        {{"init", "paxos", "x", NULL}, 2, "unknown lab 'paxos'"},
        {{"init", "raft", "afile", NULL}, 2, "'afile' exists and is not a directory"},
        {{"init", "raft", "no/such/dir", NULL}, 1, "cannot create directory 'no/such/dir'"},
        {{"init", "raft", "x", "--bogus"}, 2, "--bogus"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[5] = {cases[i].args[0], cases[i].args[1], cases[i].args[2],
                               cases[i].args[3], NULL};
        struct cu_run r;
        st_run(&r, &d, NULL, cu_labsim_bin(), args);
        ck_assert_msg(r.status == cases[i].status, "case %zu: exit %d, want %d: %s", i, r.status,
                      cases[i].status, r.err);
        ck_assert_msg(strstr(r.err, cases[i].says) != NULL, "case %zu: %s", i, r.err);
        ck_assert_msg(cu_count(r.err, "\n") == 1, "case %zu: not one line: %s", i, r.err);
        cu_run_free(&r);
    }
    /* An existing raft.c: kept without --force (exit 1), replaced with it. */
    char sub[sizeof(d.path) + 8];
    cu_dir_file(&d, "mine", sub, sizeof(sub));
    struct cu_run r;
    st_init(&r, &d, "mine", false);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    snprintf(path, sizeof(path), "%s/raft.c", sub);
    cu_write_file(path, "my work\n", 8);
    st_init(&r, &d, "mine", false);
    ck_assert_msg(r.status == 1 && strstr(r.err, "exists; not overwritten") != NULL, "%d: %s",
                  r.status, r.err);
    cu_run_free(&r);
    char *kept = cu_read_file(path, NULL);
    ck_assert_str_eq(kept, "my work\n");
    free(kept);
    st_init(&r, &d, "mine", true);
    ck_assert_msg(r.status == 0, "--force: exit %d: %s", r.status, r.err);
    cu_run_free(&r);
    char *replaced = cu_read_file(path, NULL);
    ck_assert_msg(strncmp(replaced, "/* raft.c:", 10) == 0, "--force did not replace the file");
    free(replaced);
    cu_dir_remove(&d);
}
END_TEST

/* ---------------------------------------------------------------- the filled copy's shape */

/* The next line of *text (without its newline) into line; false at the end. */
static bool st_next_line(const char **text, char *line, size_t size)
{
    if (**text == '\0') return false;
    const char *end = strchr(*text, '\n');
    size_t len = end != NULL ? (size_t)(end - *text) : strlen(*text);
    snprintf(line, size, "%.*s", (int)len, *text);
    *text += len + (end != NULL ? 1 : 0);
    return true;
}

/* Whether the skeleton line is scaffolding the filled copy must keep: not blank, not a line
 * that says TODO, not inside a comment that starts with "TODO". */
static bool st_scaffolding(const char *line, bool *in_todo)
{
    if (*in_todo) {
        if (strstr(line, "*/") != NULL) *in_todo = false;
        return false;
    }
    if (strstr(line, "TODO") != NULL) {
        *in_todo = strstr(line, "/* TODO") != NULL && strstr(line, "*/") == NULL;
        return false;
    }
    return line[strspn(line, " \t")] != '\0';
}

START_TEST(test_student_filled_copy_keeps_the_skeleton)
{
    /* Goal: the filled copy grew from the skeleton: every scaffolding line of the skeleton is
     * in it, in the same order (so what the tests prove of the copy holds for a skeleton
     * filled in, and a skeleton change that the copy does not follow fails here). */
    char *skel = st_read_repo_file("tools/skel/raft.c");
    char *filled = st_read_repo_file("tests/data/student/raft/raft.c");
    const char *s = skel;
    const char *f = filled;
    char line[512];
    char have[512];
    bool in_todo = false;
    size_t kept = 0;
    while (st_next_line(&s, line, sizeof(line))) {
        if (!st_scaffolding(line, &in_todo)) continue;
        bool found = false;
        while (!found && st_next_line(&f, have, sizeof(have)))
            found = strcmp(line, have) == 0;
        ck_assert_msg(found, "skeleton line %zu not in the filled copy (in order): '%s'", kept + 1,
                      line);
        kept++;
    }
    ck_assert_msg(kept > 300, "only %zu scaffolding lines: is the skeleton there?", kept);
    free(skel);
    free(filled);
}
END_TEST

/* ---------------------------------------------------------------- end to end */

START_TEST(test_student_skeleton_fails_cleanly)
{
    /* Goal: from an empty directory, init + a build against the written file gives a labsim
     * that runs 3A and fails it the lab's way: every test's own message, exit 1, no crash. */
    struct cu_dir d;
    cu_dir_make(&d, "skel");
    struct cu_run r;
    st_init(&r, &d, "mine", false);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    char impl[ST_PATH_MAX];
    char bin[ST_PATH_MAX];
    snprintf(impl, sizeof(impl), "%s/mine/raft.c", d.path);
    st_build(impl, bin, sizeof(bin));
    static const char *const args[] = {"run", "3A", "--jobs", "2", NULL};
    st_run(&r, &d, NULL, bin, args);
    ck_assert_msg(r.status == 1, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    cu_assert_no_crash(&r);
    ck_assert_uint_eq(cu_count(r.out, "expected one leader, got none"), 3);
    ck_assert_ptr_nonnull(strstr(r.out, "--- FAIL: TestInitialElection3A (seed 1)"));
    ck_assert_ptr_nonnull(strstr(r.out, "0 passed, 3 failed"));
    cu_run_free(&r);
    /* Raft options (raft_ext.h) are for labsim's own Raft: a raft.h-only one is refused rather
     * than graded "with pre-vote" it never had. */
    static const char *const opt_args[] = {"run", "TestInitialElection3A", "--raft-opts",
                                           "pre-vote", NULL};
    st_run(&r, &d, NULL, bin, opt_args);
    ck_assert_msg(r.status == 1, "exit %d; stdout: %s", r.status, r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "this Raft does not read raft_ext.h options"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* Copies the filled Raft to d/mine/raft.c (outside the repository) and builds against it. */
static void st_build_filled(const struct cu_dir *d, const char *prelude, char *bin, size_t bin_size)
{
    char dir[ST_PATH_MAX];
    char impl[ST_PATH_MAX + 8];
    cu_dir_file(d, "mine", dir, sizeof(dir));
    char *mkdir_argv[] = {"/bin/mkdir", "-p", dir, NULL};
    struct cu_run r;
    cu_run(&r, mkdir_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    char *filled = st_read_repo_file("tests/data/student/raft/raft.c");
    const char *anchor = "#include \"raft.h\"\n";
    char *at = strstr(filled, anchor);
    ck_assert_msg(at != NULL, "no '#include \"raft.h\"' in the filled copy");
    size_t head = (size_t)(at - filled) + strlen(anchor);
    size_t total = strlen(filled) + strlen(prelude);
    char *text = malloc(total + 1);
    ck_assert_ptr_nonnull(text);
    snprintf(text, total + 1, "%.*s%s%s", (int)head, filled, prelude, filled + head);
    snprintf(impl, sizeof(impl), "%s/raft.c", dir);
    cu_write_file(impl, text, strlen(text));
    free(text);
    free(filled);
    st_build(impl, bin, bin_size);
}

START_TEST(test_student_filled_copy_passes_and_is_traced)
{
    /* Goal: the skeleton filled in passes every 3A-3D test on three seeds, and the study tools
     * see it as they see ours: log finds its roles, votes and commits in a recorded trace, and
     * step's e, b and c stop on them. */
    struct cu_dir d;
    cu_dir_make(&d, "filled");
    char bin[ST_PATH_MAX];
    st_build_filled(&d, "", bin, sizeof(bin));
    struct cu_run r;
    static const char *const run_args[] = {"run", "*3[A-D]", "--seeds", "3", "--jobs", "2", NULL};
    st_run(&r, &d, NULL, bin, run_args);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "84 passed, 0 failed"));
    cu_run_free(&r);

    static const char *const replay_args[] = {"replay",  "TestBasicAgree3B", "--seed", "1",
                                              "--trace", "basic.trace",      NULL};
    st_run(&r, &d, NULL, bin, replay_args);
    ck_assert_msg(r.status == 0, "replay: exit %d: %s", r.status, r.err);
    cu_run_free(&r);
    static const char *const log_args[] = {"log",      "basic.trace",      "--flat",
                                           "--topics", "role,vote,commit", NULL};
    st_run(&r, &d, NULL, bin, log_args);
    ck_assert_msg(r.status == 0, "log: exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, " raft.role term=1 role=candidate"));
    ck_assert_ptr_nonnull(strstr(r.out, " raft.role term=1 role=leader"));
    ck_assert_ptr_nonnull(strstr(r.out, " raft.vote_request term=1 "));
    ck_assert_ptr_nonnull(strstr(r.out, " raft.vote_grant term=1 "));
    ck_assert_ptr_nonnull(strstr(r.out, " raft.commit index=1 term=1"));
    cu_run_free(&r);

    static const char *const step_args[] = {"step", "TestBasicAgree3B", "--topics", "role", NULL};
    st_run(&r, &d, "b vote\ne\nc\np 0\nq\n", bin, step_args);
    ck_assert_msg(r.status == 0, "step: exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, " events: raft.vote_request on node "));
    ck_assert_ptr_nonnull(strstr(r.out, " became leader of term 1\n"));
    ck_assert_ptr_nonnull(strstr(r.out, " events: raft.commit on node "));
    ck_assert_ptr_nonnull(strstr(r.out, "node 0: "));
    ck_assert_ptr_null(strstr(r.out, "no role events"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_student_step_without_role_events_says_so)
{
    /* Goal: on a Raft that never calls the trace API, step's e stops (within the lab's 5 s
     * election budget of virtual time) and says there are no role events, naming raft.h,
     * rather than running silently to the end of the run. */
    static const char *const names[] = {"role",
                                        "election_timeout",
                                        "vote_request",
                                        "vote",
                                        "append",
                                        "truncate",
                                        "commit",
                                        "apply",
                                        "apply_snapshot",
                                        "persist",
                                        "snapshot_taken",
                                        "snapshot_installed",
                                        "reject",
                                        "note",
                                        NULL};
    char prelude[2048] = "\n";
    for (size_t i = 0; names[i] != NULL; i++) {
        size_t used = strlen(prelude);
        snprintf(prelude + used, sizeof(prelude) - used, "#define raft_trace_%s(...) ((void)0)\n",
                 names[i]);
    }
    struct cu_dir d;
    cu_dir_make(&d, "notrace");
    char bin[ST_PATH_MAX];
    st_build_filled(&d, prelude, bin, sizeof(bin));
    struct cu_run r;
    static const char *const step_args[] = {"step", "TestBackup3B", NULL};
    st_run(&r, &d, "e\nq\n", bin, step_args);
    ck_assert_msg(r.status == 0, "step: exit %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "-- at 5.000000 s virtual") != NULL, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "no role events in this run so far"));
    ck_assert_ptr_nonnull(strstr(r.out, "raft/raft.h"));
    ck_assert_ptr_nonnull(strstr(r.out, "-- left at 5.000000 s virtual"));
    ck_assert_ptr_null(strstr(r.out, "raft.role"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* ---------------------------------------------------------------- the trace API */

START_TEST(test_student_trace_api_kinds)
{
    /* Goal: each raft_trace_* call records the kind the tools know (id, name, topic, fields
     * in order), on node `me`, with its values; numbers past INT64_MAX are clamped. */
    struct sim *sim = sim_new(1);
    ck_assert_ptr_nonnull(sim);
    sim_trace_record(sim, SIM_TOPICS_ALL, 64);
    raft_trace_role(sim, 2, 7, RAFT_LEADER);
    raft_trace_election_timeout(sim, 2, 6);
    raft_trace_vote_request(sim, 2, 7, 1, 10, 6);
    raft_trace_vote(sim, 1, 7, 2, true);
    raft_trace_vote(sim, 0, 7, 2, false);
    raft_trace_append(sim, 2, 11, 7);
    raft_trace_truncate(sim, 0, 9, 12);
    raft_trace_commit(sim, 2, UINT64_MAX, 7);
    raft_trace_apply(sim, 2, 11);
    raft_trace_persist(sim, 2, 300, 40);
    raft_trace_snapshot_taken(sim, 2, 10, 6);
    raft_trace_snapshot_installed(sim, 0, 10, 6);
    raft_trace_apply_snapshot(sim, 0, 10, 6);
    raft_trace_reject(sim, 0, 1, "bad AppendEntries args");
    raft_trace_note(sim, 1, "next_index[%d] = %d", 2, 5);
    static const struct {
        unsigned id;
        enum sim_topic topic;
        const char *name;
        int node;
        const char *fields;
        int64_t v[4];
    } want[] = {
        {200, SIM_TOPIC_ROLE, "raft.role", 2, "term role", {7, 2}},
        {201, SIM_TOPIC_TIMER, "raft.election_timeout", 2, "term", {6}},
        {202,
         SIM_TOPIC_VOTE,
         "raft.vote_request",
         2,
         "term peer last_index last_term",
         {7, 1, 10, 6}},
        {203, SIM_TOPIC_VOTE, "raft.vote_grant", 1, "term candidate", {7, 2}},
        {204, SIM_TOPIC_VOTE, "raft.vote_deny", 0, "term candidate", {7, 2}},
        {205, SIM_TOPIC_LOG, "raft.append", 2, "index term", {11, 7}},
        {206, SIM_TOPIC_LOG, "raft.truncate", 0, "from_index last_index", {9, 12}},
        {207, SIM_TOPIC_COMMIT, "raft.commit", 2, "index term", {INT64_MAX, 7}},
        {208, SIM_TOPIC_APPLY, "raft.apply", 2, "index", {11}},
        {209, SIM_TOPIC_PERSIST, "raft.persist", 2, "state_bytes snapshot_bytes", {300, 40}},
        {210, SIM_TOPIC_SNAP, "raft.snapshot_taken", 2, "index term", {10, 6}},
        {211, SIM_TOPIC_SNAP, "raft.snapshot_installed", 0, "index term", {10, 6}},
        {212, SIM_TOPIC_APPLY, "raft.apply_snapshot", 0, "index term", {10, 6}},
        {213, SIM_TOPIC_NET, "raft.reject", 0, "peer", {1}},
        {214, SIM_TOPIC_TEST, "raft.note", 1, "", {0}},
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    ck_assert_uint_eq(sim_trace_count(sim), n);
    for (size_t i = 0; i < n; i++) {
        const struct sim_trace_rec *rec = sim_trace_at(sim, i);
        ck_assert_uint_eq(rec->kind->id, want[i].id);
        ck_assert_int_eq(rec->kind->topic, want[i].topic);
        ck_assert_str_eq(rec->kind->name, want[i].name);
        ck_assert_int_eq(rec->node, want[i].node);
        char fields[128] = "";
        for (size_t f = 0; f < SIM_TRACE_FIELDS_MAX && rec->kind->fields[f] != NULL; f++) {
            size_t used = strlen(fields);
            snprintf(fields + used, sizeof(fields) - used, "%s%s", f > 0 ? " " : "",
                     rec->kind->fields[f]);
        }
        ck_assert_str_eq(fields, want[i].fields);
        for (size_t f = 0; f < 4; f++)
            ck_assert_msg(rec->v[f] == want[i].v[f], "%s value %zu: %lld", want[i].name, f,
                          (long long)rec->v[f]);
    }
    ck_assert_str_eq(sim_trace_at(sim, 13)->text, "bad AppendEntries args");
    ck_assert_str_eq(sim_trace_at(sim, 14)->text, "next_index[2] = 5");
    sim_free(sim);
}
END_TEST

Suite *student_suite(void)
{
    Suite *s = suite_create("student");
    TCase *quick = tcase_create("quick");
    tcase_add_test(quick, test_student_init_writes_the_skeleton);
    tcase_add_test(quick, test_student_init_bad_input);
    tcase_add_test(quick, test_student_filled_copy_keeps_the_skeleton);
    tcase_add_test(quick, test_student_trace_api_kinds);
    suite_add_tcase(s, quick);
    TCase *e2e = tcase_create("end to end");
    tcase_add_unchecked_fixture(e2e, st_build_dir_make, st_build_dir_remove);
    tcase_set_timeout(e2e, ST_BUILD_TIMEOUT_S + ST_RUN_TIMEOUT_S);
    tcase_add_test(e2e, test_student_skeleton_fails_cleanly);
    tcase_add_test(e2e, test_student_filled_copy_passes_and_is_traced);
    tcase_add_test(e2e, test_student_step_without_role_events_says_so);
    suite_add_tcase(s, e2e);
    student_labs_tcases_add(s);
    return s;
}
