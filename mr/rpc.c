/* rpc: the reference coordinator's and worker's messages and file names (see mr_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_int.h"

static int enc_result(const struct gob_enc *e)
{
    return gob_enc_finish(e) == GOB_OK ? MR_OK : MR_ENOMEM;
}

int mr_get_task_args_encode(struct gob_enc *e, int node)
{
    gob_enc_reset(e);
    gob_put_int(e, 1, node);
    return enc_result(e);
}

int mr_get_task_args_decode(const uint8_t *buf, size_t len, int *node)
{
    struct gob_dec d;
    int64_t v = 0;
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, 1, &v);
    if (gob_dec_finish(&d) != GOB_OK || v < SIM_NODE_NONE || v >= SIM_FS_NODES_MAX)
        return MR_EDECODE;
    *node = (int)v;
    return MR_OK;
}

int mr_task_reply_encode(struct gob_enc *e, const struct mr_task_reply *r)
{
    gob_enc_reset(e);
    gob_put_uint(e, 1, (uint64_t)r->kind);
    gob_put_uint(e, 2, r->task);
    gob_put_str(e, 3, r->file);
    gob_put_uint(e, 4, r->n_map);
    gob_put_uint(e, 5, r->n_reduce);
    return enc_result(e);
}

int mr_task_reply_decode(const uint8_t *buf, size_t len, struct mr_task_reply *r)
{
    struct gob_dec d;
    uint64_t kind = 0;
    uint64_t task = 0;
    uint64_t n_map = 0;
    uint64_t n_reduce = 0;
    const uint8_t *file = NULL;
    size_t file_len = 0;
    memset(r, 0, sizeof(*r));
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &kind);
    gob_get_uint(&d, 2, &task);
    gob_get_bytes(&d, 3, &file, &file_len);
    gob_get_uint(&d, 4, &n_map);
    gob_get_uint(&d, 5, &n_reduce);
    if (gob_dec_finish(&d) != GOB_OK) return MR_EDECODE;
    if (kind >= MR_TASK_KINDS_COUNT || n_map > MR_FILES_MAX || n_reduce > MR_REDUCE_MAX)
        return MR_EDECODE;
    if (file_len >= sizeof(r->file)) return MR_EDECODE;
    if (kind == MR_TASK_MAP && (task >= n_map || file_len == 0)) return MR_EDECODE;
    if (kind == MR_TASK_REDUCE && (task >= n_reduce || n_map == 0)) return MR_EDECODE;
    r->kind = (enum mr_task_kind)kind;
    r->task = (uint32_t)task;
    if (file_len > 0) memcpy(r->file, file, file_len);
    r->file[file_len] = '\0';
    r->n_map = (uint32_t)n_map;
    r->n_reduce = (uint32_t)n_reduce;
    return MR_OK;
}

int mr_done_args_encode(struct gob_enc *e, const struct mr_done_args *a)
{
    gob_enc_reset(e);
    gob_put_int(e, 1, a->node);
    gob_put_uint(e, 2, (uint64_t)a->kind);
    gob_put_uint(e, 3, a->task);
    return enc_result(e);
}

int mr_done_args_decode(const uint8_t *buf, size_t len, struct mr_done_args *a)
{
    struct gob_dec d;
    int64_t node = 0;
    uint64_t kind = 0;
    uint64_t task = 0;
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, 1, &node);
    gob_get_uint(&d, 2, &kind);
    gob_get_uint(&d, 3, &task);
    if (gob_dec_finish(&d) != GOB_OK) return MR_EDECODE;
    if (kind != MR_TASK_MAP && kind != MR_TASK_REDUCE) return MR_EDECODE;
    if (node < SIM_NODE_NONE || node >= SIM_FS_NODES_MAX || task >= MR_FILES_MAX + MR_REDUCE_MAX)
        return MR_EDECODE;
    a->node = (int)node;
    a->kind = (enum mr_task_kind)kind;
    a->task = (uint32_t)task;
    return MR_OK;
}

void mr_name_intermediate(char *buf, size_t size, uint32_t map_task, uint32_t reduce_task)
{
    snprintf(buf, size, "mr-%u-%u", (unsigned)map_task, (unsigned)reduce_task);
}

void mr_name_output(char *buf, size_t size, uint32_t reduce_task)
{
    snprintf(buf, size, "mr-out-%u", (unsigned)reduce_task);
}

void mr_name_temp(char *buf, size_t size, const char *final_name, int node)
{
    snprintf(buf, size, "mr-tmp-n%d-%s", node, final_name);
}
