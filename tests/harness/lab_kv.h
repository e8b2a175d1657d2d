/* lab_kv: checks shared by the key/value suites (lab 2's kvsrv, lab 4's kvraft, lab 5's
 * shardkv): the linearizability check of a recorded history with the KV model, and
 * test_test.go's checkClntAppends.
 */
#ifndef LAB_KV_H
#define LAB_KV_H

#include <stddef.h>
#include <stdint.h>

#include "lab.h"
#include "lin.h"

#define LAB_KV_ARTIFACT_DIR "build/artifacts"

/* Porcupine's CheckOperationsVerbose over ops (malloc'd; freed here, before any failure ends
 * the task) with the KV model and a deterministic budget of steps_max, from a task of the test.
 * ILLEGAL writes the HTML visualization (with the markers, which may be NULL) as <artifact
 * dir>/<test_name>-<seed>.html and fails the test "history is not linearizable"; UNKNOWN is
 * recorded with lab_set_unknown, never passed silently; a checker error fails the test. The check's
 * wall time is accounted with lab_add_lin_check. */
void lab_kv_check_history(struct lab_ctx *ctx, const char *test_name, struct lin_kv_op *ops,
                          size_t count, uint64_t steps_max, const struct lin_marker *markers,
                          size_t markers_count);

/* The same check, returning the verdict (LIN_OK, LIN_ILLEGAL with the HTML page written and set
 * as the run's artifact, or LIN_UNKNOWN, not recorded) instead of failing on ILLEGAL: for a
 * scenario's twin, which passes when the history is ILLEGAL. */
int lab_kv_history_verdict(struct lab_ctx *ctx, const char *test_name, struct lin_kv_op *ops,
                           size_t count, uint64_t steps_max, const struct lin_marker *markers,
                           size_t markers_count);
/* checkClntAppends(clnt, v, count): every "x <clnt> <j> y" for j < count occurs in v once and
 * in order, else the test fails with Go's message. */
void lab_kv_check_clnt_appends(struct lab_ctx *ctx, int clnt, const char *v, int count);

#endif /* LAB_KV_H */
