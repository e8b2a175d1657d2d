/* labgob: typed binary encoding for RPC arguments, replies, persisted state and snapshots.
 *
 * The wire format follows Go's gob where it matters for the 6.824 byte limits: unsigned
 * integers below 128 take one byte, records send only their non-zero fields, each prefixed by
 * a small field delta, and zero-valued fields are left out. Unlike gob, no type descriptors
 * are sent; instead every field key carries a 3-bit wire type so a decoder can detect
 * wrong-type input. Format (all integers are unsigned LEB128 varints):
 *
 *   message := field*                        (the top level is an implicit record)
 *   field   := key value                     key = (field delta << 3) | wire type, delta >= 1
 *   record  := field* 0                      (a nested record ends with key 0)
 *   array   := elemtype count elem*          elements carry no key
 *   uint: varint        int: zig-zag varint  bool: varint 0/1
 *   bytes: varint length, then the bytes     record, array: as above
 *
 * The decoder never reads past its buffer, never recurses, and bounds every count by the bytes
 * left. Errors are sticky: after the first one every call returns it, so a caller can decode a
 * whole message and check once. Decoding into a non-zero destination (a reused reply, state
 * restored into initialised fields) is reported, as labgob's "Decoding into a non-default
 * variable/field" warning: the field keeps its old value when the message omits it.
 *
 * Sizes: a message costs about what Go's gob spends on the values alone. Go's gob also sends
 * each type's descriptor once per encoder, and 6.824's labrpc makes a new encoder for every
 * call, so a Go RPC usually costs more (tools/bench_gob.c prints both).
 */
#ifndef LABGOB_H
#define LABGOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOB_DEPTH_MAX 16u           /* nesting of records and arrays */
#define GOB_MESSAGE_MAX (64u << 20) /* bytes one encoder may produce */

#define GOB_ERRNO_MAP(X)                                                                           \
    X(GOB_OK, 0, "success")                                                                        \
    X(GOB_ENOMEM, -1, "out of memory")                                                             \
    X(GOB_ETRUNCATED, -2, "input ends in the middle of a value")                                   \
    X(GOB_EOVERFLOW, -3, "integer does not fit in 64 bits")                                        \
    X(GOB_EWRONGTYPE, -4, "field has a different wire type than requested")                        \
    X(GOB_EBADKEY, -5, "malformed field key")                                                      \
    X(GOB_EDEPTH, -6, "records or arrays nested too deeply")                                       \
    X(GOB_ETOOBIG, -7, "length or count larger than the input")                                    \
    X(GOB_EORDER, -8, "field requested out of order")                                              \
    X(GOB_EMISUSE, -9, "begin/end calls do not match")                                             \
    X(GOB_EBADVALUE, -10, "value out of range for its type")

enum gob_err {
#define GOB_ERR_ENUM(name, value, text) name = value,
    GOB_ERRNO_MAP(GOB_ERR_ENUM)
#undef GOB_ERR_ENUM
};

/* Returns a static, never-NULL description of a GOB_* code. */
const char *gob_strerror(int err);

enum gob_type {
    GOB_UINT = 0,
    GOB_INT = 1,
    GOB_BOOL = 2,
    GOB_BYTES = 3,
    GOB_RECORD = 4,
    GOB_ARRAY = 5,
};

/* ---------------------------------------------------------------- encoder */

struct gob_enc_frame {
    uint32_t field_last;  /* last field number written in this record */
    uint32_t field_asked; /* last field number put (zero values are not written) */
    uint8_t is_array;     /* 1: elements carry no key */
    uint8_t elem_type;    /* element wire type when is_array */
    uint64_t elems_left;  /* elements still to write when is_array */
};

/* Caller-allocated. Fields are private; use the functions. */
struct gob_enc {
    uint8_t *buf;
    size_t len;
    size_t cap;
    int err;
    uint32_t depth;
    struct gob_enc_frame frames[GOB_DEPTH_MAX + 1];
};

void gob_enc_init(struct gob_enc *e);
/* Frees the buffer unless it was taken with gob_enc_take. */
void gob_enc_free(struct gob_enc *e);
/* Resets to empty, keeping the allocation. */
void gob_enc_reset(struct gob_enc *e);
/* Returns GOB_OK or the first error; checks all records and arrays were closed. */
int gob_enc_finish(const struct gob_enc *e);
/* The encoded bytes (valid until the next put or free). */
const uint8_t *gob_enc_bytes(const struct gob_enc *e);
size_t gob_enc_len(const struct gob_enc *e);
/* Hands the buffer to the caller (free() it); the encoder is left empty. */
uint8_t *gob_enc_take(struct gob_enc *e, size_t *len);

/* Fields: `field` numbers start at 1 and must increase within a record (else GOB_EORDER). A
 * zero value is not written at all (as gob does), so a message with all-zero fields is empty.
 * Misuse (an _end without its _begin, more or fewer elements than announced, a field number in
 * an array, an element outside one) is the sticky GOB_EMISUSE, never an abort. */
void gob_put_uint(struct gob_enc *e, uint32_t field, uint64_t v);
void gob_put_int(struct gob_enc *e, uint32_t field, int64_t v);
void gob_put_bool(struct gob_enc *e, uint32_t field, bool v);
void gob_put_bytes(struct gob_enc *e, uint32_t field, const void *p, size_t n);
void gob_put_str(struct gob_enc *e, uint32_t field, const char *s);
void gob_put_record_begin(struct gob_enc *e, uint32_t field);
void gob_put_record_end(struct gob_enc *e);
/* An array of `count` elements of `elem_type`. Empty arrays are left out. Inside, use the
 * gob_put_elem_* calls (or gob_put_record_begin(e, 0) for a record element, and
 * gob_put_array_begin(e, 0, ...) for an array element, which is written even when empty).
 * Always close with gob_put_array_end, also when count is 0. */
