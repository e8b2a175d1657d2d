/* runner: the sweep engine (see runner.h).
 *
 * Parent and workers talk over two pipes per worker. The parent writes a job index (8 bytes)
 * on the command pipe; the worker runs that job and writes a fixed header (struct wire) and
 * the captured text on its result pipe. A worker exits when its command pipe is closed. The
 * parent polls the result pipes, parks each result in a ring of RUNNER_WINDOW slots (job index
 * modulo the window) and delivers the ring's head while it is complete. A job is only handed
 * out when its slot is free, which bounds the memory of a sweep whatever its length.
 *
 * The job list is inherited by fork, so a job travels as its index alone.
 *
 * With capture_stderr each worker's stderr is an unlinked scratch file the parent also holds;
 * the worker empties it before each job, so when the worker dies the file holds that job's last
 * words alone, and the parent reads their tail into the job's report.
 */
#include "runner.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNNER_WINDOW 1024u /* results parked ahead of the next delivery */
#define RUNNER_POLL_MS 200  /* progress redraw period while waiting */
#define RUNNER_PROGRESS_US 100000u

_Static_assert(RUNNER_WORKERS_MAX <= RUNNER_WINDOW, "every worker can hold a job in the window");

uint64_t runner_wall_us(void)
{
    /* Wall time is only reported (seeds per second, ETA); no run ever reads it. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t runner_cpu_us(void)
{
    /* CPU time is only reported (the summary's cpu_s column and its warning), never used by a
     * run: virtual time does not charge for it, so this is where a slow Raft shows. */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Whether one comma-free pattern selects the test. */
static bool runner_selects_one(const struct lab_test *test, const char *pattern)
{
    /* "all" is every lab's tests; the option scenarios (part ext) are run by name or part. */
    if (strcmp(pattern, "all") == 0) return strcmp(test->part, LAB_PART_EXT) != 0;
    if (strcmp(pattern, test->name) == 0) return true;
    if (strcasecmp(pattern, test->part) == 0) return true;
    return strpbrk(pattern, "*?[") != NULL && fnmatch(pattern, test->name, 0) == 0;
}

bool runner_selects(const struct lab_test *test, const char *pattern)
{
    /* A comma-separated list selects what any of its items selects ("1,2", "3A,TestBasic4A"). */
    char item[RUNNER_PATTERN_MAX];
    const char *p = pattern;
    for (;;) { /* one pass per item: ends at the pattern's terminating NUL */
        size_t len = strcspn(p, ",");
        if (len > 0 && len < sizeof(item)) {
            memcpy(item, p, len);
            item[len] = '\0';
            if (runner_selects_one(test, item)) return true;
        }
        if (p[len] == '\0') return false;
        p += len + 1;
    }
}

void runner_xml_escape(FILE *out, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            /* XML 1.0 forbids most control characters, even escaped. */
            if (*p < 0x20 && *p != '\n' && *p != '\t' && *p != '\r')
                fputc('?', out);
            else
                fputc(*p, out);
        }
    }
}

/* ---------------------------------------------------------------- one job */

/* A result as it travels on a result pipe (same binary on both ends). */
struct wire {
    uint64_t job;
    uint64_t digest;
    uint64_t virtual_us;
    uint64_t events;
    uint64_t wall_us;
    uint64_t cpu_us;
    int32_t rc;
    int32_t outcome;
    uint32_t text_len;
    uint32_t reserved;
};

/* A parked result: the wire header and its text (malloc'd, NUL-terminated, may be NULL). */
struct slot {
    bool ready;
    bool died;
    struct wire wire;
    char *text;
};

