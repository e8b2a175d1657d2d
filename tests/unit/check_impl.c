/* check_impl: grading code given as outside files, as a student's would be.
 *
 * - outside: copies our kvraft (and, in the second test, our Raft too) into a scratch
 *   directory outside the repository, leaving the public headers (kvraft.h, raft.h) behind so
 *   that they must come from the build's include path, as for a student. It builds a labsim
 *   with `make KVRAFT_IMPL=... [RAFT_IMPL=...]`, checks that the copies, not kvraft/ and raft/,
 *   went into it, and runs every 4A and 4B test on the default seed: all must pass. One build
 *   per configuration; the first then checks that its build directory recompiles an object
 *   when the flags change (one object, not the whole build) and not when they do not.
 * - route: what make does with a student's code, read from `make -n` (cheap): the sanitizer
 *   route builds the outside files with ASan and UBSan into the BUILD given and runs the
 *   graded suites alone, for any *_IMPL variable (labs to come add theirs); with none given it
 *   stays the project's route with the unit suites; and the unit suites refuse a student's
 *   code in one line instead of linking our internals against it.
 * LABSIM_ROOT names the repository (make test sets it).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "check_util.h"

#define IMPL_BUILD_TIMEOUT_S 900
#define IMPL_RUN_TIMEOUT_S 600
#define IMPL_LIST_MAX 4096 /* bytes of one *_IMPL list */
#define IMPL_PATH_MAX 768

static const char *impl_root(void)
{
    const char *root = getenv("LABSIM_ROOT");
    return root != NULL ? root : ".";
}

/* The last `n` bytes of s: Check's failure messages are bounded, outputs are not. */
static const char *impl_tail(const char *s, size_t n)
{
    size_t len = strlen(s);
    return len > n ? s + len - n : s;
}

/* The parent make's jobserver and flags must not leak into the makes we start. */
static const char *const impl_make_env[] = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", NULL};

/* Copies the .c and .h files of the repository's `from` folder into d/to, except `public_h`
 * (the header a student includes from the build's include path) and `skip_c` (a file the
 * build always links, or NULL). The copied .c paths go into list, space-separated. */
static void impl_copy(const struct cu_dir *d, const char *from, const char *to,
                      const char *public_h, const char *const *skip_c, char *list, size_t list_size)
{
    char src_dir[512];
    char dst_dir[512];
    snprintf(src_dir, sizeof(src_dir), "%s/%s", impl_root(), from);
    cu_dir_file(d, to, dst_dir, sizeof(dst_dir));
    char *mkdir_argv[] = {"/bin/mkdir", "-p", dst_dir, NULL};
    struct cu_run r;
    cu_run(&r, mkdir_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    DIR *dir = opendir(src_dir);
    ck_assert_msg(dir != NULL, "cannot open %s", src_dir);
    list[0] = '\0';
    size_t c_files = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        bool is_c = len > 2 && strcmp(e->d_name + len - 2, ".c") == 0;
        bool is_h = len > 2 && strcmp(e->d_name + len - 2, ".h") == 0;
        if (!is_c && !is_h) continue;
        if (strcmp(e->d_name, public_h) == 0) continue;
        bool provided = false; /* always linked by the build: not the student's to give */
        for (size_t k = 0; skip_c != NULL && skip_c[k] != NULL; k++)
            provided = provided || strcmp(e->d_name, skip_c[k]) == 0;
        if (provided) continue;
        char path_from[IMPL_PATH_MAX];
        char path_to[IMPL_PATH_MAX];
        snprintf(path_from, sizeof(path_from), "%s/%s", src_dir, e->d_name);
        snprintf(path_to, sizeof(path_to), "%s/%s", dst_dir, e->d_name);
        size_t text_len = 0;
        char *text = cu_read_file(path_from, &text_len);
        cu_write_file(path_to, text, text_len);
        free(text);
        if (!is_c) continue;
        size_t used = strlen(list);
        int w = snprintf(list + used, list_size - used, "%s%s", used > 0 ? " " : "", path_to);
        ck_assert(w > 0 && (size_t)w < list_size - used);
        c_files++;
    }
    closedir(dir);
    ck_assert_uint_ge(c_files, 1);
}

