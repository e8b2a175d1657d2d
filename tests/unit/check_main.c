/* The one Check runner: runs every suite of check_suites.h in fork mode, one suite per worker
 * process, CK_JOBS workers at once (default: the online CPUs, at most 2).
 *
 * Each worker runs its suite in an SRunner of its own, silently, with the plain log on its
 * stdout; its stdout and stderr go to a temporary file. The parent prints each suite's log whole,
 * in CHECK_SUITES order, as soon as it and every suite before it have finished, without the two
 * lines Check ends every runner's log with ("Results for all suites run:" and the summary); it
 * adds those up and prints them once at the end, in Check's format, so the last line is still
 * "100%: Checks: N, Failures: 0, Errors: 0" over all suites. The slowest suites
 * (CHECK_SUITES_SLOW) start first, so that no long suite starts last.
 *
 * A worker that dies, exits non-zero (a sanitizer's report at exit) or is still running after
 * SUITE_TIMEOUT_S seconds (killed) counts as one more check with an error, and gets a line
 * "check_main: suite NAME: ..." after its log so far. Each test is already bounded by Check's
 * timeout; the suite's bound catches what runs outside tests (fixtures) or without fork.
 *
 * One worker (CK_JOBS=1), a suite picked by name (CK_RUN_SUITE) or an XML or TAP log asked for
 * (CK_XML_LOG_FILE_NAME, CK_TAP_LOG_FILE_NAME: one file over all suites) run the suites as
 * before: one SRunner in this process, the log streamed as it is written.
 *
 * Exits non-zero when any check failed or when none ran (CK_RUN_CASE=nosuch must not pass).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_suites.h"

#define JOBS_MAX 64          /* CK_JOBS at most */
#define JOBS_DEFAULT_MAX 2   /* the default: online CPUs, at most this */
#define SUITE_TIMEOUT_S 3600 /* a worker's wall-time bound, times CK_TIMEOUT_MULTIPLIER */
#define TRAILER_TAIL_MAX 512 /* bytes at the end of a log searched for Check's trailer */
#define TRAILER_HEAD "Results for all suites run:\n"
#define WAIT_POLL_S 1 /* how often a wait looks at the workers' deadlines */

struct suite_entry {
    const char *name; /* as in CHECK_SUITES (gob), not Check's suite name (labgob) */
    Suite *(*make)(void);
};

static const struct suite_entry suite_table[] = {
#define SUITE_ENTRY(name) {#name, name##_suite},
    CHECK_SUITES(SUITE_ENTRY)
#undef SUITE_ENTRY
};
#define SUITES_COUNT (sizeof(suite_table) / sizeof(suite_table[0]))

/* Check's counts, as in its summary line. */
struct tally {
    int checks;
    int failures;
    int errors;
};

enum slot_state { SLOT_WAITING = 0, SLOT_RUNNING, SLOT_DONE };

/* One suite's worker. */
struct slot {
    enum slot_state state;
    pid_t pid;
    int log_fd;            /* the worker's stdout and stderr, already unlinked */
    struct timespec start; /* when it was forked */
    int status;            /* from waitpid, once SLOT_DONE */
    bool killed;           /* by the parent, past its deadline */
    bool failed_to_start;  /* no worker ran (log_fd is -1); said on stderr */
};

/* ---------------------------------------------------------------- one runner, as before */

static int run_serial(void)
{
    SRunner *runner = srunner_create(NULL);
    for (size_t i = 0; i < SUITES_COUNT; i++)
        srunner_add_suite(runner, suite_table[i].make());
    srunner_set_log(runner, "-");
    srunner_run_all(runner, CK_SILENT);
    int failed = srunner_ntests_failed(runner);
    int run = srunner_ntests_run(runner);
    srunner_free(runner);
    return (failed == 0 && run > 0) ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---------------------------------------------------------------- options */

/* CK_JOBS: 1..JOBS_MAX; unset, the online CPUs capped at JOBS_DEFAULT_MAX. Returns 0 for a bad
 * value, after a one-line error. */
static int jobs_parse(void)
{
    const char *text = getenv("CK_JOBS");
    if (text == NULL || text[0] == '\0') {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        return cpus < 1 ? 1 : cpus > JOBS_DEFAULT_MAX ? JOBS_DEFAULT_MAX : (int)cpus;
    }
    char *end = NULL;
    errno = 0;
    long jobs = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || jobs < 1 || jobs > JOBS_MAX) {
        char shown[33];
        size_t n = 0;
        for (; n < sizeof(shown) - 1 && text[n] != '\0'; n++)
            shown[n] = text[n] >= 0x20 && text[n] < 0x7f ? text[n] : '?'; /* stays one line */
        shown[n] = '\0';
        fprintf(stderr, "check_main: CK_JOBS='%s' is not a number of workers in 1..%d\n", shown,
                JOBS_MAX);
        return 0;
    }
    return (int)jobs;
}