/* Runs one job here. *text gets the captured output (caller frees; NULL when not kept). */
static void runner_exec(const struct runner_job *job, size_t index,
                        const struct runner_config *config, struct wire *wire, char **text)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    struct lab_opts opts = {.out = mem,
                            .replay_cmd = config->replay_cmd,
                            .raft_opts = config->raft_opts,
                            .body_arg = config->body_arg};
    if (opts.replay_cmd == NULL) opts.replay_cmd = RUNNER_DEFAULT_REPLAY;
    struct lab_result result;
    uint64_t wall0_us = runner_wall_us();
    uint64_t cpu0_us = runner_cpu_us();
    int rc = lab_run(job->test, job->seed, &opts, &result);
    memset(wire, 0, sizeof(*wire));
    wire->job = index;
    wire->wall_us = runner_wall_us() - wall0_us;
    wire->cpu_us = runner_cpu_us() - cpu0_us;
    wire->rc = rc;
    wire->outcome = rc == SIM_OK ? (int32_t)result.outcome : (int32_t)LAB_FAIL;
    if (rc == SIM_OK) {
        wire->digest = result.digest;
        wire->virtual_us = result.virtual_us;
        wire->events = result.events;
    } else if (mem != NULL) {
        fprintf(mem, "--- FAIL: %s (seed %" PRIu64 ")\n    cannot run: %s\n", job->test->name,
                job->seed, sim_strerror(rc));
    }
    if (mem != NULL) fclose(mem);
    *text = NULL;
    if (buf == NULL) return;
    if (wire->outcome != LAB_FAIL && !config->capture_passed) {
        free(buf);
        return;
    }
    if (size > RUNNER_TEXT_MAX) {
        size = RUNNER_TEXT_MAX;
        buf[size] = '\0';
    }
    wire->text_len = (uint32_t)size;
    *text = buf;
}

static void runner_result_from(const struct runner_job *jobs, const struct slot *slot,
                               struct runner_result *out)
{
    const struct wire *w = &slot->wire;
    memset(out, 0, sizeof(*out));
    out->job = (size_t)w->job;
    out->test = jobs[w->job].test;
    out->seed = jobs[w->job].seed;
    out->rc = w->rc;
    out->outcome = (enum lab_outcome)w->outcome;
    out->digest = w->digest;
    out->virtual_us = w->virtual_us;
    out->events = w->events;
    out->wall_us = w->wall_us;
    out->cpu_us = w->cpu_us;
    out->worker_died = slot->died;
    out->text = slot->text != NULL ? slot->text : "";
    out->text_len = slot->text != NULL ? w->text_len : 0;
}

/* ---------------------------------------------------------------- delivery and progress */

struct sweep {
    const struct runner_job *jobs;
    size_t count;
    const struct runner_config *config;
    runner_deliver_cb deliver;
    void *arg;
    struct runner_stats *stats;
    uint64_t wall0_us;
    uint64_t drawn_us; /* when the progress line was last drawn */
    size_t next_deliver;
    size_t next_dispatch;
    bool stopping;     /* stop_on_fail saw a failure */
    struct slot *ring; /* RUNNER_WINDOW slots (forked sweeps only) */
};

static void progress_draw(struct sweep *sw, bool force)
{
    if (!sw->config->progress) return;
    uint64_t now_us = runner_wall_us();
    if (!force && now_us - sw->drawn_us < RUNNER_PROGRESS_US) return;
    sw->drawn_us = now_us;
    double elapsed_s = (double)(now_us - sw->wall0_us) / 1e6;
    size_t done = sw->stats->delivered;
    double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0.0;
    fprintf(stderr, "\r\033[K  %zu/%zu runs, %zu failed, %.1f seeds/s", done, sw->count,
            sw->stats->failed, rate);
    if (rate > 0 && done < sw->count)
        fprintf(stderr, ", ETA %.0f s", (double)(sw->count - done) / rate);
    fflush(stderr);
}

