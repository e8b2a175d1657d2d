/* Check suite for labgob's wire format: round trips, body sizes, labgob's non-default warning
 * (port of labgob's TestDefault), skipping of unknown fields, one crafted input per error code,
 * truncation at every offset, and pseudo-random garbage through the same oracle as the
 * libFuzzer target. Crafted bodies go behind a valid header (gob_fuzz_frame), so offsets are
 * checked relative to the body. The gob model and the header are tested in check_gob_size.c.
 *
 * Everything is deterministic: the garbage generators are a local xorshift64 with constant
 * seeds (no sim is needed, labgob does not depend on one).
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "fuzz/gob_fuzz_oracle.h"
#include "labgob.h"

/* Wire keys for hand-crafted inputs: (field delta << 3) | wire type. */
#define KEY(delta, type) ((uint8_t)(((delta) << 3) | (type)))

static void dec_from_enc(struct gob_dec *d, const struct gob_enc *e)
{
    ck_assert_int_eq(gob_enc_finish(e), GOB_OK);
    gob_dec_init(d, gob_enc_bytes(e), gob_enc_len(e));
}

/* The body of an encoder's message: what follows its (parsed) header. */
static size_t enc_body_len(const struct gob_enc *e)
{
    return gob_fuzz_body_len(gob_enc_bytes(e), gob_enc_len(e));
}

static const uint8_t *enc_body(const struct gob_enc *e)
{
    return gob_enc_bytes(e) + gob_enc_len(e) - enc_body_len(e);
}

/* A crafted body behind a valid header (gob_fuzz_frame), so the decoder reaches it. The
 * decoder's offsets count the header; bpos gives them relative to the body. */
struct framed {
    uint8_t buf[GOB_FUZZ_FRAME_HEADER_MAX + 64];
    size_t len;
    size_t body_at;
};

static void dec_body(struct gob_dec *d, struct framed *f, const uint8_t *body, size_t n)
{
    ck_assert_uint_le(n, 64);
    f->len = gob_fuzz_frame(body, n, f->buf);
    f->body_at = f->len - n;
    gob_dec_init(d, f->buf, f->len);
}

static size_t bpos(const struct gob_dec *d, const struct framed *f)
{
    ck_assert_uint_ge(gob_dec_pos(d), f->body_at);
    return gob_dec_pos(d) - f->body_at;
}

/* A malloc'd exact-size framed copy of any body (ASan sees overreads); *len gets its size. */
static uint8_t *frame_alloc(const uint8_t *body, size_t n, size_t *len)
{
    uint8_t *buf = malloc(GOB_FUZZ_FRAME_HEADER_MAX + n + 1);
    ck_assert_ptr_nonnull(buf);
    *len = gob_fuzz_frame(body, n, buf);
    return buf;
}

/* ------------------------------------------------------------------ round trips */

/* Writes the message used by the nested round trip and the truncation test; returns the
 * body offsets where each top-level field ends (boundaries[0] = 0). */
static size_t put_sample(struct gob_enc *e, size_t *boundaries)
{
    size_t n = 0;
    boundaries[n++] = 0;
    gob_put_uint(e, 1, 300);
    boundaries[n++] = enc_body_len(e);
    gob_put_int(e, 2, -5);
    boundaries[n++] = enc_body_len(e);
    gob_put_record_begin(e, 3);
    gob_put_uint(e, 1, 7);
    gob_put_record_begin(e, 2);
    gob_put_str(e, 1, "hello");
    gob_put_array_begin(e, 2, GOB_UINT, 2);
    gob_put_elem_uint(e, 0);
    gob_put_elem_uint(e, 1000);
    gob_put_array_end(e);
    gob_put_record_end(e);
    gob_put_int(e, 3, INT64_MIN);
    gob_put_record_end(e);
    boundaries[n++] = enc_body_len(e);
    gob_put_array_begin(e, 4, GOB_INT, 3);
    gob_put_elem_int(e, -1);
    gob_put_elem_int(e, 0);
    gob_put_elem_int(e, INT64_MAX);
    gob_put_array_end(e);
    boundaries[n++] = enc_body_len(e);
    gob_put_array_begin(e, 5, GOB_BOOL, 3);
    gob_put_elem_bool(e, true);
    gob_put_elem_bool(e, false);
    gob_put_elem_bool(e, true);
    gob_put_array_end(e);
    boundaries[n++] = enc_body_len(e);
    gob_put_array_begin(e, 6, GOB_BYTES, 3);
    gob_put_elem_bytes(e, "", 0);
    gob_put_elem_bytes(e, "a", 1);
    gob_put_elem_bytes(e, "xyz", 3);
    gob_put_array_end(e);
    boundaries[n++] = enc_body_len(e);
    gob_put_array_begin(e, 7, GOB_RECORD, 3);
    gob_put_record_begin(e, 0);
    gob_put_uint(e, 1, 9);
    gob_put_str(e, 2, "x");
    gob_put_record_end(e);
    gob_put_record_begin(e, 0); /* an empty record element */
    gob_put_record_end(e);
    gob_put_record_begin(e, 0);
    gob_put_bool(e, 3, true);
    gob_put_record_end(e);
    gob_put_array_end(e);
    boundaries[n++] = enc_body_len(e);
    gob_put_array_begin(e, 8, GOB_ARRAY, 3);
    gob_put_array_begin(e, 0, GOB_UINT, 2);
    gob_put_elem_uint(e, 1);
    gob_put_elem_uint(e, UINT64_MAX);
    gob_put_array_end(e);
    gob_put_array_begin(e, 0, GOB_UINT, 0); /* an empty element array is still written */
    gob_put_array_end(e);
    gob_put_array_begin(e, 0, GOB_UINT, 1);
    gob_put_elem_uint(e, 3);
    gob_put_array_end(e);
    gob_put_array_end(e);
    boundaries[n++] = enc_body_len(e);
    gob_put_bool(e, 9, true);
    boundaries[n++] = enc_body_len(e);
    gob_put_uint(e, 10, UINT64_MAX);
    boundaries[n++] = enc_body_len(e);
    ck_assert_int_eq(gob_enc_finish(e), GOB_OK);
    return n;
}

/* The decoded form of the sample; fields a truncated prefix lacks keep their zero value. */
struct sample {
    uint64_t f1;
    int64_t f2;
    uint64_t f3_1;
    char *f3_2_1;
    uint64_t f3_2_2[2];
    uint64_t f3_2_2_count;
    int64_t f3_3;
    int64_t f4[3];
    uint64_t f4_count;
    bool f5[3];
    uint64_t f5_count;
    const uint8_t *f6[3];
    size_t f6_len[3];
    uint64_t f6_count;
    uint64_t f7_1[3];
    const uint8_t *f7_2[3];
    size_t f7_2_len[3];
    bool f7_3[3];
    uint64_t f7_count;
    uint64_t f8[3][2];
    uint64_t f8_len[3];
    uint64_t f8_count;
    bool f9;
    uint64_t f10;
};

