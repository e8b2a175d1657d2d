/* lin_model_kv.c: the 6.824 key/value model (get / put / append), with and without
 * partitioning by key.
 *
 * A get returns the key's whole current string ("" if never written), put replaces it and
 * append concatenates. Append-old (Porcupine's op 3, lab 2's Append) is a get and an append
 * in one step: legal only where the state is its output, then it appends. Operations on different
 * keys commute, so the history is checked one key at a time (lin_model_kv);
 * lin_model_kv_nopartition checks it as one map, the way Porcupine's "no partition" variant does,
 * for comparison.
 *
 * String states are hash-consed append chains, never materialized during the search: a node
 * is (parent node, value) meaning "parent's string followed by value" (a put or the initial ""
 * has no parent), with its total length and a polynomial hash of its content that composes:
 * hash(a + b) = hash(a) * B^len(b) + hash(b) (mod 2^64). Each state costs one small node
 * instead of a copy of a string that grows with every append. Two chains may spell the same
 * string (put "ab" vs put "a", append "b"), so the model gives the checker the content hash as
 * fingerprint and an exact equality that compares content piece by piece when the hashes and
 * lengths agree. A get compares the state with the interned result the same way, memoized.
 * A map state (nopartition) is an interned vector of per-key node ids.
 *
 * The partitioned model also gives the search a lookahead (viable): a get that must come after
 * an operation, with no put able to come between, reads an extension of the state that
 * operation leaves; a state that is no prefix of its output is a dead end (the soundness
 * argument opens the lookahead section). On TestUnreliableOneKey4A's histories (concurrent
 * appends to one key, one final get) it turns an exponential search into a nearly linear one.
 *
 * Invariants: the string table is complete after ctx_new (the search only adds nodes); a
 * node's parent is older than the node; len and hash of a node match its content.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lin_int.h"

#define KV_NONE UINT32_MAX
#define KV_NODES_MAX (1u << 31)
#define KV_HASH_BASE 0x9e3779b97f4a7c15ull /* odd, so powers never vanish mod 2^64 */
#define KV_QUOTE_OP_MAX 80u                /* bytes of a key or value shown in an op description */
#define KV_QUOTE_MAP_MAX 40u               /* bytes of each value shown in a map state */
#define KV_GET_EQUAL 1u                    /* get memo values */
#define KV_GET_DIFFERENT 2u
#define KV_LATER_MAX 2u                 /* lookahead gets kept per operation */
#define KV_PREFIX_HASHES_MAX (1u << 22) /* prefix hashes per context (8 bytes each) */
#define KV_NO_PREFIX UINT64_MAX

struct kv_code {
    enum lin_kv_kind kind;
    uint32_t key;   /* slot in the map (nopartition only) */
    uint32_t value; /* string id of the put/append argument */
    uint32_t out;   /* string id of the get result */
    /* Lookahead (partitioned model only): string ids of the outputs of gets that must read an
     * extension of the state this operation leaves; KV_NONE for none. See kv_viable. */
    uint32_t later[KV_LATER_MAX];
};

struct kv_str {
    uint64_t len;
    uint64_t hash;
    uint64_t pow; /* KV_HASH_BASE^len */
};

struct kv_node {
    uint32_t parent; /* KV_NONE: the string is just `value` */
    uint32_t value;
    uint64_t len;
    uint64_t hash;
};

struct kv_ctx {
    struct lin_intern strs; /* values and get results; id 0 is "" */
    struct kv_str *str;     /* per string id */
    struct kv_node *nodes;
    uint32_t nodes_count;
    uint32_t nodes_cap;
    struct lin_map node_of;  /* (parent << 32 | value) -> node */
    struct lin_map get_memo; /* (node << 32 | string) -> KV_GET_EQUAL or KV_GET_DIFFERENT */
    struct lin_intern keys;  /* key -> slot (the partition function numbers keys too) */
    struct lin_intern maps;  /* nopartition: vectors of node ids */
    struct lin_map map_memo; /* nopartition: (map << 32 | op) -> next map */
    struct kv_code *code;
    size_t ops_count;
    uint32_t *vec;         /* nopartition scratch: one map vector */
    uint64_t *prefix_at;   /* per string id: offset into prefix_hash, or KV_NO_PREFIX */
    uint64_t *prefix_hash; /* per looked-ahead string s of length L: hash(s[0..i)), i = 0..L */
    size_t prefix_count;   /* entries of prefix_hash */
};

/* ---------------------------------------------------------------- strings and nodes */

