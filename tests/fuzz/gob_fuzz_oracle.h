/* The labgob fuzz oracle, shared by the libFuzzer target (tests/fuzz/fuzz_gob.c) and the
 * garbage-input tests of tests/check_gob.c, so both check the same properties:
 *
 *   1. A generic walk (every field of every type, into every record and array) and a decoder
 *      that skips everything (gob_dec_init + gob_dec_finish) agree on the outcome: the same
 *      error code at the same offset. They share the cursor but not the control flow.
 *   2. A fixed schema (a Raft AppendEntries message) decodes into zeroed destinations without
 *      a non-default warning; when it decodes cleanly, the generic walk is clean too.
 *   3. What the schema decoded re-encodes to bytes no longer than the input, which decode to
 *      the same values and re-encode to the same bytes (the round trip is stable).
 *
 * Header-only (static functions) because the fuzz target is built from the labgob sources
 * alone, outside the library. gob_fuzz_check returns NULL or the property that failed.
 */
#ifndef TESTS_FUZZ_GOB_FUZZ_ORACLE_H
#define TESTS_FUZZ_GOB_FUZZ_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "labgob.h"

/* Far above what any input of libFuzzer's default max_len needs (about 3 steps per byte). */
#define GOB_FUZZ_WALK_STEPS_MAX (1u << 22)

/* Raft's AppendEntries arguments: field numbers are the wire contract. */
enum {
    AE_TERM = 1,
    AE_LEADER = 2,
    AE_PREV_INDEX = 3,
    AE_PREV_TERM = 4,
    AE_ENTRIES = 5,
    AE_COMMIT = 6,
    AE_ENTRY_TERM = 1,
    AE_ENTRY_COMMAND = 2,
};

struct ae_entry {
    uint64_t term;
    const uint8_t *command; /* a view into the decoded buffer */
    size_t command_len;
};

struct ae_msg {
    uint64_t term;
    int64_t leader;
    uint64_t prev_index;
    uint64_t prev_term;
    struct ae_entry *entries; /* malloc'd by ae_decode */
    uint64_t entries_count;
    uint64_t commit;
};

/* Decodes into a zeroed *m. Returns the GOB_* code; *nondefault gets the warning count. */
static inline int ae_decode(const uint8_t *buf, size_t len, struct ae_msg *m, uint32_t *nondefault)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    memset(m, 0, sizeof(*m));
    gob_get_uint(&d, AE_TERM, &m->term);
    gob_get_int(&d, AE_LEADER, &m->leader);
    gob_get_uint(&d, AE_PREV_INDEX, &m->prev_index);
    gob_get_uint(&d, AE_PREV_TERM, &m->prev_term);
    uint64_t count = gob_get_array_begin(&d, AE_ENTRIES, GOB_RECORD);
    if (count > 0) {
        /* count <= len: the decoder bounds it by the bytes left. */
        m->entries = calloc((size_t)count, sizeof(*m->entries));
        if (m->entries == NULL) return GOB_ENOMEM;
        m->entries_count = count;
        for (uint64_t i = 0; i < count && gob_dec_err(&d) == GOB_OK; i++) {
            struct ae_entry *e = &m->entries[i];
            gob_get_elem_record_begin(&d);
            gob_get_uint(&d, AE_ENTRY_TERM, &e->term);
            gob_get_bytes(&d, AE_ENTRY_COMMAND, &e->command, &e->command_len);
            gob_get_record_end(&d);
        }
        gob_get_array_end(&d);
    }
    gob_get_uint(&d, AE_COMMIT, &m->commit);
    *nondefault = d.nondefault_count;
    return gob_dec_finish(&d);
}

static inline int ae_encode(const struct ae_msg *m, struct gob_enc *e)
{
    gob_enc_reset(e);
    gob_put_uint(e, AE_TERM, m->term);
    gob_put_int(e, AE_LEADER, m->leader);
    gob_put_uint(e, AE_PREV_INDEX, m->prev_index);
    gob_put_uint(e, AE_PREV_TERM, m->prev_term);
    gob_put_array_begin(e, AE_ENTRIES, GOB_RECORD, m->entries_count);
    for (uint64_t i = 0; i < m->entries_count; i++) {
        gob_put_record_begin(e, 0);
        gob_put_uint(e, AE_ENTRY_TERM, m->entries[i].term);
        gob_put_bytes(e, AE_ENTRY_COMMAND, m->entries[i].command, m->entries[i].command_len);
        gob_put_record_end(e);
    }
    gob_put_array_end(e);
    gob_put_uint(e, AE_COMMIT, m->commit);
    return gob_enc_finish(e);
}

static inline bool ae_equal(const struct ae_msg *a, const struct ae_msg *b)
{
    if (a->term != b->term || a->leader != b->leader || a->prev_index != b->prev_index ||
        a->prev_term != b->prev_term || a->commit != b->commit ||
        a->entries_count != b->entries_count)
        return false;
    for (uint64_t i = 0; i < a->entries_count; i++) {
        const struct ae_entry *x = &a->entries[i];
        const struct ae_entry *y = &b->entries[i];
        if (x->term != y->term || x->command_len != y->command_len) return false;
        if (x->command_len > 0 && memcmp(x->command, y->command, x->command_len) != 0) return false;
    }
    return true;
}

