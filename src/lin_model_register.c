/* lin_model_register.c: a single read/write integer register, initially 0.
 *
 * The smallest useful model: the textbook example of linearizability, used by the unit tests
 * to exercise the search on hand-made histories. The state word is the register's value.
 */
#include <stdlib.h>

#include "lin_int.h"

struct register_ctx {
    const struct lin_op *ops;
    size_t ops_count;
};

static int register_ctx_new(const struct lin_op *ops, size_t ops_count, void **ctx_out)
{
    for (size_t i = 0; i < ops_count; i++) {
        if (ops[i].input == NULL || ops[i].output == NULL) return LIN_EINVAL;
    }
    struct register_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) return LIN_ENOMEM;
    c->ops = ops;
    c->ops_count = ops_count;
    *ctx_out = c;
    return 0;
}

static void register_ctx_free(void *ctx)
{
    free(ctx);
}

static uint64_t register_init(void *ctx)
{
    (void)ctx;
    return 0;
}

static int register_step(void *ctx, uint64_t state, size_t op_index, uint64_t *next_out)
{
    const struct register_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    const struct lin_register_input *in = c->ops[op_index].input;
    const struct lin_register_output *out = c->ops[op_index].output;
    if (in->is_write) {
        *next_out = (uint64_t)in->value;
        return 1;
    }
    *next_out = state;
    return state == (uint64_t)out->value ? 1 : 0;
}

static bool register_read_only(void *ctx, size_t op_index)
{
    const struct register_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    return !((const struct lin_register_input *)c->ops[op_index].input)->is_write;
}

static void register_describe_op(const struct lin_op *op, char *buf, size_t buf_size)
{
    const struct lin_register_input *in = op->input;
    const struct lin_register_output *out = op->output;
    if (in->is_write)
        snprintf(buf, buf_size, "write(%lld)", (long long)in->value);
    else
        snprintf(buf, buf_size, "read() -> %lld", (long long)out->value);
}

static void register_describe_state(void *ctx, uint64_t state, char *buf, size_t buf_size)
{
    (void)ctx;
    snprintf(buf, buf_size, "%lld", (long long)(int64_t)state);
}

const struct lin_model lin_model_register = {
    .name = "register",
    .partition = NULL,
    .describe_partition = NULL,
    .ctx_new = register_ctx_new,
    .ctx_free = register_ctx_free,
    .init = register_init,
    .step = register_step,
    .fingerprint = NULL,
    .equal = NULL,
    .read_only = register_read_only,
    .describe_op = register_describe_op,
    .describe_state = register_describe_state,
};
