/* check_util: running child programs, scratch directories, files and headless Chromium for the
 * Check suites (see check_util.h). Test-side code, so wall-clock deadlines are fine here.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#define _DEFAULT_SOURCE   /* wait4 */

#include "check_util.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CU_OUT_MAX (64u << 20) /* bytes kept of a child's stdout or stderr */
#define CU_INPUT_MAX 4096      /* stdin is written before reading: keep it below a pipe buffer */

/* ---------------------------------------------------------------- running programs */

void cu_run_free(struct cu_run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

static double cu_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends what is readable on fd to *buf; returns false at end of file (or a pty's EIO). */
/* The smallest power of two >= n (n >= 1). */
static size_t cu_pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p *= 2;
    return p;
}

/* Appends what fd has to *buf. The buffer's size is always cu_pow2_at_least(*len + 1), so it
 * is reallocated only when that power of two is outgrown: a long output costs linear copying,
 * not a copy per pipe read (quadratic, and minutes under ASan, whose realloc always copies). */
static bool cu_drain(int fd, char **buf, size_t *len)
{
    char chunk[65536];
    ssize_t got = read(fd, chunk, sizeof(chunk));
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (got <= 0) return false;
    ck_assert_msg(*len + (size_t)got <= CU_OUT_MAX, "child printed more than %u bytes", CU_OUT_MAX);
    size_t need = *len + (size_t)got + 1;
    if (need > cu_pow2_at_least(*len + 1)) *buf = realloc(*buf, cu_pow2_at_least(need));
    ck_assert_ptr_nonnull(*buf);
    memcpy(*buf + *len, chunk, (size_t)got);
    *len += (size_t)got;
    (*buf)[*len] = '\0';
    return true;
}

_Noreturn void cu_exec(char *const argv[], const struct cu_spawn *how)
{
    /* Its own group, so a timeout (or the end of the run) also takes helpers it started. */
    setpgid(0, 0);
    if (how != NULL && how->cwd != NULL && chdir(how->cwd) != 0) _exit(126);
    for (size_t i = 0; how != NULL && how->env != NULL && how->env[i] != NULL; i++) {
        const char *change = how->env[i];
        char name[128];
        const char *eq = strchr(change, '=');
        size_t len = eq != NULL ? (size_t)(eq - change) : strlen(change);
        snprintf(name, sizeof(name), "%.*s", (int)len, change);
        if (eq != NULL)
            setenv(name, eq + 1, 1);
        else
            unsetenv(name);
    }
    execv(argv[0], argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

void cu_collect(struct cu_run *r, pid_t pid, int out_fd, int err_fd, int timeout_s)
{
    memset(r, 0, sizeof(*r));
    r->out = calloc(1, 1);
    r->err = calloc(1, 1);
    ck_assert(r->out != NULL && r->err != NULL);
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    double deadline = cu_now_s() + timeout_s;
    bool open[2] = {true, true};
    while (open[0] || open[1]) {
        double left = deadline - cu_now_s();
        if (left <= 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, NULL, 0);
            ck_abort_msg("child %d did not finish within %d s", (int)pid, timeout_s);
        }
        fds[0].fd = open[0] ? out_fd : -1;
        fds[1].fd = open[1] ? err_fd : -1;
        if (poll(fds, 2, (int)(left * 1000) + 1) <= 0) continue;
        if (open[0] && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
            open[0] = cu_drain(out_fd, &r->out, &r->out_len);
        if (open[1] && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
            open[1] = cu_drain(err_fd, &r->err, &r->err_len);
    }
    int status = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof(usage));
    ck_assert_int_eq(wait4(pid, &status, 0, &usage), pid);
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r->maxrss_kb = usage.ru_maxrss;
    /* Helpers the program left behind (Chromium's) go with it; usually there are none. */
    kill(-pid, SIGKILL);
}

void cu_run(struct cu_run *r, char *const argv[], const struct cu_spawn *how)
{
    const char *input = how != NULL ? how->input : NULL;
    size_t len = input != NULL ? strlen(input) : 0;
    ck_assert_uint_lt(len, CU_INPUT_MAX);
    int in[2], out[2], err[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    ck_assert_int_eq(pipe(err), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        /* Every other pipe end closed: a stray write end of the stdin pipe would keep the child
         * from ever seeing the end of its input. */
        const int ends[6] = {in[0], in[1], out[0], out[1], err[0], err[1]};
        for (int i = 0; i < 6; i++)
            close(ends[i]);
        cu_exec(argv, how);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    /* The input is small (below a pipe's buffer), so writing it all first cannot block. */
    signal(SIGPIPE, SIG_IGN);
    if (len > 0) ck_assert_int_eq(write(in[1], input, len), (ssize_t)len);
    close(in[1]);
    int timeout_s = how != NULL && how->timeout_s > 0 ? how->timeout_s : CU_TIMEOUT_S;
    cu_collect(r, pid, out[0], err[0], timeout_s);
    close(out[0]);
    close(err[0]);
}

void cu_labsim_args(struct cu_run *r, const struct cu_spawn *how, ...)
{
    char *argv[CU_ARGS_MAX + 2];
    int argc = 0;
    va_list ap;
    argv[argc++] = (char *)cu_labsim_bin();
    va_start(ap, how);
    for (char *arg = va_arg(ap, char *); arg != NULL; arg = va_arg(ap, char *)) {
        ck_assert_int_lt(argc, CU_ARGS_MAX);
        argv[argc++] = arg;
    }
    va_end(ap);
    argv[argc] = NULL;
    cu_run(r, argv, how);
}

const char *cu_bin(const char *var)
{
    const char *bin = getenv(var);
    ck_assert_msg(bin != NULL && bin[0] != '\0',
                  "%s is not set: run this suite through `make test`, or set it (e.g. "
                  "LABSIM_BIN=$PWD/build/labsim)",
                  var);
    ck_assert_msg(access(bin, X_OK) == 0, "%s=%s is not an executable: %s", var, bin,
                  strerror(errno));
    return bin;
}

const char *cu_labsim_bin(void)
{
    return cu_bin("LABSIM_BIN");
}

/* The copy of the shared build's binary this test process runs (see cu_shared_build). */
static char cu_shared_copy[700];

static void cu_shared_copy_remove(void)
{
    if (cu_shared_copy[0] != '\0') unlink(cu_shared_copy);
}

/* Takes the lock of the shared build directory `build`, waiting while a test of another suite
 * holds it. Returns the descriptor that holds it: closing it lets go, and so does the end of the
 * process (a test that fails or is killed while building). */
static int cu_shared_lock(const char *build)
{
    char path[640];
    int n = snprintf(path, sizeof(path), "%s.lock", build);
    ck_assert(n > 0 && (size_t)n < sizeof(path));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "cannot open %s: %s", path, strerror(errno));
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int rc = 0;
    /* Waits as long as the holder builds: the test's own timeout bounds it. */
    do {
        rc = fcntl(fd, F_SETLKW, &lock);
    } while (rc != 0 && errno == EINTR);
    ck_assert_msg(rc == 0, "cannot lock %s: %s", path, strerror(errno));
    return fd;
}

/* Copies build/labsim to build/labsim.PID, through a temporary name so that no copy is ever run
 * half written, and puts its path into bin. Called with the lock held. */
static void cu_shared_copy_make(const char *build, char *bin, size_t bin_size)
{
    static bool remove_at_exit = false;
    char from[640];
    char tmp[720];
    char buf[1u << 16];
    ssize_t got = 0;
    snprintf(from, sizeof(from), "%s/labsim", build);
    int n =
        snprintf(cu_shared_copy, sizeof(cu_shared_copy), "%s/labsim.%ld", build, (long)getpid());
    ck_assert(n > 0 && (size_t)n < sizeof(cu_shared_copy) && (size_t)n < bin_size);
    snprintf(tmp, sizeof(tmp), "%s.new", cu_shared_copy);
    if (!remove_at_exit) atexit(cu_shared_copy_remove);
    remove_at_exit = true;
    int in = open(from, O_RDONLY | O_CLOEXEC);
    ck_assert_msg(in >= 0, "cannot open %s: %s", from, strerror(errno));
    int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    ck_assert_msg(out >= 0, "cannot create %s: %s", tmp, strerror(errno));
    while ((got = read(in, buf, sizeof(buf))) > 0)
        ck_assert_msg(write(out, buf, (size_t)got) == got, "writing %s: %s", tmp, strerror(errno));
    ck_assert_msg(got == 0, "reading %s: %s", from, strerror(errno));
    close(in);
    ck_assert_msg(close(out) == 0, "writing %s: %s", tmp, strerror(errno));
    ck_assert_msg(rename(tmp, cu_shared_copy) == 0, "rename %s: %s", tmp, strerror(errno));
    memcpy(bin, cu_shared_copy, (size_t)n + 1);
}

void cu_build_labsim_vars(const char *build, const char *const *vars, char *bin, size_t bin_size,
                          int timeout_s)
{
    const char *root = getenv("LABSIM_ROOT");
    char build_arg[512];
    int n = snprintf(build_arg, sizeof(build_arg), "BUILD=%s", build);
    ck_assert(n > 0 && (size_t)n < sizeof(build_arg));
    n = snprintf(bin, bin_size, "%s/labsim", build);
    ck_assert(n > 0 && (size_t)n < bin_size);
    char *argv[CU_BUILD_VARS_MAX + 10] = {
        "/usr/bin/make", "-s",     "-j2", "-C", root != NULL ? (char *)root : ".",
        build_arg,       "OPT=-O1"};
    size_t argc = 7;
    for (size_t i = 0; vars[i] != NULL; i++) {
        ck_assert_msg(i < CU_BUILD_VARS_MAX, "more than %d make variables", CU_BUILD_VARS_MAX);
        argv[argc++] = (char *)vars[i];
    }
    argv[argc++] = bin;
    argv[argc] = NULL;
    /* The parent make's jobserver and flags must not leak into this one. */
    static const char *const env[] = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", NULL};
    struct cu_spawn how = {.env = env, .timeout_s = timeout_s};
    struct cu_run r;
    bool shared = strcmp(build, cu_shared_build()) == 0;
    int lock_fd = shared ? cu_shared_lock(build) : -1;
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 0, "building labsim against %s failed (%d): %s", vars[0], r.status,
                  r.err);
    cu_run_free(&r);
    if (shared) {
        cu_shared_copy_make(build, bin, bin_size);
        close(lock_fd);
    }
}

const char *cu_shared_build(void)
{
    static char path[600];
    const char *bin = getenv("LABSIM_BIN");
    const char *slash = bin != NULL ? strrchr(bin, '/') : NULL;
    if (slash != NULL && slash != bin && (size_t)(slash - bin) < sizeof(path) - 32)
        snprintf(path, sizeof(path), "%.*s/scratch-build", (int)(slash - bin), bin);
    else
        snprintf(path, sizeof(path), "/tmp/labsim-scratch-build");
    return path;
}

void cu_build_labsim(const char *build, const char *impl, char *bin, size_t bin_size, int timeout_s)
{
    char *impl_arg = malloc(strlen(impl) + 16);
    ck_assert_ptr_nonnull(impl_arg);
    sprintf(impl_arg, "RAFT_IMPL=%s", impl);
    const char *vars[] = {impl_arg, NULL};
    cu_build_labsim_vars(build, vars, bin, bin_size, timeout_s);
    free(impl_arg);
}

/* Nothing in a run's output may look like a crash or a sanitizer report. */
void cu_assert_no_crash(const struct cu_run *r)
{
    static const char *const marks[] = {
        "CRASH",         "Segmentation",     "Aborted",     "Sanitizer",
        "runtime error", "assertion failed", "core dumped", NULL};
    for (size_t i = 0; marks[i] != NULL; i++) {
        ck_assert_msg(strstr(r->out, marks[i]) == NULL, "'%s' in stdout:\n%s", marks[i], r->out);
        ck_assert_msg(strstr(r->err, marks[i]) == NULL, "'%s' in stderr:\n%s", marks[i], r->err);
    }
    ck_assert_msg(r->status < 128, "killed by signal %d", r->status - 128);
}

/* ---------------------------------------------------------------- files */

void cu_dir_make(struct cu_dir *d, const char *tag)
{
    int n = snprintf(d->path, sizeof(d->path), "/tmp/labsim-%s-XXXXXX", tag);
    ck_assert(n > 0 && (size_t)n < sizeof(d->path));
    ck_assert_msg(mkdtemp(d->path) != NULL, "mkdtemp: %s", strerror(errno));
}

static int cu_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

void cu_dir_remove(const struct cu_dir *d)
{
    ck_assert_msg(nftw(d->path, cu_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0,
                  "cannot remove %s: %s", d->path, strerror(errno));
}

void cu_scratch_make(char *path, size_t size, const char *tag)
{
    int n = snprintf(path, size, "/tmp/labsim-%s-XXXXXX", tag);
    if (n <= 0 || (size_t)n >= size || mkdtemp(path) == NULL) path[0] = '\0';
}

void cu_scratch_remove(const char *path)
{
    if (path[0] != '\0') nftw(path, cu_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *cu_dir_file(const struct cu_dir *d, const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", d->path, name);
    ck_assert_msg(n > 0 && (size_t)n < size, "path %s/%s too long", d->path, name);
    return buf;
}

void cu_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s: %s", path, strerror(errno));
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

char *cu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16;
    size_t n = 0;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    size_t got = 0;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
            ck_assert_ptr_nonnull(buf);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL) *len = n;
    return buf;
}

/* Lengths are measured once and the search goes by memchr and memcmp: strstr on the rest of a
 * long output is quadratic under ASan, whose strstr measures the whole haystack every call. */
size_t cu_count(const char *haystack, const char *needle)
{
    size_t len = strlen(needle);
    ck_assert_uint_gt(len, 0);
    const char *end = haystack + strlen(haystack);
    size_t n = 0;
    const char *p = haystack;
    while ((size_t)(end - p) >= len && (p = memchr(p, needle[0], (size_t)(end - p))) != NULL) {
        if ((size_t)(end - p) < len) break;
        if (memcmp(p, needle, len) == 0) {
            n++;
            p += len;
        } else {
            p++;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- headless Chromium */

const char *cu_chromium(void)
{
    const char *bin = getenv("LABSIM_CHROMIUM");
    if (bin == NULL || bin[0] == '\0') bin = "/usr/bin/chromium";
    ck_assert_msg(access(bin, X_OK) == 0,
                  "chromium is needed to test the HTML views and was not found at %s: run "
                  "`make deps` (apt-get install chromium) or set LABSIM_CHROMIUM to its path",
                  bin);
    return bin;
}

void cu_chromium_render(struct cu_run *r, const struct cu_dir *d, const char *page, const char *png)
{
    char profile[256];
    char shot[1100];
    char url[1100];
    snprintf(profile, sizeof(profile), "--user-data-dir=%s/chromium-profile", d->path);
    snprintf(shot, sizeof(shot), "--screenshot=%s", png != NULL ? png : "");
    snprintf(url, sizeof(url), "file://%s", page);
    char *argv[] = {(char *)cu_chromium(),
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    profile,
                    "--window-size=1200,800",
                    png != NULL ? shot : "--dump-dom",
                    url,
                    NULL};
    struct cu_spawn how = {.timeout_s = CU_CHROMIUM_TIMEOUT_S};
    cu_run(r, argv, &how);
    ck_assert_msg(r->status == 0, "chromium exit %d: %.2000s", r->status, r->err);
}

size_t cu_png_size(const char *path)
{
    size_t len = 0;
    char *png = cu_read_file(path, &len);
    ck_assert_msg(len > 24 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
    const unsigned char *ihdr = (const unsigned char *)png + 16;
    uint32_t w =
        (uint32_t)ihdr[0] << 24 | (uint32_t)ihdr[1] << 16 | (uint32_t)ihdr[2] << 8 | ihdr[3];
    uint32_t h =
        (uint32_t)ihdr[4] << 24 | (uint32_t)ihdr[5] << 16 | (uint32_t)ihdr[6] << 8 | ihdr[7];
    ck_assert_msg(w == 1200 && h == 800, "%s is %ux%u, want 1200x800", path, w, h);
    free(png);
    return len;
}
