/* lin_check.c: the checker's driver (lin_check, lin_check_events, lin_check_kv).
 *
 * Owns the order of work: validate the operations, split them with the model's partition
 * function (or, unless LIN_CHECK_NO_COMPOSE, its components: the same split justified by
 * locality, see lin.h), create one resumable search per partition and run them round-robin with
 * step slices that double every round. Interleaving matters: a partition whose search explodes (key
 * "0" of c50-bad) must not delay the verdict of an easy ILLEGAL one, and a budget must be shared
 * fairly. The verdict is ILLEGAL as soon as one partition is ILLEGAL (unless all partitions were
 * asked for), OK when every partition is OK, and UNKNOWN otherwise.
 *
 * Memory: the searches alive at once (started, not yet decided) share budget->bytes_max; each
 * runs with the allowance the others leave it, and the first to run out ends the check
 * (UNKNOWN, stop "memory"). bytes_live is the sum of their counts as last measured.
 *
 * Invariants: no slice starts once budget->steps_max steps are spent (a slice may end up to
 * one pruning scan past its allowance); the order of work depends only on the operations and
 * the budget's step and byte counts, never on a clock; bytes_live is the sum of the live
 * searches' `bytes`.
 */
#include <stdlib.h>
#include <string.h>

#include "lin_int.h"

#define SLICE_STEPS_MIN 1024u
#define SLICE_STEPS_MAX (1ull << 30)
#define EXPLAIN_STEPS_MAX (1u << 16) /* for re-explaining an ILLEGAL partition (see below) */

struct check_part {
    uint32_t *ops_idx; /* into the checked ops */
    struct lin_op *ops;
    uint32_t count;
    struct lin_search *search; /* alive only while the partition is being searched */
    size_t bytes;              /* lin_search_bytes(search) as last measured; 0 without one */
    enum lin_search_status status;
    uint64_t steps;
};

struct check {
    const struct lin_model *model;
    unsigned flags;
    uint32_t *part_of_op;
    size_t parts_count;
    struct check_part *parts;
    uint64_t steps;
    size_t bytes_live;
    size_t bytes_peak;
    enum lin_stop stop;
    struct lin_result *res; /* NULL when no result was asked for */
};

static int check_validate(const struct lin_model *model, const struct lin_op *ops, size_t ops_count)
{
    if (model == NULL || model->init == NULL || model->step == NULL) return LIN_EINVAL;
    if (ops == NULL && ops_count > 0) return LIN_EINVAL;
    if (ops_count > LIN_OPS_MAX) return LIN_ELIMIT;
    for (size_t i = 0; i < ops_count; i++) {
        if (ops[i].return_us < ops[i].call_us) return LIN_EINVAL;
    }
    return 0;
}

/* Asks the model for partitions and groups the ops (a counting sort, keeping op order). The
 * searches are created later, one partition at a time, so that a history with a million keys
 * never holds a million search tables at once. */
static int check_partition(struct check *c, const struct lin_op *ops, size_t n)
{
    c->part_of_op = calloc(n ? n : 1, sizeof(*c->part_of_op));
    if (c->part_of_op == NULL) return LIN_ENOMEM;
    c->parts_count = n > 0 ? 1 : 0;
    int (*split)(const struct lin_op *, size_t, uint32_t *, size_t *) = c->model->partition;
    if (split == NULL && (c->flags & LIN_CHECK_NO_COMPOSE) == 0) split = c->model->components;
    if (split != NULL && n > 0) {
        int rc = split(ops, n, c->part_of_op, &c->parts_count);
        if (rc != 0) return rc;
    }
    if (c->parts_count > n) return LIN_EINVAL;
    c->parts = calloc(c->parts_count ? c->parts_count : 1, sizeof(*c->parts));
    if (c->parts == NULL) return LIN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (c->part_of_op[i] >= c->parts_count) return LIN_EINVAL;
        c->parts[c->part_of_op[i]].count++;
    }
    for (size_t p = 0; p < c->parts_count; p++) {
        struct check_part *cp = &c->parts[p];
        cp->ops_idx = malloc((cp->count ? cp->count : 1) * sizeof(*cp->ops_idx));
        cp->ops = malloc((cp->count ? cp->count : 1) * sizeof(*cp->ops));
        if (cp->ops_idx == NULL || cp->ops == NULL) return LIN_ENOMEM;
        cp->count = 0;
        cp->status = LIN_SEARCH_RUNNING;
    }
    for (size_t i = 0; i < n; i++) {
        struct check_part *cp = &c->parts[c->part_of_op[i]];
        cp->ops_idx[cp->count] = (uint32_t)i;
        cp->ops[cp->count] = ops[i];
        cp->count++;
    }
    return 0;
}

/* Re-measures partition cp's search into bytes_live and bytes_peak. */
static void check_part_measure(struct check *c, struct check_part *cp)
{
    LIN_ASSERT(c->bytes_live >= cp->bytes);
    c->bytes_live -= cp->bytes;
    cp->bytes = cp->search != NULL ? lin_search_bytes(cp->search) : 0;
    c->bytes_live += cp->bytes;
    c->bytes_peak = c->bytes_live > c->bytes_peak ? c->bytes_live : c->bytes_peak;
}

