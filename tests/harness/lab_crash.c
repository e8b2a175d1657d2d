/* lab_crash: the crash report of a run whose code under test dies of a signal (a segfault in a
 * student's Raft, an abort, an assertion), in the shape of a failure report:
 *
 *   --- CRASH: TestReElection3A (seed 1)
 *       at 2.371204s virtual, node 2: segmentation fault (signal 11) in the code under test
 *       replay: build/labsim replay TestReElection3A --seed 1
 *
 * A run arms it (lab_session_start) and disarms it (lab_session_finish); between the two, a
 * fatal signal writes the report to stderr and then lets the signal take its course: the
 * previous disposition is restored, so a sanitizer's handler still prints its report, a core
 * is still dumped and the runner still sees its worker die. The runner's parent adds its own
 * FAIL line for the job; `labsim replay` of the same run prints the same three lines.
 *
 * A signal handler can reach only static storage, so the armed run lives in the one
 * process-wide record below; it holds nothing but what the report prints, prepared at arm time
 * (the test and seed line) or read at crash time (the sim's clock, node context and replay
 * hint, which a body may set after the arming: the explorer's names its schedule). The
 * handler calls only async-signal-safe functions (write, sigaction, raise) and formats numbers
 * itself.
 *
 * Invariants: handlers are installed once per process, on the first arm; the record is
 * written only while no signal can use it (armed = 0 around the update).
 */
#define _XOPEN_SOURCE 700 /* sigaltstack and SA_ONSTACK are XSI */

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"

#define CRASH_LINE_MAX 640u
#define CRASH_ALTSTACK_BYTES (64u * 1024u) /* a task's stack overflow still gets a report */

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define CRASH_SIGNALS_COUNT (sizeof(crash_signals) / sizeof(crash_signals[0]))

static struct {
    volatile sig_atomic_t armed;
    const struct sim *sim;
    char head[CRASH_LINE_MAX]; /* "--- CRASH: <test> (seed <n>)\n" */
    bool installed;
    struct sigaction previous[CRASH_SIGNALS_COUNT];
} lab_crash;

static unsigned char crash_altstack[CRASH_ALTSTACK_BYTES];

/* The report is assembled here and written with one write(2), so reports of workers dying at
 * once do not interleave on a shared stderr (a pipe write up to PIPE_BUF bytes is atomic). */
static char crash_text[3u * CRASH_LINE_MAX];
static size_t crash_len;

static void crash_put(const char *text)
{
    while (*text != '\0' && crash_len < sizeof(crash_text))
        crash_text[crash_len++] = *text++;
}

/* Appends v in decimal, at least `width` digits (zero-padded). */
static void crash_put_u64(uint64_t v, int width)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while ((v > 0 || n < width) && n < (int)sizeof(digits) - 1);
    char text[24];
    for (int i = 0; i < n; i++)
        text[i] = digits[n - 1 - i];
    text[n] = '\0';
    crash_put(text);
}

static void crash_flush(void)
{
    const char *at = crash_text;
    size_t len = crash_len;
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, at, len);
        if (n <= 0) return;
        at += n;
        len -= (size_t)n;
    }
}

static const char *crash_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "segmentation fault";
    case SIGBUS:
        return "bus error";
    case SIGILL:
        return "illegal instruction";
    case SIGFPE:
        return "arithmetic exception";
    case SIGABRT:
        return "abort";
    default:
        return "fatal signal";
    }
}

static size_t crash_signal_index(int sig)
{
    for (size_t i = 0; i < CRASH_SIGNALS_COUNT; i++)
        if (crash_signals[i] == sig) return i;
    return 0;
}

static void crash_report(int sig)
{
    const struct sim *sim = lab_crash.sim;
    sim_time_us now_us = sim_now_us(sim);
    int node = sim_node_current(sim);
    crash_len = 0;
    crash_put(lab_crash.head);
    crash_put("    at ");
    crash_put_u64(now_us / SIM_US_PER_S, 1);
    crash_put(".");
    crash_put_u64(now_us % SIM_US_PER_S, 6);
    crash_put("s virtual");
    if (node != SIM_NODE_NONE && node >= 0) {
        crash_put(", node ");
        crash_put_u64((uint64_t)node, 1);
    }
    crash_put(": ");
    crash_put(crash_signal_name(sig));
    crash_put(" (signal ");
    crash_put_u64((uint64_t)sig, 1);
    crash_put(") in the code under test\n");
    crash_put("    replay: ");
    crash_put(sim_replay_hint(sim));
    crash_put("\n");
    crash_flush();
}

static void crash_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)uctx;
    if (lab_crash.armed) {
        lab_crash.armed = 0; /* one report, even if the previous handler faults again */
        crash_report(sig);
    }
    sigaction(sig, &lab_crash.previous[crash_signal_index(sig)], NULL);
    /* A fault raised by the kernel repeats when the handler returns, now reaching the previous
     * handler with its real siginfo (a sanitizer then reports the address); anything else
     * (abort, kill) is raised again. */
    bool fault = info != NULL && info->si_code > 0 && sig != SIGABRT;
    if (!fault) raise(sig);
}

static void crash_install(void)
{
    stack_t ss = {.ss_sp = crash_altstack, .ss_size = sizeof(crash_altstack), .ss_flags = 0};
    sigaltstack(&ss, NULL);
    for (size_t i = 0; i < CRASH_SIGNALS_COUNT; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = crash_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        sigaction(crash_signals[i], &sa, &lab_crash.previous[i]);
    }
    lab_crash.installed = true;
}

void lab_crash_arm(const struct sim *sim, const char *test_name, uint64_t seed)
{
    lab_crash.armed = 0;
    if (!lab_crash.installed) crash_install();
    lab_crash.sim = sim;
    snprintf(lab_crash.head, sizeof(lab_crash.head), "--- CRASH: %s (seed %" PRIu64 ")\n",
             test_name, seed);
    lab_crash.armed = 1;
}

void lab_crash_disarm(const struct sim *sim)
{
    if (lab_crash.sim != sim) return; /* another session armed it since */
    lab_crash.armed = 0;
    lab_crash.sim = NULL;
}
