/* The labgob fuzz oracle, shared by the libFuzzer target (tests/fuzz/fuzz_gob.c) and the
 * garbage-input tests of tests/check_gob.c, so both check the same properties:
 *
 *   0. Sizes: gob_size_rpc / gob_size_stream never fail; the empty input is 0, bytes whose
 *      header does not parse count as their raw length, and a parsed header's sizes are
 *      what the size functions return.
 *   1. A generic walk (every field of every type, into every record and array) and a decoder
 *      that skips everything (gob_dec_init + gob_dec_finish) agree on the outcome: the same
 *      error code at the same offset. They share the cursor but not the control flow.
 *   2. A fixed schema (a Raft AppendEntries message, commands as interface values) decodes
 *      into zeroed destinations without a non-default warning; when it decodes cleanly, the
 *      generic walk is clean too, and each command (itself a message) sizes and skips.
 *   3. What the schema decoded re-encodes to a body no longer than the input's, which
 *      decodes to the same values and re-encodes to the same bytes (the round trip is
 *      stable); the re-encoding's header parses to the encoder's own sizes.
 *
 * Properties 1-3 run twice: on the input as given (which mostly tests header checking, as a
 * random input rarely has a valid header) and on the input framed as a body behind a valid
 * header (gob_fuzz_frame), so the body decoder sees every input too.
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
/* Bodies longer than this are not framed (the framed copy is malloc'd per input). */
#define GOB_FUZZ_FRAME_BODY_MAX (1u << 20)
/* The longest header gob_fuzz_frame writes: magic, kind and 4 varints. */
#define GOB_FUZZ_FRAME_HEADER_MAX (2u + 4u * 10u)

static inline size_t gob_fuzz_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    for (; v >= 0x80u; v >>= 7)
        out[n++] = (uint8_t)(v | 0x80u);
    out[n++] = (uint8_t)v;
    return n;
}

/* F(p) of labgob.h: a framed gob message. */
static inline uint64_t gob_fuzz_framed(uint64_t payload)
{
    return gob_model_uint_len(payload) + payload;
}

/* Writes a valid header for an arbitrary body into out (GOB_FUZZ_FRAME_HEADER_MAX bytes and
 * room for the body after it), then the body; returns the total. The header claims the
 * sizes of an empty struct (the smallest consistent ones): what the decoder needs is only
 * that it parses. Written from the layout documented in labgob.h, independently of labgob's
 * own writer, so a change to either shows up as a failing test. */
static inline size_t gob_fuzz_frame(const uint8_t *body, size_t n, uint8_t *out)
{
    uint64_t s = GOB_MODEL_STRUCT_NAME_LEN;
    uint64_t common = 1 + gob_model_uint_len(s) + s + 1 + 2 + 1;   /* CommonType{Name, Id} */
    uint64_t desc = gob_fuzz_framed(2 + 1 + (1 + common + 1) + 1); /* struct, no fields */
    const uint64_t sizes[] = {n,                                   /* body_len */
                              4, /* stream: one zero scalar as an Encode call */
                              1, /* record: just the end */
                              desc};
    size_t len = 0;
    out[len++] = GOB_HEADER_MAGIC;
    out[len++] = GOB_MSG_RECORD;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        len += gob_fuzz_put_varint(out + len, sizes[k]);
    if (n > 0) memcpy(out + len, body, n);
    return len + n;
}

/* The body length of a message (0 for the empty one and for anything that does not parse). */
static inline size_t gob_fuzz_body_len(const uint8_t *buf, size_t len)
{
    struct gob_header h;
    if (len == 0 || gob_header_parse(buf, len, &h) != GOB_OK) return 0;
    return (size_t)h.body_len;
}

/* Raft's AppendEntries arguments: field numbers are the wire contract; each entry's command
 * is an interface value (a nested message, or raw bytes). */
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
            gob_get_iface(&d, AE_ENTRY_COMMAND, &e->command, &e->command_len);
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
        gob_put_iface(e, AE_ENTRY_COMMAND, m->entries[i].command, m->entries[i].command_len);
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