/* The wall-time bound of one worker: SUITE_TIMEOUT_S, scaled like Check's own test timeouts
 * (CK_TIMEOUT_MULTIPLIER, a number > 0 read as Check reads it; anything else is ignored). */
static double suite_timeout_s(void)
{
    const char *text = getenv("CK_TIMEOUT_MULTIPLIER");
    char *end = NULL;
    double multiplier = text != NULL ? strtod(text, &end) : 1.0;
    if (text != NULL && (end == text || *end != '\0' || !(multiplier > 0))) multiplier = 1.0;
    return SUITE_TIMEOUT_S * multiplier;
}

static bool env_set(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0';
}

/* ---------------------------------------------------------------- the schedule */

/* The order workers start in: CHECK_SUITES_SLOW, then the rest in CHECK_SUITES order. */
static void schedule_make(size_t order[SUITES_COUNT])
{
    static Suite *(*const slow[])(void) = {
#define SLOW_ENTRY(name) name##_suite,
        CHECK_SUITES_SLOW(SLOW_ENTRY)
#undef SLOW_ENTRY
    };
    bool taken[SUITES_COUNT] = {false};
    size_t count = 0;
    for (size_t s = 0; s < sizeof(slow) / sizeof(slow[0]); s++) {
        for (size_t i = 0; i < SUITES_COUNT; i++) {
            if (suite_table[i].make == slow[s] && !taken[i]) {
                taken[i] = true;
                order[count++] = i;
            }
        }
    }
    for (size_t i = 0; i < SUITES_COUNT; i++) {
        if (!taken[i]) order[count++] = i;
    }
    if (count != SUITES_COUNT) abort(); /* a suite scheduled twice or not at all */
}

/* ---------------------------------------------------------------- workers */

/* In the forked worker: runs suite `index` with its output in log_fd, then exits 0 (its counts
 * are in the log's trailer). */
static _Noreturn void worker_run(size_t index, int log_fd, const sigset_t *mask)
{
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0) _exit(127);
    close(log_fd);
    SRunner *runner = srunner_create(suite_table[index].make());
    srunner_set_log(runner, "-");
    srunner_run_all(runner, CK_SILENT);
    srunner_free(runner);
    exit(EXIT_SUCCESS);
}

/* Starts the worker of suite `index`. Returns false, after a line on stderr, when it cannot. */
static bool worker_fork(struct slot *slot, size_t index, const sigset_t *mask)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/labsim-check-%s-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp", suite_table[index].name);
    slot->log_fd = mkstemp(path);
    if (slot->log_fd < 0) {
        fprintf(stderr, "check_main: cannot create %s: %s\n", path, strerror(errno));
        return false;
    }
    unlink(path);
    /* Later workers and the programs tests start must not hold this worker's log open. */
    fcntl(slot->log_fd, F_SETFD, FD_CLOEXEC);
    fflush(stdout);
    fflush(stderr);
    slot->pid = fork();
    if (slot->pid < 0) {
        fprintf(stderr, "check_main: cannot fork: %s\n", strerror(errno));
        close(slot->log_fd);
        return false;
    }
    if (slot->pid == 0) worker_run(index, slot->log_fd, mask);
    clock_gettime(CLOCK_MONOTONIC, &slot->start);
    return true;
}