static void get_sample_f3(struct gob_dec *d, struct sample *s)
{
    if (!gob_get_record_begin(d, 3)) return;
    gob_get_uint(d, 1, &s->f3_1);
    if (gob_get_record_begin(d, 2)) {
        gob_get_str(d, 1, &s->f3_2_1);
        s->f3_2_2_count = gob_get_array_begin(d, 2, GOB_UINT);
        for (uint64_t i = 0; i < s->f3_2_2_count && i < 2; i++)
            gob_get_elem_uint(d, &s->f3_2_2[i]);
        if (s->f3_2_2_count > 0) gob_get_array_end(d);
        gob_get_record_end(d);
    }
    gob_get_int(d, 3, &s->f3_3);
    gob_get_record_end(d);
}

static void get_sample_arrays(struct gob_dec *d, struct sample *s)
{
    s->f4_count = gob_get_array_begin(d, 4, GOB_INT);
    for (uint64_t i = 0; i < s->f4_count && i < 3; i++)
        gob_get_elem_int(d, &s->f4[i]);
    if (s->f4_count > 0) gob_get_array_end(d);
    s->f5_count = gob_get_array_begin(d, 5, GOB_BOOL);
    for (uint64_t i = 0; i < s->f5_count && i < 3; i++)
        gob_get_elem_bool(d, &s->f5[i]);
    if (s->f5_count > 0) gob_get_array_end(d);
    s->f6_count = gob_get_array_begin(d, 6, GOB_BYTES);
    for (uint64_t i = 0; i < s->f6_count && i < 3; i++)
        gob_get_elem_bytes(d, &s->f6[i], &s->f6_len[i]);
    if (s->f6_count > 0) gob_get_array_end(d);
    s->f7_count = gob_get_array_begin(d, 7, GOB_RECORD);
    for (uint64_t i = 0; i < s->f7_count && i < 3; i++) {
        gob_get_elem_record_begin(d);
        gob_get_uint(d, 1, &s->f7_1[i]);
        gob_get_bytes(d, 2, &s->f7_2[i], &s->f7_2_len[i]);
        gob_get_bool(d, 3, &s->f7_3[i]);
        gob_get_record_end(d);
    }
    if (s->f7_count > 0) gob_get_array_end(d);
    s->f8_count = gob_get_array_begin(d, 8, GOB_ARRAY);
    for (uint64_t i = 0; i < s->f8_count && i < 3; i++) {
        s->f8_len[i] = gob_get_elem_array_begin(d, GOB_UINT);
        for (uint64_t j = 0; j < s->f8_len[i] && j < 2; j++)
            gob_get_elem_uint(d, &s->f8[i][j]);
        if (s->f8_len[i] > 0) gob_get_array_end(d);
    }
    if (s->f8_count > 0) gob_get_array_end(d);
}

static int get_sample(const uint8_t *buf, size_t len, struct sample *s, size_t *pos)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    memset(s, 0, sizeof(*s));
    gob_get_uint(&d, 1, &s->f1);
    gob_get_int(&d, 2, &s->f2);
    get_sample_f3(&d, s);
    get_sample_arrays(&d, s);
    gob_get_bool(&d, 9, &s->f9);
    gob_get_uint(&d, 10, &s->f10);
    int rc = gob_dec_finish(&d);
    ck_assert_uint_eq(d.nondefault_count, 0);
    *pos = gob_dec_pos(&d);
    return rc;
}

/* Checks the fields of the sample that a prefix holding `fields` top-level fields has. */
static void check_sample(const struct sample *s, size_t fields)
{
    ck_assert_uint_eq(s->f1, fields >= 1 ? 300 : 0);
    ck_assert_int_eq(s->f2, fields >= 2 ? -5 : 0);
    if (fields >= 3) {
        ck_assert_uint_eq(s->f3_1, 7);
        ck_assert_str_eq(s->f3_2_1, "hello");
        ck_assert_uint_eq(s->f3_2_2_count, 2);
        ck_assert_uint_eq(s->f3_2_2[0], 0);
        ck_assert_uint_eq(s->f3_2_2[1], 1000);
        ck_assert(s->f3_3 == INT64_MIN);
    }
    ck_assert_uint_eq(s->f4_count, fields >= 4 ? 3 : 0);
    if (fields >= 4) {
        ck_assert(s->f4[0] == -1 && s->f4[1] == 0 && s->f4[2] == INT64_MAX);
    }
    ck_assert_uint_eq(s->f5_count, fields >= 5 ? 3 : 0);
    if (fields >= 5) ck_assert(s->f5[0] && !s->f5[1] && s->f5[2]);
    ck_assert_uint_eq(s->f6_count, fields >= 6 ? 3 : 0);
    if (fields >= 6) {
        ck_assert_uint_eq(s->f6_len[0], 0);
        ck_assert(s->f6_len[1] == 1 && memcmp(s->f6[1], "a", 1) == 0);
        ck_assert(s->f6_len[2] == 3 && memcmp(s->f6[2], "xyz", 3) == 0);
    }
    ck_assert_uint_eq(s->f7_count, fields >= 7 ? 3 : 0);
    if (fields >= 7) {
        ck_assert(s->f7_1[0] == 9 && s->f7_2_len[0] == 1 && s->f7_2[0][0] == 'x');
        ck_assert(s->f7_1[1] == 0 && s->f7_2[1] == NULL && !s->f7_3[1]);
        ck_assert(s->f7_1[2] == 0 && s->f7_2_len[2] == 0 && s->f7_3[2]);
    }
    ck_assert_uint_eq(s->f8_count, fields >= 8 ? 3 : 0);
    if (fields >= 8) {
        ck_assert(s->f8_len[0] == 2 && s->f8[0][0] == 1 && s->f8[0][1] == UINT64_MAX);
        ck_assert(s->f8_len[1] == 0 && s->f8_len[2] == 1 && s->f8[2][0] == 3);
    }
    ck_assert(s->f9 == (fields >= 9));
    ck_assert(s->f10 == (fields >= 10 ? UINT64_MAX : 0));
}