static void kv_str_measure(const char *s, size_t len, struct kv_str *out)
{
    uint64_t h = 0;
    uint64_t pow = 1;
    for (size_t i = 0; i < len; i++) {
        h = h * KV_HASH_BASE + (unsigned char)s[i];
        pow *= KV_HASH_BASE;
    }
    *out = (struct kv_str){len, h, pow};
}

/* The node for `value` appended to `parent` (KV_NONE: a fresh string), made if new. */
static int kv_node_get(struct kv_ctx *c, uint32_t parent, uint32_t value, uint32_t *id_out)
{
    uint64_t key = (uint64_t)parent << 32 | value;
    uint32_t hit = lin_map_get(&c->node_of, key);
    if (hit != LIN_MAP_EMPTY) {
        *id_out = hit;
        return 0;
    }
    if (c->nodes_count == c->nodes_cap) {
        if (c->nodes_cap >= KV_NODES_MAX) return LIN_ELIMIT;
        uint32_t cap = c->nodes_cap ? c->nodes_cap * 2 : 256u;
        struct kv_node *nodes = realloc(c->nodes, (size_t)cap * sizeof(*nodes));
        if (nodes == NULL) return LIN_ENOMEM;
        c->nodes = nodes;
        c->nodes_cap = cap;
    }
    const struct kv_str *v = &c->str[value];
    struct kv_node n = {parent, value, v->len, v->hash};
    if (parent != KV_NONE) {
        LIN_ASSERT(parent < c->nodes_count);
        n.len += c->nodes[parent].len;
        n.hash += c->nodes[parent].hash * v->pow;
    }
    uint32_t id = c->nodes_count;
    int rc = lin_map_put(&c->node_of, key, id);
    if (rc != 0) return rc;
    c->nodes[c->nodes_count++] = n;
    *id_out = id;
    return 0;
}

/* Walks a node's string from its end, one piece (a value) at a time. */
struct kv_rev {
    const struct kv_ctx *c;
    uint32_t node;
    const char *piece;
    size_t left; /* bytes of `piece` not yet consumed (consumed from the end) */
};

static void kv_rev_enter(struct kv_rev *r, uint32_t node)
{
    size_t len = 0;
    r->node = node;
    r->piece = lin_intern_get(&r->c->strs, r->c->nodes[node].value, &len);
    r->left = len;
}

/* Makes the current piece non-empty; false when the string is exhausted. */
static bool kv_rev_fill(struct kv_rev *r)
{
    while (r->left == 0) {
        uint32_t parent = r->c->nodes[r->node].parent;
        if (parent == KV_NONE) return false;
        LIN_ASSERT(parent < r->node);
        kv_rev_enter(r, parent);
    }
    return true;
}

/* Exact comparison of node a's string with node b's (b_node != KV_NONE) or with the flat
 * string flat/flat_len. The lengths are already known to be equal. */
static bool kv_content_equal(const struct kv_ctx *c, uint32_t a, uint32_t b_node, const char *flat,
                             size_t flat_len)
{
    struct kv_rev ra = {.c = c};
    struct kv_rev rb = {.c = c};
    kv_rev_enter(&ra, a);
    if (b_node != KV_NONE) {
        kv_rev_enter(&rb, b_node);
    } else {
        rb.node = KV_NONE;
        rb.piece = flat;
        rb.left = flat_len;
    }
    for (uint64_t remaining = c->nodes[a].len; remaining > 0;) {
        bool more_a = kv_rev_fill(&ra);
        bool more_b = rb.left > 0 || (b_node != KV_NONE && kv_rev_fill(&rb));
        LIN_ASSERT(more_a && more_b);
        size_t k = ra.left < rb.left ? ra.left : rb.left;
        if (memcmp(ra.piece + ra.left - k, rb.piece + rb.left - k, k) != 0) return false;
        ra.left -= k;
        rb.left -= k;
        remaining -= k;
    }
    return true;
}

static bool kv_node_equal(const struct kv_ctx *c, uint32_t a, uint32_t b)
{
    if (a == b) return true;
    if (c->nodes[a].len != c->nodes[b].len || c->nodes[a].hash != c->nodes[b].hash) return false;
    return kv_content_equal(c, a, b, NULL, 0);
}

/* Whether node holds exactly string `out`; memoized, since the search asks again and again. */
static int kv_node_is(struct kv_ctx *c, uint32_t node, uint32_t out, bool *equal)
{
    const struct kv_str *s = &c->str[out];
    *equal = false;
    if (c->nodes[node].len != s->len || c->nodes[node].hash != s->hash) return 0;
    uint64_t key = (uint64_t)node << 32 | out;
    uint32_t memo = lin_map_get(&c->get_memo, key);
    if (memo != LIN_MAP_EMPTY) {
        *equal = memo == KV_GET_EQUAL;
        return 0;
    }
    size_t len = 0;
    const char *flat = lin_intern_get(&c->strs, out, &len);
    *equal = kv_content_equal(c, node, KV_NONE, flat, len);
    return lin_map_put(&c->get_memo, key, *equal ? KV_GET_EQUAL : KV_GET_DIFFERENT);
}

