/* labgob internals shared by the encoder and decoder files: the wire-format constants, varint,
 * zig-zag and key helpers, the internal assertion, the gob model's bookkeeping (gob_model.c,
 * gob_size.c) and the decoder's cursor and frame primitives (gob_dec_*.c). Nothing here is
 * part of the public API.
 *
 * Invariants of a decoder (checked by GOB_ASSERT where they matter):
 *   1. pos <= len, always; every read checks the bytes left first.
 *   2. depth <= GOB_DEPTH_MAX; frames[0] is the implicit top-level record.
 *   3. After an error, err != GOB_OK, pos is the offset of the error and nothing moves again.
 *   4. peek_valid only in a record frame: a key (or the record's end) has been read and not
 *      yet consumed; peek_end says which.
 */
#ifndef LABGOB_GOB_INT_H
#define LABGOB_GOB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "labgob.h"

/* Internal invariants only: bad input and caller misuse are error codes, never this. labgob
 * does not depend on the sim kernel, so it cannot use SIM_ASSERT. */
#define GOB_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "labgob: assertion failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define GOB_VARINT_LEN_MAX 10u /* ceil(64 / 7) */
#define GOB_TYPE_BITS 3u
#define GOB_TYPE_MASK 7u
#define GOB_TYPE_COUNT 6u /* wire types 0..5; 6 and 7 are malformed keys */
/* The largest key: a field delta of UINT32_MAX with wire type 7. */
#define GOB_KEY_MAX ((((uint64_t)UINT32_MAX) << GOB_TYPE_BITS) | GOB_TYPE_MASK)

_Static_assert(GOB_ARRAY < GOB_TYPE_COUNT, "wire types must fit below GOB_TYPE_COUNT");
_Static_assert(GOB_TYPE_COUNT <= GOB_TYPE_MASK + 1, "wire types must fit in the key");
_Static_assert(GOB_DEPTH_MAX >= 2, "Raft messages nest arrays of records");
_Static_assert(GOB_MESSAGE_MAX < SIZE_MAX / 2, "buffer growth must not overflow size_t");

static inline bool gob_type_valid(uint64_t type)
{
    return type < GOB_TYPE_COUNT;
}

static inline uint64_t gob_zigzag_encode(int64_t v)
{
    /* -(v + 1) cannot overflow, even for INT64_MIN. */
    if (v >= 0) return (uint64_t)v << 1;
    return ((uint64_t)(-(v + 1)) << 1) | 1u;
}

static inline int64_t gob_zigzag_decode(uint64_t u)
{
    /* u >> 1 <= INT64_MAX, so both branches stay in range without implementation-defined
     * unsigned-to-signed conversions. */
    int64_t half = (int64_t)(u >> 1);
    if ((u & 1u) != 0) return -half - 1;
    return half;
}

static inline uint64_t gob_key_make(uint32_t delta, enum gob_type type)
{
    return ((uint64_t)delta << GOB_TYPE_BITS) | (uint64_t)type;
}

/* Writes v as a LEB128 varint into out (at least GOB_VARINT_LEN_MAX bytes); returns its
 * length. */
size_t gob_uvarint_put(uint8_t *out, uint64_t v);
/* gob_uvarint_get past its one-byte fast path. */
int gob_uvarint_get_long(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v);

/* Reads a varint at buf[*pos], len bytes in all; on GOB_OK advances *pos past it. Errors:
 * GOB_ETRUNCATED, GOB_EOVERFLOW (more than 64 bits). Inline for the one-byte case, which is
 * most keys and small values. */
static inline int gob_uvarint_get(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    if (*pos < len && buf[*pos] < 0x80u) {
        *v = buf[*pos];
        *pos += 1;
        return GOB_OK;
    }
    return gob_uvarint_get_long(buf, len, pos, v);
}

/* ------------------------------------------------------------ the gob model */

/* What a frame of the encoder is, for the model. A pair is one entry of a map: a record on
 * the wire, Go's key and value in the model. */
enum gob_role { GOB_ROLE_RECORD = 0, GOB_ROLE_PAIR = 1, GOB_ROLE_ARRAY = 2, GOB_ROLE_MAP = 3 };

/* The kinds the model tells apart: the wire types (same values) and the two that travel as
 * something else (a map as an array of records, an interface as bytes). */
enum gob_kind {
    GOB_KIND_UINT = GOB_UINT,
    GOB_KIND_INT = GOB_INT,
    GOB_KIND_BOOL = GOB_BOOL,
    GOB_KIND_BYTES = GOB_BYTES,
    GOB_KIND_RECORD = GOB_RECORD,
    GOB_KIND_ARRAY = GOB_ARRAY,
    GOB_KIND_MAP = 6,
    GOB_KIND_IFACE = 7,
};

