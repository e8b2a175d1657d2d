/* lin_search.c: the backtracking search of one partition (Wing & Gong, with Lowe's cache).
 *
 * The partition's call and return entries sit in a doubly linked list in time order. The
 * search walks it from the front. At a call entry it tries to linearize that operation now:
 * the model must accept its output in the current state, and the resulting (set of linearized
 * operations, state) must be new to the cache. If so the operation is pushed on an explicit
 * stack, its call and return entries are lifted out of the list, and the walk restarts from
 * the front. At a return entry no operation can be linearized any more before that one
 * returns, so the search pops the last choice (unlifts it, restores the state) and tries the
 * entry after it. An empty list means every operation is linearized (OK); a return entry with
 * an empty stack means no order works (ILLEGAL).
 *
 * Pruning (sound, beyond Wing & Gong and Lowe): take an operation X that is callable now (its
 * call entry comes before the first remaining return entry), legal in the current state S,
 * and read-only for the model (it leaves the state unchanged wherever it is legal: a get, a
 * cas that definitely failed). Any valid completion from here can be rearranged to put X
 * first: X is legal in S and changes nothing, it changes nothing where it stood before either,
 * and every operation that must precede X in real time is already linearized. So on reaching
 * a configuration the search first looks for such an operation and, if there is one, commits
 * to it as a "forced" frame: its siblings are never tried, and when the configuration after it
 * fails, the one before it fails too. (Being unchanged in S alone is not enough: a write of
 * the value already held, or a cas of unknown outcome, may act differently later.)
 *
 * Lookahead (also only when pruning): a step the model accepts but its `viable` hook rejects
 * (no linearization of the whole history places that operation next with that resulting
 * state: see lin_model_kv.c) is treated exactly like an illegal step. It is a function of
 * (state, operation), so everything said above about illegal steps holds for it too: the
 * forced rule only commits to a step that is legal and viable, and the cache only records
 * configurations that might still complete.
 *
 * The set of linearized operations is a bitset over the operations' ranks (their order of call),
 * so that the cache can be handed the small window that identifies the set (lin_cache.c): the
 * lowest rank not linearized (the first entry of the list is its call) and the words up to the
 * last linearized rank, which is below the number of calls made before that operation returns
 * (rank_limit). A step therefore costs the window, not the history: a few words.
 *
 * The search is resumable: lin_search_run does a bounded number of steps and keeps its place,
 * so lin_check can interleave partitions. It counts its bytes (its arrays, the cache, the
 * model's context when the model says) and stops when they pass the allowance it is given.
 * No recursion; the stack holds at most n frames.
 *
 * Invariants:
 *  1. depth <= n, and bit r of `bits` is set iff the operation of rank r is on the stack.
 *  2. The list holds exactly the entries of the operations not on the stack, in time order.
 *  3. best[0 .. best_len) is the deepest stack seen at a backtrack (or the full order on OK).
 *  4. fresh is true iff the current configuration has not yet been scanned for a forced op.
 */
#include <stdlib.h>
#include <string.h>

#include "lin_int.h"

#define SEARCH_POLL_STEPS 4096u /* steps between should_stop polls */
#define NO_OP UINT32_MAX

struct search_frame {
    uint32_t entry;
    uint32_t forced; /* pushed by the pruning rule: no sibling needs trying */
    uint64_t state;  /* the state before this entry's operation */
};

struct lin_search {
    const struct lin_model *model;
    void *ctx;
    uint32_t n;
    uint32_t head; /* sentinel entries: 2n and 2n + 1 */
    uint32_t tail;
    uint32_t *next;
    uint32_t *prev;
    uint32_t *entry_op;
    uint32_t *entry_match;
    uint32_t *op_rank;    /* per op: its rank (order of call) */
    uint32_t *rank_limit; /* per rank: the calls made before that operation returns */
    bool *read_only;      /* per op, from the model */
    bool lookahead;       /* pruning on and the model has a viable hook */
    uint64_t *bits;
    uint32_t words;
    struct search_frame *stack;
    uint32_t depth;
    uint32_t cur;
    uint64_t state;
    struct lin_cache cache;
    uint32_t *best;
    uint32_t best_len;
    uint32_t fail_op;
    bool fresh;
    bool cache_full;    /* the cache refused to grow past its byte cap */
    size_t fixed_bytes; /* the arrays allocated by lin_search_new */
    enum lin_search_status status;
};

