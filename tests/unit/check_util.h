/* check_util: helpers shared by the Check suites that drive programs from outside -- running a
 * child with argv (and optional stdin, working directory, environment changes) while capturing
 * its stdout, stderr and exit status; the labsim binary from LABSIM_BIN; scratch directories;
 * whole-file reads and writes; and headless-Chromium rendering of an HTML page.
 *
 * Test code only: linked into build/check_main, never into the library. It defines no suite.
 * Every helper fails the calling test (ck_assert) on trouble rather than returning an error.
 */
#ifndef LABSIM_CHECK_UTIL_H
#define LABSIM_CHECK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CU_TIMEOUT_S 60          /* default limit of one child run */
#define CU_CHROMIUM_TIMEOUT_S 90 /* one headless Chromium run */
#define CU_ARGS_MAX 32           /* arguments of cu_labsim */

/* What a finished child did. out and err are NUL-terminated and never NULL after a run. */
struct cu_run {
    int status; /* exit code, or 128 + signal */
    char *out;
    size_t out_len;
    char *err;
    size_t err_len;
    long maxrss_kb; /* the child's peak resident memory (wait4), in KiB */
};

/* How to start a child; a NULL pointer (or a zero field) means the default. */
struct cu_spawn {
    const char *cwd;        /* working directory; NULL: the caller's */
    const char *input;      /* written to its stdin, then end of input; NULL: empty stdin */
    const char *const *env; /* NULL-terminated changes: "NAME=value" sets, "NAME" unsets */
    int timeout_s;          /* killed and failed after this; 0: CU_TIMEOUT_S */
};

/* Runs argv (argv[0] a path) and waits for it; fills r. */
void cu_run(struct cu_run *r, char *const argv[], const struct cu_spawn *how);
/* Runs `$LABSIM_BIN ARGS...` (NULL-terminated); use the cu_labsim macro. */
void cu_labsim_args(struct cu_run *r, const struct cu_spawn *how, ...);
#define cu_labsim(r, how, ...) cu_labsim_args((r), (how), __VA_ARGS__, (char *)NULL)
void cu_run_free(struct cu_run *r);

/* In a forked child whose descriptors are set up: own process group, how->cwd and how->env
 * applied, then exec argv (exit 126 / 127 when that fails). */
_Noreturn void cu_exec(char *const argv[], const struct cu_spawn *how);
/* In the parent: reads out_fd and err_fd into r until both close (or the deadline passes: the
 * child's process group is killed and the test fails), then reaps pid into r->status. */
void cu_collect(struct cu_run *r, pid_t pid, int out_fd, int err_fd, int timeout_s);

/* The executable named by environment variable `var`; fails the test when unset or unusable. */
const char *cu_bin(const char *var);
const char *cu_labsim_bin(void); /* cu_bin("LABSIM_BIN") */

/* Builds BUILD/labsim against the Raft files `impl` (make's RAFT_IMPL: paths, space-separated)
 * as a student would: `make -C ROOT BUILD=build OPT=-O1 RAFT_IMPL=impl BUILD/labsim`, with ROOT
 * from LABSIM_ROOT (default ".") and none of a calling make's flags. Fails the test when the
 * build fails; the binary's path goes into bin. In cu_shared_build() the build holds that
 * directory's lock and bin is the test's own copy of the binary (see there). */
void cu_build_labsim(const char *build, const char *impl, char *bin, size_t bin_size,
                     int timeout_s);
/* The same with any make variables ("KVSRV_IMPL=a.c b.c", ...; NULL-terminated, at most
 * CU_BUILD_VARS_MAX) in place of RAFT_IMPL=impl. */
#define CU_BUILD_VARS_MAX 8
void cu_build_labsim_vars(const char *build, const char *const *vars, char *bin, size_t bin_size,
                          int timeout_s);

/* The build directory every test that builds a labsim shares: BINDIR/scratch-build beside the
 * labsim under test (LABSIM_BIN), or /tmp/labsim-scratch-build. A build there recompiles only
 * the files that differ from the last one (the planted or outside implementation), not the
 * hundred-odd files every build has in common. check_main runs suites at once, so a build there
 * takes a lock (the file BINDIR/scratch-build.lock) and copies the binary it made to
 * BINDIR/scratch-build/labsim.PID before letting go: no two builds write into the directory at
 * the same time, and no test runs a binary another test's build is replacing. The copy is
 * removed when the test process exits. Returns a static string. */
const char *cu_shared_build(void);

/* Fails the test when the run was killed by a signal or its output looks like a crash or a
 * sanitizer report (a student's code failing a lab must fail it cleanly). */
void cu_assert_no_crash(const struct cu_run *r);

/* A scratch directory /tmp/labsim-TAG-XXXXXX. */
struct cu_dir {
    char path[96];
};

void cu_dir_make(struct cu_dir *d, const char *tag);
/* Removes it and everything in it (a failing test exits before this: its files stay). */
void cu_dir_remove(const struct cu_dir *d);
/* The same for an unchecked fixture, which runs outside any test and so must not fail one:
 * path is "" when the directory could not be made (the tests then say so). Removing "" does
 * nothing. */
void cu_scratch_make(char *path, size_t size, const char *tag);
void cu_scratch_remove(const char *path);
/* "DIR/name" into buf; returns buf. */
const char *cu_dir_file(const struct cu_dir *d, const char *name, char *buf, size_t size);

/* A whole file, NUL-terminated (caller frees); its length into *len when len is not NULL. */
char *cu_read_file(const char *path, size_t *len);
void cu_write_file(const char *path, const char *data, size_t len);
/* Non-overlapping occurrences of a non-empty needle. */
size_t cu_count(const char *haystack, const char *needle);

/* Chromium from LABSIM_CHROMIUM or /usr/bin/chromium; missing fails the test, never skips it. */
const char *cu_chromium(void);
/* Renders file://page headless at 1200x800 with a profile inside d: a screenshot to png when it
 * is not NULL, else the DOM after the page's script ran, into r->out. Fails on a nonzero exit. */
void cu_chromium_render(struct cu_run *r, const struct cu_dir *d, const char *page,
                        const char *png);
/* Size of a PNG file; checks its signature and that it is 1200x800. */
size_t cu_png_size(const char *path);

#endif