/* The node's string, materialized into a malloc'd buffer (for descriptions only). */
static char *kv_node_string(const struct kv_ctx *c, uint32_t node, size_t *len_out)
{
    size_t len = (size_t)c->nodes[node].len;
    char *buf = malloc(len + 1);
    if (buf == NULL) return NULL;
    struct kv_rev r = {.c = c};
    kv_rev_enter(&r, node);
    for (size_t at = len; at > 0;) {
        bool more = kv_rev_fill(&r);
        LIN_ASSERT(more);
        size_t k = r.left < at ? r.left : at;
        memcpy(buf + at - k, r.piece + r.left - k, k);
        r.left -= k;
        at -= k;
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

/* ---------------------------------------------------------------- setup */

static int kv_op_valid(const struct lin_op *op)
{
    const struct lin_kv_input *in = op->input;
    const struct lin_kv_output *out = op->output;
    if (in == NULL || out == NULL || in->key == NULL) return LIN_EINVAL;
    if (in->kind == LIN_KV_GET) return out->value != NULL ? 0 : LIN_EINVAL;
    if (in->kind == LIN_KV_PUT || in->kind == LIN_KV_APPEND)
        return in->value != NULL ? 0 : LIN_EINVAL;
    if (in->kind == LIN_KV_APPEND_OLD)
        return in->value != NULL && out->value != NULL ? 0 : LIN_EINVAL;
    return LIN_EINVAL;
}

static int kv_intern_str(struct lin_intern *t, const char *s, uint32_t *id_out)
{
    return lin_intern_put(t, s, strlen(s), id_out);
}

static void kv_ctx_free(void *ctx)
{
    struct kv_ctx *c = ctx;
    if (c == NULL) return;
    lin_intern_close(&c->strs);
    lin_intern_close(&c->keys);
    lin_intern_close(&c->maps);
    lin_map_close(&c->node_of);
    lin_map_close(&c->get_memo);
    lin_map_close(&c->map_memo);
    free(c->str);
    free(c->nodes);
    free(c->code);
    free(c->vec);
    free(c->prefix_at);
    free(c->prefix_hash);
    free(c);
}

/* Interns what op i needs; value and out default to "" (id 0). */
static int kv_ctx_code_op(struct kv_ctx *c, const struct lin_op *op, struct kv_code *code)
{
    const struct lin_kv_input *in = op->input;
    const struct lin_kv_output *out = op->output;
    *code = (struct kv_code){in->kind, 0, 0, 0, {KV_NONE, KV_NONE}};
    int rc = kv_intern_str(&c->keys, in->key, &code->key);
    bool reads = in->kind == LIN_KV_GET || in->kind == LIN_KV_APPEND_OLD;
    if (rc == 0 && in->kind != LIN_KV_GET) rc = kv_intern_str(&c->strs, in->value, &code->value);
    if (rc == 0 && reads) rc = kv_intern_str(&c->strs, out->value, &code->out);
    return rc;
}

/* Measures every interned string and makes node 0, the initial "". */
static int kv_ctx_measure(struct kv_ctx *c)
{
    c->str = malloc(((size_t)c->strs.items_count + 1) * sizeof(*c->str));
    if (c->str == NULL) return LIN_ENOMEM;
    for (uint32_t i = 0; i < c->strs.items_count; i++) {
        size_t len = 0;
        const char *s = lin_intern_get(&c->strs, i, &len);
        kv_str_measure(s, len, &c->str[i]);
    }
    uint32_t empty = 0;
    int rc = kv_node_get(c, KV_NONE, 0, &empty);
    LIN_ASSERT(rc != 0 || empty == 0);
    return rc;
}

static int kv_ctx_new(const struct lin_op *ops, size_t ops_count, void **ctx_out)
{
    for (size_t i = 0; i < ops_count; i++) {
        if (kv_op_valid(&ops[i]) != 0) return LIN_EINVAL;
    }
    struct kv_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) return LIN_ENOMEM;
    lin_intern_init(&c->strs);
    lin_intern_init(&c->keys);
    lin_intern_init(&c->maps);
    lin_map_init(&c->node_of);
    lin_map_init(&c->get_memo);
    lin_map_init(&c->map_memo);
    c->ops_count = ops_count;
    c->code = malloc((ops_count ? ops_count : 1) * sizeof(*c->code));
    uint32_t empty = 0;
    int rc = c->code != NULL ? kv_intern_str(&c->strs, "", &empty) : LIN_ENOMEM;
    LIN_ASSERT(rc != 0 || empty == 0);
    for (size_t i = 0; rc == 0 && i < ops_count; i++)
        rc = kv_ctx_code_op(c, &ops[i], &c->code[i]);
    if (rc == 0) rc = kv_ctx_measure(c);
    if (rc != 0) {
        kv_ctx_free(c);
        return rc;
    }
    *ctx_out = c;
    return 0;
}

/* The string state after op (a put or append) applied to string state `node`. */
static int kv_apply(struct kv_ctx *c, uint32_t node, const struct kv_code *code, uint32_t *out)
{
    if (code->kind == LIN_KV_PUT) return kv_node_get(c, KV_NONE, code->value, out);
    LIN_ASSERT(code->kind == LIN_KV_APPEND || code->kind == LIN_KV_APPEND_OLD);
    if (c->str[code->value].len == 0) {
        *out = node;
        return 0;
    }
    return kv_node_get(c, node, code->value, out);
}

static bool kv_read_only(void *ctx, size_t op_index)
{
    const struct kv_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    return c->code[op_index].kind == LIN_KV_GET;
}

/* What the context holds; its node and memo tables grow with the search. */
static size_t kv_ctx_bytes(void *ctx)
{
    const struct kv_ctx *c = ctx;
    size_t strs = (size_t)c->strs.items_count + 1;
    return sizeof(*c) + lin_intern_bytes(&c->strs) + lin_intern_bytes(&c->keys) +
           lin_intern_bytes(&c->maps) + lin_map_bytes(&c->node_of) + lin_map_bytes(&c->get_memo) +
           lin_map_bytes(&c->map_memo) + strs * (sizeof(*c->str) + sizeof(uint64_t)) +
           c->nodes_cap * sizeof(*c->nodes) + c->ops_count * sizeof(*c->code) +
           c->prefix_count * sizeof(uint64_t);
}

static void kv_describe_op(const struct lin_op *op, char *buf, size_t buf_size)
{
    static const char *const names[] = {"get", "put", "append", "append"};
    const struct lin_kv_input *in = op->input;
    const struct lin_kv_output *out = op->output;
    struct lin_text t;
    lin_text_init(&t, buf, buf_size);
    lin_text_addf(&t, "%s(", names[in->kind]);
    lin_text_quote(&t, in->key, strlen(in->key), KV_QUOTE_OP_MAX);
    if (in->kind == LIN_KV_GET) {
        lin_text_add(&t, ") -> ", 5);
        lin_text_quote(&t, out->value, strlen(out->value), KV_QUOTE_OP_MAX);
        return;
    }
    lin_text_add(&t, ", ", 2);
    lin_text_quote(&t, in->value, strlen(in->value), KV_QUOTE_OP_MAX);
    lin_text_add(&t, ")", 1);
    if (in->kind == LIN_KV_APPEND_OLD) {
        lin_text_add(&t, " -> ", 4);
        lin_text_quote(&t, out->value, strlen(out->value), KV_QUOTE_OP_MAX);
    }
}

/* ---------------------------------------------------------------- lookahead (one key) */

/* Why it is sound. Take an operation o (of any kind) and a get G on the same key that must
 * follow it in every linearization: G.call_us > o.return_us. (The checker counts an operation
 * called at the instant another returns as concurrent with it, so only a strict gap orders
 * two operations; the same strict comparisons are used here, so touching operations never
 * constrain each other.) Suppose further that no put P other than o can be linearized between
 * o and G: every such P either must precede o (P.return_us < o.call_us) or must follow G
 * (P.call_us > G.return_us). Then in any linearization the operations between o and G are
 * appends (append-old included: it only extends the state) and gets, which leave the value o
 * produced as a prefix of what G reads. So if the state o would leave is not a prefix of G's
 * output, no linearization of the whole history places o there, whatever precedes it:
 * kv_viable says false and the search drops the step.
 *
 * Any such G gives a valid constraint; kv_ctx_lookahead keeps up to two per operation: among
 * the gets called strictly after o returned and returned strictly before the earliest call of
 * a put that might follow o, the one that returns first and the one called first (they read
 * the fewest appends after o, so they cut deepest). The test compares the state's length and
 * content hash (kv_node) with the precomputed hash of the output's prefix of that length. A
 * different hash proves "not a prefix"; equal hashes, even by collision, only keep a step, so
 * a collision can cost pruning but never soundness. Only a context with a single key (one
 * partition) gets constraints: puts and gets of other keys must not be mixed in. */

struct kv_span {
    int64_t call_us;
    int64_t return_us;
    uint32_t op;
};

/* Suffix minima over the puts sorted by return time: the two smallest call times (min2 to
 * leave out the operation being constrained when it is the minimum itself). */
struct kv_put_suffix {
    int64_t min1_call_us;
    int64_t min2_call_us;
    uint32_t min1_op;
};

/* Suffix minima over the gets sorted by call time: the earliest return and its get. */
struct kv_get_suffix {
    int64_t min_return_us;
    uint32_t op;
};

struct kv_ahead {
    struct kv_span *puts; /* by return time */
    struct kv_put_suffix *put_suf;
    size_t puts_count;
    struct kv_span *gets; /* by call time */
    struct kv_get_suffix *get_suf;
    size_t gets_count;
};

static int kv_cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int kv_span_by_return(const void *a, const void *b)
{
    const struct kv_span *x = a;
    const struct kv_span *y = b;
    int r = kv_cmp_i64(x->return_us, y->return_us);
    return r != 0 ? r : kv_cmp_i64(x->op, y->op);
}

static int kv_span_by_call(const void *a, const void *b)
{
    const struct kv_span *x = a;
    const struct kv_span *y = b;
    int r = kv_cmp_i64(x->call_us, y->call_us);
    return r != 0 ? r : kv_cmp_i64(x->op, y->op);
}

/* The first index of v (sorted by return time if by_return, else by call time) whose time is
 * > t (strict) or >= t (not strict); count if none. Binary search. */
static size_t kv_span_first(const struct kv_span *v, size_t count, bool by_return, int64_t t,
                            bool strict)
{
    size_t lo = 0;
    size_t hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t at = by_return ? v[mid].return_us : v[mid].call_us;
        if (strict ? at > t : at >= t)
            hi = mid;
        else
            lo = mid + 1;
    }
    LIN_ASSERT(lo <= count);
    return lo;
}

