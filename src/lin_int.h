/* lin_int.h: internals shared by the lin_*.c files (not part of the public API).
 *
 * - LIN_ASSERT: invariant checks. The checker does not run inside a struct sim (it also runs
 *   from the CLI and the fuzzer), so it has its own assertion that prints and aborts rather
 *   than SIM_ASSERT, which reports a seed and a virtual time the checker does not have.
 * - lin_arena (lin_history.c): chunked allocator for strings and records that live as long as
 *   a history or a result; pointers into it stay valid until lin_arena_free.
 * - lin_intern and lin_map (lin_intern.c): an intern table (byte strings -> dense ids) and a
 *   64-bit -> 32-bit hash map; the models keep their states and memoized steps in them.
 * - lin_entries (lin_history.c): the time-ordered call/return entries of one partition.
 * - lin_cache (lin_cache.c): the set of (linearized operations, state) already seen.
 * - lin_search (lin_search.c): the resumable backtracking search of one partition.
 * - lin_text (lin_result.c): bounded string building for descriptions.
 * - lin_lex (lin_lex.c): the line scanner shared by the two file parsers.
 */
#ifndef LIN_INT_H
#define LIN_INT_H

#include "lin.h"

_Noreturn void lin_assert_fail(const char *expr, const char *file, int line);

/* Never compiled out (house rule H8). */
#define LIN_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) lin_assert_fail(#cond, __FILE__, __LINE__);                                   \
    } while (0)

/* ---------------------------------------------------------------- arena (lin_history.c) */

struct lin_arena_block;
struct lin_arena {
    struct lin_arena_block *head;
};
/* 8-byte aligned, zeroed; NULL when out of memory. */
void *lin_arena_alloc(struct lin_arena *arena, size_t size);
/* A NUL-terminated copy of size bytes of s; NULL when out of memory. */
char *lin_arena_strndup(struct lin_arena *arena, const char *s, size_t size);
void lin_arena_free(struct lin_arena *arena);

/* ---------------------------------------------------------------- intern table, map */

#define LIN_INTERN_ITEMS_MAX (1u << 30)
#define LIN_MAP_EMPTY UINT32_MAX

/* Byte strings -> dense ids 0, 1, 2, ... in insertion order. */
struct lin_intern {
    char *bytes; /* all strings, back to back */
    size_t bytes_size;
    size_t bytes_cap;
    uint64_t *item_off; /* id -> offset into bytes */
    uint32_t *item_len; /* id -> length */
    uint32_t items_count;
    uint32_t items_cap;
    uint32_t *slots;    /* open addressing: id + 1, 0 = empty */
    uint32_t *slot_tag; /* low hash bits of the slot's string, to skip most memcmps */
    size_t slots_cap;   /* power of two */
};
void lin_intern_init(struct lin_intern *t);
void lin_intern_close(struct lin_intern *t);
/* The id of the string (adding it if new). Returns 0, LIN_ELIMIT or LIN_ENOMEM. */
int lin_intern_put(struct lin_intern *t, const void *data, size_t size, uint32_t *id_out);
/* The bytes of id (valid until the next put); *size_out receives its length. */
const char *lin_intern_get(const struct lin_intern *t, uint32_t id, size_t *size_out);
/* The bytes the table holds (its allocations, at their capacity). */
size_t lin_intern_bytes(const struct lin_intern *t);

/* uint64 keys -> uint32 values (LIN_MAP_EMPTY is not a storable value). */
struct lin_map {
    uint64_t *keys;
    uint32_t *vals; /* LIN_MAP_EMPTY = free slot */
    size_t cap;     /* power of two */
    size_t count;
};
void lin_map_init(struct lin_map *m);
void lin_map_close(struct lin_map *m);
/* The value of key, or LIN_MAP_EMPTY. */
uint32_t lin_map_get(const struct lin_map *m, uint64_t key);
/* Sets key to val (val != LIN_MAP_EMPTY). Returns 0 or LIN_ENOMEM. */
int lin_map_put(struct lin_map *m, uint64_t key, uint32_t val);
/* The bytes the map holds. */
size_t lin_map_bytes(const struct lin_map *m);

/* ---------------------------------------------------------------- entries (lin_history.c) */

/* The 2n call/return entries of n operations sorted by time; at equal times calls come
 * before returns (so touching operations count as concurrent), then by operation index.
 * entry_op[i] is the operation of entry i; entry_match[i] is the index of its return entry
 * for a call and LIN_ENTRY_RETURN for a return. */