static int search_alloc(struct lin_search *s, uint32_t n)
{
    size_t entries = 2 * (size_t)n + 2;
    s->words = n / 64 + 1;
    s->next = malloc(entries * sizeof(*s->next));
    s->prev = malloc(entries * sizeof(*s->prev));
    s->entry_op = malloc(entries * sizeof(*s->entry_op));
    s->entry_match = malloc(entries * sizeof(*s->entry_match));
    s->bits = calloc(s->words, sizeof(*s->bits));
    s->stack = malloc(((size_t)n + 1) * sizeof(*s->stack));
    s->best = malloc(((size_t)n + 1) * sizeof(*s->best));
    s->read_only = calloc((size_t)n + 1, sizeof(*s->read_only));
    s->op_rank = malloc(((size_t)n + 1) * sizeof(*s->op_rank));
    s->rank_limit = malloc(((size_t)n + 1) * sizeof(*s->rank_limit));
    s->fixed_bytes = sizeof(*s) + entries * 4 * sizeof(uint32_t) + s->words * sizeof(uint64_t) +
                     ((size_t)n + 1) * (sizeof(*s->stack) + sizeof(*s->best) +
                                        sizeof(*s->read_only) + 2 * sizeof(uint32_t));
    if (s->next == NULL || s->prev == NULL || s->entry_op == NULL || s->entry_match == NULL ||
        s->bits == NULL || s->stack == NULL || s->best == NULL || s->read_only == NULL ||
        s->op_rank == NULL || s->rank_limit == NULL)
        return LIN_ENOMEM;
    return 0;
}

/* Numbers the operations by call (op_rank) and records, per rank, how many calls precede that
 * operation's return (rank_limit): no rank at or past it can be linearized while it pends. */
static void search_rank(struct lin_search *s)
{
    uint32_t calls = 0;
    for (uint32_t i = 0; i < 2 * s->n; i++) {
        uint32_t op = s->entry_op[i];
        if (s->entry_match[i] != LIN_ENTRY_RETURN)
            s->op_rank[op] = calls++;
        else
            s->rank_limit[s->op_rank[op]] = calls;
    }
    LIN_ASSERT(calls == s->n);
}

/* Links entries 0 .. 2n-1 between the head and tail sentinels. */
static void search_link(struct lin_search *s)
{
    uint32_t count = 2 * s->n;
    s->head = count;
    s->tail = count + 1;
    s->next[s->head] = count > 0 ? 0 : s->tail;
    s->prev[s->tail] = count > 0 ? count - 1 : s->head;
    s->prev[s->head] = s->head;
    s->next[s->tail] = s->tail;
    /* The sentinels read as returns, so no scan can walk past the tail. */
    s->entry_match[s->head] = LIN_ENTRY_RETURN;
    s->entry_match[s->tail] = LIN_ENTRY_RETURN;
    s->entry_op[s->head] = 0;
    s->entry_op[s->tail] = 0;
    for (uint32_t i = 0; i < count; i++) {
        s->prev[i] = i > 0 ? i - 1 : s->head;
        s->next[i] = i + 1 < count ? i + 1 : s->tail;
    }
}