START_TEST(test_gob_roundtrip_nested)
{
    struct gob_enc e;
    size_t boundaries[16];
    gob_enc_init(&e);
    size_t n = put_sample(&e, boundaries);
    ck_assert_uint_eq(n, 11);
    struct sample s;
    size_t pos = 0;
    ck_assert_int_eq(get_sample(gob_enc_bytes(&e), gob_enc_len(&e), &s, &pos), GOB_OK);
    check_sample(&s, 10);
    free(s.f3_2_1);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_roundtrip_extremes)
{
    static const int64_t ints[] = {INT64_MIN, INT64_MIN + 1, -1, 1, 63, -64, 64, INT64_MAX};
    static const uint64_t uints[] = {1,         127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX - 1,
                                     UINT64_MAX};
    const size_t count = sizeof(ints) / sizeof(ints[0]);
    struct gob_enc e;
    gob_enc_init(&e);
    for (size_t i = 0; i < count; i++) {
        gob_put_int(&e, (uint32_t)(2 * i + 1), ints[i]);
        gob_put_uint(&e, (uint32_t)(2 * i + 2), uints[i]);
    }
    struct gob_dec d;
    dec_from_enc(&d, &e);
    for (size_t i = 0; i < count; i++) {
        int64_t v = 0;
        uint64_t u = 0;
        gob_get_int(&d, (uint32_t)(2 * i + 1), &v);
        gob_get_uint(&d, (uint32_t)(2 * i + 2), &u);
        ck_assert_msg(v == ints[i], "int %zu: got %" PRId64, i, v);
        ck_assert_msg(u == uints[i], "uint %zu: got %" PRIu64, i, u);
    }
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    /* The zig-zag extremes take the full ten bytes, and no more. */
    gob_enc_reset(&e);
    gob_put_int(&e, 1, INT64_MIN);
    ck_assert_uint_eq(enc_body_len(&e), 1 + 10);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_roundtrip_empty_strings)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_str(&e, 1, "");
    gob_put_str(&e, 2, NULL);
    gob_put_bytes(&e, 3, NULL, 0);
    gob_put_str(&e, 4, "after");
    ck_assert_uint_eq(enc_body_len(&e), 1 + 1 + 5); /* the empty values are left out */
    struct gob_dec d;
    dec_from_enc(&d, &e);
    char *s1 = NULL;
    char *s4 = NULL;
    const uint8_t *p = NULL;
    size_t n = 0;
    gob_get_str(&d, 1, &s1);
    gob_get_bytes(&d, 3, &p, &n);
    gob_get_str(&d, 4, &s4);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_ptr_nonnull(s1); /* absent string: "" rather than NULL */
    ck_assert_str_eq(s1, "");
    ck_assert_ptr_null(p);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq(s4, "after");
    free(s1);
    free(s4);
    /* An empty message decodes; every string is "". */
    gob_dec_init(&d, NULL, 0);
    char *s = NULL;
    gob_get_str(&d, 7, &s);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_str_eq(s, "");
    free(s);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_roundtrip_large_deltas)
{
    static const uint32_t fields[] = {1, 2, 17, 18, 1000, 1u << 20, UINT32_MAX - 1, UINT32_MAX};
    const size_t count = sizeof(fields) / sizeof(fields[0]);
    struct gob_enc e;
    gob_enc_init(&e);
    for (size_t i = 0; i < count; i++)
        gob_put_uint(&e, fields[i], 1000 + i);
    /* Every field, then every other field (the rest are skipped), then only the last. */
    static const size_t strides[] = {1, 2, 8};
    for (size_t k = 0; k < sizeof(strides) / sizeof(strides[0]); k++) {
        struct gob_dec d;
        dec_from_enc(&d, &e);
        for (size_t i = strides[k] - 1; i < count; i += strides[k]) {
            uint64_t v = 0;
            gob_get_uint(&d, fields[i], &v);
            ck_assert_uint_eq(v, 1000 + i);
        }
        ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    }
    /* Values take 2 bytes each. Keys: deltas below 16 take one byte, 982 two, 2^20 - 1000
     * four, about 2^32 five. */
    ck_assert_uint_eq(enc_body_len(&e), 8 * 2 + (4 * 1 + 2 + 4 + 5 + 1));
    gob_put_uint(&e, 1, 0); /* no field can follow UINT32_MAX */
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EORDER);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_enc_take_and_reset)
{
    struct gob_enc e;
    gob_enc_init(&e);
    size_t len = 99;
    uint8_t *empty = gob_enc_take(&e, &len);
    ck_assert_ptr_nonnull(empty); /* an empty message is still a buffer */
    ck_assert_uint_eq(len, 0);
    free(empty);
    gob_put_uint(&e, 1, 5);
    size_t want = gob_enc_len(&e);
    uint8_t *buf = gob_enc_take(&e, &len);
    ck_assert_uint_eq(len, want); /* header and body, moved to the front of the buffer */
    struct gob_header h;
    ck_assert_int_eq(gob_header_parse(buf, len, &h), GOB_OK);
    ck_assert_uint_eq(h.kind, GOB_MSG_BOX_UINT);
    ck_assert_uint_eq(h.body_len, 2);
    ck_assert(buf[h.header_len] == KEY(1, GOB_UINT) && buf[h.header_len + 1] == 5);
    ck_assert_uint_eq(gob_enc_len(&e), 0);
    free(buf);
    gob_put_uint(&e, 1, 6); /* the encoder is usable after take */
    gob_enc_reset(&e);
    gob_put_uint(&e, 1, 7); /* and field numbers restart after reset */
    ck_assert_int_eq(gob_enc_finish(&e), GOB_OK);
    ck_assert_uint_eq(enc_body_len(&e), 2);
    ck_assert_uint_eq(enc_body(&e)[1], 7);
    gob_enc_free(&e);
}
END_TEST

/* ------------------------------------------------------------------ sizes */

START_TEST(test_gob_size_small_values)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, 1, 5);
    ck_assert_uint_eq(enc_body_len(&e), 2);
    ck_assert(enc_body(&e)[0] == KEY(1, GOB_UINT) && enc_body(&e)[1] == 5);
    struct {
        uint64_t v;
        size_t len;
    } cases[] = {{0, 0}, {1, 2}, {127, 2}, {128, 3}, {16383, 3}, {16384, 4}, {UINT64_MAX, 11}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gob_enc_reset(&e);
        gob_put_uint(&e, 1, cases[i].v);
        ck_assert_uint_eq(enc_body_len(&e), cases[i].len);
        ck_assert_uint_eq(gob_uvarint_len(cases[i].v), cases[i].len ? cases[i].len - 1 : 1);
    }
    gob_enc_reset(&e);
    gob_put_int(&e, 1, -1);
    gob_put_bool(&e, 2, true);
    gob_put_bool(&e, 3, false);
    gob_put_int(&e, 4, 0);
    ck_assert_uint_eq(enc_body_len(&e), 4); /* zero values cost no body bytes */
    gob_enc_reset(&e);
    gob_put_uint(&e, 15, 1); /* delta 15: (15 << 3) | 0 = 120 < 128, one key byte */
    gob_put_uint(&e, 31, 1); /* delta 16: two key bytes */
    ck_assert_uint_eq(enc_body_len(&e), 2 + 3);
    gob_enc_reset(&e);
    gob_put_record_begin(&e, 1);
    gob_put_record_end(&e);
    ck_assert_uint_eq(enc_body_len(&e), 2); /* an empty record: key and end */
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_size_string_and_raft)
{
    char s[285];
    memset(s, 'x', 284);
    s[284] = '\0';
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_str(&e, 1, s);
    /* labrpc's Bytes test argument: key, 2-byte length, 284 bytes (Go's gob: 292). */
    ck_assert_uint_eq(enc_body_len(&e), 287);
    /* RequestVote{term 5, candidate 2, last index 42, last term 4}: Go's gob needs 12 bytes
     * for the values alone (100 with its type descriptor). */
    gob_enc_reset(&e);
    gob_put_uint(&e, 1, 5);
    gob_put_int(&e, 2, 2);
    gob_put_uint(&e, 3, 42);
    gob_put_uint(&e, 4, 4);
    ck_assert_uint_eq(enc_body_len(&e), 8);
    gob_enc_free(&e);
}
END_TEST

