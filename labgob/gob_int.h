/* labgob internals shared by the encoder and decoder files: the wire-format constants, varint,
 * zig-zag and key helpers, the internal assertion, and the decoder's cursor and frame
 * primitives (gob_dec_*.c). Nothing here is part of the public API.
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
