/* Benchmarks printed by `labsim bench` (make bench). Each prints machine-readable lines
 * "bench <area> key=value ..." measured with the wall clock of this machine. Benchmarks are
 * tools, not tests: they assert nothing about time. */
#ifndef TOOLS_BENCH_H
#define TOOLS_BENCH_H

#include <stdio.h>

/* Wall-clock milliseconds from CLOCK_MONOTONIC (tools only; never inside a simulation). */
double bench_wall_ms(void);

void bench_sim(FILE *out);
void bench_rpc(FILE *out);
void bench_gob(FILE *out);
void bench_lin(FILE *out, const char *data_dir);
/* Writing a 500,000-event trace and reading it back event by event (tools/bench_trace.c). */
void bench_trace(FILE *out);
/* 1000 seeds of TestFigure8Unreliable3C with 2 worker processes, through the `labsim run`
 * sweep engine (tools/bench_sweep.c). */
void bench_sweep(FILE *out);
/* One seed of every test `pattern` selects ("1,2": the course's first two labs), in two worker
 * processes as `labsim run PATTERN --jobs 2` and `make grade` run them: one "bench parts ..."
 * line with the wall time (tools/bench_sweep.c). */
void bench_parts(FILE *out, const char *pattern);
/* 100 explorer runs of each target, raft and kvraft, in this process (tools/bench_explore.c). */
void bench_explore(FILE *out);

/* kvraft ops per virtual second, with and without RAFT_OPT_PIPELINE: TestSpeed4A/4B and
 * concurrent clerks (tools/bench_kv.c). */
void bench_kv(FILE *out);

#endif /* TOOLS_BENCH_H */