static void progress_clear(const struct sweep *sw)
{
    if (!sw->config->progress) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

static void sweep_deliver(struct sweep *sw, const struct slot *slot)
{
    struct runner_result result;
    runner_result_from(sw->jobs, slot, &result);
    if (result.outcome == LAB_FAIL) {
        sw->stats->failed++;
        if (sw->config->stop_on_fail) sw->stopping = true;
    }
    sw->stats->delivered++;
    if (result.text_len > 0) progress_clear(sw);
    sw->deliver(&result, sw->arg);
    fflush(stdout);
    progress_draw(sw, result.text_len > 0);
}

/* ---------------------------------------------------------------- in this process */

static int sweep_local(struct sweep *sw)
{
    for (size_t i = 0; i < sw->count && !sw->stopping; i++) {
        struct slot slot = {.ready = true};
        runner_exec(&sw->jobs[i], i, sw->config, &slot.wire, &slot.text);
        sw->next_dispatch = i + 1;
        sweep_deliver(sw, &slot);
        free(slot.text);
    }
    sw->stats->not_started = sw->count - sw->next_dispatch;
    return SIM_OK;
}

/* ---------------------------------------------------------------- worker processes */

struct worker {
    pid_t pid;  /* 0 = no process in this slot */
    int cmd_fd; /* parent writes job indices */
    int res_fd; /* parent reads results */
    int err_fd; /* the worker's stderr file (capture_stderr), else -1 */
    bool busy;
    uint64_t job;
};

static bool write_full(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads exactly len bytes; false on EOF or error (a dead peer). */
static bool read_full(int fd, void *data, size_t len)
{
    char *p = data;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* CPU seconds this process has used so far (user and system). */
static rlim_t cpu_used_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (rlim_t)ru.ru_utime.tv_sec + (rlim_t)ru.ru_stime.tv_sec;
}

/* Lets the next job use `limit_s` more seconds of CPU (0: back to `saved`). RLIMIT_CPU counts
 * the whole process, so the limit is what it used so far plus the job's share. */
static void cpu_limit_set(unsigned limit_s, const struct rlimit *saved)
{
    struct rlimit rl = *saved;
    if (limit_s > 0) {
        rlim_t want = cpu_used_s() + 1u + (rlim_t)limit_s;
        if (saved->rlim_max == RLIM_INFINITY || want < saved->rlim_max) rl.rlim_cur = want;
    }
    setrlimit(RLIMIT_CPU, &rl);
}

/* The worker's life: run each job index it is sent until the command pipe closes. */
_Noreturn static void worker_main(const struct sweep *sw, int cmd_fd, int res_fd)
{
    uint64_t index;
    struct rlimit saved = {RLIM_INFINITY, RLIM_INFINITY};
    unsigned cpu_s = sw->config->job_cpu_s;
    /* The job limit must end this process alone, whatever handler it inherited. */
    if (cpu_s > 0 && (getrlimit(RLIMIT_CPU, &saved) != 0 || signal(SIGXCPU, SIG_DFL) == SIG_ERR))
        _exit(5);
    while (read_full(cmd_fd, &index, sizeof(index))) {
        if (index >= sw->count) _exit(3);
        struct wire wire;
        char *text = NULL;
        /* A captured stderr holds this job's words alone (the parent reads it with pread). */
        if (sw->config->capture_stderr &&
            (ftruncate(STDERR_FILENO, 0) != 0 || lseek(STDERR_FILENO, 0, SEEK_SET) != 0))
            _exit(5);
        if (cpu_s > 0) cpu_limit_set(cpu_s, &saved);
        runner_exec(&sw->jobs[index], (size_t)index, sw->config, &wire, &text);
        if (cpu_s > 0) cpu_limit_set(0, &saved);
        bool ok = write_full(res_fd, &wire, sizeof(wire)) &&
                  (wire.text_len == 0 || write_full(res_fd, text, wire.text_len));
        free(text);
        if (!ok) _exit(4);
    }
    _exit(0);
}

static void worker_close(struct worker *w)
{
    if (w->cmd_fd >= 0) close(w->cmd_fd);
    if (w->res_fd >= 0) close(w->res_fd);
    if (w->err_fd >= 0) close(w->err_fd);
    w->cmd_fd = -1;
    w->res_fd = -1;
    w->err_fd = -1;
}

/* An unlinked scratch file for a worker's stderr; -1 when none can be made. */
static int stderr_file_make(void)
{
    char path[] = "/tmp/labsim-stderr-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) unlink(path);
    return fd;
}

/* The last RUNNER_STDERR_TAIL bytes of a captured stderr, NUL-terminated, into buf (which has
 * room for them); "" when there is none. */
static size_t stderr_tail(int fd, char *buf)
{
    struct stat st;
    buf[0] = '\0';
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) return 0;
    off_t from = st.st_size > (off_t)RUNNER_STDERR_TAIL ? st.st_size - RUNNER_STDERR_TAIL : 0;
    ssize_t n = pread(fd, buf, (size_t)(st.st_size - from), from);
    size_t len = n > 0 ? (size_t)n : 0;
    buf[len] = '\0';
    return len;
}

/* Forks the worker for slot `i`. The child closes every parent end it inherited, so a closed
 * command pipe is seen by its own worker alone. */
static int worker_spawn(struct sweep *sw, struct worker *workers, unsigned count, unsigned i)
{
    int cmd[2];
    int res[2];
    int err_fd = sw->config->capture_stderr ? stderr_file_make() : -1;
    if (sw->config->capture_stderr && err_fd < 0) return SIM_EIO;
    if (pipe(cmd) != 0) {
        if (err_fd >= 0) close(err_fd);
        return SIM_EIO;
    }
    if (pipe(res) != 0) {
        if (err_fd >= 0) close(err_fd);
        close(cmd[0]);
        close(cmd[1]);
        return SIM_EIO;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        if (err_fd >= 0) close(err_fd);
        close(cmd[0]);
        close(cmd[1]);
        close(res[0]);
        close(res[1]);
        return SIM_EIO;
    }
    if (pid == 0) {
        for (unsigned j = 0; j < count; j++)
            worker_close(&workers[j]);
        close(cmd[1]);
        close(res[0]);
        if (err_fd >= 0 && (dup2(err_fd, STDERR_FILENO) < 0 || close(err_fd) != 0)) _exit(5);
        worker_main(sw, cmd[0], res[1]);
    }
    close(cmd[0]);
    close(res[1]);
    workers[i] = (struct worker){.pid = pid, .cmd_fd = cmd[1], .res_fd = res[0], .err_fd = err_fd};
    return SIM_OK;
}

/* Reaps a finished worker; describes how it ended in `how`. Returns the signal that killed
 * it, or 0. */
static int worker_reap(struct worker *w, char *how, size_t how_size)
{
    int status = 0;
    int sig = 0;
    worker_close(w);
    snprintf(how, how_size, "exited");
    if (w->pid > 0 && waitpid(w->pid, &status, 0) == w->pid) {
        if (WIFSIGNALED(status)) {
            sig = WTERMSIG(status);
            snprintf(how, how_size, "killed by signal %d", sig);
        } else if (WIFEXITED(status)) {
            snprintf(how, how_size, "exited with status %d", WEXITSTATUS(status));
        }
    }
    w->pid = 0;
    w->busy = false;
    return sig;
}

/* Parks a result in the ring and delivers the ring's head while it is complete. Takes `text`. */
static void sweep_park(struct sweep *sw, const struct wire *wire, char *text, bool died)
{
    struct slot *slot = &sw->ring[wire->job % RUNNER_WINDOW];
    /* Invariant 1 of runner.h: a result belongs to a job handed out and not yet delivered, and
     * its slot is free (the window check in sweep_dispatch). Anything else is a runner bug. */
    if (slot->ready || wire->job < sw->next_deliver || wire->job >= sw->next_dispatch) abort();
    *slot = (struct slot){.ready = true, .died = died, .wire = *wire, .text = text};
    if (wire->outcome == LAB_FAIL && sw->config->stop_on_fail) sw->stopping = true;
    while (sw->next_deliver < sw->next_dispatch) {
        struct slot *head = &sw->ring[sw->next_deliver % RUNNER_WINDOW];
        if (!head->ready) break;
        sweep_deliver(sw, head);
        free(head->text);
        *head = (struct slot){.ready = false};
        sw->next_deliver++;
    }
}

/* A worker died with a job in flight (an assertion aborted it, it ran out of CPU time, or it was
 * killed): the job fails with a report in the usual shape, pointing at the message the worker left
 * on stderr, or ending with that message when stderr was captured. */
static void sweep_worker_died(struct sweep *sw, struct worker *w)
{
    char how[64];
    bool busy = w->busy;
    uint64_t job = w->job;
    /* The worker's result pipe is closed: it has exited and written all it will write. */
    char *tail = busy && w->err_fd >= 0 ? malloc(RUNNER_STDERR_TAIL + 1) : NULL;
    size_t tail_len = tail != NULL ? stderr_tail(w->err_fd, tail) : 0;
    int sig = worker_reap(w, how, sizeof(how));
    if (!busy) return;
    if (sig == SIGXCPU && sw->config->job_cpu_s > 0)
        snprintf(how, sizeof(how), "used over %u s of CPU", sw->config->job_cpu_s);
    const struct runner_job *j = &sw->jobs[job];
    const char *program =
        sw->config->replay_cmd != NULL ? sw->config->replay_cmd : RUNNER_DEFAULT_REPLAY;
    const char *raft_opts = sw->config->raft_opts != NULL ? sw->config->raft_opts : "";
    size_t size = 512 + strlen(program) + 2 * strlen(j->test->name) + strlen(raft_opts) + tail_len;
    char *text = malloc(size);
    struct wire wire = {.job = job, .rc = SIM_EIO, .outcome = LAB_FAIL};
    if (text != NULL) {
        int n =
            snprintf(text, size,
                     "--- FAIL: %s (seed %" PRIu64 ")\n"
                     "    worker process %s before reporting (%s)\n"
                     "    replay: %s replay %s --seed %" PRIu64 "%s%s\n%s",
                     j->test->name, j->seed, how,
                     tail != NULL ? "its stderr follows" : "its message is on stderr above",
                     program, j->test->name, j->seed, raft_opts[0] != '\0' ? " --raft-opts " : "",
                     raft_opts, tail != NULL ? tail : "");
        wire.text_len = n > 0 && (size_t)n < size ? (uint32_t)n : 0;
    }
    free(tail);
    sweep_park(sw, &wire, text, true);
}

/* Reads one result from a busy worker, or notices that it died. */
static void sweep_receive(struct sweep *sw, struct worker *w)
{
    struct wire wire;
    char *text = NULL;
    bool ok = read_full(w->res_fd, &wire, sizeof(wire)) && wire.job == w->job &&
              wire.text_len <= RUNNER_TEXT_MAX;
    if (ok && wire.text_len > 0) {
        text = malloc((size_t)wire.text_len + 1);
        ok = text != NULL && read_full(w->res_fd, text, wire.text_len);
        if (ok) text[wire.text_len] = '\0';
    }
    if (!ok) {
        free(text);
        sweep_worker_died(sw, w);
        return;
    }
    w->busy = false;
    sweep_park(sw, &wire, text, false);
}

/* Hands the next jobs to idle workers, starting workers as needed. */
static int sweep_dispatch(struct sweep *sw, struct worker *workers, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (sw->stopping || sw->next_dispatch >= sw->count) return SIM_OK;
        if (sw->next_dispatch >= sw->next_deliver + RUNNER_WINDOW) return SIM_OK;
        struct worker *w = &workers[i];
        if (w->busy) continue;
        if (w->pid == 0) {
            int rc = worker_spawn(sw, workers, n, i);
            if (rc != SIM_OK) return rc;
        }
        uint64_t job = sw->next_dispatch;
        if (!write_full(w->cmd_fd, &job, sizeof(job))) {
            char how[64];
            worker_reap(w, how, sizeof(how));
            continue;
        }
        w->busy = true;
        w->job = job;
        sw->next_dispatch++;
    }
    return SIM_OK;
}