int lin_search_new(const struct lin_model *model, const struct lin_op *ops, uint32_t ops_count,
                   bool prune, bool lookahead, struct lin_search **search_out)
{
    LIN_ASSERT(model != NULL && model->step != NULL && model->init != NULL);
    LIN_ASSERT(ops_count <= LIN_OPS_MAX);
    struct lin_search *s = calloc(1, sizeof(*s));
    if (s == NULL) return LIN_ENOMEM;
    s->model = model;
    s->n = ops_count;
    s->fail_op = NO_OP;
    int rc = search_alloc(s, ops_count);
    if (rc == 0) rc = lin_entries_build(ops, ops_count, s->entry_op, s->entry_match);
    if (rc == 0 && model->ctx_new != NULL) rc = model->ctx_new(ops, ops_count, &s->ctx);
    if (rc == 0) rc = lin_cache_init(&s->cache, ops_count, model, s->ctx);
    if (rc != 0) {
        lin_search_free(s);
        return rc;
    }
    search_rank(s);
    search_link(s);
    for (uint32_t i = 0; prune && model->read_only != NULL && i < ops_count; i++)
        s->read_only[i] = model->read_only(s->ctx, i);
    s->lookahead = prune && lookahead && model->viable != NULL;
    s->cur = s->next[s->head];
    s->state = model->init(s->ctx);
    s->fresh = true;
    s->status = LIN_SEARCH_RUNNING;
    *search_out = s;
    return 0;
}

void lin_search_free(struct lin_search *s)
{
    if (s == NULL) return;
    if (s->ctx != NULL && s->model->ctx_free != NULL) s->model->ctx_free(s->ctx);
    lin_cache_close(&s->cache);
    free(s->next);
    free(s->prev);
    free(s->entry_op);
    free(s->entry_match);
    free(s->bits);
    free(s->stack);
    free(s->best);
    free(s->read_only);
    free(s->op_rank);
    free(s->rank_limit);
    free(s);
}

/* Removes call entry e and its return from the list (they stay linked to their neighbours
 * so that unlift can put them back: dancing links). */
static void search_lift(struct lin_search *s, uint32_t e)
{
    uint32_t m = s->entry_match[e];
    s->next[s->prev[e]] = s->next[e];
    s->prev[s->next[e]] = s->prev[e];
    s->next[s->prev[m]] = s->next[m];
    s->prev[s->next[m]] = s->prev[m];
}

/* Undoes search_lift(e); lifts must be undone in reverse order. */
static void search_unlift(struct lin_search *s, uint32_t e)
{
    uint32_t m = s->entry_match[e];
    s->prev[s->next[m]] = m;
    s->next[s->prev[m]] = m;
    s->prev[s->next[e]] = e;
    s->next[s->prev[e]] = e;
}

/* The cache's key for the current set, in which call entry e's operation was just set: the
 * lowest rank left (the next call in the list when e was the first) and the words from it to
 * the last non-zero one below that rank's limit (see the file comment). */
static struct lin_cache_key search_key(const struct lin_search *s, uint32_t e)
{
    uint32_t first_e = s->next[s->head];
    if (first_e == e) {
        first_e = s->next[e];
        if (first_e == s->entry_match[e]) first_e = s->next[first_e];
    }
    LIN_ASSERT(first_e == s->tail || s->entry_match[first_e] != LIN_ENTRY_RETURN);
    uint32_t first = first_e == s->tail ? s->n : s->op_rank[s->entry_op[first_e]];
    uint32_t limit = first < s->n ? s->rank_limit[first] : s->n;
    LIN_ASSERT(limit > first || first == s->n);
    uint32_t lo = first >> 6;
    uint32_t hi = limit > first ? (limit - 1) >> 6 : lo;
    while (hi > lo && s->bits[hi] == 0)
        hi--;
    return (struct lin_cache_key){first, hi - lo + 1, s->bits + lo};
}

/* Tries to linearize call entry e in `state`. Returns 1 (new configuration: the bit is set
 * and *next_out holds the new state), 0 (illegal or not viable, or explored before) or an
 * error (LIN_CACHE_FULL included: nothing changed). *legal is set when the step was legal and
 * viable (whether or not it was explored before). */
