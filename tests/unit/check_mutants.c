/* check_mutants: the catalogue of tests/mutants/ stays usable. Fast: nothing is built or swept
 * here (`make mutants` does that, tests/mutants/run.sh).
 *
 * - apply: every patch applies to a scratch copy of the files it patches, exactly (no fuzz,
 *   context as written), and changes them; a refactor of raft/ or kvraft/ that breaks a mutant
 *   fails `make test` instead of the next `make mutants`.
 * - headers: every patch with a Module: line has the header run.sh reads (Module, Bug, Source,
 *   Expect, each once and not empty; Needs, if any, says "explorer"), patches only its
 *   module's files, and is listed in the README's mutant catalogue; the catalogue holds at
 *   least MUTANTS_RAFT_KV_MIN Raft and kvraft mutants. LABSIM_ROOT names the repository.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"

#define MUTANTS_MAX 64
#define MUTANTS_RAFT_KV_MIN 15 /* issue 14: at least 15 Raft and KV mutants */
#define MUTANT_NAME_MAX 128
#define MUTANT_LINE_MAX 512

/* The modules run.sh knows (its module_parts table). */
static const char *const mutant_modules[] = {"mr",     "kvsrv",       "raft",
                                             "kvraft", "shardctrler", "shardkv"};

static const char *mutants_root(void)
{
    const char *root = getenv("LABSIM_ROOT");
    return root != NULL ? root : ".";
}

/* The patch file names of tests/mutants/, sorted; returns how many. */
static size_t mutants_list(char names[][MUTANT_NAME_MAX])
{
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/mutants", mutants_root());
    DIR *dir = opendir(path);
    ck_assert_msg(dir != NULL, "cannot open %s", path);
    size_t n = 0;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".patch") != 0) continue;
        ck_assert_msg(n < MUTANTS_MAX, "more than %d patches", MUTANTS_MAX);
        ck_assert_msg(len < MUTANT_NAME_MAX, "patch name too long: %s", e->d_name);
        memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(dir);
    qsort(names, n, MUTANT_NAME_MAX, (int (*)(const void *, const void *))strcmp);
    return n;
}

static char *mutant_read(const char *name)
{
    char path[768];
    snprintf(path, sizeof(path), "%s/tests/mutants/%s", mutants_root(), name);
    return cu_read_file(path, NULL);
}

/* The header: everything before the first "--- " line. Returns its length. */
static size_t header_len(const char *text)
{
    const char *at = strncmp(text, "--- ", 4) == 0 ? text : strstr(text, "\n--- ");
    ck_assert_msg(at != NULL, "no \"--- \" line: not a unified diff");
    return at == text ? 0 : (size_t)(at - text) + 1;
}

/* How many header lines start with "FIELD:"; the first one's value (the rest of its line,
 * leading blanks skipped) into value. */
static int header_field(const char *text, size_t len, const char *field, char *value,
                        size_t value_size)
{
    int count = 0;
    size_t field_len = strlen(field);
    value[0] = '\0';
    for (size_t at = 0; at < len;) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t line_len = nl != NULL ? (size_t)(nl - line) : len - at;
        if (line_len > field_len && strncmp(line, field, field_len) == 0 &&
            line[field_len] == ':') {
            if (count++ == 0) {
                size_t skip = field_len + 1;
                while (skip < line_len && line[skip] == ' ')
                    skip++;
                size_t n = line_len - skip < value_size - 1 ? line_len - skip : value_size - 1;
                memcpy(value, line + skip, n);
                value[n] = '\0';
            }
        }
        at += line_len + 1;
    }
    return count;
}

/* The paths of the "+++ b/PATH" lines, one per call: *from is where the search resumes.
 * Returns false when there is none left. */
