/* trace_check: `labsim replay --check-trace FILE`, the recorded trace compared with its replay
 * event by event while the replay runs, in bounded memory.
 *
 * The file is opened and its header read first (test, seed, run digest); the replay then
 * streams every event of the topics the file recorded (the topics of its kinds) through
 * sim_trace_set_stream, and each is compared with the file's next event: time, node, kind id
 * and name, values and text. The first difference is kept with both sides (index, virtual
 * time, node, kind) and comparing stops. After the run the file must end where the replay did
 * (or, for a recording that stopped early, where the header says) and pass its end checks
 * (event count, the version 2 end digest), so a body flipped, cut, appended to or duplicated is
 * caught even where the replay alone would not tell.
 */
#ifndef TOOLS_TRACE_CHECK_H
#define TOOLS_TRACE_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "sim.h"
#include "trace_file.h"

#define TRACE_CHECK_MSG_MAX 768u

struct trace_check;

/* Opens the trace at `path` (kept by pointer) and reads its header. Returns TRACE_FILE_OK with
 * *out set (free with trace_check_close), or an error with `err` set. */
int trace_check_open(const char *path, struct trace_check **out, struct trace_file_error *err);

/* The header: the trace's title (the test name), seed and run digest; false when it lacks the
 * seed or the digest. */
bool trace_check_header(const struct trace_check *check, const char **title, uint64_t *seed,
                        uint64_t *digest);

/* Streams `sim`'s events into the comparison; call before the run starts. */
void trace_check_attach(struct trace_check *check, struct sim *sim);

/* After the run: reads the rest of the file and finishes the comparison. Returns true when the
 * file is the replay's trace; else false with a one-line description in msg. Also fills
 * `summary` with what was compared (either way). */
bool trace_check_finish(struct trace_check *check, char *msg, size_t msg_size, char *summary,
                        size_t summary_size);

void trace_check_close(struct trace_check *check);

#endif /* TOOLS_TRACE_CHECK_H */
