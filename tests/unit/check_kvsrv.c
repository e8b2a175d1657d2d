/* check_kvsrv: the lab 2 Check suite.
 *
 * - unit: the provided heap counts exactly, kvsrv_strerror, kvsrv_nrand, and the KV model's
 *   append-that-returns-the-old-value (Porcupine's op 3).
 * - server: small lab test bodies on a live server: a request the network delivers twice is
 *   applied once, Gets leave no state, an Append's cached reply goes with the next request.
 * - graded: every lab 2 test through lab_run on GRADED_SEEDS seeds (LAB_PASS, one Passed
 *   line), and replays that reproduce the digest.
 * - impl: the suite built from a copy of our kvsrv given as outside files (KVSRV_IMPL, as a
 *   student would) passes all of lab 2; each mutant of tests/mutants/ applied to a scratch copy
 *   fails the test named for it within 50 seeds. LABSIM_ROOT names the repository.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "kvsrv_cfg_int.h"
#include "lab_kv.h"
#include "lin.h"

#define GRADED_SEEDS 3
#define IMPL_BUILD_TIMEOUT_S 600
#define IMPL_RUN_TIMEOUT_S 600
#define IMPL_LIST_MAX 2048 /* bytes of the KVSRV_IMPL list */

extern const struct lab_test lab_kvsrv_tests[];
extern const size_t lab_kvsrv_tests_count;

/* ---------------------------------------------------------------- unit */

START_TEST(test_kvsrv_heap_counts)
{
    struct kvsrv_heap heap;
    kvsrv_heap_init(&heap);
    char *a = kvsrv_malloc(&heap, 10);
    uint32_t *b = kvsrv_calloc(&heap, 3, sizeof(*b));
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(b[0] | b[1] | b[2], 0);
    ck_assert_uint_eq(kvsrv_heap_bytes(&heap), 10 + 3 * sizeof(*b));
    a = kvsrv_realloc(&heap, a, 100);
    ck_assert_ptr_nonnull(a);
    memset(a, 7, 100);
    char *c = kvsrv_realloc(&heap, NULL, 5);
    ck_assert_uint_eq(kvsrv_heap_bytes(&heap), 105 + 3 * sizeof(*b));
    ck_assert_uint_eq(heap.blocks_live, 3);
    ck_assert_ptr_null(kvsrv_calloc(&heap, SIZE_MAX / 2, 4)); /* overflow: refused, not counted */
    kvsrv_free(&heap, NULL);
    kvsrv_free(&heap, a);
    kvsrv_free(&heap, b);
    kvsrv_free(&heap, c);
    ck_assert_uint_eq(kvsrv_heap_bytes(&heap), 0);
    ck_assert_uint_eq(heap.blocks_live, 0);
    ck_assert_uint_eq(heap.bytes_peak, 105 + 3 * sizeof(*b));
}
END_TEST

START_TEST(test_kvsrv_strerror)
{
    ck_assert_str_eq(kvsrv_strerror(KVSRV_OK), "success");
    ck_assert_str_eq(kvsrv_strerror(KVSRV_ENOMEM), "out of memory");
    ck_assert_str_eq(kvsrv_strerror(KVSRV_ERPC), "could not register the RPC methods");
    ck_assert_str_eq(kvsrv_strerror(-99), "unknown kvsrv error");
}
END_TEST

START_TEST(test_kvsrv_nrand)
{
    /* Client ids: below 2^62, different for different ends, the same on a replay. */
    struct sim *sim = sim_new(5);
    struct rpc_net *net = rpc_net_new(sim);
    struct rpc_end *a = rpc_net_make_end(net, "aaaaaaaaaaaaaaaaaaaa");
    struct rpc_end *b = rpc_net_make_end(net, "aaaaaaaaaaaaaaaaaaab");
    uint64_t ida = kvsrv_nrand(sim, a);
    ck_assert_uint_lt(ida, UINT64_C(1) << 62);
    ck_assert_uint_ne(ida, kvsrv_nrand(sim, b));
    ck_assert_uint_eq(ida, kvsrv_nrand(sim, a));
    struct sim *other = sim_new(6);
    ck_assert_uint_ne(ida, kvsrv_nrand(other, a));
    rpc_net_free(net);
    sim_free(sim);
    sim_free(other);
}
END_TEST

/* A one-key history of append-old (op 3) and get ops, checked with the KV model. */
static int check_ops(const struct lin_kv_op *ops, size_t n)
{
    struct lin_budget budget = {.steps_max = 100000};
    return lin_check_kv(ops, n, &budget, NULL);
}

