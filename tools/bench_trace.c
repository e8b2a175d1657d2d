/* bench_trace: how fast a trace file is written (sim_trace_write) and read back one event at a
 * time (trace_file_open / trace_file_next, what log, export and replay --check-trace do), on a
 * scratch file of random rpc-like events. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "sim.h"
#include "trace_file.h"

#define BENCH_TRACE_EVENTS 500000u

static const struct sim_trace_kind bench_kind_send = {
    100, SIM_TOPIC_NET, "rpc.send", {"call", "server", "bytes", NULL}};
static const struct sim_trace_kind bench_kind_append = {
    205, SIM_TOPIC_LOG, "raft.append", {"index", "term", NULL}};

static void bench_trace_script(struct sim *sim, void *arg)
{
    struct sim_rand *rand = arg;
    for (uint32_t i = 0; i < BENCH_TRACE_EVENTS; i++) {
        sim_sleep_us(sim, sim_rand_below(rand, 100));
        int node = (int)sim_rand_below(rand, 5);
        if (i % 2 == 0)
            sim_tracef(sim, node, &bench_kind_send, i, (node + 1) % 5, "Raft.AppendEntries");
        else
            sim_trace4(sim, node, &bench_kind_append, i, 7, 0, 0);
    }
}

/* Reads every event of `path`; returns how many, or -1 on an error. */
static long bench_trace_read(const char *path)
{
    struct trace_file *tf = NULL;
    struct trace_file_error err;
    struct trace_file_event ev;
    long count = 0;
    if (trace_file_open(path, &tf, &err) != TRACE_FILE_OK) return -1;
    int rc = 1;
    while ((rc = trace_file_next(tf, &ev, &err)) == 1)
        count++;
    trace_file_close(tf);
    return rc == 0 ? count : -1;
}

void bench_trace(FILE *out)
{
    char path[] = "/tmp/labsim-bench-trace-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(out, "bench trace error=cannot_create_scratch_file\n");
        return;
    }
    close(fd);
    struct sim *sim = sim_new(1);
    struct sim_rand rand;
    sim_rand_init(&rand, sim, "bench.trace");
    sim_trace_record(sim, SIM_TOPICS_ALL, BENCH_TRACE_EVENTS);
    sim_task_spawn(sim, "bench", bench_trace_script, &rand);
    sim_run_until(sim, NULL, NULL, SIM_TIMEOUT_NEVER);
    double t0 = bench_wall_ms();
    int wrc = sim_trace_write(sim, path, "BenchTrace");
    double write_ms = bench_wall_ms() - t0;
    sim_free(sim);
    struct stat st;
    double mb = wrc == SIM_OK && stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
    t0 = bench_wall_ms();
    long events = wrc == SIM_OK ? bench_trace_read(path) : -1;
    double read_ms = bench_wall_ms() - t0;
    unlink(path);
    fprintf(out,
            "bench trace events=%ld file_mb=%.1f write_ms=%.1f read_ms=%.1f read_mb_per_s=%.0f "
            "read_events_per_s=%.0f\n",
            events, mb, write_ms, read_ms, read_ms > 0 ? mb / (read_ms / 1e3) : 0.0,
            read_ms > 0 ? (double)events / (read_ms / 1e3) : 0.0);
}