void gob_put_array_begin(struct gob_enc *e, uint32_t field, enum gob_type elem_type,
                         uint64_t count);
void gob_put_array_end(struct gob_enc *e);
void gob_put_elem_uint(struct gob_enc *e, uint64_t v);
void gob_put_elem_int(struct gob_enc *e, int64_t v);
void gob_put_elem_bool(struct gob_enc *e, bool v);
void gob_put_elem_bytes(struct gob_enc *e, const void *p, size_t n);

/* ---------------------------------------------------------------- decoder */

struct gob_dec_frame {
    uint32_t field_last;  /* field number of the last key read in this record */
    uint32_t field_asked; /* last field number requested by a gob_get_* call */
    uint8_t is_array;
    uint8_t elem_type;
    uint64_t elems_left;
};

struct gob_dec {
    const uint8_t *buf;
    size_t len;
    size_t pos;
    int err;
    uint32_t depth;
    /* The key already read but not yet consumed (field number 0 = none pending). */
    uint32_t peek_field;
    uint8_t peek_type;
    bool peek_valid;
    bool peek_end; /* a record end (key 0) or end of input was seen */
    struct gob_dec_frame frames[GOB_DEPTH_MAX + 1];
    /* labgob's warning: decoding into a non-zero destination. Counted, first one described. */
    uint32_t nondefault_count;
    uint32_t nondefault_field;
};

/* The buffer is borrowed; it must outlive the decoder and every view taken from it. */
void gob_dec_init(struct gob_dec *d, const uint8_t *buf, size_t len);
/* GOB_OK when everything decoded cleanly and every record/array was closed. Unknown trailing
 * fields at the top level are skipped, as gob ignores fields the receiver does not have. */
int gob_dec_finish(struct gob_dec *d);
int gob_dec_err(const struct gob_dec *d);
/* Offset of the first error (for "at byte N" messages). */
size_t gob_dec_pos(const struct gob_dec *d);

/* Each gob_get_* looks for `field` in the current record: when present it must have the
 * requested wire type and is stored in *out; when absent (it was zero) *out is left as it is.
 * Fields may be skipped but must be requested in increasing order. A non-zero *out before the
 * call counts as a non-default decode (see nondefault_count). */
void gob_get_uint(struct gob_dec *d, uint32_t field, uint64_t *out);
void gob_get_int(struct gob_dec *d, uint32_t field, int64_t *out);
void gob_get_bool(struct gob_dec *d, uint32_t field, bool *out);
/* A view into the input buffer, not a copy. Absent: *p and *n unchanged. */
void gob_get_bytes(struct gob_dec *d, uint32_t field, const uint8_t **p, size_t *n);
/* A malloc'd NUL-terminated copy; *out must be NULL on entry (else non-default). Absent:
 * *out is set to an empty string so callers never see NULL after a clean decode. */
void gob_get_str(struct gob_dec *d, uint32_t field, char **out);
/* Returns true when the record is present; then read its fields and call gob_get_record_end
 * (which skips any fields not read). When absent, do not call _end. */
bool gob_get_record_begin(struct gob_dec *d, uint32_t field);
void gob_get_record_end(struct gob_dec *d);
/* Returns the element count (0 when absent; then do not call _end). When > 0, read exactly
 * that many elements and call gob_get_array_end. */
uint64_t gob_get_array_begin(struct gob_dec *d, uint32_t field, enum gob_type elem_type);
void gob_get_array_end(struct gob_dec *d);
void gob_get_elem_uint(struct gob_dec *d, uint64_t *out);
void gob_get_elem_int(struct gob_dec *d, int64_t *out);
void gob_get_elem_bool(struct gob_dec *d, bool *out);
void gob_get_elem_bytes(struct gob_dec *d, const uint8_t **p, size_t *n);
/* Enters a record element of an array of records. */
void gob_get_elem_record_begin(struct gob_dec *d);
/* Enters an array element of an array of arrays; returns its count. As for fields, call
 * gob_get_array_end only when the count is > 0. */
uint64_t gob_get_elem_array_begin(struct gob_dec *d, enum gob_type elem_type);

/* For generic walkers (dump tools, the fuzzer): what comes next, without consuming it. In a
 * record, returns true with the next field's number and wire type, false at the record's end
 * (or end of input at the top level) or on error. In an array with elements left, returns
 * true with *field = 0 and the element type. When the next value is an array, *elem_type is
 * its element type (read ahead from the input); otherwise *elem_type = *type. */
bool gob_dec_next(struct gob_dec *d, uint32_t *field, enum gob_type *type,
                  enum gob_type *elem_type);

/* Formats labgob's warning for the first non-default destination into buf (always
 * NUL-terminated when n > 0): "labgob warning: Decoding into a non-default variable/field
 * <field> may not work". Returns the number of non-default decodes (0: no warning, buf
 * holds ""). */
int gob_dec_warning(const struct gob_dec *d, char *buf, size_t n);

/* Bytes a uint takes as a varint (for size estimates). */
size_t gob_uvarint_len(uint64_t v);

#endif /* LABGOB_H */