START_TEST(test_kvsrv_lin_append_old)
{
    /* Goal: an Append's returned old value is checked (before op 3 the kind was refused). */
    const struct lin_kv_op seq[] = {
        {0, 0, 1, LIN_KV_APPEND_OLD, "k", "a", ""},
        {0, 2, 3, LIN_KV_APPEND_OLD, "k", "b", "a"},
        {1, 4, 5, LIN_KV_GET, "k", "", "ab"},
    };
    ck_assert_int_eq(check_ops(seq, 3), LIN_OK);
    const struct lin_kv_op wrong_old[] = {
        {0, 0, 1, LIN_KV_APPEND_OLD, "k", "a", ""},
        {0, 2, 3, LIN_KV_APPEND_OLD, "k", "b", "x"},
    };
    ck_assert_int_eq(check_ops(wrong_old, 2), LIN_ILLEGAL);
    /* Two concurrent appends cannot both have seen the empty value... */
    const struct lin_kv_op both_empty[] = {
        {0, 0, 10, LIN_KV_APPEND_OLD, "k", "a", ""},
        {1, 1, 9, LIN_KV_APPEND_OLD, "k", "b", ""},
    };
    ck_assert_int_eq(check_ops(both_empty, 2), LIN_ILLEGAL);
    /* ... but one may see the other's, in either order of the calls. */
    const struct lin_kv_op ordered[] = {
        {0, 0, 10, LIN_KV_APPEND_OLD, "k", "a", "b"},
        {1, 1, 9, LIN_KV_APPEND_OLD, "k", "b", ""},
        {2, 11, 12, LIN_KV_GET, "k", "", "ba"},
    };
    ck_assert_int_eq(check_ops(ordered, 3), LIN_OK);
    /* The append happened: a later get must see it. */
    const struct lin_kv_op lost[] = {
        {0, 0, 1, LIN_KV_APPEND_OLD, "k", "a", ""},
        {1, 2, 3, LIN_KV_GET, "k", "", ""},
    };
    ck_assert_int_eq(check_ops(lost, 2), LIN_ILLEGAL);
}
END_TEST

/* Go's checkClntAppends as written (strings.Index / LastIndex per element): the message of the
 * first failure into msg, or "" when v passes. */
static void appends_reference(int clnt, const char *v, int count, char *msg, size_t size)
{
    const char *lastoff = NULL;
    msg[0] = '\0';
    for (int j = 0; j < count; j++) {
        char wanted[64];
        snprintf(wanted, sizeof(wanted), "x %d %d y", clnt, j);
        const char *off = strstr(v, wanted);
        if (off == NULL) {
            snprintf(msg, size, "%d missing element %s in Append result %s", clnt, wanted, v);
            return;
        }
        if (strstr(off + 1, wanted) != NULL) {
            snprintf(msg, size, "duplicate element %s in Append result", wanted);
            return;
        }
        if (lastoff != NULL && off <= lastoff) {
            snprintf(msg, size, "wrong order for element %s in Append result", wanted);
            return;
        }
        lastoff = off;
    }
}

static char appends_value[256];

static void body_appends(struct lab_ctx *ctx)
{
    lab_kv_check_clnt_appends(ctx, 1, appends_value, 3);
}

START_TEST(test_kvsrv_check_appends_like_go)
{
    /* Goal: the one-pass checkClntAppends gives Go's verdict and message on values built from
     * elements, near-misses ("x 1 10 y", "x 01 1 y", "x 1 1"), stray letters and repeats. */
    static const char *const pieces[] = {"x 1 0 y",  "x 1 1 y", "x 1 2 y", "x 0 1 y", "x 1 10 y",
                                         "x 01 1 y", "x 1 1",   "xx",      " y",      "1 2 y"};
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 300; round++) {
        size_t len = 0;
        appends_value[0] = '\0';
        for (int k = 0; k < 6; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            const char *piece = pieces[(state >> 33) % 10u];
            if (len + strlen(piece) + 1 > sizeof(appends_value)) break;
            memcpy(appends_value + len, piece, strlen(piece) + 1);
            len += strlen(piece);
        }
        char want[LAB_MSG_MAX];
        appends_reference(1, appends_value, 3, want, sizeof(want));
        struct lab_test test = {"appends", "unit", "appends", body_appends};
        struct lab_opts opts = {0};
        struct lab_result r;
        ck_assert_int_eq(lab_run(&test, 1, &opts, &r), 0);
        ck_assert_msg(strcmp(r.message, want) == 0, "value \"%s\": got \"%s\", want \"%s\"",
                      appends_value, r.message, want);
        ck_assert_int_eq(r.outcome, want[0] == '\0' ? LAB_PASS : LAB_FAIL);
    }
}
END_TEST