static int check_part_start(struct check *c, struct check_part *cp)
{
    if (cp->search != NULL) return 0;
    bool prune = (c->flags & LIN_CHECK_NO_PRUNING) == 0;
    int rc = lin_search_new(c->model, cp->ops, cp->count, prune, true, &cp->search);
    if (rc == 0) check_part_measure(c, cp);
    return rc;
}

/* An ILLEGAL verdict reached with the model's lookahead (viable) may name as failing
 * operation one the lookahead rejected: typically a write that a later get contradicts rather
 * than that get, which is true but a poorer explanation. So for the result the partition is
 * searched again without the lookahead, for at most EXPLAIN_STEPS_MAX steps, and that
 * search's longest prefix and failing operation are used when it finishes (it must find the
 * partition ILLEGAL too: the lookahead is sound). These steps are not part of the budget or
 * of the result's step count: the verdict is already known. */
static int check_part_explain(struct check *c, struct check_part *cp)
{
    if (cp->status != LIN_SEARCH_ILLEGAL || (c->flags & LIN_CHECK_NO_PRUNING) != 0 ||
        c->model->viable == NULL)
        return 0;
    struct lin_search *plain = NULL;
    uint64_t steps = 0;
    enum lin_stop stop = LIN_STOP_NONE;
    int rc = lin_search_new(c->model, cp->ops, cp->count, true, false, &plain);
    if (rc == 0) rc = lin_search_run(plain, EXPLAIN_STEPS_MAX, NULL, SIZE_MAX, &steps, &stop);
    enum lin_search_status st = rc == 0 ? lin_search_status(plain) : LIN_SEARCH_RUNNING;
    LIN_ASSERT(st != LIN_SEARCH_OK && stop == LIN_STOP_NONE);
    if (st == LIN_SEARCH_ILLEGAL) {
        lin_search_free(cp->search);
        cp->search = plain;
        plain = NULL;
    }
    lin_search_free(plain);
    return rc;
}

/* Records partition p in the result (if one is wanted) and frees its search. */
static int check_part_settle(struct check *c, size_t p)
{
    struct check_part *cp = &c->parts[p];
    int rc = 0;
    if (c->res != NULL) {
        rc = check_part_start(c, cp); /* a partition never reached still gets described */
        if (rc == 0) rc = check_part_explain(c, cp);
        struct lin_part_outcome po = {cp->ops_idx, cp->ops, cp->count, cp->search, cp->steps};
        if (rc == 0) rc = lin_result_set_part(c->res, c->model, p, &po);
    }
    lin_search_free(cp->search);
    cp->search = NULL;
    check_part_measure(c, cp);
    return rc;
}

static void check_close(struct check *c)
{
    for (size_t p = 0; c->parts != NULL && p < c->parts_count; p++) {
        lin_search_free(c->parts[p].search);
        free(c->parts[p].ops_idx);
        free(c->parts[p].ops);
    }
    free(c->parts);
    free(c->part_of_op);
}

/* The bytes partition cp's search may hold: what the budget leaves after the other live
 * searches (SIZE_MAX: no limit). */
static size_t check_bytes_allow(const struct check *c, const struct check_part *cp,
                                const struct lin_budget *budget)
{
    if (budget == NULL || budget->bytes_max == 0) return SIZE_MAX;
    size_t others = c->bytes_live - cp->bytes;
    size_t max = budget->bytes_max < SIZE_MAX ? (size_t)budget->bytes_max : SIZE_MAX - 1;
    return others < max ? max - others : 0;
}

/* Gives partition p up to `allow` steps; settles it when it is decided. */
static int check_part_run(struct check *c, size_t p, uint64_t allow,
                          const struct lin_budget *budget, enum lin_stop *stop)
{
    struct check_part *cp = &c->parts[p];
    int rc = check_part_start(c, cp);
    if (rc != 0) return rc;
    uint64_t before = cp->steps;
    size_t bytes_allow = check_bytes_allow(c, cp, budget);
    rc = lin_search_run(cp->search, allow, budget, bytes_allow, &cp->steps, stop);
    c->steps += cp->steps - before;
    check_part_measure(c, cp);
    if (rc != 0) return rc;
    cp->status = lin_search_status(cp->search);
    return cp->status != LIN_SEARCH_RUNNING ? check_part_settle(c, p) : 0;
}

/* One round: every unfinished partition gets up to `slice` steps. Sets *done when the check
 * is over (a verdict is known, or the budget is spent). */
static int check_round(struct check *c, uint64_t slice, const struct lin_budget *budget, bool *done)
{
    uint64_t steps_max = budget != NULL ? budget->steps_max : 0;
    bool pending = false;
    for (size_t p = 0; p < c->parts_count; p++) {
        if (c->parts[p].status != LIN_SEARCH_RUNNING) continue;
        uint64_t allow = slice;
        if (steps_max != 0) {
            if (c->steps >= steps_max) {
                c->stop = LIN_STOP_STEPS;
                *done = true;
                return 0;
            }
            allow = steps_max - c->steps < allow ? steps_max - c->steps : allow;
        }
        int rc = check_part_run(c, p, allow, budget, &c->stop);
        if (rc != 0) return rc;
        enum lin_search_status st = c->parts[p].status;
        if (c->stop != LIN_STOP_NONE ||
            (st == LIN_SEARCH_ILLEGAL && (c->flags & LIN_CHECK_ALL_PARTITIONS) == 0)) {
            *done = true;
            return 0;
        }
        pending = pending || st == LIN_SEARCH_RUNNING;
    }
    *done = !pending;
    return 0;
}