/* ------------------------------------------------------------------ non-default warning */

/* Port of labgob's TestDefault: a zero struct {X} encodes to nothing; decoding it into
 * {X: 99} must warn exactly once, and X keeps 99 (gob's stale-value behaviour). */
START_TEST(test_gob_nondefault_default)
{
    struct gob_enc e;
    gob_enc_init(&e);
    int64_t x = 0;
    gob_put_int(&e, 1, x);
    ck_assert_uint_eq(enc_body_len(&e), 0); /* a header only: the model saw the field */
    ck_assert_uint_gt(gob_enc_len(&e), 0);
    struct gob_dec d;
    dec_from_enc(&d, &e);
    int64_t into = 99;
    gob_get_int(&d, 1, &into);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(d.nondefault_count, 1);
    ck_assert_uint_eq(d.nondefault_field, 1);
    ck_assert_int_eq(into, 99);
    char text[128];
    ck_assert_int_eq(gob_dec_warning(&d, text, sizeof(text)), 1);
    ck_assert_str_eq(text, "labgob warning: Decoding into a non-default variable/field 1 may not "
                           "work");
    /* Into a zeroed destination: no warning. */
    dec_from_enc(&d, &e);
    int64_t zero = 0;
    gob_get_int(&d, 1, &zero);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(d.nondefault_count, 0);
    ck_assert_int_eq(gob_dec_warning(&d, text, sizeof(text)), 0);
    ck_assert_str_eq(text, "");
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_nondefault_every_type)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, 1, 7);
    struct gob_dec d;
    dec_from_enc(&d, &e);
    uint64_t u = 0;
    bool b = true;
    int64_t i = 0;
    const uint8_t *p = (const uint8_t *)"old";
    size_t n = 3;
    char *old = strdup("old");
    char *s = old;
    gob_get_uint(&d, 1, &u); /* zeroed: fine, and present */
    gob_get_bool(&d, 2, &b);
    gob_get_int(&d, 3, &i);
    gob_get_bytes(&d, 4, &p, &n);
    gob_get_str(&d, 5, &s);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(u, 7);
    ck_assert_uint_eq(d.nondefault_count, 3); /* bool, bytes and string */
    ck_assert_uint_eq(d.nondefault_field, 2); /* the first one is described */
    ck_assert(b && n == 3 && s == old);       /* absent: all kept their stale values */
    char text[16];
    ck_assert_int_eq(gob_dec_warning(&d, text, sizeof(text)), 3);
    ck_assert_uint_eq(strlen(text), sizeof(text) - 1); /* truncated, still terminated */
    ck_assert_int_eq(gob_dec_warning(&d, NULL, 0), 3);
    free(old);
    gob_enc_free(&e);
}
END_TEST

/* ------------------------------------------------------------------ skipping */

START_TEST(test_gob_skip_unknown_fields)
{
    size_t boundaries[16];
    struct gob_enc e;
    gob_enc_init(&e);
    put_sample(&e, boundaries);
    /* A receiver that knows only fields 2, 9 and 10 skips a record, arrays of every kind and
     * an array of arrays on the way. */
    struct gob_dec d;
    dec_from_enc(&d, &e);
    int64_t f2 = 0;
    bool f9 = false;
    gob_get_int(&d, 2, &f2);
    gob_get_bool(&d, 9, &f9);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK); /* field 10 is an unknown trailing field */
    ck_assert_int_eq(f2, -5);
    ck_assert(f9);
    /* One that reads part of a record and part of an array: the _end calls skip the rest. */
    dec_from_enc(&d, &e);
    uint64_t f3_1 = 0;
    ck_assert(gob_get_record_begin(&d, 3));
    gob_get_uint(&d, 1, &f3_1);
    gob_get_record_end(&d);
    ck_assert_uint_eq(gob_get_array_begin(&d, 7, GOB_RECORD), 3);
    gob_get_elem_record_begin(&d);
    gob_get_record_end(&d);
    gob_get_array_end(&d);
    uint64_t f10 = 0;
    gob_get_uint(&d, 10, &f10);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(f3_1, 7);
    ck_assert(f10 == UINT64_MAX);
    /* A receiver that knows nothing: everything is skipped. */
    dec_from_enc(&d, &e);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(gob_dec_pos(&d), gob_enc_len(&e));
    gob_enc_free(&e);
}
END_TEST

/* Nesting of GOB_DEPTH_MAX levels (arrays of records of arrays ...) is skipped without
 * recursion; the decoder's frame stack is the only stack. */