/* Starts the worker of suite `index`: running, or done at once when it could not start. */
static void worker_start(struct slot *slot, size_t index, const sigset_t *mask)
{
    if (worker_fork(slot, index, mask)) {
        slot->state = SLOT_RUNNING;
        return;
    }
    slot->log_fd = -1;
    slot->failed_to_start = true;
    slot->state = SLOT_DONE;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Kills (SIGKILL) every running worker past its deadline; waitpid then reaps it. */
static void workers_kill_late(struct slot slots[SUITES_COUNT], double timeout_s)
{
    for (size_t i = 0; i < SUITES_COUNT; i++) {
        if (slots[i].state == SLOT_RUNNING && !slots[i].killed &&
            seconds_since(&slots[i].start) > timeout_s) {
            kill(slots[i].pid, SIGKILL);
            slots[i].killed = true;
        }
    }
}

/* Passes SIGINT or SIGTERM on to the running workers (Check's handler in each ends its test's
 * process group), then dies of it. */
static _Noreturn void workers_stop(struct slot slots[SUITES_COUNT], int sig)
{
    for (size_t i = 0; i < SUITES_COUNT; i++) {
        if (slots[i].state == SLOT_RUNNING) kill(slots[i].pid, sig);
    }
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    _exit(128 + sig);
}

/* Waits until some worker has ended and marks it done. SIGCHLD, SIGINT and SIGTERM are blocked
 * in the parent and taken here, so the wait wakes for them and looks at the deadlines at least
 * every WAIT_POLL_S seconds. */
static void workers_wait(struct slot slots[SUITES_COUNT], const sigset_t *wake, double timeout_s)
{
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        for (size_t i = 0; pid > 0 && i < SUITES_COUNT; i++) {
            if (slots[i].state == SLOT_RUNNING && slots[i].pid == pid) {
                slots[i].state = SLOT_DONE;
                slots[i].status = status;
                return;
            }
        }
        if (pid > 0) continue;                  /* not a worker of ours: reaped, nothing to do */
        if (pid < 0 && errno != EINTR) abort(); /* no child left: a slot is lost */
        workers_kill_late(slots, timeout_s);
        struct timespec poll = {WAIT_POLL_S, 0};
        int sig = sigtimedwait(wake, NULL, &poll);
        if (sig == SIGINT || sig == SIGTERM) workers_stop(slots, sig);
    }
}

/* ---------------------------------------------------------------- logs */

/* Finds Check's trailer at the end of a log of `size` bytes: its offset into *at and its counts
 * into *t. Returns false when the log does not end with one (the worker did not finish). */
static bool log_trailer(int fd, off_t size, off_t *at, struct tally *t)
{
    char tail[TRAILER_TAIL_MAX + 1];
    off_t from = size > TRAILER_TAIL_MAX ? size - TRAILER_TAIL_MAX : 0;
    ssize_t got = pread(fd, tail, (size_t)(size - from), from);
    if (got != size - from || got == 0 || tail[got - 1] != '\n') return false;
    tail[got] = '\0';
    /* The summary line: the last one; the head line just before it. */
    char *line = tail + got - 1;
    while (line > tail && line[-1] != '\n')
        line--;
    size_t head_len = strlen(TRAILER_HEAD);
    if ((size_t)(line - tail) < head_len) return false;
    char *head = line - head_len;
    if (memcmp(head, TRAILER_HEAD, head_len) != 0 || (head > tail && head[-1] != '\n'))
        return false;
    int percent = 0;
    int used = 0;
    if (sscanf(line, "%d%%: Checks: %d, Failures: %d, Errors: %d%n", &percent, &t->checks,
               &t->failures, &t->errors, &used) != 4 ||
        line + used != tail + got - 1)
        return false;
    *at = from + (off_t)(head - tail);
    return true;
}

/* Copies the first `len` bytes of the log to stdout. */
static void log_copy(int fd, off_t len)
{
    char buf[1u << 16];
    off_t done = 0;
    while (done < len) {
        size_t want = (size_t)(len - done < (off_t)sizeof(buf) ? len - done : (off_t)sizeof(buf));
        ssize_t got = pread(fd, buf, want, done);
        if (got <= 0) break;
        fwrite(buf, 1, (size_t)got, stdout);
        done += got;
    }
}

