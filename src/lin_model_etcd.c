/* lin_model_etcd.c: the Jepsen etcd model, one compare-and-set register.
 *
 * The register starts absent (nil). read returns nil or the value; write sets it; cas(a, b)
 * sets it to b when it holds a, and reports whether it did. An unknown outcome (a timed-out
 * request, or one still open when the log ends) accepts any output; since such an operation
 * is open until the end of the history, the search may also place it last, which is how "it
 * never took effect" is expressed. A definite failure (ok == false on a read or write) has no
 * effect.
 *
 * State word: 0 = absent; otherwise (1 << 32) | (uint32_t)value. Exact, so no fingerprint or
 * equality function is needed.
 */
#include <stdlib.h>

#include "lin_int.h"

#define ETCD_PRESENT (1ull << 32)

struct etcd_ctx {
    const struct lin_op *ops;
    size_t ops_count;
};

static uint64_t etcd_state_of(int32_t value)
{
    return ETCD_PRESENT | (uint32_t)value;
}

static int etcd_ctx_new(const struct lin_op *ops, size_t ops_count, void **ctx_out)
{
    for (size_t i = 0; i < ops_count; i++) {
        const struct lin_etcd_input *in = ops[i].input;
        if (in == NULL || ops[i].output == NULL) return LIN_EINVAL;
        if (in->kind != LIN_ETCD_READ && in->kind != LIN_ETCD_WRITE && in->kind != LIN_ETCD_CAS)
            return LIN_EINVAL;
    }
    struct etcd_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) return LIN_ENOMEM;
    c->ops = ops;
    c->ops_count = ops_count;
    *ctx_out = c;
    return 0;
}

static void etcd_ctx_free(void *ctx)
{
    free(ctx);
}

static uint64_t etcd_init(void *ctx)
{
    (void)ctx;
    return 0;
}

static int etcd_step_cas(uint64_t state, const struct lin_etcd_input *in,
                         const struct lin_etcd_output *out, uint64_t *next_out)
{
    bool matches = state == etcd_state_of(in->arg1);
    uint64_t swapped = matches ? etcd_state_of(in->arg2) : state;
    if (out->unknown) {
        *next_out = swapped;
        return 1;
    }
    *next_out = swapped;
    return matches == out->ok ? 1 : 0;
}

static int etcd_step(void *ctx, uint64_t state, size_t op_index, uint64_t *next_out)
{
    const struct etcd_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    const struct lin_etcd_input *in = c->ops[op_index].input;
    const struct lin_etcd_output *out = c->ops[op_index].output;
    *next_out = state;
    switch (in->kind) {
    case LIN_ETCD_READ:
        if (out->unknown || !out->ok) return 1;
        return state == (out->exists ? etcd_state_of(out->value) : 0) ? 1 : 0;
    case LIN_ETCD_WRITE:
        if (out->unknown || out->ok) *next_out = etcd_state_of(in->arg1);
        return 1;
    case LIN_ETCD_CAS:
        return etcd_step_cas(state, in, out, next_out);
    }
    LIN_ASSERT(!"etcd_step: kind checked in etcd_ctx_new");
    return LIN_EINVAL;
}

/* Reads never change the register; a definite failure (a cas whose compare did not match, a
 * read or write that failed) has no effect. A cas or write of unknown outcome may. */
static bool etcd_read_only(void *ctx, size_t op_index)
{
    const struct etcd_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    const struct lin_etcd_input *in = c->ops[op_index].input;
    const struct lin_etcd_output *out = c->ops[op_index].output;
    return in->kind == LIN_ETCD_READ || (!out->unknown && !out->ok);
}

static void etcd_describe_op(const struct lin_op *op, char *buf, size_t buf_size)
{
    const struct lin_etcd_input *in = op->input;
    const struct lin_etcd_output *out = op->output;
    struct lin_text t;
    lin_text_init(&t, buf, buf_size);
    if (in->kind == LIN_ETCD_READ) {
        lin_text_add(&t, "read() -> ", 10);
        if (out->unknown || !out->ok)
            lin_text_addf(&t, "%s", out->unknown ? "unknown" : "failed");
        else if (out->exists)
            lin_text_addf(&t, "%d", (int)out->value);
        else
            lin_text_add(&t, "nil", 3);
    } else if (in->kind == LIN_ETCD_WRITE) {
        lin_text_addf(&t, "write(%d)", (int)in->arg1);
        if (out->unknown || !out->ok)
            lin_text_addf(&t, " -> %s", out->unknown ? "unknown" : "failed");
    } else {
        lin_text_addf(&t, "cas(%d, %d) -> %s", (int)in->arg1, (int)in->arg2,
                      out->unknown ? "unknown"
                      : out->ok    ? "ok"
                                   : "fail");
    }
}

static void etcd_describe_state(void *ctx, uint64_t state, char *buf, size_t buf_size)
{
    (void)ctx;
    if (state == 0)
        snprintf(buf, buf_size, "nil");
    else
        snprintf(buf, buf_size, "%d", (int)(int32_t)(uint32_t)(state & 0xffffffffu));
}

const struct lin_model lin_model_etcd = {
    .name = "etcd",
    .partition = NULL,
    .describe_partition = NULL,
    .ctx_new = etcd_ctx_new,
    .ctx_free = etcd_ctx_free,
    .init = etcd_init,
    .step = etcd_step,
    .fingerprint = NULL,
    .equal = NULL,
    .read_only = etcd_read_only,
    .describe_op = etcd_describe_op,
    .describe_state = etcd_describe_state,
};