static int search_try(struct lin_search *s, uint32_t e, uint64_t state, uint64_t *next_out,
                      bool *legal)
{
    uint32_t op = s->entry_op[e];
    int rc = s->model->step(s->ctx, state, op, next_out);
    if (rc <= 0) return rc;
    if (s->lookahead && !s->model->viable(s->ctx, *next_out, op)) return 0;
    *legal = true;
    uint32_t rank = s->op_rank[op];
    uint64_t bit = 1ull << (rank & 63u);
    LIN_ASSERT((s->bits[rank >> 6] & bit) == 0);
    s->bits[rank >> 6] |= bit;
    struct lin_cache_key key = search_key(s, e);
    rc = lin_cache_add(&s->cache, &key, *next_out);
    if (rc <= 0) s->bits[rank >> 6] &= ~bit;
    return rc;
}

/* Called at a return entry: remembers the deepest prefix and the operation that ended it. */
static void search_note_best(struct lin_search *s, uint32_t e)
{
    if (s->depth <= s->best_len && s->fail_op != NO_OP) return;
    for (uint32_t i = 0; i < s->depth; i++)
        s->best[i] = s->entry_op[s->stack[i].entry];
    s->best_len = s->depth;
    s->fail_op = s->entry_op[e];
}

/* Backtracks from a failed configuration: pops frames until one that was a free choice (its
 * parent then continues after it), or marks the search ILLEGAL when the root fails. Returns
 * the entry to continue from. */
static uint32_t search_backtrack(struct lin_search *s, uint64_t *state)
{
    for (;;) {
        if (s->depth == 0) {
            s->status = LIN_SEARCH_ILLEGAL;
            return s->head;
        }
        struct search_frame f = s->stack[--s->depth];
        uint32_t rank = s->op_rank[s->entry_op[f.entry]];
        s->bits[rank >> 6] &= ~(1ull << (rank & 63u));
        search_unlift(s, f.entry);
        *state = f.state;
        if (!f.forced) {
            s->fresh = false;
            return s->next[f.entry];
        }
    }
}

static void search_push(struct lin_search *s, uint32_t e, uint64_t state, bool forced)
{
    LIN_ASSERT(s->depth < s->n);
    s->stack[s->depth++] = (struct search_frame){e, forced ? 1u : 0u, state};
    search_lift(s, e);
    s->fresh = true;
}

/* The pruning scan of a fresh configuration: walks the callable entries (up to the first
 * return entry) looking for a read-only operation that is legal in the current state.
 * Returns 1 if one was pushed (forced), 0 if there is none (the normal scan follows), 2 if
 * there is one but the configuration after it was explored before and failed (so this one
 * fails too), or an error. */
static int search_scan_forced(struct lin_search *s, uint64_t *state, uint64_t *steps)
{
    for (uint32_t e = s->next[s->head]; s->entry_match[e] != LIN_ENTRY_RETURN; e = s->next[e]) {
        if (!s->read_only[s->entry_op[e]]) continue;
        (*steps)++;
        uint64_t next_state = 0;
        bool legal = false;
        int rc = search_try(s, e, *state, &next_state, &legal);
        if (rc < 0) return rc;
        if (rc == 1) {
            search_push(s, e, *state, true);
            *state = next_state;
            return 1;
        }
        if (legal) {
            search_note_best(s, e);
            return 2;
        }
    }
    s->fresh = false;
    return 0;
}

static void search_finish_ok(struct lin_search *s)
{
    LIN_ASSERT(s->depth == s->n);
    for (uint32_t i = 0; i < s->depth; i++)
        s->best[i] = s->entry_op[s->stack[i].entry];
    s->best_len = s->depth;
    s->fail_op = NO_OP;
    s->status = LIN_SEARCH_OK;
}

