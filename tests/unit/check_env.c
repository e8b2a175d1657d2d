/* check_env: tests of the simulated environment itself, driven by Rafts with planted bugs.
 *
 * Each test copies our Raft into a scratch directory, plants one bug by replacing an exact
 * anchor in its source (the test fails when the anchor is gone, so the plant can never
 * silently become a no-op), builds a labsim against the copy with `make RAFT_IMPL=...` as a
 * student would, and runs graded tests with it:
 *  - a leader that answers every rejected AppendEntries by resending at once with nextIndex
 *    unchanged: a message storm. With instantaneous delivery it froze virtual time until the
 *    kernel's livelock guard aborted; with Go-like scheduling latency it fails the way it
 *    fails in Go, with the lab's own message, inside the test's virtual time;
 *  - a candidate that starts a new election at once whenever a vote is refused or lost: a
 *    storm of RequestVotes that other servers' election timeouts break up, as in Go; it must
 *    run to its verdict with no livelock abort;
 *  - a leader that batches for 20 ms before replicating a new command: it must still meet
 *    TestSpeed4A/4B's 33 ms per operation (the KV service time must not make the speed tests
 *    stricter than Go's);
 *  - a Raft that segfaults: the dying worker and the replay print the same crash report;
 *  - a Raft that burns CPU on every persist: it passes, and the summary flags its CPU time.
 * LABSIM_ROOT names the repository (make test sets it); the builds take a few seconds each.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"

#define ENV_BUILD_TIMEOUT_S 600
#define ENV_RUN_TIMEOUT_S 600
#define ENV_IMPL_MAX 4096 /* bytes of the RAFT_IMPL list */

/* One planted bug: in `file`, the exact text `anchor` becomes `plant`. */
struct env_plant {
    const char *file;
    const char *anchor;
    const char *plant;
};

static const char *env_root(void)
{
    const char *root = getenv("LABSIM_ROOT");
    return root != NULL ? root : ".";
}

/* Replaces the one occurrence of p->anchor in text (a malloc'd string, freed here). */
static char *env_apply(char *text, const struct env_plant *p)
{
    char *at = strstr(text, p->anchor);
    ck_assert_msg(at != NULL, "plant anchor not found in raft/%s: %.60s", p->file, p->anchor);
    ck_assert_msg(strstr(at + 1, p->anchor) == NULL, "plant anchor not unique in raft/%s", p->file);
    size_t head = (size_t)(at - text);
    size_t anchor_len = strlen(p->anchor);
    size_t plant_len = strlen(p->plant);
    size_t tail = strlen(at + anchor_len);
    char *out = malloc(head + plant_len + tail + 1u);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, head);
    memcpy(out + head, p->plant, plant_len);
    memcpy(out + head + plant_len, at + anchor_len, tail + 1u);
    free(text);
    return out;
}

/* Copies raft/ (all but the persister and the trace API, which the build always links) into d/raft
 * with the plants applied, and appends each .c file's path to impl. */