/* Shape keys are 32 bits: two distinct shapes in one message collide with odds about 2^-32
 * per pair, and a collision could only under-charge one descriptor. */
#define GOB_SHAPE_MASK UINT64_C(0xffffffff)
/* Go's user type ids (65..127 in a lab process) take two bytes as ints; basic ids one. */
#define GOB_MODEL_USER_ID_LEN 2u
#define GOB_MODEL_BASIC_ID_LEN 1u

/* Whether a field or element of `kind` has a user type (struct, slice, map) in Go. */
static inline bool gob_kind_user(enum gob_kind kind)
{
    return kind == GOB_KIND_RECORD || kind == GOB_KIND_ARRAY || kind == GOB_KIND_MAP;
}

/* Saturating add: the model's sums never wrap (they are bounded far below anyway). */
static inline uint64_t gob_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* F(p): a framed gob message of payload p (length prefix + payload). */
uint64_t gob_model_framed(uint64_t payload);
/* Mixes v into the shape key h; the result fits GOB_SHAPE_MASK. */
uint64_t gob_model_shape_mix(uint64_t h, uint64_t v);
/* Folds one put (its kind and its type's key) into a record's running key. */
uint64_t gob_model_shape_step(uint64_t running, enum gob_kind kind, uint64_t shape);
/* The shape key of a completed record with this running key and number of puts. */
uint64_t gob_model_record_shape(uint64_t running, uint32_t puts);
/* The key an array or map frame keeps for an element of `kind` whose own key is `shape`. */
uint64_t gob_model_elem_shape(enum gob_kind kind, uint64_t shape);
/* Descriptor sizes (labgob.h, "Type descriptors"). */
uint64_t gob_model_struct_desc(uint32_t fields, uint32_t bytes_fields, uint32_t user_fields);
uint64_t gob_model_slice_desc(bool elem_user);
uint64_t gob_model_map_desc(bool key_user, bool value_user);
/* Charges `desc_bytes` for the type `shape` unless this message already paid for it. */
void gob_model_charge(struct gob_enc *e, uint64_t shape, uint64_t desc_bytes);
/* Opens the model side of a frame just pushed (role, and the descriptor mark of arrays). */
void gob_model_open(struct gob_enc *e, enum gob_role role);
/* A completed put of `kind` in the current frame: `zero` says gob would leave it out of a
 * struct, `value_bytes` is its value (zero values included), `shape` its type's key. */
void gob_model_put(struct gob_enc *e, enum gob_kind kind, bool zero, uint64_t value_bytes,
                   uint64_t shape);
/* `count` elements of a run (header h) worth value_bytes, spliced into the current array. */
void gob_model_splice_run(struct gob_enc *e, const struct gob_header *h, uint64_t count,
                          uint64_t value_bytes);
/* Closes the model side of the current frame (charging its descriptor) and reports the
 * completed value to the parent frame; the encoder pops the frame afterwards. Returns false
 * on misuse (a map entry that is not exactly a key and a value). */
bool gob_model_close(struct gob_enc *e);
/* The interface cost of a boxed value (kinds 1..4) whose value costs value_bytes. */
uint64_t gob_model_box_iface_bytes(uint8_t kind, uint64_t value_bytes);
/* gob_box_parse: the fast path of gob_header_parse for a boxed value, which is all an
 * interface put needs (Raft's int commands, in every AppendEntries): true with the kind and
 * value when the n bytes at p are a valid boxed message; false when they are anything else
 * (then parse them fully). */
bool gob_box_parse(const uint8_t *p, size_t n, uint8_t *kind, uint64_t *value_bytes);
/* The interface cost of a value whose header is h (labgob.h, "Interfaces"), of raw bytes
 * (n > 0 and h == NULL), or of nil (n == 0). */
uint64_t gob_model_iface_bytes(const struct gob_header *h, size_t n);
/* The key under which a nested message's descriptors (desc_bytes, charged as one unit) are
 * remembered: tag says whether they came as an interface, a spliced message or a run. */
uint64_t gob_model_nested_shape(uint64_t tag, uint64_t desc_bytes);
#define GOB_NESTED_IFACE 0x49u
#define GOB_NESTED_MSG 0x4du
#define GOB_NESTED_RUN 0x52u

/* The iface size of a struct message with this record value. */
uint64_t gob_model_struct_iface_bytes(uint64_t record_bytes);
/* Fills every size of a boxed message (kinds 1..4) from its body length and value. */
void gob_model_box(uint8_t kind, uint64_t body_len, uint64_t value_bytes, struct gob_header *h);
/* The header the encoder's message has now (kind, sizes, shapes; header_len unset). */
void gob_model_header(const struct gob_enc *e, struct gob_header *h);
/* Writes h (header_len ignored) into out (GOB_HEADER_MAX bytes); returns its length. */
size_t gob_header_write(const struct gob_header *h, uint8_t *out);

