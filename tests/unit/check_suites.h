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
    X(ext_prevote)                                                                                 \
    X(ext_member)                                                                                  \
    X(ext_pipe)                                                                                    \
    X(ext_reads)

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