/* One round of waiting: polls the busy workers and takes what they sent. Returns the number of
 * busy workers polled (0: nothing in flight), or -1 when poll failed. */
static int sweep_wait(struct sweep *sw, struct worker *workers, unsigned n)
{
    struct pollfd fds[RUNNER_WORKERS_MAX];
    unsigned owner[RUNNER_WORKERS_MAX];
    unsigned busy = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!workers[i].busy) continue;
        fds[busy] = (struct pollfd){.fd = workers[i].res_fd, .events = POLLIN};
        owner[busy++] = i;
    }
    if (busy == 0) return 0;
    int ready = poll(fds, busy, RUNNER_POLL_MS);
    if (ready < 0) return errno == EINTR ? (int)busy : -1;
    for (unsigned k = 0; k < busy; k++) {
        if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) != 0)
            sweep_receive(sw, &workers[owner[k]]);
    }
    progress_draw(sw, false);
    return (int)busy;
}

static int sweep_forked(struct sweep *sw, unsigned n)
{
    struct worker workers[RUNNER_WORKERS_MAX];
    for (unsigned i = 0; i < n; i++)
        workers[i] = (struct worker){.pid = 0, .cmd_fd = -1, .res_fd = -1, .err_fd = -1};
    sw->ring = calloc(RUNNER_WINDOW, sizeof(*sw->ring));
    if (sw->ring == NULL) return SIM_ENOMEM;
    /* A worker that died must not take the parent with it when the parent writes to it. */
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    int rc = SIM_OK;
    for (;;) {
        rc = sweep_dispatch(sw, workers, n);
        if (rc != SIM_OK) break;
        int busy = sweep_wait(sw, workers, n);
        if (busy < 0) rc = SIM_EIO;
        if (busy <= 0) break;
    }
    if (rc == SIM_OK && !sw->stopping && sw->next_deliver < sw->count) rc = SIM_EIO;
    for (unsigned i = 0; i < n; i++) {
        char how[64];
        worker_reap(&workers[i], how, sizeof(how));
    }
    for (unsigned i = 0; i < RUNNER_WINDOW; i++)
        free(sw->ring[i].text);
    free(sw->ring);
    sw->ring = NULL;
    signal(SIGPIPE, old_pipe);
    return rc;
}