/* ---------------------------------------------------------------- server */

static void run_body(lab_test_fn fn, const char *name, uint64_t seed)
{
    struct lab_test test = {name, "unit", name, fn};
    struct lab_opts opts = {0};
    struct lab_result r;
    ck_assert_int_eq(lab_run(&test, seed, &opts, &r), 0);
    ck_assert_msg(r.outcome == LAB_PASS, "%s: outcome %d at %.3fs: %s", name, (int)r.outcome,
                  (double)r.fail_at_us / 1e6, r.message);
}

static void expect_str(struct lab_ctx *ctx, const char *what, const char *got, const char *want)
{
    if (strcmp(got, want) != 0)
        lab_fatalf(ctx, SIM_NODE_NONE, "%s: got \"%s\", want \"%s\"", what, got, want);
}

static void body_duplicated_requests(struct lab_ctx *ctx)
{
    /* labrpc hands every request to the handler twice (the second reply is discarded), on an
     * unreliable network that also drops replies, so the clerk retries too. */
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "duplicated", true);
    rpc_net_set_duplicate_permille(cfg->net, 1000);
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    expect_str(ctx, "first append", kvsrv_cfg_append(cfg, ck, "k", "a", true, 0), "");
    expect_str(ctx, "second append", kvsrv_cfg_append(cfg, ck, "k", "b", true, 0), "a");
    expect_str(ctx, "third append", kvsrv_cfg_append(cfg, ck, "k", "c", true, 0), "ab");
    expect_str(ctx, "get", kvsrv_cfg_get(cfg, ck, "k", true, 0), "abc");
    kvsrv_cfg_put(cfg, ck, "k", "z", true, 0);
    expect_str(ctx, "get after put", kvsrv_cfg_get(cfg, ck, "k", true, 0), "z");
    kvsrv_cfg_check_history(cfg);
    kvsrv_cfg_cleanup(cfg);
}

START_TEST(test_kvsrv_duplicated_requests_applied_once)
{
    run_body(body_duplicated_requests, "duplicated", 1 + (uint64_t)_i);
}
END_TEST

static void expect_bytes(struct lab_ctx *ctx, const char *what, uint64_t got, uint64_t want)
{
    if (got != want)
        lab_fatalf(ctx, SIM_NODE_NONE, "%s: server holds %llu bytes, want %llu", what,
                   (unsigned long long)got, (unsigned long long)want);
}

static void body_memory(struct lab_ctx *ctx)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "memory", false);
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    const char *v = kvsrv_cfg_rand_value(cfg, 1000);
    free(kvsrv_cfg_raw_append(cfg, ck, "k", v));
    uint64_t one = kvsrv_cfg_heap_bytes(cfg);
    free(kvsrv_cfg_raw_append(cfg, ck, "k", v)); /* caches the first value as its reply */
    expect_bytes(ctx, "after the second append", kvsrv_cfg_heap_bytes(cfg), one + 2000);
    for (int i = 0; i < 100; i++) { /* Gets of fresh clerks leave nothing behind */
        struct kvsrv_cfg_clerk *reader = kvsrv_cfg_make_client(cfg);
        free(kvsrv_cfg_raw_get(cfg, reader, "k"));
    }
    expect_bytes(ctx, "after 100 gets", kvsrv_cfg_heap_bytes(cfg), one + 2000);
    free(kvsrv_cfg_raw_get(cfg, ck, "k")); /* acknowledges the append: its cache goes */
    expect_bytes(ctx, "after the writer's get", kvsrv_cfg_heap_bytes(cfg), one + 1000);
    kvsrv_cfg_cleanup(cfg);
}

START_TEST(test_kvsrv_memory_accounting)
{
    run_body(body_memory, "memory", 1);
}
END_TEST

/* ---------------------------------------------------------------- graded */

START_TEST(test_kvsrv_graded)
{
    size_t count = lab_kvsrv_tests_count;
    const struct lab_test *test = &lab_kvsrv_tests[(size_t)_i % count];
    uint64_t seed = 1 + (uint64_t)_i / count;
    struct lab_result r;
    ck_assert_int_eq(lab_run(test, seed, NULL, &r), 0);
    ck_assert_msg(r.outcome == LAB_PASS, "%s seed %llu: outcome %d: %s", test->name,
                  (unsigned long long)seed, (int)r.outcome, r.message);
    ck_assert_uint_eq(r.passed_lines, 1);
}
END_TEST

