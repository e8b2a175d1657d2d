/* lin_model_kv.c: the 6.824 key/value model (get / put / append), with and without
 * partitioning by key.
 *
 * A get returns the key's whole current string ("" if never written), put replaces it and
 * append concatenates. Operations on different keys commute, so the history is checked one
 * key at a time (lin_model_kv); lin_model_kv_nopartition checks it as one map, the way
 * Porcupine's "no partition" variant does, for comparison.
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

struct kv_code {
    enum lin_kv_kind kind;
    uint32_t key;   /* slot in the map (nopartition only) */
    uint32_t value; /* string id of the put/append argument */
    uint32_t out;   /* string id of the get result */
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
    uint32_t *vec; /* nopartition scratch: one map vector */
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
    free(c);
}

/* Interns what op i needs; value and out default to "" (id 0). */
static int kv_ctx_code_op(struct kv_ctx *c, const struct lin_op *op, struct kv_code *code)
{
    const struct lin_kv_input *in = op->input;
    const struct lin_kv_output *out = op->output;
    *code = (struct kv_code){in->kind, 0, 0, 0};
    int rc = kv_intern_str(&c->keys, in->key, &code->key);
    if (rc == 0 && in->kind != LIN_KV_GET) rc = kv_intern_str(&c->strs, in->value, &code->value);
    if (rc == 0 && in->kind == LIN_KV_GET) rc = kv_intern_str(&c->strs, out->value, &code->out);
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
    LIN_ASSERT(code->kind == LIN_KV_APPEND);
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

static void kv_describe_op(const struct lin_op *op, char *buf, size_t buf_size)
{
    static const char *const names[] = {"get", "put", "append"};
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
    if (code->kind == LIN_KV_GET) {
        bool equal = false;
        int rc = kv_node_is(c, (uint32_t)state, code->out, &equal);
        return rc != 0 ? rc : equal ? 1 : 0;
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
    .ctx_new = kv_ctx_new,
    .ctx_free = kv_ctx_free,
    .init = kv_init,
    .step = kv_step,
    .fingerprint = kv_fingerprint,
    .equal = kv_equal,
    .read_only = kv_read_only,
    .describe_op = kv_describe_op,
    .describe_state = kv_describe_state,
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
    if (code->kind == LIN_KV_GET) {
        bool equal = false;
        int rc = kv_node_is(c, kv_map_vec(c, state)[code->key], code->out, &equal);
        return rc != 0 ? rc : equal ? 1 : 0;
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
    .describe_partition = NULL,
    .ctx_new = kv_map_ctx_new,
    .ctx_free = kv_ctx_free,
    .init = kv_map_init,
    .step = kv_map_step,
    .fingerprint = kv_map_fingerprint,
    .equal = kv_map_equal,
    .read_only = kv_read_only,
    .describe_op = kv_describe_op,
    .describe_state = kv_map_describe_state,
};