/* The search loop proper: at most steps_max steps (a pruning scan may overrun by one list). */
static int search_steps(struct lin_search *s, uint64_t steps_max, uint64_t *done)
{
    uint32_t e = s->cur;
    uint64_t state = s->state;
    uint64_t steps = 0;
    int rc = 0;
    while (steps < steps_max && s->status == LIN_SEARCH_RUNNING) {
        if (s->next[s->head] == s->tail) {
            search_finish_ok(s);
            break;
        }
        if (s->fresh) {
            rc = search_scan_forced(s, &state, &steps);
            if (rc < 0) break;
            e = rc == 2 ? search_backtrack(s, &state) : s->next[s->head];
            rc = 0;
            continue;
        }
        steps++;
        LIN_ASSERT(e < s->head);
        if (s->entry_match[e] == LIN_ENTRY_RETURN) {
            search_note_best(s, e);
            e = search_backtrack(s, &state);
            continue;
        }
        if (s->read_only[s->entry_op[e]]) {
            /* The pruning scan tried it in this very configuration: illegal here. */
            e = s->next[e];
            continue;
        }
        uint64_t next_state = 0;
        bool legal = false;
        rc = search_try(s, e, state, &next_state, &legal);
        if (rc < 0) break;
        if (rc == 0) {
            e = s->next[e];
            continue;
        }
        search_push(s, e, state, false);
        state = next_state;
        e = s->next[s->head];
        rc = 0;
    }
    /* The last push may have emptied the list exactly as the step budget ran out. */
    if (rc == 0 && s->status == LIN_SEARCH_RUNNING && s->next[s->head] == s->tail)
        search_finish_ok(s);
    s->cur = e;
    s->state = state;
    *done = steps;
    return rc;
}

size_t lin_search_bytes(const struct lin_search *s)
{
    size_t ctx_bytes = s->model->ctx_bytes != NULL ? s->model->ctx_bytes(s->ctx) : 0;
    return s->fixed_bytes + lin_cache_bytes(&s->cache) + ctx_bytes;
}

/* Caps the cache at what bytes_allow leaves after the rest of the search, keeping room for
 * the model's context to double once more (its tables grow by doubling and only the cache
 * stops itself exactly); false when nothing is left. */
static bool search_cap_cache(struct lin_search *s, size_t bytes_allow)
{
    if (bytes_allow == SIZE_MAX) return true;
    size_t cache_bytes = lin_cache_bytes(&s->cache);
    size_t ctx_bytes = lin_search_bytes(s) - cache_bytes - s->fixed_bytes;
    size_t other = s->fixed_bytes + 2 * ctx_bytes;
    if (other >= bytes_allow || bytes_allow - other < cache_bytes) return false;
    s->cache.bytes_max = bytes_allow - other;
    LIN_ASSERT(s->cache.bytes_max >= cache_bytes);
    return true;
}

int lin_search_run(struct lin_search *s, uint64_t steps_max, const struct lin_budget *budget,
                   size_t bytes_allow, uint64_t *steps_used, enum lin_stop *stop)
{
    LIN_ASSERT(s != NULL && steps_used != NULL && stop != NULL);
    uint64_t steps = 0;
    int rc = 0;
    while (s->status == LIN_SEARCH_RUNNING && steps < steps_max) {
        /* Once the cache was full the search may not go on: a refused step is no answer. */
        if (s->cache_full || !search_cap_cache(s, bytes_allow)) {
            s->cache_full = true;
            *stop = LIN_STOP_MEMORY;
            break;
        }
        uint64_t chunk = steps_max - steps;
        chunk = chunk < SEARCH_POLL_STEPS ? chunk : SEARCH_POLL_STEPS;
        uint64_t done = 0;
        rc = search_steps(s, chunk, &done);
        steps += done;
        if (rc == LIN_CACHE_FULL) {
            rc = 0;
            s->cache_full = true;
            continue;
        }
        if (rc != 0) break;
        if (budget != NULL && budget->should_stop != NULL &&
            budget->should_stop(budget->stop_arg)) {
            *stop = LIN_STOP_CALLBACK;
            break;
        }
    }
    *steps_used += steps;
    return rc;
}

enum lin_search_status lin_search_status(const struct lin_search *s)
{
    return s->status;
}

uint32_t lin_search_order(const struct lin_search *s, const uint32_t **order_out)
{
    *order_out = s->best;
    return s->best_len;
}

uint32_t lin_search_failing_op(const struct lin_search *s)
{
    return s->status == LIN_SEARCH_ILLEGAL ? s->fail_op : NO_OP;
}

void *lin_search_ctx(const struct lin_search *s)
{
    return s->ctx;
}