START_TEST(test_kvsrv_replay_digest)
{
    const struct lab_test *test = &lab_kvsrv_tests[_i];
    struct lab_result a;
    struct lab_result b;
    struct lab_result c;
    ck_assert_int_eq(lab_run(test, 7, NULL, &a), 0);
    ck_assert_int_eq(lab_run(test, 7, NULL, &b), 0);
    ck_assert_int_eq(lab_run(test, 8, NULL, &c), 0);
    ck_assert_uint_eq(a.digest, b.digest);
    ck_assert_uint_eq(a.events, b.events);
    ck_assert_uint_ne(a.digest, c.digest);
}
END_TEST

START_TEST(test_kvsrv_catalogue)
{
    ck_assert_uint_eq(lab_kvsrv_tests_count, 10);
    /* Course order: lab 2 comes right after lab 1. */
    ck_assert_ptr_eq(lab_test_at(lab_mr_tests_count), &lab_kvsrv_tests[0]);
    for (size_t i = 0; i < lab_kvsrv_tests_count; i++) {
        ck_assert_ptr_eq(lab_test_find(lab_kvsrv_tests[i].name), &lab_kvsrv_tests[i]);
        ck_assert_str_eq(lab_kvsrv_tests[i].part, "2");
    }
}
END_TEST

/* ---------------------------------------------------------------- impl */

static const char *impl_root(void)
{
    const char *root = getenv("LABSIM_ROOT");
    return root != NULL ? root : ".";
}

static void impl_sh(char *const argv[], int timeout_s, const char *what)
{
    /* The parent make's jobserver and flags must not leak into a child make. */
    static const char *const env[] = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", NULL};
    struct cu_spawn how = {.env = env, .timeout_s = timeout_s};
    struct cu_run r;
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 0, "%s failed (%d): %s %s", what, r.status, r.out, r.err);
    cu_run_free(&r);
}

/* Copies our kvsrv sources but the provided kvsrv_heap.c (and kvsrv.h, which the build takes
 * from the repository, as for a student) into d/kvsrv; the .c paths go to impl. */
static void impl_copy(const struct cu_dir *d, char *impl, size_t impl_size)
{
    char src_dir[512];
    char dst_dir[512];
    snprintf(src_dir, sizeof(src_dir), "%s/kvsrv", impl_root());
    cu_dir_file(d, "kvsrv", dst_dir, sizeof(dst_dir));
    char *mkdir_argv[] = {"/bin/mkdir", "-p", dst_dir, NULL};
    impl_sh(mkdir_argv, 10, "mkdir");
    DIR *dir = opendir(src_dir);
    ck_assert_msg(dir != NULL, "cannot open %s", src_dir);
    impl[0] = '\0';
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        bool is_c = len > 2 && strcmp(e->d_name + len - 2, ".c") == 0;
        bool is_h = len > 2 && strcmp(e->d_name + len - 2, ".h") == 0;
        if ((!is_c && !is_h) || strcmp(e->d_name, "kvsrv_heap.c") == 0 ||
            strcmp(e->d_name, "kvsrv.h") == 0)
            continue;
        char from[768];
        char to[768];
        size_t text_len = 0;
        snprintf(from, sizeof(from), "%s/%s", src_dir, e->d_name);
        snprintf(to, sizeof(to), "%s/%s", dst_dir, e->d_name);
        char *text = cu_read_file(from, &text_len);
        cu_write_file(to, text, text_len);
        free(text);
        if (!is_c) continue;
        size_t used = strlen(impl);
        int w = snprintf(impl + used, impl_size - used, "%s%s", used > 0 ? " " : "", to);
        ck_assert(w > 0 && (size_t)w < impl_size - used);
    }
    closedir(dir);
    ck_assert(impl[0] != '\0');
}

/* Builds d/build/labsim against the copy in d (patched with tests/mutants/<mutant>.patch
 * unless mutant is NULL); its path into bin. */
static void impl_build(const struct cu_dir *d, const char *mutant, char *bin, size_t bin_size)
{
    static char impl[IMPL_LIST_MAX];
    impl_copy(d, impl, sizeof(impl));
    if (mutant != NULL) {
        char patch[512];
        snprintf(patch, sizeof(patch), "%s/tests/mutants/%s.patch", impl_root(), mutant);
        char *patch_argv[] = {"/usr/bin/patch", "-s", "-p1", "-d",
                              (char *)d->path,  "-i", patch, NULL};
        impl_sh(patch_argv, 30, "applying the mutant");
    }
    char build[512];
    char build_arg[600];
    char impl_arg[IMPL_LIST_MAX + 16];
    cu_dir_file(d, "build", build, sizeof(build));
    snprintf(build_arg, sizeof(build_arg), "BUILD=%s", build);
    snprintf(impl_arg, sizeof(impl_arg), "KVSRV_IMPL=%s", impl);
    snprintf(bin, bin_size, "%s/labsim", build);
    char *argv[] = {"/usr/bin/make", "-s",      "-j2",    "-C", (char *)impl_root(),
                    build_arg,       "OPT=-O1", impl_arg, bin,  NULL};
    impl_sh(argv, IMPL_BUILD_TIMEOUT_S, "building against the copy");
}