static void env_copy_raft(const struct cu_dir *d, const struct env_plant *plants,
                          size_t plants_count, char *impl, size_t impl_size)
{
    char src_dir[512];
    char dst_dir[512];
    snprintf(src_dir, sizeof(src_dir), "%s/raft", env_root());
    cu_dir_file(d, "raft", dst_dir, sizeof(dst_dir));
    char *mkdir_argv[] = {"/bin/mkdir", "-p", dst_dir, NULL};
    struct cu_run r;
    cu_run(&r, mkdir_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    DIR *dir = opendir(src_dir);
    ck_assert_msg(dir != NULL, "cannot open %s", src_dir);
    size_t applied = 0;
    impl[0] = '\0';
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        bool is_c = len > 2 && strcmp(e->d_name + len - 2, ".c") == 0;
        bool is_h = len > 2 && strcmp(e->d_name + len - 2, ".h") == 0;
        bool provided = strcmp(e->d_name, "persister.c") == 0 ||
                        strcmp(e->d_name, "trace_api.c") == 0 || strncmp(e->d_name, "wal", 3) == 0;
        if ((!is_c && !is_h) || provided) continue;
        char from[768];
        char to[768];
        snprintf(from, sizeof(from), "%s/%s", src_dir, e->d_name);
        snprintf(to, sizeof(to), "%s/%s", dst_dir, e->d_name);
        char *text = cu_read_file(from, NULL);
        for (size_t i = 0; i < plants_count; i++) {
            if (strcmp(plants[i].file, e->d_name) != 0) continue;
            text = env_apply(text, &plants[i]);
            applied++;
        }
        cu_write_file(to, text, strlen(text));
        free(text);
        if (is_c) {
            size_t used = strlen(impl);
            int w = snprintf(impl + used, impl_size - used, "%s%s", used > 0 ? " " : "", to);
            ck_assert(w > 0 && (size_t)w < impl_size - used);
        }
    }
    closedir(dir);
    ck_assert_uint_eq(applied, plants_count);
}

/* Builds a labsim from the planted copy in the shared build directory (only the planted files
 * compile); its path into bin. Each test uses the binary before the next one builds. */
static void env_build(const struct cu_dir *d, const struct env_plant *plants, size_t plants_count,
                      char *bin, size_t bin_size)
{
    static char impl[ENV_IMPL_MAX];
    env_copy_raft(d, plants, plants_count, impl, sizeof(impl));
    cu_build_labsim(cu_shared_build(), impl, bin, bin_size, ENV_BUILD_TIMEOUT_S);
}

/* Runs `bin run ARGS...` (NULL-terminated, at most 8) into r. */
static void env_run(struct cu_run *r, const char *bin, const char *const *args)
{
    char *argv[12];
    size_t n = 0;
    argv[n++] = (char *)bin;
    argv[n++] = "run";
    for (; args[n - 2] != NULL && n < 11; n++)
        argv[n] = (char *)args[n - 2];
    argv[n] = NULL;
    struct cu_spawn how = {.timeout_s = ENV_RUN_TIMEOUT_S};
    cu_run(r, argv, &how);
}