START_TEST(test_gob_skip_deep_nesting)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, 1, 11);
    /* Even levels: an array of one record (field 2 at the top, 5 inside); odd: that record. */
    for (uint32_t level = 0; level < GOB_DEPTH_MAX; level++) {
        if (level % 2 == 0) {
            gob_put_array_begin(&e, level == 0 ? 2 : 5, GOB_RECORD, 1);
        } else {
            gob_put_record_begin(&e, 0);
            gob_put_uint(&e, 1, level);
        }
    }
    ck_assert_uint_eq(e.depth, GOB_DEPTH_MAX);
    for (uint32_t level = GOB_DEPTH_MAX; level-- > 0;) {
        if (level % 2 == 0)
            gob_put_array_end(&e);
        else
            gob_put_record_end(&e);
    }
    gob_put_uint(&e, 3, 33);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_OK);
    ck_assert_ptr_null(gob_fuzz_check(gob_enc_bytes(&e), gob_enc_len(&e)));
    struct gob_dec d;
    dec_from_enc(&d, &e);
    uint64_t f1 = 0;
    uint64_t f3 = 0;
    gob_get_uint(&d, 1, &f1);
    gob_get_uint(&d, 3, &f3);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(f1, 11);
    ck_assert_uint_eq(f3, 33);
    /* One level more is refused by the encoder. */
    gob_enc_reset(&e);
    for (uint32_t level = 0; level <= GOB_DEPTH_MAX; level++)
        gob_put_record_begin(&e, 1);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EDEPTH);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_skip_trailing)
{
    struct framed f;
    /* Unknown trailing fields (a record holding an array) after the known ones: fine. */
    static const uint8_t ok[] = {
        KEY(1, GOB_UINT),
        5,                  /* field 1 = 5, the one the receiver knows */
        KEY(3, GOB_RECORD), /* field 4: a record ... */
        KEY(1, GOB_ARRAY),
        GOB_BOOL,
        2,
        1,
        0, /* ... holding an array of two bools */
        0, /* end of the record */
        KEY(1, GOB_BYTES),
        1,
        'z', /* field 5 = "z" */
    };
    struct gob_dec d;
    dec_body(&d, &f, ok, sizeof(ok));
    uint64_t v = 0;
    gob_get_uint(&d, 1, &v);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(v, 5);
    /* Garbage after a valid prefix is not a field: an error at the garbage. */
    static const uint8_t bad[][3] = {
        {KEY(1, GOB_UINT), 5, 0x00}, /* key 0: the top level has no end marker */
        {KEY(1, GOB_UINT), 5, 0x0e}, /* wire type 6 */
        {KEY(1, GOB_UINT), 5, 0x80}, /* a cut varint */
    };
    static const int want[] = {GOB_EBADKEY, GOB_EBADKEY, GOB_ETRUNCATED};
    for (size_t i = 0; i < 3; i++) {
        dec_body(&d, &f, bad[i], 3);
        v = 0;
        gob_get_uint(&d, 1, &v);
        ck_assert_uint_eq(v, 5);
        ck_assert_int_eq(gob_dec_finish(&d), want[i]);
        ck_assert_uint_eq(bpos(&d, &f), 2);
    }
}
END_TEST

/* ------------------------------------------------------------------ errors */

/* Every prefix of the sample's body, behind a valid header: the fields wholly inside decode,
 * the cut one is an error between them. And every proper prefix of the whole message (header
 * included) is refused up front, as its length no longer matches the header. */
START_TEST(test_gob_err_truncated_every_offset)
{
    size_t boundaries[16];
    struct gob_enc e;
    gob_enc_init(&e);
    size_t count = put_sample(&e, boundaries);
    const uint8_t *body = enc_body(&e);
    size_t len = enc_body_len(&e);
    size_t field = 0; /* top-level fields wholly inside the prefix */
    for (size_t cut = 0; cut <= len; cut++) {
        while (field + 1 < count && boundaries[field + 1] <= cut)
            field++;
        size_t framed_len = 0;
        uint8_t *prefix = frame_alloc(body, cut, &framed_len);
        size_t body_at = framed_len - cut;
        struct sample s;
        size_t pos = 0;
        int rc = get_sample(prefix, framed_len, &s, &pos);
        if (cut == boundaries[field]) {
            ck_assert_msg(rc == GOB_OK, "prefix %zu: %s", cut, gob_strerror(rc));
            check_sample(&s, field);
        } else {
            ck_assert_msg(rc == GOB_ETRUNCATED || rc == GOB_ETOOBIG, "prefix %zu: %s", cut,
                          gob_strerror(rc));
            ck_assert_uint_le(pos, framed_len);
            ck_assert_uint_ge(pos, body_at + boundaries[field]);
        }
        ck_assert_ptr_null(gob_fuzz_check(prefix, framed_len));
        free(s.f3_2_1);
        free(prefix);
    }
    for (size_t cut = 1; cut < gob_enc_len(&e); cut++) {
        uint8_t *prefix = malloc(cut);
        memcpy(prefix, gob_enc_bytes(&e), cut);
        struct gob_dec d;
        gob_dec_init(&d, prefix, cut);
        ck_assert_int_eq(gob_dec_finish(&d), GOB_EHEADER);
        ck_assert_uint_eq(gob_dec_pos(&d), 0);
        free(prefix);
    }
    gob_enc_free(&e);
}
END_TEST

/* Decodes the body `in` as one uint field 1 and expects `want` at body offset `at`. */
static void expect_uint_err(const uint8_t *in, size_t len, int want, size_t at)
{
    struct gob_dec d;
    struct framed f;
    dec_body(&d, &f, in, len);
    uint64_t v = 0;
    gob_get_uint(&d, 1, &v);
    ck_assert_int_eq(gob_dec_finish(&d), want);
    ck_assert_int_eq(gob_dec_err(&d), want);
    ck_assert_uint_eq(bpos(&d, &f), at);
    ck_assert_uint_eq(v, 0);
}

START_TEST(test_gob_err_overflow)
{
    struct framed f;
    uint8_t in[12] = {KEY(1, GOB_UINT)};
    memset(in + 1, 0xff, 9);
    in[10] = 0x01; /* exactly UINT64_MAX: fine */
    struct gob_dec d;
    dec_body(&d, &f, in, 11);
    uint64_t v = 0;
    gob_get_uint(&d, 1, &v);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert(v == UINT64_MAX);
    in[10] = 0x02; /* bit 64 */
    expect_uint_err(in, 11, GOB_EOVERFLOW, 1);
    memset(in + 1, 0x80, 10); /* an 11-byte varint for 0 */
    in[11] = 0x00;
    expect_uint_err(in, 12, GOB_EOVERFLOW, 1);
    static const uint8_t overlong[] = {KEY(1, GOB_UINT), 0x85, 0x80, 0x00};
    dec_body(&d, &f, overlong, sizeof(overlong)); /* overlong but short enough: accepted */
    gob_get_uint(&d, 1, &v);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_OK);
    ck_assert_uint_eq(v, 5);
    static const uint8_t key_over[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                       0x80, 0x80, 0x80, 0x80, 0x01};
    expect_uint_err(key_over, sizeof(key_over), GOB_EOVERFLOW, 0);
}
END_TEST

START_TEST(test_gob_err_wrong_type)
{
    struct framed f;
    static const uint8_t u[] = {KEY(1, GOB_UINT), 5};
    struct gob_dec d;
    dec_body(&d, &f, u, sizeof(u));
    int64_t i = 0;
    gob_get_int(&d, 1, &i);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EWRONGTYPE);
    ck_assert_uint_eq(bpos(&d, &f), 1);
    ck_assert_int_eq(i, 0);
    static const uint8_t arr[] = {KEY(1, GOB_ARRAY), GOB_UINT, 1, 5};
    dec_body(&d, &f, arr, sizeof(arr));
    ck_assert_uint_eq(gob_get_array_begin(&d, 1, GOB_INT), 0);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EWRONGTYPE);
    ck_assert_uint_eq(bpos(&d, &f), 1);
    dec_body(&d, &f, arr, sizeof(arr));
    ck_assert(!gob_get_record_begin(&d, 1));
    ck_assert_int_eq(gob_dec_err(&d), GOB_EWRONGTYPE);
}
END_TEST