static void kv_ahead_free(struct kv_ahead *a)
{
    free(a->puts);
    free(a->put_suf);
    free(a->gets);
    free(a->get_suf);
}

/* Sorts the puts and gets and computes their suffix minima (ties: the earlier in the sort). */
static int kv_ahead_build(const struct kv_ctx *c, const struct lin_op *ops, size_t n,
                          struct kv_ahead *a)
{
    a->puts = malloc((n + 1) * sizeof(*a->puts));
    a->put_suf = malloc((n + 1) * sizeof(*a->put_suf));
    a->gets = malloc((n + 1) * sizeof(*a->gets));
    a->get_suf = malloc((n + 1) * sizeof(*a->get_suf));
    if (a->puts == NULL || a->put_suf == NULL || a->gets == NULL || a->get_suf == NULL)
        return LIN_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct kv_span sp = {ops[i].call_us, ops[i].return_us, (uint32_t)i};
        if (c->code[i].kind == LIN_KV_PUT) a->puts[a->puts_count++] = sp;
        if (c->code[i].kind == LIN_KV_GET) a->gets[a->gets_count++] = sp;
    }
    LIN_ASSERT(a->puts_count + a->gets_count <= n);
    qsort(a->puts, a->puts_count, sizeof(*a->puts), kv_span_by_return);
    qsort(a->gets, a->gets_count, sizeof(*a->gets), kv_span_by_call);
    struct kv_put_suffix ps = {INT64_MAX, INT64_MAX, KV_NONE};
    for (size_t i = a->puts_count; i-- > 0;) {
        const struct kv_span *p = &a->puts[i];
        if (p->call_us <= ps.min1_call_us) {
            ps = (struct kv_put_suffix){p->call_us, ps.min1_call_us, p->op};
        } else if (p->call_us < ps.min2_call_us) {
            ps.min2_call_us = p->call_us;
        }
        a->put_suf[i] = ps;
    }
    struct kv_get_suffix gs = {INT64_MAX, KV_NONE};
    for (size_t i = a->gets_count; i-- > 0;) {
        if (a->gets[i].return_us <= gs.min_return_us)
            gs = (struct kv_get_suffix){a->gets[i].return_us, a->gets[i].op};
        a->get_suf[i] = gs;
    }
    LIN_ASSERT(a->gets_count == 0 || a->get_suf[0].op != KV_NONE);
    return 0;
}