/* The capture an encoder has open (gob_enc_capture.c) hears every charge, paid or not, and
 * the completed put that reaches its frame. Failures (OOM, a second put) set c->err. */
void gob_capture_log_charge(struct gob_capture *c, uint64_t shape, uint64_t desc_bytes);
void gob_capture_log_put(struct gob_capture *c, enum gob_kind kind, bool zero, uint64_t value_bytes,
                         uint64_t shape);

/* ------------------------------------------------------------ encoder primitives */

/* Where a put may go (gob_enc_field_key): nowhere (an error is set), nowhere on the wire
 * (a zero field, which the model still sees), or key written and value to follow. */
enum gob_slot { GOB_SLOT_FAIL = 0, GOB_SLOT_ZERO = 1, GOB_SLOT_WRITE = 2 };

/* Records the first error (errors are sticky). */
void gob_enc_fail(struct gob_enc *e, int err);
/* Bytes of body written so far. */
size_t gob_enc_body_len(const struct gob_enc *e);
/* Makes room for n more body bytes (allocating the header space first). False with
 * GOB_ENOMEM past GOB_MESSAGE_MAX or on OOM. */
bool gob_enc_reserve(struct gob_enc *e, size_t n);
void gob_enc_put_raw(struct gob_enc *e, const void *p, size_t n);
void gob_enc_put_uvarint(struct gob_enc *e, uint64_t v);
/* Checks that a field may be put here (a record, increasing numbers) and writes its key
 * unless the value is zero. */
enum gob_slot gob_enc_field_key(struct gob_enc *e, uint32_t field, enum gob_type type, bool zero);
/* Checks that an element of `type` may be written in the current array and counts it. */
bool gob_enc_elem(struct gob_enc *e, enum gob_type type);
/* Pushes a frame of `role` (arrays and maps: `count` elements of elem_type). */
void gob_enc_push(struct gob_enc *e, enum gob_role role, enum gob_type elem_type, uint64_t count);
/* Checks a bytes value (p may be NULL only when n == 0; n bounded). */
bool gob_enc_bytes_ok(struct gob_enc *e, const void *p, size_t n);
/* A bytes field or element, written (length and bytes); the model is the caller's. */
enum gob_slot gob_enc_bytes_field(struct gob_enc *e, uint32_t field, const void *p, size_t n);
bool gob_enc_bytes_elem(struct gob_enc *e, const void *p, size_t n);
/* Feeds a completed put to the model unless an error is set. */
void gob_enc_model_put(struct gob_enc *e, enum gob_kind kind, bool zero, uint64_t value_bytes,
                       uint64_t shape);

/* ------------------------------------------------------------ decoder primitives */

/* Records the first error at offset `at`; later errors are ignored (errors are sticky). */
void gob_dec_fail(struct gob_dec *d, int err, size_t at);
/* Reads a varint at pos; on success advances pos. Errors: ETRUNCATED, EOVERFLOW. */
bool gob_dec_read_uvarint(struct gob_dec *d, uint64_t *v);
/* Reads a varint at pos without advancing (for read-ahead); *used gets its length. */
bool gob_dec_look_uvarint(struct gob_dec *d, uint64_t *v, size_t *used);
/* Ensures the current record's next key is read into the peek state. False on error. */
bool gob_dec_peek_key(struct gob_dec *d);
/* Enters a nested record or array (pushes a frame). False with GOB_EDEPTH when too deep. */
bool gob_dec_push(struct gob_dec *d, bool is_array, uint8_t elem_type, uint64_t count, size_t at);
/* Reads an array header (element type and count) and checks both against the input. */
bool gob_dec_read_array_head(struct gob_dec *d, uint8_t *elem_type, uint64_t *count);
/* Reads (and validates) one scalar value of wire type uint/int/bool/bytes. */
bool gob_dec_read_scalar(struct gob_dec *d, enum gob_type type, uint64_t *v, const uint8_t **p);
/* Skips everything until the decoder is back at depth `target` (< current depth), using
 * the frame stack instead of recursion. False on error. */
bool gob_dec_unwind_to(struct gob_dec *d, uint32_t target);
/* Skips one value of `type` whose key has been consumed (it may be a whole record/array). */
bool gob_dec_skip_value(struct gob_dec *d, enum gob_type type);
/* Counts a non-default destination of `field` (labgob's warning). */
void gob_dec_note_nondefault(struct gob_dec *d, uint32_t field);

#endif /* LABGOB_GOB_INT_H */