START_TEST(test_kvsrv_outside_files_pass)
{
    /* Goal: `make KVSRV_IMPL=...` grades files from outside the repository, as a student's
     * would be, and our kvsrv, given that way, passes all of lab 2. */
    struct cu_dir d;
    cu_dir_make(&d, "kvsrv-impl");
    char bin[600];
    impl_build(&d, NULL, bin, sizeof(bin));
    char *argv[] = {bin, "run", "2", "--jobs", "2", NULL};
    struct cu_spawn how = {.timeout_s = IMPL_RUN_TIMEOUT_S};
    struct cu_run r;
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_uint_eq(cu_count(r.out, "  ... Passed --"), 10);
    ck_assert_ptr_nonnull(strstr(r.out, "10 passed, 0 failed"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* A mutant and the lab 2 test that must catch it within 50 seeds. */
struct kvsrv_mutant {
    const char *patch;
    const char *test;
};

static const struct kvsrv_mutant kvsrv_mutants[] = {
    {"kvsrv-append-twice", "TestUnreliable2"},
    {"kvsrv-keep-old-replies", "TestMemManyAppends"},
};

START_TEST(test_kvsrv_mutant_fails)
{
    /* Goal: the suite has teeth. A server that applies a retried Append twice, or keeps every
     * old reply, fails a lab 2 test within 50 seeds. */
    const struct kvsrv_mutant *m = &kvsrv_mutants[_i];
    struct cu_dir d;
    cu_dir_make(&d, "kvsrv-mutant");
    char bin[600];
    impl_build(&d, m->patch, bin, sizeof(bin));
    char *argv[] = {bin, "run", (char *)m->test, "--seeds", "50", "--stop-on-fail", NULL};
    struct cu_spawn how = {.timeout_s = IMPL_RUN_TIMEOUT_S};
    struct cu_run r;
    cu_run(&r, argv, &how);
    char fail_line[128];
    snprintf(fail_line, sizeof(fail_line), "--- FAIL: %s (seed ", m->test);
    ck_assert_msg(r.status == 1, "%s: exit %d; stdout: %s", m->patch, r.status, r.out);
    ck_assert_msg(strstr(r.out, fail_line) != NULL, "%s: no failure of %s: %s", m->patch, m->test,
                  r.out);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

Suite *kvsrv_suite(void)
{
    Suite *s = suite_create("kvsrv");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, test_kvsrv_heap_counts);
    tcase_add_test(unit, test_kvsrv_strerror);
    tcase_add_test(unit, test_kvsrv_nrand);
    tcase_add_test(unit, test_kvsrv_lin_append_old);
    tcase_add_test(unit, test_kvsrv_check_appends_like_go);
    tcase_add_test(unit, test_kvsrv_catalogue);
    suite_add_tcase(s, unit);

    TCase *server = tcase_create("server");
    tcase_set_timeout(server, 30);
    tcase_add_loop_test(server, test_kvsrv_duplicated_requests_applied_once, 0, 3);
    tcase_add_test(server, test_kvsrv_memory_accounting);
    suite_add_tcase(s, server);

    TCase *graded = tcase_create("graded");
    /* Seconds at -O2; make sanitize's ASan build copies the memory tests' megabytes far more
     * slowly (TestMemManyAppends: about 40 s on a loaded machine). */
    tcase_set_timeout(graded, 300);
    tcase_add_loop_test(graded, test_kvsrv_graded, 0, (int)(lab_kvsrv_tests_count * GRADED_SEEDS));
    tcase_add_loop_test(graded, test_kvsrv_replay_digest, 0, (int)lab_kvsrv_tests_count);
    suite_add_tcase(s, graded);

    TCase *impl = tcase_create("impl");
    tcase_set_timeout(impl, IMPL_BUILD_TIMEOUT_S + IMPL_RUN_TIMEOUT_S);
    tcase_add_test(impl, test_kvsrv_outside_files_pass);
    tcase_add_loop_test(impl, test_kvsrv_mutant_fails, 0,
                        (int)(sizeof(kvsrv_mutants) / sizeof(kvsrv_mutants[0])));
    suite_add_tcase(s, impl);
    return s;
}