/* Fills code[o].later: the output ids of up to two gets that constrain op o (see above). */
static void kv_ahead_pick(struct kv_ctx *c, const struct kv_ahead *a, const struct lin_op *ops,
                          uint32_t o)
{
    /* The puts that might follow o: those not returned before o was called. A get may
     * constrain o only if it returned before the earliest call among them (o itself aside). */
    int64_t limit_us = INT64_MAX;
    size_t i = kv_span_first(a->puts, a->puts_count, true, ops[o].call_us, false);
    if (i < a->puts_count) {
        const struct kv_put_suffix *ps = &a->put_suf[i];
        limit_us = ps->min1_op == o ? ps->min2_call_us : ps->min1_call_us;
    }
    size_t j = kv_span_first(a->gets, a->gets_count, false, ops[o].return_us, true);
    if (j == a->gets_count) return;
    LIN_ASSERT(a->gets[j].call_us > ops[o].return_us && a->get_suf[j].op != o);
    struct kv_code *code = &c->code[o];
    uint32_t k = 0;
    if (a->get_suf[j].min_return_us < limit_us) code->later[k++] = c->code[a->get_suf[j].op].out;
    uint32_t first = c->code[a->gets[j].op].out;
    if (a->gets[j].return_us < limit_us && (k == 0 || code->later[0] != first))
        code->later[k++] = first;
    LIN_ASSERT(k <= KV_LATER_MAX);
}