START_TEST(test_env_append_storm_fails_like_go)
{
    /* Goal: a leader that resends a rejected AppendEntries at once, nextIndex unchanged,
     * storms its follower forever; the run must end in the lab's failure, not a livelock. */
    static const struct env_plant plants[] = {{"replication.c",
                                               "    rf->next_index[peer] = next;\n",
                                               "    (void)next; /* planted: nextIndex kept */\n"}};
    struct cu_dir d;
    cu_dir_make(&d, "env-append");
    char bin[600];
    env_build(&d, plants, 1, bin, sizeof(bin));
    static const char *const args[] = {"TestFailAgree3B", "--seeds", "2", "--jobs", "2", NULL};
    struct cu_run r;
    env_run(&r, bin, args);
    ck_assert_msg(r.status == 1, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "--- FAIL: TestFailAgree3B (seed 1)"));
    ck_assert_ptr_nonnull(strstr(r.out, "--- FAIL: TestFailAgree3B (seed 2)"));
    ck_assert_uint_eq(cu_count(r.out, "failed to reach agreement"), 2);
    ck_assert_ptr_null(strstr(r.out, "livelock"));
    ck_assert_ptr_null(strstr(r.err, "livelock"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_env_election_storm_runs_to_verdict)
{
    /* Goal: a candidate that retries at once whenever a vote is refused or lost sends a storm
     * of RequestVotes; the environment lets time pass through it, so all of 3B runs to a
     * verdict (other servers' timeouts end each storm, as in Go) and nothing aborts. */
    static const struct env_plant plants[] = {
        {"election.c", "    raft_call_release(call);\n    if (rf->dead || !ok) return;\n",
         "    raft_call_release(call);\n    if (rf->dead) return;\n"
         "    if (rf->role == RAFT_CANDIDATE && rf->current_term == term &&\n"
         "        (!ok || !planted_granted(reply, reply_len))) {\n"
         "        raft_become_candidate(rf); /* planted: retry at once */\n"
         "        return;\n"
         "    }\n"
         "    if (!ok) return;\n"},
        {"election.c",
         "static void on_vote_reply(void *ctx, bool ok, const uint8_t *reply, "
         "size_t reply_len)\n{",
         "static bool planted_granted(const uint8_t *reply, size_t reply_len)\n{\n"
         "    struct gob_dec d;\n    uint64_t term = 0;\n    bool granted = false;\n"
         "    gob_dec_init(&d, reply, reply_len);\n    gob_get_uint(&d, 1, &term);\n"
         "    gob_get_bool(&d, 2, &granted);\n"
         "    return gob_dec_finish(&d) == GOB_OK && granted;\n}\n\n"
         "static void on_vote_reply(void *ctx, bool ok, const uint8_t *reply, "
         "size_t reply_len)\n{"}};
    struct cu_dir d;
    cu_dir_make(&d, "env-vote");
    char bin[600];
    env_build(&d, plants, 2, bin, sizeof(bin));
    static const char *const args[] = {"3B", "--seeds", "2", "--jobs", "2", NULL};
    struct cu_run r;
    env_run(&r, bin, args);
    ck_assert_msg(r.status == 0 || r.status == 1, "exit %d; stderr: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "20 runs,"));
    ck_assert_ptr_null(strstr(r.out, "livelock"));
    ck_assert_ptr_null(strstr(r.err, "livelock"));
    ck_assert_ptr_null(strstr(r.out, "CRASH"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_env_batching_raft_meets_speed)
{
    /* Goal: a Raft that waits 20 ms before replicating new commands passes TestSpeed4A/4B,
     * as it does in Go: the harness's per-request service time leaves room for it. */
    static const struct env_plant plants[] = {
        {"replication.c", "sim_after(rf->sim, 0, replicate_fire, rf)",
         "sim_after(rf->sim, SIM_MS(20), replicate_fire, rf) /* planted: batch */"}};
    struct cu_dir d;
    cu_dir_make(&d, "env-batch");
    char bin[600];
    env_build(&d, plants, 1, bin, sizeof(bin));
    static const char *const args[] = {"TestSpeed4*", "--seeds", "3", "--jobs", "2", NULL};
    struct cu_run r;
    env_run(&r, bin, args);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "6 passed, 0 failed"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_env_cpu_heavy_raft_is_flagged)
{
    /* Goal: virtual time does not charge for CPU, so a Raft that burns CPU on every persist
     * (re-encoding its state a thousand times) still passes; the summary must show its CPU time
     * beside the reference's and print the warning line, without changing the verdict. */
    static const struct env_plant plants[] = {
        {"persist.c", "    const uint8_t *state = gob_enc_bytes(e);\n",
         "    for (int planted = 0; planted < 1000; planted++) { /* planted: CPU per persist */\n"
         "        gob_enc_reset(e);\n"
         "        if (!state_encode(rf, e) || gob_enc_finish(e) != GOB_OK) return;\n"
         "    }\n"
         "    const uint8_t *state = gob_enc_bytes(e);\n"}};
    struct cu_dir d;
    cu_dir_make(&d, "env-cpu");
    char bin[600];
    env_build(&d, plants, 1, bin, sizeof(bin));
    static const char *const args[] = {
        "TestFigure8Unreliable3C", "--seeds", "2", "--jobs", "2", NULL};
    struct cu_run r;
    env_run(&r, bin, args);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "cpu_s ref_cpu_s"));
    ck_assert_msg(strstr(r.out, "warning: TestFigure8Unreliable3C takes ") != NULL, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "2 passed, 0 failed"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* The CRASH block (three lines from `head`) of a run's stderr, copied; NULL if none. Workers
 * die in any order, so a block is found by its test and seed. */
static char *env_crash_block(const char *err, const char *head)
{
    const char *at = strstr(err, head);
    if (at == NULL) return NULL;
    const char *end = at;
    for (int lines = 0; lines < 3 && end != NULL; lines++) {
        end = strchr(end, '\n');
        if (end != NULL) end++;
    }
    size_t len = end != NULL ? (size_t)(end - at) : strlen(at);
    char *block = malloc(len + 1u);
    ck_assert_ptr_nonnull(block);
    memcpy(block, at, len);
    block[len] = '\0';
    return block;
}

START_TEST(test_env_crash_reports_like_a_failure)
{
    /* Goal: a Raft that segfaults (a wild store once a vote request of term 3 arrives) gets a
     * report like a failure's, from the worker that died: test, seed, virtual time, node and
     * the replay command naming the binary that ran; and the replay says the same. */
    static const struct env_plant plants[] = {
        {"election.c", "    if (a.term > rf->current_term) raft_become_follower(rf, a.term);\n",
         "    if (a.term >= 3) *(volatile int *)(uintptr_t)(a.term + 13) = 1; /* planted */\n"
         "    if (a.term > rf->current_term) raft_become_follower(rf, a.term);\n"}};
    struct cu_dir d;
    cu_dir_make(&d, "env-crash");
    char bin[600];
    env_build(&d, plants, 1, bin, sizeof(bin));
    /* Two runs, so the runner forks workers (a single run runs in the labsim process). */
    static const char *const args[] = {"TestReElection3A", "--seeds", "2", "--jobs", "2", NULL};
    struct cu_run r;
    env_run(&r, bin, args);
    ck_assert_msg(r.status == 1, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "--- FAIL: TestReElection3A (seed 1)"));
    char *block = env_crash_block(r.err, "--- CRASH: TestReElection3A (seed 1)\n");
    ck_assert_msg(block != NULL, "no crash report; stderr: %s", r.err);
    ck_assert_ptr_nonnull(strstr(block, "--- CRASH: TestReElection3A (seed 1)\n    at "));
    ck_assert_ptr_nonnull(strstr(block, "s virtual, node "));
    ck_assert_ptr_nonnull(strstr(block, ": segmentation fault (signal 11) in the code under test"));
    char replay[700];
    snprintf(replay, sizeof(replay), "    replay: %s replay TestReElection3A --seed 1\n", bin);
    ck_assert_msg(strstr(block, replay) != NULL, "crash report: %s", block);
    cu_run_free(&r);

    char *argv[] = {bin, "replay", "TestReElection3A", "--seed", "1", NULL};
    struct cu_spawn how = {.timeout_s = ENV_RUN_TIMEOUT_S};
    cu_run(&r, argv, &how);
    ck_assert_int_eq(r.status, 128 + 11);
    char *again = env_crash_block(r.err, "--- CRASH: TestReElection3A (seed 1)\n");
    ck_assert_msg(again != NULL && strcmp(again, block) == 0, "replay said: %s", r.err);
    free(again);
    free(block);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

Suite *env_suite(void)
{
    Suite *s = suite_create("env");
    TCase *tc = tcase_create("planted");
    tcase_set_timeout(tc, ENV_BUILD_TIMEOUT_S + ENV_RUN_TIMEOUT_S);
    tcase_add_test(tc, test_env_append_storm_fails_like_go);
    tcase_add_test(tc, test_env_election_storm_runs_to_verdict);
    tcase_add_test(tc, test_env_batching_raft_meets_speed);
    tcase_add_test(tc, test_env_crash_reports_like_a_failure);
    tcase_add_test(tc, test_env_cpu_heavy_raft_is_flagged);
    suite_add_tcase(s, tc);
    return s;
}