/* ---------------------------------------------------------------- the sweep */

int runner_sweep(const struct runner_job *jobs, size_t count, const struct runner_config *config,
                 runner_deliver_cb deliver, void *arg, struct runner_stats *stats)
{
    struct runner_stats local;
    if (stats == NULL) stats = &local;
    memset(stats, 0, sizeof(*stats));
    if ((jobs == NULL && count > 0) || config == NULL || deliver == NULL || count > RUNNER_JOBS_MAX)
        return SIM_EINVAL;
    struct sweep sw = {.jobs = jobs,
                       .count = count,
                       .config = config,
                       .deliver = deliver,
                       .arg = arg,
                       .stats = stats,
                       .wall0_us = runner_wall_us()};
    unsigned workers = config->workers;
    if (workers > RUNNER_WORKERS_MAX) workers = RUNNER_WORKERS_MAX;
    if (workers > count) workers = (unsigned)count;
    if (workers == 0 && count > 0) workers = 1;
    bool forked = workers > 1 || (config->isolate && count > 0);
    int rc = forked ? sweep_forked(&sw, workers) : sweep_local(&sw);
    stats->not_started = count - sw.next_dispatch;
    stats->wall_us = runner_wall_us() - sw.wall0_us;
    progress_clear(&sw);
    return rc;
}