/* What went wrong with a worker, or NULL when it finished cleanly. */
static const char *slot_problem(const struct slot *slot, bool has_trailer, char *buf, size_t size)
{
    double timeout_s = suite_timeout_s();
    if (slot->failed_to_start)
        snprintf(buf, size, "its worker could not be started");
    else if (slot->killed)
        snprintf(buf, size, "still running after %g s (CK_TIMEOUT_MULTIPLIER scales this): killed",
                 timeout_s);
    else if (WIFSIGNALED(slot->status))
        snprintf(buf, size, "the worker was killed by signal %d (%s)", WTERMSIG(slot->status),
                 strsignal(WTERMSIG(slot->status)));
    else if (WIFEXITED(slot->status) && WEXITSTATUS(slot->status) != 0)
        snprintf(buf, size, "the worker exited with status %d", WEXITSTATUS(slot->status));
    else if (!has_trailer)
        snprintf(buf, size, "the worker ended without Check's summary");
    else
        return NULL;
    return buf;
}

/* Prints the log of a finished worker (its trailer left out) and adds its counts to *sum. */
static void slot_print(struct slot *slot, size_t index, struct tally *sum)
{
    struct stat st = {0};
    struct tally t = {0, 0, 0};
    off_t at = 0;
    bool has_trailer = slot->log_fd >= 0 && fstat(slot->log_fd, &st) == 0 &&
                       log_trailer(slot->log_fd, st.st_size, &at, &t);
    if (!has_trailer) at = st.st_size;
    if (slot->log_fd >= 0) {
        log_copy(slot->log_fd, at);
        close(slot->log_fd);
    }
    char why[160];
    if (slot_problem(slot, has_trailer, why, sizeof(why)) != NULL) {
        printf("check_main: suite %s: %s; counted as one check with an error (its log so far "
               "is above; rerun it alone with CK_RUN_SUITE)\n",
               suite_table[index].name, why);
        t.checks++;
        t.errors++;
    }
    fflush(stdout);
    sum->checks += t.checks;
    sum->failures += t.failures;
    sum->errors += t.errors;
}

/* Check's percentage: passed checks over all, rounded down; 100 when nothing failed. */
static int tally_percent(const struct tally *t)
{
    if (t->failures == 0 && t->errors == 0) return 100;
    if (t->checks == 0) return 0;
    return (int)((float)(t->checks - (t->failures + t->errors)) / (float)t->checks * 100);
}

/* ---------------------------------------------------------------- the parallel run */

static int run_parallel(int jobs)
{
    static struct slot slots[SUITES_COUNT];
    size_t order[SUITES_COUNT];
    sigset_t wake;
    sigset_t old_mask;
    schedule_make(order);
    sigemptyset(&wake);
    sigaddset(&wake, SIGCHLD);
    sigaddset(&wake, SIGINT);
    sigaddset(&wake, SIGTERM);
    sigprocmask(SIG_BLOCK, &wake, &old_mask);
    double timeout_s = suite_timeout_s();
    struct tally sum = {0, 0, 0};
    size_t started = 0;
    size_t printed = 0;
    int running = 0;
    while (printed < SUITES_COUNT) {
        while (running < jobs && started < SUITES_COUNT) {
            struct slot *slot = &slots[order[started]];
            worker_start(slot, order[started], &old_mask);
            running += slot->state == SLOT_RUNNING;
            started++;
        }
        if (running > 0) {
            workers_wait(slots, &wake, timeout_s);
            running--;
        }
        for (; printed < SUITES_COUNT && slots[printed].state == SLOT_DONE; printed++)
            slot_print(&slots[printed], printed, &sum);
    }
    printf(TRAILER_HEAD "%d%%: Checks: %d, Failures: %d, Errors: %d\n", tally_percent(&sum),
           sum.checks, sum.failures, sum.errors);
    fflush(stdout);
    return (sum.failures == 0 && sum.errors == 0 && sum.checks > 0) ? EXIT_SUCCESS : EXIT_FAILURE;
}

int main(void)
{
    int jobs = jobs_parse();
    if (jobs == 0) return 2;
    bool one_runner = jobs == 1 || env_set("CK_RUN_SUITE") || env_set("CK_XML_LOG_FILE_NAME") ||
                      env_set("CK_TAP_LOG_FILE_NAME");
    return one_runner ? run_serial() : run_parallel(jobs);
}
