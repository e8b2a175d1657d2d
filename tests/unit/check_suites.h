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
    X(ext_reads)                                                                                   \
    X(ckmain)

/* The suites that take longest, slowest first: check_main's workers start these before the rest
 * (which follow in CHECK_SUITES order), so that no long suite starts last and leaves one worker
 * busy while the other idles. Each name must be in CHECK_SUITES (a typo does not compile). A new
 * suite that takes more than a few seconds belongs here, in its place. The seconds: each suite's
 * wall time in a two-worker `make test` on 2 cores shared with other work (load average 10 to
 * 33, so several times what an idle machine takes; the order is what counts). Most of it is
 * scratch builds of labsim (kvsrv, kv, env, impl, student, lab5, mr) and labsim sweeps. */
#define CHECK_SUITES_SLOW(X)                                                                       \
    X(kvsrv)       /* 807 s */                                                                     \
    X(kv)          /* 767 s */                                                                     \
    X(env)         /* 556 s */                                                                     \
    X(impl)        /* 535 s */                                                                     \
    X(student)     /* 512 s */                                                                     \
    X(lab5)        /* 494 s */                                                                     \
    X(determinism) /* 405 s */                                                                     \
    X(mr)          /* 236 s */                                                                     \
    X(lin)         /* 208 s */                                                                     \
    X(tools_trace) /* 94 s */                                                                      \
    X(sim)         /* 61 s */

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
