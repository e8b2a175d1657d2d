/* run_cpu: the reference CPU time of every graded test, and the rule that flags a test whose CPU
 * time is far above it.
 *
 * Virtual time does not charge for CPU: a Raft that re-encodes its whole log on every persist
 * passes the same tests in the same virtual time as one that does not, and only gets slower in
 * wall time. `labsim run` therefore shows each test's CPU time beside the reference
 * implementation's (ours) and prints a warning line for a test far above it. It is a warning,
 * never a verdict: verdicts stay deterministic, CPU time is not.
 */
#ifndef TOOLS_RUN_CPU_H
#define TOOLS_RUN_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* A test is flagged when its mean CPU time per run is above RUN_CPU_FACTOR times the
 * reference's and above it by at least RUN_CPU_FLOOR_US (so that a millisecond test on a
 * loaded machine does not warn). */
#define RUN_CPU_FACTOR 10u
#define RUN_CPU_FLOOR_US 250000u

/* The reference implementation's mean CPU microseconds per run of `test_name`, or 0 when the
 * table has no entry for it. */
uint64_t run_cpu_ref_us(const char *test_name);

/* True when a mean of `cpu_us` per run is far above a reference of `ref_us` per run (never
 * when the reference is unknown, ref_us == 0). */
bool run_cpu_far_above(uint64_t cpu_us, uint64_t ref_us);

/* The number of entries, and the i-th test name (for the test that every graded test has one). */
unsigned run_cpu_refs_count(void);
const char *run_cpu_ref_name(unsigned i);

#endif /* TOOLS_RUN_CPU_H */