/* Hashes every prefix of the strings some operation looks ahead to, in string id order, up
 * to KV_PREFIX_HASHES_MAX hashes (strings beyond that stay KV_NO_PREFIX: no constraint). */
static int kv_ahead_prefixes(struct kv_ctx *c)
{
    uint32_t strs = c->strs.items_count;
    c->prefix_at = malloc(((size_t)strs + 1) * sizeof(*c->prefix_at));
    if (c->prefix_at == NULL) return LIN_ENOMEM;
    for (uint32_t s = 0; s < strs; s++)
        c->prefix_at[s] = KV_NO_PREFIX;
    for (size_t i = 0; i < c->ops_count; i++) {
        for (uint32_t k = 0; k < KV_LATER_MAX && c->code[i].later[k] != KV_NONE; k++)
            c->prefix_at[c->code[i].later[k]] = 0; /* wanted */
    }
    size_t total = 0;
    for (uint32_t s = 0; s < strs; s++) {
        bool fits = c->str[s].len + 1 <= KV_PREFIX_HASHES_MAX - total;
        if (c->prefix_at[s] == KV_NO_PREFIX || !fits) {
            c->prefix_at[s] = KV_NO_PREFIX;
            continue;
        }
        c->prefix_at[s] = total;
        total += (size_t)c->str[s].len + 1;
    }
    c->prefix_hash = malloc((total + 1) * sizeof(*c->prefix_hash));
    if (c->prefix_hash == NULL) return LIN_ENOMEM;
    c->prefix_count = total + 1;
    for (uint32_t s = 0; s < strs; s++) {
        if (c->prefix_at[s] == KV_NO_PREFIX) continue;
        size_t len = 0;
        const unsigned char *p = (const unsigned char *)lin_intern_get(&c->strs, s, &len);
        uint64_t *h = &c->prefix_hash[c->prefix_at[s]];
        h[0] = 0;
        for (size_t b = 0; b < len; b++) /* the same hash as kv_str_measure */
            h[b + 1] = h[b] * KV_HASH_BASE + p[b];
        LIN_ASSERT(h[len] == c->str[s].hash);
    }
    return 0;
}

/* Computes every operation's lookahead gets and the prefix hashes they need. */
static int kv_ctx_lookahead(struct kv_ctx *c, const struct lin_op *ops, size_t n)
{
    LIN_ASSERT(n == c->ops_count && c->keys.items_count <= 1);
    struct kv_ahead a = {0};
    int rc = kv_ahead_build(c, ops, n, &a);
    for (size_t o = 0; rc == 0 && a.gets_count > 0 && o < n; o++)
        kv_ahead_pick(c, &a, ops, (uint32_t)o);
    kv_ahead_free(&a);
    return rc == 0 ? kv_ahead_prefixes(c) : rc;
}

/* The per-partition context: the plain one plus, for a one-key history, the lookahead. */
static int kv_part_ctx_new(const struct lin_op *ops, size_t ops_count, void **ctx_out)
{
    int rc = kv_ctx_new(ops, ops_count, ctx_out);
    if (rc != 0) return rc;
    struct kv_ctx *c = *ctx_out;
    if (c->keys.items_count == 1) rc = kv_ctx_lookahead(c, ops, ops_count);
    if (rc != 0) {
        kv_ctx_free(c);
        *ctx_out = NULL;
    }
    return rc;
}

/* Whether op_index may leave `state` (see the soundness argument above). */
static bool kv_viable(void *ctx, uint64_t state, size_t op_index)
{
    const struct kv_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    LIN_ASSERT(state < c->nodes_count);
    const struct kv_node *node = &c->nodes[state];
    for (uint32_t k = 0; k < KV_LATER_MAX; k++) {
        uint32_t s = c->code[op_index].later[k];
        if (s == KV_NONE || c->prefix_at[s] == KV_NO_PREFIX) continue;
        if (node->len > c->str[s].len) return false;
        if (c->prefix_hash[c->prefix_at[s] + node->len] != node->hash) return false;
    }
    return true;
}