/* Property 3's header half: the re-encoding's header says what its encoder says. */
static inline bool header_matches_encoder(const struct gob_enc *e)
{
    struct gob_header h;
    if (gob_header_parse(gob_enc_bytes(e), gob_enc_len(e), &h) != GOB_OK) return false;
    return h.rpc_bytes == gob_enc_size_rpc(e) && h.stream_bytes == gob_enc_size_stream(e) &&
           h.iface_bytes == gob_enc_size_iface(e) &&
           gob_size_rpc(gob_enc_bytes(e), gob_enc_len(e)) == gob_enc_size_rpc(e);
}

/* Property 3: re-encode, decode again, compare; then re-encode and compare the bytes. */
static inline const char *ae_check_round_trip(const struct ae_msg *m, size_t input_body_len)
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
    else if (gob_fuzz_body_len(gob_enc_bytes(&e1), gob_enc_len(&e1)) > input_body_len)
        bad = "the canonical re-encoding's body is longer than the input's";
    else if (!header_matches_encoder(&e1))
        bad = "the re-encoding's header does not hold the encoder's sizes";
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

/* Property 0 on any bytes. */
static inline const char *gob_fuzz_check_sizes(const uint8_t *data, size_t size)
{
    struct gob_header h;
    size_t rpc = gob_size_rpc(data, size);
    size_t stream = gob_size_stream(data, size);
    if (size == 0) return rpc == 0 && stream == 0 ? NULL : "the empty message has a size";
    if (gob_header_parse(data, size, &h) != GOB_OK) {
        if (rpc != size || stream != size) return "bytes that are not a message are not raw";
        return NULL;
    }
    if (h.header_len + h.body_len != size) return "a header that does not span the input";
    if (rpc != h.rpc_bytes || stream != h.stream_bytes) return "sizes differ from the header";
    return NULL;
}

/* Property 2's nested half: every decoded command sizes and skips without trouble. */
static inline const char *ae_check_commands(const struct ae_msg *m)
{
    for (uint64_t i = 0; i < m->entries_count; i++) {
        const struct ae_entry *x = &m->entries[i];
        const char *bad = gob_fuzz_check_sizes(x->command, x->command_len);
        if (bad != NULL) return bad;
        struct gob_dec d;
        gob_dec_init(&d, x->command, x->command_len);
        int rc = gob_dec_finish(&d);
        if (rc != GOB_OK && gob_dec_pos(&d) > x->command_len) return "a command error past its end";
    }
    return NULL;
}

/* Properties 1-3 on one buffer. */
static inline const char *gob_fuzz_check_message(const uint8_t *data, size_t size)
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
        bad = ae_check_commands(&m);
    if (bad == NULL && rc == GOB_OK) bad = ae_check_round_trip(&m, gob_fuzz_body_len(data, size));
    free(m.entries);
    return bad;
}

static inline const char *gob_fuzz_check(const uint8_t *data, size_t size)
{
    const char *bad = gob_fuzz_check_sizes(data, size);
    if (bad == NULL) bad = gob_fuzz_check_message(data, size);
    if (bad != NULL || size > GOB_FUZZ_FRAME_BODY_MAX) return bad;
    /* The same bytes as a body: an exact-size copy, so ASan sees any overread. */
    uint8_t header[GOB_FUZZ_FRAME_HEADER_MAX];
    size_t header_len = gob_fuzz_frame(NULL, 0, header);
    uint8_t *framed = malloc(header_len + size + 1);
    if (framed == NULL) return NULL;
    size_t framed_len = gob_fuzz_frame(data, size, framed);
    bad = gob_fuzz_check_sizes(framed, framed_len);
    if (bad == NULL) bad = gob_fuzz_check_message(framed, framed_len);
    free(framed);
    return bad;
}

#endif /* TESTS_FUZZ_GOB_FUZZ_ORACLE_H */