/* Runs make -C root with the arguments given (NULL-terminated, at most 8) into r. */
static void impl_make(struct cu_run *r, const char *const *args)
{
    char *argv[16];
    size_t n = 0;
    argv[n++] = "/usr/bin/make";
    argv[n++] = "-C";
    argv[n++] = (char *)impl_root();
    for (size_t i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    struct cu_spawn how = {.env = impl_make_env, .timeout_s = IMPL_BUILD_TIMEOUT_S};
    cu_run(r, argv, &how);
}

/* The object file the build made from the source at `path` (absolute). */
static void impl_obj_path(const char *build, const char *path, char *out, size_t size)
{
    size_t len = strlen(path);
    ck_assert(len > 2 && strcmp(path + len - 2, ".c") == 0);
    int w = snprintf(out, size, "%s/obj/%.*s.o", build, (int)(len - 2), path);
    ck_assert(w > 0 && (size_t)w < size);
}

/* Every .c file of the space-separated list was compiled into build. */
static void impl_assert_built_from(const char *build, const char *list)
{
    char one[IMPL_PATH_MAX];
    char obj[2 * IMPL_PATH_MAX];
    for (const char *at = list; *at != '\0';) {
        size_t len = strcspn(at, " ");
        ck_assert(len < sizeof(one));
        memcpy(one, at, len);
        one[len] = '\0';
        impl_obj_path(build, one, obj, sizeof(obj));
        ck_assert_msg(access(obj, R_OK) == 0, "%s was not built from the copy", obj);
        at += len;
        at += *at == ' ';
    }
}

/* `bin run PART`: every test of the part (as `bin list PART` names them) passes. */
static void impl_run_part(const char *bin, const char *part)
{
    struct cu_run r;
    char *list_argv[] = {(char *)bin, "list", (char *)part, NULL};
    cu_run(&r, list_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    size_t tests = cu_count(r.out, "\n");
    cu_run_free(&r);
    ck_assert_uint_ge(tests, 1);
    char *run_argv[] = {(char *)bin, "run", (char *)part, "--jobs", "2", NULL};
    struct cu_spawn how = {.timeout_s = IMPL_RUN_TIMEOUT_S};
    cu_run(&r, run_argv, &how);
    char want[64];
    snprintf(want, sizeof(want), "\n%zu passed, 0 failed", tests);
    ck_assert_msg(r.status == 0 && strstr(r.out, want) != NULL,
                  "%s: exit %d; stdout: ...%s; stderr: ...%s", part, r.status,
                  impl_tail(r.out, 1500), impl_tail(r.err, 500));
    cu_run_free(&r);
}

/* A student's setup: our kvraft (and Raft, when with_raft) copied into d/mykv (d/myraft), a
 * build directory d/build, and the make arguments naming them. */
struct impl_setup {
    struct cu_dir d;
    char kv_list[IMPL_LIST_MAX];
    char raft_list[IMPL_LIST_MAX];
    char build[512];
    char bin[600];
    char build_arg[600];
    char kv_arg[IMPL_LIST_MAX + 16];
    char raft_arg[IMPL_LIST_MAX + 16];
};

static void impl_setup_make(struct impl_setup *s, const char *tag, bool with_raft)
{
    static const char *const raft_provided[] = {"persister.c", "persister_ext.c", "trace_api.c",
                                                "wal.c",       "wal_sim_disk.c",  "wal_persister.c",
                                                NULL};
    cu_dir_make(&s->d, tag);
    impl_copy(&s->d, "kvraft", "mykv", "kvraft.h", NULL, s->kv_list, sizeof(s->kv_list));
    s->raft_list[0] = '\0';
    if (with_raft)
        impl_copy(&s->d, "raft", "myraft", "raft.h", raft_provided, s->raft_list,
                  sizeof(s->raft_list));
    cu_dir_file(&s->d, "build", s->build, sizeof(s->build));
    snprintf(s->bin, sizeof(s->bin), "%s/labsim", s->build);
    snprintf(s->build_arg, sizeof(s->build_arg), "BUILD=%s", s->build);
    snprintf(s->kv_arg, sizeof(s->kv_arg), "KVRAFT_IMPL=%s", s->kv_list);
    snprintf(s->raft_arg, sizeof(s->raft_arg), "RAFT_IMPL=%s", s->raft_list);
}

/* A build directory rebuilds what other flags would build differently: with the flags it was
 * built with, an object is up to date; with other ones (OPT=-O0) it is compiled again. */
static void impl_assert_flags_rebuild(const struct impl_setup *s)
{
    char obj[600];
    snprintf(obj, sizeof(obj), "%s/obj/src/sim_rand.o", s->build);
    const char *same[] = {s->build_arg, "OPT=-O1", s->kv_arg, obj, NULL};
    struct cu_run r;
    impl_make(&r, same);
    ck_assert_msg(r.status == 0 && strstr(r.out, "-c src/sim_rand.c") == NULL,
                  "same flags rebuilt %s: %s", obj, impl_tail(r.out, 1500));
    cu_run_free(&r);
    const char *other[] = {s->build_arg, "OPT=-O0", s->kv_arg, obj, NULL};
    impl_make(&r, other);
    ck_assert_msg(r.status == 0 && strstr(r.out, "-O0") != NULL &&
                      strstr(r.out, "-c src/sim_rand.c") != NULL,
                  "OPT=-O0 did not rebuild %s: %s", obj, impl_tail(r.out, 1500));
    cu_run_free(&r);
}

/* Builds d/build/labsim from outside copies (our Raft's too when with_raft) and grades 4A and
 * 4B with it. */
static void impl_grade_outside(const char *tag, bool with_raft)
{
    static struct impl_setup s;
    impl_setup_make(&s, tag, with_raft);
    const char *args[] = {
        "-s", "-j2", s.build_arg, "OPT=-O1", s.kv_arg, s.bin, with_raft ? s.raft_arg : NULL, NULL};
    struct cu_run r;
    impl_make(&r, args);
    ck_assert_msg(r.status == 0, "building the outside copy failed (%d): ...%s", r.status,
                  impl_tail(r.err, 1500));
    cu_run_free(&r);
    impl_assert_built_from(s.build, s.kv_list);
    char ours[600];
    snprintf(ours, sizeof(ours), "%s/obj/kvraft", s.build);
    ck_assert_msg(access(ours, F_OK) != 0, "our kvraft/ was built too");
    if (with_raft) {
        impl_assert_built_from(s.build, s.raft_list);
        snprintf(ours, sizeof(ours), "%s/obj/raft/raft.o", s.build);
        ck_assert_msg(access(ours, F_OK) != 0, "our raft/ was built too");
    }
    impl_run_part(s.bin, "4A");
    impl_run_part(s.bin, "4B");
    if (!with_raft) impl_assert_flags_rebuild(&s);
    cu_dir_remove(&s.d);
}

START_TEST(test_impl_kvraft_outside)
{
    /* Goal: `make grade KVRAFT_IMPL=...` grades a kvraft given as outside files (here a copy
     * of ours, on our Raft): it builds from the copy with kvraft.h from the include path, and
     * every 4A and 4B test passes. Then its build directory recompiles an object for other
     * flags and only then (a sanitizer build into it must not reuse unsanitized objects). */
    impl_grade_outside("impl-kv", false);
}
END_TEST

START_TEST(test_impl_kvraft_and_raft_outside)
{
    /* Goal: the same with the Raft given as outside files too (RAFT_IMPL and KVRAFT_IMPL). */
    impl_grade_outside("impl-kvraft", true);
}
END_TEST

/* ---------------------------------------------------------------- route */

/* `make -n ARGS...` (NULL-terminated) into r; it must succeed. */
static void impl_make_dry(struct cu_run *r, const char *const *args)
{
    const char *all[12] = {"-n"};
    size_t n = 1;
    for (size_t i = 0; args[i] != NULL && n < 11; i++)
        all[n++] = args[i];
    all[n] = NULL;
    impl_make(r, all);
    ck_assert_msg(r->status == 0, "make -n failed (%d): ...%s", r->status, impl_tail(r->err, 1500));
}

/* The line of out that contains needle (copied into line), or false. */
static bool impl_line_with(const char *out, const char *needle, char *line, size_t size)
{
    const char *at = strstr(out, needle);
    if (at == NULL) return false;
    const char *start = at;
    while (start > out && start[-1] != '\n')
        start--;
    size_t len = strcspn(start, "\n");
    if (len >= size) len = size - 1;
    memcpy(line, start, len);
    line[len] = '\0';
    return true;
}

START_TEST(test_impl_sanitize_route)
{
    /* Goal: `make sanitize KVRAFT_IMPL=... BUILD=...` compiles the outside file with ASan and
     * UBSan into that BUILD and runs the graded suites there with leak detection, and never
     * the unit suites; a variable of a lab to come (MR_IMPL) takes the same route, into
     * build-san-mine/ when no BUILD is given; with nothing given it is the project's route. */
    static struct impl_setup s;
    impl_setup_make(&s, "impl-san", false);
    const char *student[] = {"sanitize", s.kv_arg, s.build_arg, NULL};
    struct cu_run r;
    impl_make_dry(&r, student);
    char want[IMPL_PATH_MAX + 64];
    char line[4096];
    char server_c[IMPL_PATH_MAX];
    cu_dir_file(&s.d, "mykv/server.c", server_c, sizeof(server_c));
    snprintf(want, sizeof(want), "-c %s ", server_c);
    ck_assert_msg(impl_line_with(r.out, want, line, sizeof(line)), "no compile of %s: ...%s",
                  server_c, impl_tail(r.out, 1500));
    ck_assert_ptr_nonnull(strstr(line, "-fsanitize=address,undefined"));
    snprintf(want, sizeof(want), "ASAN_OPTIONS=detect_leaks=1 %s/labsim run all\n", s.build);
    ck_assert_msg(strstr(r.out, want) != NULL, "no sanitized graded run in: ...%s",
                  impl_tail(r.out, 1500));
    ck_assert_ptr_null(strstr(r.out, "check_main"));
    ck_assert_ptr_null(strstr(r.out, "obj/kvraft/server.o"));
    cu_run_free(&r);

    const char *later_lab[] = {"sanitize", "MR_IMPL=mr/worker.c", NULL};
    impl_make_dry(&r, later_lab);
    ck_assert_ptr_nonnull(
        strstr(r.out, "ASAN_OPTIONS=detect_leaks=1 build-san-mine/labsim run all"));
    ck_assert_ptr_null(strstr(r.out, "check_main"));
    cu_run_free(&r);

    const char *own[] = {"sanitize", NULL};
    impl_make_dry(&r, own);
    ck_assert_ptr_nonnull(strstr(r.out, "build-san/check_main"));
    ck_assert_ptr_nonnull(strstr(r.out, "ASAN_OPTIONS=detect_leaks=1 build-san/labsim run all"));
    cu_run_free(&r);
    cu_dir_remove(&s.d);
}
END_TEST

START_TEST(test_impl_unit_suites_refuse)
{
    /* Goal: the unit suites use our internals (kv_int.h, raft_int.h), so `make test` with a
     * student's code refuses in one line naming the variable, before building anything; and
     * `make all` with it builds labsim alone. */
    const char *args[] = {"-n", "test", "KVRAFT_IMPL=elsewhere/server.c", NULL};
    struct cu_run r;
    impl_make(&r, args);
    ck_assert_int_ne(r.status, 0);
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "KVRAFT_IMPL given: the unit suites test only"));
    ck_assert_ptr_null(strstr(r.out, "cc "));
    cu_run_free(&r);
    const char *all[] = {"-n", "all", "RAFT_IMPL=raft/raft.c", "BUILD=build-impl-dry", NULL};
    impl_make(&r, all);
    ck_assert_msg(r.status == 0, "make -n all failed: ...%s", impl_tail(r.err, 1500));
    ck_assert_ptr_nonnull(strstr(r.out, "-o build-impl-dry/labsim "));
    ck_assert_ptr_null(strstr(r.out, "check_main"));
    cu_run_free(&r);
}
END_TEST

Suite *impl_suite(void)
{
    Suite *s = suite_create("impl");
    TCase *tc = tcase_create("route");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_impl_sanitize_route);
    tcase_add_test(tc, test_impl_unit_suites_refuse);
    suite_add_tcase(s, tc);
    tc = tcase_create("outside");
    tcase_set_timeout(tc, IMPL_BUILD_TIMEOUT_S + 2 * IMPL_RUN_TIMEOUT_S);
    tcase_add_test(tc, test_impl_kvraft_outside);
    tcase_add_test(tc, test_impl_kvraft_and_raft_outside);
    suite_add_tcase(s, tc);
    return s;
}