/* Reads the value announced by gob_dec_next (any type) and enters records and non-empty
 * arrays. Returns the kind pushed (1 record, 2 array) or 0 when nothing was entered. */
static inline int walk_value(struct gob_dec *d, uint32_t field, enum gob_type type,
                             enum gob_type elem_type)
{
    uint64_t u = 0;
    int64_t i = 0;
    bool b = false;
    const uint8_t *p = NULL;
    size_t n = 0;
    switch (type) {
    case GOB_UINT:
        field ? gob_get_uint(d, field, &u) : gob_get_elem_uint(d, &u);
        return 0;
    case GOB_INT:
        field ? gob_get_int(d, field, &i) : gob_get_elem_int(d, &i);
        return 0;
    case GOB_BOOL:
        field ? gob_get_bool(d, field, &b) : gob_get_elem_bool(d, &b);
        return 0;
    case GOB_BYTES:
        field ? gob_get_bytes(d, field, &p, &n) : gob_get_elem_bytes(d, &p, &n);
        return 0;
    case GOB_RECORD:
        if (field != 0 && !gob_get_record_begin(d, field)) return 0;
        if (field == 0) gob_get_elem_record_begin(d);
        return gob_dec_err(d) == GOB_OK ? 1 : 0;
    case GOB_ARRAY:
        u = field ? gob_get_array_begin(d, field, elem_type)
                  : gob_get_elem_array_begin(d, elem_type);
        return u > 0 ? 2 : 0;
    }
    return 0;
}

/* Decodes every value generically. Returns gob_dec_finish's code and its offset in *pos;
 * *cut is set when the step bound stopped the walk (then the result means nothing). */
static inline int gob_walk(const uint8_t *buf, size_t len, size_t *pos, bool *cut)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    uint8_t kinds[GOB_DEPTH_MAX + 1] = {0};
    uint32_t depth = 0;
    uint64_t steps = 0;
    for (; steps < GOB_FUZZ_WALK_STEPS_MAX; steps++) {
        uint32_t field = 0;
        enum gob_type type = GOB_UINT;
        enum gob_type elem_type = GOB_UINT;
        if (gob_dec_next(&d, &field, &type, &elem_type)) {
            int kind = walk_value(&d, field, type, elem_type);
            if (kind != 0 && depth < GOB_DEPTH_MAX) kinds[++depth] = (uint8_t)kind;
            continue;
        }
        if (gob_dec_err(&d) != GOB_OK || depth == 0) break;
        kinds[depth] == 1 ? gob_get_record_end(&d) : gob_get_array_end(&d);
        depth--;
    }
    *cut = steps == GOB_FUZZ_WALK_STEPS_MAX;
    int rc = gob_dec_finish(&d);
    *pos = gob_dec_pos(&d);
    return rc;
}

/* Property 3: re-encode, decode again, compare; then re-encode and compare the bytes. */
static inline const char *ae_check_round_trip(const struct ae_msg *m, size_t input_len)
{
    const char *bad = NULL;
    struct gob_enc e1;
    struct gob_enc e2;
    struct ae_msg again;
    uint32_t nondefault = 0;
    gob_enc_init(&e1);
    gob_enc_init(&e2);
    memset(&again, 0, sizeof(again));
    if (ae_encode(m, &e1) != GOB_OK)
        bad = "re-encoding what was decoded failed";
    else if (gob_enc_len(&e1) > input_len)
        bad = "the canonical re-encoding is longer than the input";
    else if (ae_decode(gob_enc_bytes(&e1), gob_enc_len(&e1), &again, &nondefault) != GOB_OK)
        bad = "the re-encoding does not decode";
    else if (!ae_equal(m, &again))
        bad = "the re-encoding decodes to different values";
    else if (ae_encode(&again, &e2) != GOB_OK || gob_enc_len(&e1) != gob_enc_len(&e2) ||
             memcmp(gob_enc_bytes(&e1), gob_enc_bytes(&e2), gob_enc_len(&e1)) != 0)
        bad = "the round trip is not stable";
    free(again.entries);
    gob_enc_free(&e1);
    gob_enc_free(&e2);
    return bad;
}

static inline const char *gob_fuzz_check(const uint8_t *data, size_t size)
{
    size_t walk_pos = 0;
    bool cut = false;
    int walk_rc = gob_walk(data, size, &walk_pos, &cut);

    struct gob_dec skip;
    gob_dec_init(&skip, data, size);
    int skip_rc = gob_dec_finish(&skip);
    if (!cut && (walk_rc != skip_rc || walk_pos != gob_dec_pos(&skip)))
        return "the generic walk and the skipping decoder disagree";
    if (walk_rc != GOB_OK && walk_pos > size) return "an error offset lies past the input";

    struct ae_msg m;
    uint32_t nondefault = 0;
    int rc = ae_decode(data, size, &m, &nondefault);
    const char *bad = NULL;
    if (nondefault != 0)
        bad = "a non-default warning while decoding into zeroed destinations";
    else if (rc == GOB_OK && !cut && walk_rc != GOB_OK)
        bad = "the schema decode accepted what the generic walk rejects";
    else if (rc == GOB_OK)
        bad = ae_check_round_trip(&m, size);
    free(m.entries);
    return bad;
}

#endif /* TESTS_FUZZ_GOB_FUZZ_ORACLE_H */