START_TEST(test_gob_err_bad_key)
{
    static const uint8_t cases[][6] = {
        {0x0e, 0},                            /* wire type 6 */
        {0x0f, 0},                            /* wire type 7 */
        {KEY(0, GOB_BYTES), 0},               /* delta 0 */
        {0x00, 0},                            /* key 0 at the top level */
        {KEY(1, GOB_ARRAY), 6, 0},            /* array element type 6 */
        {0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, /* delta 2^32 */
    };
    static const size_t lens[] = {2, 2, 2, 2, 3, 6};
    static const size_t at[] = {0, 0, 0, 0, 1, 0};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct gob_dec d;
        struct framed f;
        dec_body(&d, &f, cases[i], lens[i]);
        ck_assert_msg(gob_dec_finish(&d) == GOB_EBADKEY, "case %zu", i);
        ck_assert_uint_eq(bpos(&d, &f), at[i]);
    }
    /* Field numbers past UINT32_MAX: field UINT32_MAX, then a delta of 1. */
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, UINT32_MAX, 1);
    uint8_t in[16];
    memcpy(in, enc_body(&e), enc_body_len(&e));
    size_t len = enc_body_len(&e);
    in[len] = KEY(1, GOB_UINT);
    in[len + 1] = 1;
    struct gob_dec d;
    struct framed f;
    dec_body(&d, &f, in, len + 2);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EBADKEY);
    ck_assert_uint_eq(bpos(&d, &f), len);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_err_depth)
{
    struct framed f;
    uint8_t in[2 * (GOB_DEPTH_MAX + 1)];
    for (size_t levels = GOB_DEPTH_MAX; levels <= GOB_DEPTH_MAX + 1; levels++) {
        memset(in, KEY(1, GOB_RECORD), levels);
        memset(in + levels, 0, levels);
        struct gob_dec d;
        dec_body(&d, &f, in, 2 * levels);
        int rc = gob_dec_finish(&d);
        if (levels == GOB_DEPTH_MAX) {
            ck_assert_int_eq(rc, GOB_OK);
        } else {
            ck_assert_int_eq(rc, GOB_EDEPTH);
            ck_assert_uint_eq(bpos(&d, &f), GOB_DEPTH_MAX + 1);
        }
    }
    /* Through the API too: the 17th record_begin fails. */
    memset(in, KEY(1, GOB_RECORD), GOB_DEPTH_MAX + 1);
    memset(in + GOB_DEPTH_MAX + 1, 0, GOB_DEPTH_MAX + 1);
    struct gob_dec d;
    dec_body(&d, &f, in, sizeof(in));
    for (size_t level = 0; level < GOB_DEPTH_MAX; level++)
        ck_assert(gob_get_record_begin(&d, 1));
    ck_assert(!gob_get_record_begin(&d, 1));
    ck_assert_int_eq(gob_dec_err(&d), GOB_EDEPTH);
}
END_TEST

START_TEST(test_gob_err_too_big)
{
    struct framed f;
    static const uint8_t bytes[] = {KEY(1, GOB_BYTES), 5, 'a', 'b'};
    struct gob_dec d;
    dec_body(&d, &f, bytes, sizeof(bytes));
    const uint8_t *p = NULL;
    size_t n = 0;
    gob_get_bytes(&d, 1, &p, &n);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_ETOOBIG);
    ck_assert_uint_eq(bpos(&d, &f), 1);
    ck_assert_ptr_null(p);
    /* An array count beyond the bytes left, even a huge one (no allocation is attempted). */
    static const uint8_t count[] = {KEY(1, GOB_ARRAY), GOB_UINT, 5, 1, 2};
    dec_body(&d, &f, count, sizeof(count));
    ck_assert_uint_eq(gob_get_array_begin(&d, 1, GOB_UINT), 0);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_ETOOBIG);
    ck_assert_uint_eq(bpos(&d, &f), 2);
    static const uint8_t huge[] = {
        KEY(1, GOB_ARRAY), GOB_RECORD, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    dec_body(&d, &f, huge, sizeof(huge));
    ck_assert_int_eq(gob_dec_finish(&d), GOB_ETOOBIG);
    ck_assert_uint_eq(bpos(&d, &f), 2);
}
END_TEST