#define LIN_ENTRY_RETURN UINT32_MAX
int lin_entries_build(const struct lin_op *ops, uint32_t ops_count, uint32_t *entry_op,
                      uint32_t *entry_match);

/* ---------------------------------------------------------------- cache (lin_cache.c) */

/* The set of (set of linearized operations, state) pairs already reached; a set is given as
 * its window (see lin_cache.c): the lowest rank not linearized and the words of the rank
 * bitset from the one holding it to the last non-zero one. */
struct lin_cache {
    uint64_t *hashes; /* slots_cap hashes; 0 = free slot (probed first: dense) */
    uint64_t *offs;   /* slots_cap record offsets into pool, in words */
    size_t slots_cap; /* power of two */
    size_t count;
    uint64_t *pool;   /* records back to back: state, first << 32 | words_count, words */
    size_t pool_len;  /* words used */
    size_t pool_cap;  /* words allocated */
    size_t bytes_max; /* 0 = no cap; else lin_cache_add says LIN_CACHE_FULL rather than pass it */
    const struct lin_model *model;
    void *ctx;
};
/* Internal, never returned by the public API: a cache or search stopped at its byte cap. */
#define LIN_CACHE_FULL (-100)
struct lin_cache_key {
    uint32_t first;        /* the lowest rank not linearized */
    uint32_t words_count;  /* >= 1; the last word is non-zero unless it is the only one */
    const uint64_t *words; /* the rank bitset's words from word first / 64 on (borrowed) */
};
/* An empty cache sized for a partition of ops_count ops. Returns 0 or LIN_ENOMEM. */
int lin_cache_init(struct lin_cache *c, uint32_t ops_count, const struct lin_model *model,
                   void *ctx);
void lin_cache_close(struct lin_cache *c);
/* Adds (set, state) unless present. Returns 1 when added, 0 when already present,
 * LIN_CACHE_FULL (nothing changed) or LIN_ENOMEM. */
int lin_cache_add(struct lin_cache *c, const struct lin_cache_key *key, uint64_t state);
/* The bytes the cache holds (its allocations, at their capacity). */
size_t lin_cache_bytes(const struct lin_cache *c);

/* ---------------------------------------------------------------- search (lin_search.c) */

enum lin_search_status { LIN_SEARCH_RUNNING = 0, LIN_SEARCH_OK = 1, LIN_SEARCH_ILLEGAL = 2 };

struct lin_search;
/* A search over one partition's ops (borrowed until lin_search_free). Creates the model
 * context. prune enables the read-only rule, lookahead (with prune) the model's viable hook
 * (see lin_search.c). Returns 0 or a LIN_E* error. */
int lin_search_new(const struct lin_model *model, const struct lin_op *ops, uint32_t ops_count,
                   bool prune, bool lookahead, struct lin_search **search_out);
void lin_search_free(struct lin_search *s);
/* Runs at most steps_max steps (polling should_stop, if any) while the search's bytes stay
 * within bytes_allow (SIZE_MAX = no limit); returns 0 or a LIN_E* error and adds the steps
 * taken to *steps_used. Sets *stop to LIN_STOP_CALLBACK when should_stop said so and to
 * LIN_STOP_MEMORY when the bytes ran out (the search cannot go on after that). */
int lin_search_run(struct lin_search *s, uint64_t steps_max, const struct lin_budget *budget,
                   size_t bytes_allow, uint64_t *steps_used, enum lin_stop *stop);
/* The bytes the search holds: its arrays, its cache and (if the model counts it) the model's
 * context. */
size_t lin_search_bytes(const struct lin_search *s);
enum lin_search_status lin_search_status(const struct lin_search *s);
/* The full linearization (OK) or the longest prefix seen; indices into the search's ops. */
uint32_t lin_search_order(const struct lin_search *s, const uint32_t **order_out);
/* ILLEGAL: the op that could not be placed after the longest prefix; else UINT32_MAX. */
uint32_t lin_search_failing_op(const struct lin_search *s);
void *lin_search_ctx(const struct lin_search *s);

/* ---------------------------------------------------------------- result (lin_result.c) */