static bool next_patched_path(const char *text, const char **from, char *path, size_t size)
{
    const char *at = strstr(*from, "\n+++ b/");
    if (at == NULL) return false;
    at += strlen("\n+++ b/");
    size_t n = strcspn(at, "\t\n");
    ck_assert_msg(n > 0 && n < size, "bad +++ line in a patch");
    memcpy(path, at, n);
    path[n] = '\0';
    *from = at + n;
    (void)text;
    return true;
}

static void run_ok(char *const argv[], const char *what, const char *patch)
{
    struct cu_run r;
    struct cu_spawn how = {.timeout_s = 30};
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 0, "%s: %s failed (%d): %s %s", patch, what, r.status, r.out, r.err);
    cu_run_free(&r);
}

START_TEST(test_mutants_apply_exactly)
{
    /* Goal: each patch still applies to the current tree, to a copy of the files it patches,
     * with no fuzz, and changes them. Method: copy, patch --fuzz=0, compare. */
    static char names[MUTANTS_MAX][MUTANT_NAME_MAX];
    size_t n = mutants_list(names);
    ck_assert_uint_gt(n, 0);
    for (size_t i = 0; i < n; i++) {
        char *text = mutant_read(names[i]);
        struct cu_dir d;
        cu_dir_make(&d, "mutant-apply");
        const char *from = text;
        char rel[MUTANT_LINE_MAX];
        size_t files = 0;
        while (next_patched_path(text, &from, rel, sizeof(rel))) {
            char src[1024];
            char dst[1024];
            snprintf(src, sizeof(src), "%s/%s", mutants_root(), rel);
            cu_dir_file(&d, rel, dst, sizeof(dst));
            char dst_dir[1024];
            snprintf(dst_dir, sizeof(dst_dir), "%s", dst);
            *strrchr(dst_dir, '/') = '\0';
            char *mkdir_argv[] = {"/bin/mkdir", "-p", dst_dir, NULL};
            run_ok(mkdir_argv, "mkdir", names[i]);
            char *cp_argv[] = {"/bin/cp", src, dst, NULL};
            run_ok(cp_argv, "copying the patched file", names[i]);
            files++;
        }
        ck_assert_msg(files > 0, "%s patches no file", names[i]);
        char patch[768];
        snprintf(patch, sizeof(patch), "%s/tests/mutants/%s", mutants_root(), names[i]);
        char *patch_argv[] = {"/usr/bin/patch", "-s", "-p1", "--fuzz=0", "--forward", "-d",
                              d.path,           "-i", patch, NULL};
        run_ok(patch_argv, "applying it exactly (patch --fuzz=0)", names[i]);
        from = text;
        while (next_patched_path(text, &from, rel, sizeof(rel))) {
            char src[1024];
            char dst[1024];
            snprintf(src, sizeof(src), "%s/%s", mutants_root(), rel);
            cu_dir_file(&d, rel, dst, sizeof(dst));
            char *a = cu_read_file(src, NULL);
            char *b = cu_read_file(dst, NULL);
            ck_assert_msg(strcmp(a, b) != 0, "%s leaves %s unchanged", names[i], rel);
            free(a);
            free(b);
        }
        cu_dir_remove(&d);
        free(text);
    }
}
END_TEST

static bool module_known(const char *module)
{
    for (size_t i = 0; i < sizeof(mutant_modules) / sizeof(mutant_modules[0]); i++) {
        if (strcmp(module, mutant_modules[i]) == 0) return true;
    }
    return false;
}

