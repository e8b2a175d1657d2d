/* The Check unit suites run by `make test`, one line per suite (X-macro). Each suite lives in
 * tests/unit/check_<name>.c and exposes `Suite *<name>_suite(void)`. */
#ifndef CHECK_SUITES_H
#define CHECK_SUITES_H

#include <check.h>

#define CHECK_SUITES(X)                                                                            \
    X(sim)                                                                                         \
    X(gob)                                                                                         \
    X(rpc)                                                                                         \
    X(raft_unit)                                                                                   \
    X(raft)                                                                                        \
    X(kv)                                                                                          \
    X(kvsrv)                                                                                       \
    X(lab5)                                                                                        \
    X(tools_trace)                                                                                 \
    X(names)                                                                                       \
    X(lin)                                                                                         \
    X(runner)                                                                                      \
    X(env)                                                                                         \
    X(impl)                                                                                        \
    X(student)                                                                                     \
    X(determinism)                                                                                 \
    X(mr)                                                                                          \
    X(mutants)                                                                                     \
    X(net)                                                                                         \
    X(wal)                                                                                         \
    X(explore)                                                                                     \
    X(ckmain)

/* The suites that take longest, slowest first: check_main's workers start these before the rest
 * (which follow in CHECK_SUITES order), so that no long suite starts last and leaves one worker
 * busy while the other idles. Each name must be in CHECK_SUITES (a typo does not compile). The
 * seconds are one suite alone (CK_RUN_SUITE) on this 2-core machine; a new suite taking more
 * than a few seconds belongs here, in its place. */
#define CHECK_SUITES_SLOW(X)                                                                       \
    X(student)                                                                                     \
    X(mutants)

#define CHECK_SUITE_DECL(name) Suite *name##_suite(void);
CHECK_SUITES(CHECK_SUITE_DECL)
#undef CHECK_SUITE_DECL

/* The labgob suite's cases for the gob model and headers (tests/unit/check_gob_size.c), added by
 * gob_suite so that CK_RUN_SUITE=labgob runs them too. */
void gob_size_tcases_add(Suite *s);
/* The sim suite's cases for the file system (tests/unit/check_sim_fs.c). */
void sim_fs_tcases_add(Suite *s);
/* The student suite's cases for the labs other than Raft (tests/unit/check_student_labs.c). */
void student_labs_tcases_add(Suite *s);

#endif /* CHECK_SUITES_H */