/* ---------------------------------------------------------------- partitioned model */

static int kv_partition(const struct lin_op *ops, size_t ops_count, uint32_t *part_of_op,
                        size_t *parts_count_out)
{
    struct lin_intern keys;
    lin_intern_init(&keys);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ops_count; i++) {
        rc = kv_op_valid(&ops[i]);
        if (rc == 0)
            rc = kv_intern_str(&keys, ((const struct lin_kv_input *)ops[i].input)->key,
                               &part_of_op[i]);
    }
    *parts_count_out = keys.items_count;
    lin_intern_close(&keys);
    return rc;
}

static void kv_describe_partition(const struct lin_op *op, char *buf, size_t buf_size)
{
    const struct lin_kv_input *in = op->input;
    struct lin_text t;
    lin_text_init(&t, buf, buf_size);
    lin_text_add(&t, "key ", 4);
    lin_text_quote(&t, in->key, strlen(in->key), KV_QUOTE_OP_MAX);
}

static uint64_t kv_init(void *ctx)
{
    (void)ctx;
    return 0; /* node 0 is "" */
}

static int kv_step(void *ctx, uint64_t state, size_t op_index, uint64_t *next_out)
{
    struct kv_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    LIN_ASSERT(state < c->nodes_count);
    const struct kv_code *code = &c->code[op_index];
    *next_out = state;
    if (code->kind == LIN_KV_GET || code->kind == LIN_KV_APPEND_OLD) {
        bool equal = false;
        int rc = kv_node_is(c, (uint32_t)state, code->out, &equal);
        if (rc != 0 || !equal) return rc != 0 ? rc : 0;
        if (code->kind == LIN_KV_GET) return 1;
    }
    uint32_t next = 0;
    int rc = kv_apply(c, (uint32_t)state, code, &next);
    *next_out = next;
    return rc == 0 ? 1 : rc;
}

static uint64_t kv_fingerprint(void *ctx, uint64_t state)
{
    const struct kv_ctx *c = ctx;
    LIN_ASSERT(state < c->nodes_count);
    return c->nodes[state].hash ^ (c->nodes[state].len * 0xff51afd7ed558ccdull);
}

static bool kv_equal(void *ctx, uint64_t a, uint64_t b)
{
    return kv_node_equal(ctx, (uint32_t)a, (uint32_t)b);
}

static void kv_describe_state(void *ctx, uint64_t state, char *buf, size_t buf_size)
{
    const struct kv_ctx *c = ctx;
    size_t len = 0;
    char *s = kv_node_string(c, (uint32_t)state, &len);
    struct lin_text t;
    lin_text_init(&t, buf, buf_size);
    if (s == NULL)
        lin_text_add(&t, "(out of memory)", 15);
    else
        lin_text_quote(&t, s, len, buf_size);
    free(s);
}

const struct lin_model lin_model_kv = {
    .name = "kv",
    .partition = kv_partition,
    .describe_partition = kv_describe_partition,
    .ctx_new = kv_part_ctx_new,
    .ctx_free = kv_ctx_free,
    .init = kv_init,
    .step = kv_step,
    .fingerprint = kv_fingerprint,
    .equal = kv_equal,
    .read_only = kv_read_only,
    .viable = kv_viable,
    .describe_op = kv_describe_op,
    .describe_state = kv_describe_state,
    .ctx_bytes = kv_ctx_bytes,
};

/* ---------------------------------------------------------------- one map for all keys */

static const uint32_t *kv_map_vec(const struct kv_ctx *c, uint64_t state)
{
    LIN_ASSERT(state < c->maps.items_count);
    return (const uint32_t *)(const void *)lin_intern_get(&c->maps, (uint32_t)state, NULL);
}

static int kv_map_ctx_new(const struct lin_op *ops, size_t ops_count, void **ctx_out)
{
    int rc = kv_ctx_new(ops, ops_count, ctx_out);
    if (rc != 0) return rc;
    struct kv_ctx *c = *ctx_out;
    uint32_t slots = c->keys.items_count;
    uint32_t id = 0;
    /* Interned first, so that map 0 is every key at node 0 (""). */
    c->vec = calloc((size_t)slots + 1, sizeof(*c->vec));
    rc = c->vec != NULL ? lin_intern_put(&c->maps, c->vec, slots * sizeof(*c->vec), &id)
                        : LIN_ENOMEM;
    LIN_ASSERT(rc != 0 || id == 0);
    if (rc != 0) {
        kv_ctx_free(c);
        *ctx_out = NULL;
    }
    return rc;
}