START_TEST(test_gob_err_bad_value)
{
    struct framed f;
    static const uint8_t two[] = {KEY(1, GOB_BOOL), 2};
    struct gob_dec d;
    dec_body(&d, &f, two, sizeof(two));
    bool b = false;
    gob_get_bool(&d, 1, &b);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EBADVALUE);
    ck_assert_uint_eq(bpos(&d, &f), 1);
    ck_assert(!b);
    dec_body(&d, &f, two, sizeof(two)); /* skipping validates too */
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EBADVALUE);
    static const uint8_t elem[] = {KEY(1, GOB_ARRAY), GOB_BOOL, 2, 1, 2};
    dec_body(&d, &f, elem, sizeof(elem));
    ck_assert_uint_eq(gob_get_array_begin(&d, 1, GOB_BOOL), 2);
    gob_get_elem_bool(&d, &b);
    ck_assert(b);
    gob_get_elem_bool(&d, &b);
    ck_assert_int_eq(gob_dec_err(&d), GOB_EBADVALUE);
    ck_assert_uint_eq(bpos(&d, &f), 4);
    /* A string holding a NUL cannot be a C string. */
    static const uint8_t nul[] = {KEY(1, GOB_BYTES), 3, 'a', 0, 'b'};
    dec_body(&d, &f, nul, sizeof(nul));
    char *s = NULL;
    gob_get_str(&d, 1, &s);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EBADVALUE);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_gob_err_order)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, 3, 7);
    gob_put_uint(&e, 2, 7);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EORDER);
    gob_enc_reset(&e);
    gob_put_uint(&e, 3, 0); /* caught even when the earlier value was zero (not written) */
    gob_put_uint(&e, 2, 7);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EORDER);
    ck_assert_uint_eq(e.len - GOB_HEADER_MAX, 0); /* no body byte went out */
    gob_enc_reset(&e);
    gob_put_uint(&e, 1, 1);
    gob_put_uint(&e, 2, 2);
    gob_put_uint(&e, 3, 3);
    struct gob_dec d;
    dec_from_enc(&d, &e);
    uint64_t v = 0;
    gob_get_uint(&d, 3, &v);
    gob_get_uint(&d, 2, &v);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EORDER);
    ck_assert_uint_eq(v, 3);
    dec_from_enc(&d, &e);
    gob_get_uint(&d, 2, &v);
    gob_get_uint(&d, 2, &v); /* twice */
    ck_assert_int_eq(gob_dec_err(&d), GOB_EORDER);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_err_misuse_enc)
{
    struct gob_enc e;
    gob_enc_init(&e);
    for (int c = 0; c < 10; c++) {
        gob_enc_reset(&e);
        switch (c) {
        case 0:
            gob_put_record_end(&e);
            break;
        case 1:
            gob_put_array_end(&e);
            break;
        case 2:
            gob_put_record_begin(&e, 1);
            break; /* left open */
        case 3:
            gob_put_elem_uint(&e, 1);
            break; /* no array */
        case 4:
            gob_put_array_begin(&e, 1, GOB_UINT, 2);
            gob_put_elem_uint(&e, 1);
            gob_put_array_end(&e); /* one element short */
            break;
        case 5:
            gob_put_array_begin(&e, 1, GOB_UINT, 1);
            gob_put_elem_uint(&e, 1);
            gob_put_elem_uint(&e, 2); /* one too many */
            break;
        case 6:
            gob_put_array_begin(&e, 1, GOB_UINT, 1);
            gob_put_uint(&e, 1, 5); /* a field inside an array */
            break;
        case 7:
            gob_put_array_begin(&e, 1, (enum gob_type)6, 1);
            break;
        case 8:
            gob_put_bytes(&e, 1, NULL, 3);
            break;
        case 9:
            gob_put_uint(&e, 0, 3);
            break; /* field numbers start at 1 */
        }
        ck_assert_msg(gob_enc_finish(&e) == GOB_EMISUSE, "case %d", c);
    }
    /* Records and arrays as elements need field 0 and the right element type. */
    gob_enc_reset(&e);
    gob_put_array_begin(&e, 1, GOB_RECORD, 1);
    gob_put_record_begin(&e, 1);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EMISUSE);
    gob_enc_reset(&e);
    gob_put_array_begin(&e, 1, GOB_UINT, 1);
    gob_put_record_begin(&e, 0);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EMISUSE);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_err_misuse_dec)
{
    static const uint8_t in[] = {KEY(1, GOB_ARRAY), GOB_UINT, 1, 5, KEY(1, GOB_RECORD), 0};
    struct gob_dec d;
    struct framed f;
    uint64_t v = 0;
    for (int c = 0; c < 7; c++) {
        dec_body(&d, &f, in, sizeof(in));
        switch (c) {
        case 0:
            gob_get_record_end(&d);
            break;
        case 1:
            gob_get_array_end(&d);
            break;
        case 2:
            gob_get_elem_uint(&d, &v);
            break;
        case 3:
            gob_get_array_begin(&d, 1, GOB_UINT);
            gob_get_elem_uint(&d, &v);
            gob_get_elem_uint(&d, &v); /* past the count */
            break;
        case 4:
            gob_get_record_begin(&d, 2);
            break; /* left open */
        case 5:
            gob_get_array_begin(&d, 1, GOB_UINT);
            gob_get_uint(&d, 1, &v); /* a field inside an array */
            break;
        case 6:
            gob_get_uint(&d, 0, &v);
            break;
        }
        ck_assert_msg(gob_dec_finish(&d) == GOB_EMISUSE, "case %d", c);
    }
    gob_dec_init(&d, NULL, 5);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EMISUSE);
}
END_TEST

START_TEST(test_gob_err_nomem)
{
    uint8_t *big = calloc(GOB_MESSAGE_MAX, 1);
    ck_assert_ptr_nonnull(big);
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_bytes(&e, 1, big, GOB_MESSAGE_MAX); /* value fits, key and length do not */
    ck_assert_int_eq(gob_enc_finish(&e), GOB_ENOMEM);
    /* The key and length went out, not the bytes. */
    ck_assert_uint_eq(e.len - GOB_HEADER_MAX, 1 + 4);
    gob_enc_reset(&e);
    gob_put_array_begin(&e, 1, GOB_UINT, (uint64_t)GOB_MESSAGE_MAX + 1);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_ENOMEM);
    gob_enc_free(&e);
    free(big);
}
END_TEST

START_TEST(test_gob_err_sticky)
{
    struct framed f;
    static const uint8_t in[] = {KEY(1, GOB_BOOL), 9, KEY(1, GOB_UINT), 4};
    struct gob_dec d;
    dec_body(&d, &f, in, sizeof(in));
    bool b = false;
    uint64_t v = 0;
    gob_get_bool(&d, 1, &b);
    gob_get_uint(&d, 2, &v); /* would be 4 without the error */
    ck_assert(!gob_get_record_begin(&d, 3));
    ck_assert_uint_eq(gob_get_array_begin(&d, 4, GOB_UINT), 0);
    uint32_t field = 0;
    enum gob_type type = GOB_UINT;
    enum gob_type elem = GOB_UINT;
    ck_assert(!gob_dec_next(&d, &field, &type, &elem));
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(gob_dec_finish(&d), GOB_EBADVALUE);
    ck_assert_uint_eq(bpos(&d, &f), 1);
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_record_end(&e);
    gob_put_uint(&e, 1, 5);
    ck_assert_uint_eq(gob_enc_len(&e), 0);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_EMISUSE);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_gob_strerror_all)
{
    static const int codes[] = {
#define GOB_ERR_CODE(name, value, text) name,
        GOB_ERRNO_MAP(GOB_ERR_CODE)
#undef GOB_ERR_CODE
    };
    const size_t count = sizeof(codes) / sizeof(codes[0]);
    ck_assert_uint_eq(count, 12);
    for (size_t i = 0; i < count; i++) {
        ck_assert_ptr_nonnull(gob_strerror(codes[i]));
        ck_assert_str_ne(gob_strerror(codes[i]), "unknown labgob error");
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(gob_strerror(codes[i]), gob_strerror(codes[j]));
    }
    ck_assert_str_eq(gob_strerror(-99), "unknown labgob error");
    ck_assert_str_eq(gob_strerror(1), "unknown labgob error");
}
END_TEST

/* ------------------------------------------------------------------ garbage */

static uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* Bytes skewed towards what the format uses (small valid keys, small counts, types and end
 * keys, some continuations), so that random buffers often get past the first keys. */
static uint8_t garbage_byte(uint64_t *state)
{
    uint64_t r = xorshift64(state);
    unsigned kind = (unsigned)(r % 16);
    if (kind < 1) return (uint8_t)(r >> 8);           /* anything */
    if (kind < 2) return (uint8_t)(0x80u | (r >> 8)); /* a varint continuation */
    if (kind < 9) return (uint8_t)((((r >> 8) % 3 + 1) << 3) | ((r >> 16) % 6)); /* a valid key */
    return (uint8_t)((r >> 8) % 4); /* a small value, count, element type or end key */
}