/* Checks one patch that has a Module: line; true when it is a Raft or kvraft mutant. */
static bool header_check(const char *name, const char *text, const char *readme)
{
    size_t len = header_len(text);
    char module[MUTANT_LINE_MAX];
    char value[MUTANT_LINE_MAX];
    ck_assert_msg(header_field(text, len, "Module", module, sizeof(module)) == 1,
                  "%s: Module: given more than once", name);
    ck_assert_msg(module_known(module), "%s: unknown Module: '%s'", name, module);
    static const char *const fields[] = {"Bug", "Source", "Expect"};
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        ck_assert_msg(header_field(text, len, fields[f], value, sizeof(value)) == 1,
                      "%s: needs exactly one %s: line", name, fields[f]);
        ck_assert_msg(value[0] != '\0', "%s: %s: is empty", name, fields[f]);
    }
    int needs = header_field(text, len, "Needs", value, sizeof(value));
    ck_assert_msg(needs == 0 || (needs == 1 && strcmp(value, "explorer") == 0),
                  "%s: Needs: may only say \"explorer\", once", name);
    const char *from = text;
    char rel[MUTANT_LINE_MAX];
    while (next_patched_path(text, &from, rel, sizeof(rel))) {
        size_t m = strlen(module);
        ck_assert_msg(strncmp(rel, module, m) == 0 && rel[m] == '/',
                      "%s: Module: %s, but it patches %s", name, module, rel);
    }
    char stem[MUTANT_NAME_MAX];
    snprintf(stem, sizeof(stem), "`%.*s`", (int)(strlen(name) - strlen(".patch")), name);
    ck_assert_msg(strstr(readme, stem) != NULL, "README.md's mutant catalogue lacks %s", stem);
    return strcmp(module, "raft") == 0 || strcmp(module, "kvraft") == 0;
}

START_TEST(test_mutants_headers_well_formed)
{
    /* Goal: run.sh can read every header, and the catalogue is as large as issue 14 asks.
     * Method: parse each header as run.sh does (fields before the first "--- " line). */
    static char names[MUTANTS_MAX][MUTANT_NAME_MAX];
    size_t n = mutants_list(names);
    char readme_path[512];
    snprintf(readme_path, sizeof(readme_path), "%s/README.md", mutants_root());
    char *readme = cu_read_file(readme_path, NULL);
    size_t raft_kv = 0;
    for (size_t i = 0; i < n; i++) {
        char *text = mutant_read(names[i]);
        char module[MUTANT_LINE_MAX];
        if (header_field(text, header_len(text), "Module", module, sizeof(module)) > 0)
            raft_kv += header_check(names[i], text, readme) ? 1 : 0;
        free(text);
    }
    ck_assert_msg(raft_kv >= MUTANTS_RAFT_KV_MIN, "%zu Raft and kvraft mutants, want >= %d",
                  raft_kv, MUTANTS_RAFT_KV_MIN);
    free(readme);
}
END_TEST

START_TEST(test_mutants_header_parser)
{
    /* Goal: the parser itself: a field found once, a doubled one counted, a missing one 0. */
    static const char text[] = "Mutant: x\nModule: raft\nBug:  one line\nBug: again\n"
                               "--- a/raft/x.c\n+++ b/raft/x.c\n";
    size_t len = header_len(text);
    char value[64];
    ck_assert_uint_eq(len, strlen("Mutant: x\nModule: raft\nBug:  one line\nBug: again\n"));
    ck_assert_int_eq(header_field(text, len, "Module", value, sizeof(value)), 1);
    ck_assert_str_eq(value, "raft");
    ck_assert_int_eq(header_field(text, len, "Bug", value, sizeof(value)), 2);
    ck_assert_str_eq(value, "one line");
    ck_assert_int_eq(header_field(text, len, "Source", value, sizeof(value)), 0);
    ck_assert_int_eq(header_field(text, len, "Modul", value, sizeof(value)), 0);
    const char *from = text;
    char path[64];
    ck_assert(next_patched_path(text, &from, path, sizeof(path)));
    ck_assert_str_eq(path, "raft/x.c");
    ck_assert(!next_patched_path(text, &from, path, sizeof(path)));
}
END_TEST

Suite *mutants_suite(void)
{
    Suite *s = suite_create("mutants");
    TCase *tc = tcase_create("catalogue");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mutants_header_parser);
    tcase_add_test(tc, test_mutants_apply_exactly);
    tcase_add_test(tc, test_mutants_headers_well_formed);
    suite_add_tcase(s, tc);
    return s;
}