static enum lin_verdict check_verdict(const struct check *c)
{
    enum lin_verdict v = LIN_OK;
    for (size_t p = 0; p < c->parts_count; p++) {
        if (c->parts[p].status == LIN_SEARCH_ILLEGAL) return LIN_ILLEGAL;
        if (c->parts[p].status == LIN_SEARCH_RUNNING) v = LIN_UNKNOWN;
    }
    return v;
}

/* Runs the rounds until a verdict or the end of the budget. */
static int check_run(struct check *c, const struct lin_budget *budget)
{
    bool done = c->parts_count == 0;
    LIN_ASSERT(c->stop == LIN_STOP_NONE);
    int rc = 0;
    /* Unbounded by design when the budget is (steps_max 0, no should_stop): every round
     * spends at least one step per pending partition, so each round makes progress. */
    for (uint64_t slice = SLICE_STEPS_MIN; rc == 0 && !done;) {
        uint64_t before = c->steps;
        rc = check_round(c, slice, budget, &done);
        LIN_ASSERT(rc != 0 || done || c->steps > before);
        slice = slice < SLICE_STEPS_MAX ? slice * 2 : slice;
    }
    /* Partitions left undecided (budget, or another one was ILLEGAL) go in as they stand. */
    for (size_t p = 0; rc == 0 && p < c->parts_count; p++) {
        if (c->parts[p].status == LIN_SEARCH_RUNNING) rc = check_part_settle(c, p);
    }
    return rc;
}

int lin_check(const struct lin_model *model, const struct lin_op *ops, size_t ops_count,
              const struct lin_budget *budget, unsigned flags, struct lin_result **result_out)
{
    int rc = check_validate(model, ops, ops_count);
    if (rc != 0) return rc;
    struct check c = {.model = model, .flags = flags};
    rc = check_partition(&c, ops, ops_count);
    if (rc == 0 && result_out != NULL) rc = lin_result_new(model, ops_count, c.parts_count, &c.res);
    if (rc == 0) rc = check_run(&c, budget);
    if (rc == 0) {
        enum lin_verdict v = check_verdict(&c);
        rc = (int)v;
        if (c.res != NULL) {
            lin_result_finish(c.res, v, c.steps);
            /* An early stop that did not prevent the verdict is no news. */
            c.res->stop = v == LIN_UNKNOWN ? c.stop : LIN_STOP_NONE;
            c.res->bytes_peak = c.bytes_peak;
            *result_out = c.res;
            c.res = NULL;
        }
    }
    lin_result_free(c.res);
    check_close(&c);
    return rc;
}

int lin_check_events(const struct lin_model *model, const struct lin_event *events,
                     size_t events_count, const struct lin_budget *budget, unsigned flags,
                     struct lin_result **result_out)
{
    struct lin_op *ops = NULL;
    size_t ops_count = 0;
    int rc = lin_events_to_ops(events, events_count, &ops, &ops_count);
    if (rc != 0) return rc;
    rc = lin_check(model, ops, ops_count, budget, flags, result_out);
    free(ops);
    return rc;
}

int lin_check_kv(const struct lin_kv_op *ops, size_t ops_count, const struct lin_budget *budget,
                 struct lin_result **result_out)
{
    if (ops == NULL && ops_count > 0) return LIN_EINVAL;
    if (ops_count > LIN_OPS_MAX) return LIN_ELIMIT;
    size_t n = ops_count ? ops_count : 1;
    struct lin_op *lops = malloc(n * sizeof(*lops));
    struct lin_kv_input *in = malloc(n * sizeof(*in));
    struct lin_kv_output *out = malloc(n * sizeof(*out));
    int rc = LIN_ENOMEM;
    if (lops == NULL || in == NULL || out == NULL) goto out_free;
    rc = LIN_EINVAL;
    for (size_t i = 0; i < ops_count; i++) {
        const struct lin_kv_op *o = &ops[i];
        if (o->key == NULL || o->value == NULL || o->output == NULL) goto out_free;
        if (o->kind != LIN_KV_GET && o->kind != LIN_KV_PUT && o->kind != LIN_KV_APPEND &&
            o->kind != LIN_KV_APPEND_OLD)
            goto out_free;
        in[i] = (struct lin_kv_input){o->kind, o->key, o->value};
        out[i] = (struct lin_kv_output){o->output};
        lops[i] = (struct lin_op){o->client, o->call_us, o->return_us, &in[i], &out[i]};
    }
    rc = lin_check(&lin_model_kv, lops, ops_count, budget, 0, result_out);
out_free:
    free(lops);
    free(in);
    free(out);
    return rc;
}