struct lin_result_op {
    int client;
    int64_t call_us;
    int64_t return_us;
    uint32_t part;
    const char *text;
};
struct lin_result_part {
    enum lin_verdict verdict;
    const char *name;
    uint32_t ops_count;
    uint32_t *order; /* checked-op indices: the linearization or the longest prefix */
    uint32_t order_len;
    const char **states; /* order_len + 1 texts: the initial state, then after each op */
    int64_t fail_op;     /* checked-op index, or -1 */
    bool fail_lookahead; /* fail_op is legal after the prefix: the model's lookahead ruled it out */
    uint64_t steps;
};
/* Everything lives in the arena, so a result is independent of the checked history. */
struct lin_result {
    struct lin_arena arena;
    enum lin_verdict verdict;
    const char *model_name;
    uint64_t steps;
    enum lin_stop stop;  /* why the check ended early (LIN_STOP_NONE unless UNKNOWN) */
    uint64_t bytes_peak; /* the most bytes the searches held at once */
    size_t ops_count;
    struct lin_result_op *ops;
    size_t parts_count;
    struct lin_result_part *parts;
};

/* What lin_check hands to lin_result_set_part for one partition. */
struct lin_part_outcome {
    const uint32_t *ops_idx;  /* partition op i is checked op ops_idx[i] */
    const struct lin_op *ops; /* the partition's ops (what the search indexes) */
    uint32_t ops_count;
    struct lin_search *search;
    uint64_t steps;
};
/* A result for ops_count checked ops in parts_count partitions, filled by lin_result_set_part
 * (once per partition) and lin_result_finish. Returns 0 or LIN_ENOMEM. */
int lin_result_new(const struct lin_model *model, size_t ops_count, size_t parts_count,
                   struct lin_result **res_out);
/* Records partition p: copies its order and describes its ops and the states along the order
 * (replaying it through the model in the search's context, which must still be alive). */
int lin_result_set_part(struct lin_result *res, const struct lin_model *model, size_t p,
                        const struct lin_part_outcome *po);
void lin_result_finish(struct lin_result *res, enum lin_verdict verdict, uint64_t steps);

/* ---------------------------------------------------------------- text (lin_result.c) */

/* A bounded string under construction: appends truncate with "..." and never overflow. */
struct lin_text {
    char *buf;
    size_t size; /* capacity with the NUL */
    size_t len;
    bool truncated;
};
void lin_text_init(struct lin_text *t, char *buf, size_t size);
void lin_text_add(struct lin_text *t, const char *s, size_t n);
void lin_text_addf(struct lin_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds s as a double-quoted string with \" \\ \n and \xNN escapes, cut to quote_max bytes. */
void lin_text_quote(struct lin_text *t, const char *s, size_t n, size_t quote_max);

/* ---------------------------------------------------------------- history internals */

/* The result of a file parser before it is wrapped in a struct lin_history. */
struct lin_history {
    struct lin_arena arena; /* inputs, outputs and strings */
    struct lin_op *ops;
    size_t ops_count;
};
int lin_parse_kv(const char *text, size_t text_size, struct lin_history *h,
                 struct lin_parse_error *err);
int lin_parse_etcd(const char *text, size_t text_size, struct lin_history *h,
                   struct lin_parse_error *err);
void lin_parse_error_set(struct lin_parse_error *err, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A history longer than LIN_OPS_MAX: says so at `line` and returns LIN_ELIMIT (a limit of the
 * checker, reported as such, not a malformed file). */
int lin_parse_limit(struct lin_parse_error *err, size_t line);

/* ---------------------------------------------------------------- lexer (lin_lex.c) */

/* Walks text line by line; lines end at '\n' (a trailing '\r' is dropped). */
struct lin_lex {
    const char *text;
    size_t size;
    size_t pos;      /* start of the next line */
    size_t line_no;  /* 1-based number of the current line */
    const char *cur; /* the current line */
    size_t cur_len;
    size_t at; /* cursor within the current line */
};
void lin_lex_init(struct lin_lex *lx, const char *text, size_t size);
/* Moves to the next line; false at the end of the text. */
bool lin_lex_next_line(struct lin_lex *lx);
/* Skips spaces and tabs; returns how many. */
size_t lin_lex_skip_space(struct lin_lex *lx);
bool lin_lex_at_end(const struct lin_lex *lx);
/* Consumes `word` if the line continues with it. */
bool lin_lex_eat(struct lin_lex *lx, const char *word);
/* Consumes a decimal integer (optional '-') in [min, max]. Returns 0, or LIN_EPARSE without
 * moving (not a number) or LIN_ELIMIT (out of range). */
int lin_lex_int(struct lin_lex *lx, int64_t min, int64_t max, int64_t *out);
/* Consumes a token of non-space characters other than those in `stop`; returns its length. */
size_t lin_lex_token(struct lin_lex *lx, const char *stop, const char **tok_out);
/* Whether the current line holds a NUL byte (a binary file). */
bool lin_lex_line_has_nul(const struct lin_lex *lx);

#endif /* LIN_INT_H */