START_TEST(test_gob_garbage_random)
{
    uint64_t state = 0x9e3779b97f4a7c15u; /* constant seed: the same 100k buffers each run */
    uint8_t *buf = malloc(96);
    size_t ok = 0;
    for (int i = 0; i < 100000; i++) {
        size_t len = (size_t)(xorshift64(&state) % 96);
        uint8_t *in = buf + 96 - len; /* at the end of the allocation: overreads trip ASan */
        for (size_t j = 0; j < len; j++)
            in[j] = garbage_byte(&state);
        const char *bad = gob_fuzz_check(in, len);
        ck_assert_msg(bad == NULL, "buffer %d: %s", i, bad);
        size_t framed_len = 0;
        uint8_t *framed = frame_alloc(in, len, &framed_len);
        struct gob_dec d;
        gob_dec_init(&d, framed, framed_len);
        if (gob_dec_finish(&d) == GOB_OK && len >= 8) ok++;
        free(framed);
    }
    ck_assert_uint_gt(ok, 50); /* the generator reaches non-trivial valid messages too */
    free(buf);
}
END_TEST

/* Mutations of a valid AppendEntries message: flipped, inserted and removed bytes, in its
 * body (half the rounds; the oracle frames it, so the body decoder sees each mutation) or
 * anywhere in the whole message (the other half: mostly the header checks). */
START_TEST(test_gob_garbage_mutations)
{
    uint64_t state = 0x2545f4914f6cdd1du;
    struct gob_enc cmd;
    gob_enc_init(&cmd);
    gob_put_int(&cmd, 1, 200);
    struct ae_entry entries[4] = {{5, gob_enc_bytes(&cmd), gob_enc_len(&cmd)},
                                  {5, gob_enc_bytes(&cmd), gob_enc_len(&cmd)},
                                  {6, NULL, 0},
                                  {7, (const uint8_t *)"raw", 3}};
    struct ae_msg m = {7, -1, 41, 5, entries, 4, 40};
    struct gob_enc e;
    gob_enc_init(&e);
    ck_assert_int_eq(ae_encode(&m, &e), GOB_OK);
    uint8_t *in = malloc(gob_enc_len(&e) + 8);
    for (int i = 0; i < 20000; i++) {
        bool whole = i % 2 == 1;
        const uint8_t *src = whole ? gob_enc_bytes(&e) : enc_body(&e);
        size_t len = whole ? gob_enc_len(&e) : enc_body_len(&e);
        size_t n = len;
        memcpy(in, src, len);
        for (uint64_t k = xorshift64(&state) % 4 + 1; k > 0; k--) {
            size_t at = (size_t)(xorshift64(&state) % n);
            uint64_t what = xorshift64(&state) % 3;
            if (what == 0) {
                in[at] = garbage_byte(&state);
            } else if (what == 1 && n < len + 8) {
                memmove(in + at + 1, in + at, n - at);
                in[at] = garbage_byte(&state);
                n++;
            } else if (n > 1) {
                memmove(in + at, in + at + 1, n - at - 1);
                n--;
            }
        }
        const char *bad = gob_fuzz_check(in, n);
        ck_assert_msg(bad == NULL, "mutation %d: %s", i, bad);
    }
    free(in);
    gob_enc_free(&e);
    gob_enc_free(&cmd);
}
END_TEST

/* The committed seed corpus of the fuzzer (and any reproducer added to it) passes the oracle.
 * Run from the repository root, or with LABSIM_ROOT pointing there (as `make test` does). */
START_TEST(test_gob_fuzz_seeds)
{
    const char *root = getenv("LABSIM_ROOT");
    char dir_path[1024];
    snprintf(dir_path, sizeof(dir_path), "%s/tests/fuzz/corpus/gob", root ? root : ".");
    DIR *dir = opendir(dir_path);
    ck_assert_msg(dir != NULL, "cannot open %s", dir_path);
    size_t seeds = 0;
    uint8_t *buf = malloc(4096);
    for (struct dirent *ent = readdir(dir); ent != NULL; ent = readdir(dir)) {
        if (ent->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir_path, ent->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        size_t len = fread(buf, 1, 4096, f);
        fclose(f);
        uint8_t *in = malloc(len + 1); /* exact size, so ASan sees any overread */
        memcpy(in, buf, len);
        const char *bad = gob_fuzz_check(in, len);
        ck_assert_msg(bad == NULL, "%s: %s", ent->d_name, bad);
        free(in);
        seeds++;
    }
    closedir(dir);
    free(buf);
    ck_assert_uint_ge(seeds, 20);
}
END_TEST

Suite *gob_suite(void)
{
    Suite *s = suite_create("labgob");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_gob_roundtrip_nested);
    tcase_add_test(tc, test_gob_roundtrip_extremes);
    tcase_add_test(tc, test_gob_roundtrip_empty_strings);
    tcase_add_test(tc, test_gob_roundtrip_large_deltas);
    tcase_add_test(tc, test_gob_enc_take_and_reset);
    suite_add_tcase(s, tc);

    tc = tcase_create("size");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_gob_size_small_values);
    tcase_add_test(tc, test_gob_size_string_and_raft);
    suite_add_tcase(s, tc);

    tc = tcase_create("nondefault");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_gob_nondefault_default);
    tcase_add_test(tc, test_gob_nondefault_every_type);
    suite_add_tcase(s, tc);

    tc = tcase_create("skip");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_gob_skip_unknown_fields);
    tcase_add_test(tc, test_gob_skip_deep_nesting);
    tcase_add_test(tc, test_gob_skip_trailing);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_gob_err_truncated_every_offset);
    tcase_add_test(tc, test_gob_err_overflow);
    tcase_add_test(tc, test_gob_err_wrong_type);
    tcase_add_test(tc, test_gob_err_bad_key);
    tcase_add_test(tc, test_gob_err_depth);
    tcase_add_test(tc, test_gob_err_too_big);
    tcase_add_test(tc, test_gob_err_bad_value);
    tcase_add_test(tc, test_gob_err_order);
    tcase_add_test(tc, test_gob_err_misuse_enc);
    tcase_add_test(tc, test_gob_err_misuse_dec);
    tcase_add_test(tc, test_gob_err_nomem);
    tcase_add_test(tc, test_gob_err_sticky);
    tcase_add_test(tc, test_gob_strerror_all);
    suite_add_tcase(s, tc);

    tc = tcase_create("garbage");
    tcase_set_timeout(tc, 120); /* 120k inputs under ASan+UBSan */
    tcase_add_test(tc, test_gob_garbage_random);
    tcase_add_test(tc, test_gob_garbage_mutations);
    tcase_add_test(tc, test_gob_fuzz_seeds);
    suite_add_tcase(s, tc);

    gob_size_tcases_add(s); /* the model and the header: check_gob_size.c */
    return s;
}