static uint64_t kv_map_init(void *ctx)
{
    const struct kv_ctx *c = ctx;
    LIN_ASSERT(c->maps.items_count > 0);
    return 0;
}

/* The map after op_index (a put or append) applied to map `state`, memoized. */
static int kv_map_update(struct kv_ctx *c, uint64_t state, size_t op_index, uint32_t *id_out)
{
    uint64_t key = state << 32 | op_index;
    uint32_t hit = lin_map_get(&c->map_memo, key);
    if (hit != LIN_MAP_EMPTY) {
        *id_out = hit;
        return 0;
    }
    const struct kv_code *code = &c->code[op_index];
    size_t size = (size_t)c->keys.items_count * sizeof(uint32_t);
    memcpy(c->vec, kv_map_vec(c, state), size);
    int rc = kv_apply(c, c->vec[code->key], code, &c->vec[code->key]);
    if (rc == 0) rc = lin_intern_put(&c->maps, c->vec, size, id_out);
    if (rc == 0) rc = lin_map_put(&c->map_memo, key, *id_out);
    return rc;
}

static int kv_map_step(void *ctx, uint64_t state, size_t op_index, uint64_t *next_out)
{
    struct kv_ctx *c = ctx;
    LIN_ASSERT(op_index < c->ops_count);
    const struct kv_code *code = &c->code[op_index];
    *next_out = state;
    if (code->kind == LIN_KV_GET || code->kind == LIN_KV_APPEND_OLD) {
        bool equal = false;
        int rc = kv_node_is(c, kv_map_vec(c, state)[code->key], code->out, &equal);
        if (rc != 0 || !equal) return rc != 0 ? rc : 0;
        if (code->kind == LIN_KV_GET) return 1;
    }
    uint32_t id = 0;
    int rc = kv_map_update(c, state, op_index, &id);
    *next_out = id;
    return rc == 0 ? 1 : rc;
}

static uint64_t kv_map_fingerprint(void *ctx, uint64_t state)
{
    const struct kv_ctx *c = ctx;
    const uint32_t *vec = kv_map_vec(c, state);
    uint64_t fp = 0;
    for (uint32_t k = 0; k < c->keys.items_count; k++)
        fp = (fp ^ kv_fingerprint(ctx, vec[k])) * KV_HASH_BASE;
    return fp;
}

static bool kv_map_equal(void *ctx, uint64_t a, uint64_t b)
{
    const struct kv_ctx *c = ctx;
    if (a == b) return true;
    const uint32_t *va = kv_map_vec(c, a);
    const uint32_t *vb = kv_map_vec(c, b);
    for (uint32_t k = 0; k < c->keys.items_count; k++) {
        if (!kv_node_equal(c, va[k], vb[k])) return false;
    }
    return true;
}

static void kv_map_describe_state(void *ctx, uint64_t state, char *buf, size_t buf_size)
{
    const struct kv_ctx *c = ctx;
    const uint32_t *vec = kv_map_vec(c, state);
    struct lin_text t;
    lin_text_init(&t, buf, buf_size);
    lin_text_add(&t, "{", 1);
    for (uint32_t k = 0; k < c->keys.items_count && !t.truncated; k++) {
        size_t key_len = 0;
        size_t val_len = 0;
        const char *key = lin_intern_get(&c->keys, k, &key_len);
        char *val = kv_node_string(c, vec[k], &val_len);
        lin_text_add(&t, k > 0 ? ", " : "", k > 0 ? 2 : 0);
        lin_text_quote(&t, key, key_len, KV_QUOTE_MAP_MAX);
        lin_text_add(&t, ": ", 2);
        lin_text_quote(&t, val != NULL ? val : "?", val != NULL ? val_len : 1, KV_QUOTE_MAP_MAX);
        free(val);
    }
    lin_text_add(&t, "}", 1);
}

const struct lin_model lin_model_kv_nopartition = {
    .name = "kv-nopartition",
    .partition = NULL,
    .describe_partition = kv_describe_partition,
    .ctx_new = kv_map_ctx_new,
    .ctx_free = kv_ctx_free,
    .init = kv_map_init,
    .step = kv_map_step,
    .fingerprint = kv_map_fingerprint,
    .equal = kv_map_equal,
    .read_only = kv_read_only,
    .describe_op = kv_describe_op,
    .describe_state = kv_map_describe_state,
    .ctx_bytes = kv_ctx_bytes,
    .components = kv_partition, /* one object per key: see lin.h */
};
