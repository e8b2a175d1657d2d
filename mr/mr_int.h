/* mr_int: what the reference coordinator and worker share: the two RPCs and their messages.
 *
 *   Coordinator.GetTask   args {1 node}                      reply {1 kind, 2 task, 3 file,
 *                                                                   4 n_map, 5 n_reduce}
 *   Coordinator.TaskDone  args {1 node, 2 kind, 3 task}      reply {} (empty)
 *
 * kind is enum mr_task_kind; a reply of kind WAIT asks the worker to ask again later, EXIT
 * says the job is done. Messages are labgob records; a decoder rejects out-of-range values.
 */
#ifndef MR_INT_H
#define MR_INT_H

#include "mr.h"

#define MR_SERVICE "Coordinator"
#define MR_METHOD_GET_TASK "GetTask"
#define MR_METHOD_TASK_DONE "TaskDone"
#define MR_GET_TASK MR_SERVICE "." MR_METHOD_GET_TASK
#define MR_TASK_DONE MR_SERVICE "." MR_METHOD_TASK_DONE

/* How long a worker told to wait sleeps before asking again. */
#define MR_WORKER_WAIT_US SIM_MS(500)
/* Bytes of a file name in a task reply (the inputs' names are far shorter). */
#define MR_FILE_NAME_MAX SIM_FS_NAME_MAX

enum mr_task_kind {
    MR_TASK_MAP = 0,
    MR_TASK_REDUCE = 1,
    MR_TASK_WAIT = 2,
    MR_TASK_EXIT = 3,
    MR_TASK_KINDS_COUNT
};

struct mr_task_reply {
    enum mr_task_kind kind;
    uint32_t task;
    char file[MR_FILE_NAME_MAX]; /* map tasks: the input file; else "" */
    uint32_t n_map;
    uint32_t n_reduce;
};

struct mr_done_args {
    int node;
    enum mr_task_kind kind; /* MAP or REDUCE */
    uint32_t task;
};

/* Encoders reset `e` and return MR_OK or MR_ENOMEM; decoders return MR_OK or MR_EDECODE. */
int mr_get_task_args_encode(struct gob_enc *e, int node);
int mr_get_task_args_decode(const uint8_t *buf, size_t len, int *node);
int mr_task_reply_encode(struct gob_enc *e, const struct mr_task_reply *r);
int mr_task_reply_decode(const uint8_t *buf, size_t len, struct mr_task_reply *r);
int mr_done_args_encode(struct gob_enc *e, const struct mr_done_args *a);
int mr_done_args_decode(const uint8_t *buf, size_t len, struct mr_done_args *a);

/* The file names of the job: intermediate "mr-X-Y" and output "mr-out-Y", and the temporary
 * names a worker writes them under before the rename (unique per node and task, and never
 * starting with "mr-out", which the tests read). */
void mr_name_intermediate(char *buf, size_t size, uint32_t map_task, uint32_t reduce_task);
void mr_name_output(char *buf, size_t size, uint32_t reduce_task);
void mr_name_temp(char *buf, size_t size, const char *final_name, int node);

#endif /* MR_INT_H */
