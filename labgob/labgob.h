/* labgob: typed binary encoding for RPC arguments, replies, persisted state and snapshots,
 * with a documented model of what Go's encoding/gob would spend on the same values.
 *
 * Wire format v2 (all integers are unsigned LEB128 varints unless said otherwise):
 *
 *   message := ""  |  header body          (the empty message: nothing was put)
 *   header  := MAGIC kind body_len stream record desc [run]    (a struct, kinds 0 and 5)
 *           |  MAGIC kind body_len value    (a boxed value, kinds 1..4: value = its cost)
 *   run     := run_count run_bytes run_desc                    (only when kind = GOB_MSG_RUN)
 *   body    := field*                      (the top level is an implicit record)
 *   field   := key value                   key = (field delta << 3) | wire type, delta >= 1
 *   record  := field* 0                    (a nested record ends with key 0)
 *   array   := elemtype count elem*        elements carry no key
 *   uint: varint        int: zig-zag varint  bool: varint 0/1
 *   bytes: varint length, then the bytes     record, array: as above
 *   A map is an array of records {1 key, 2 value}; an interface value is bytes (a message).
 *
 * MAGIC is the byte 0x67: read as a v1 key it would be wire type 7, which is malformed, so no
 * body starts with it. kind is one byte (enum gob_msg_kind). The header's sizes are the
 * message's gob-equivalent sizes under the model below, computed by the encoder, which sees
 * every put, including zero values it does not write and empty arrays; readers that only have
 * the bytes (labrpc, the persister) read them in O(1) with gob_size_rpc / gob_size_stream.
 * A header is valid only if body_len is exactly the rest of the input and its sizes are
 * plausible, so raw bytes that happen to start with MAGIC are almost never taken for a
 * message. Sizes that follow from others are not carried (each nested command of each
 * persisted entry pays for its header): a struct's rpc = F(2 + record) + desc and its iface
 * follows from record (F below); a boxed value (one scalar put, such as a Raft test's int
 * command) carries only its value's size, every other size follows from it, which keeps a
 * 3-byte command's header at 4 bytes. gob_header_parse fills in every size.
 *
 * Gob leaves zero-valued fields out, and so does labgob: records send only their non-zero
 * fields, each prefixed by a small field delta. Unlike gob, no type descriptors are sent;
 * instead every key carries a 3-bit wire type so a decoder can detect wrong-type input.
 *
 * ---------------------------------------------------------------- the gob model
 *
 * Units: U(x), Go's uint, takes 1 byte for x < 128, else 1 + the bytes of x big-endian
 * (gob_model_uint_len); an int takes U(zig-zag(x)) (x >= 0: 2x, else 2(-x)-1); F(p) = U(p) + p
 * is a framed gob message (length prefix + payload). Each put's value costs, as gob sends it:
 *   uint U(v); int U(zigzag(v)); bool 1; bytes/string U(n) + n (Go string or []byte);
 *   record  (Go struct)  per NON-ZERO field: U(ordinal delta) + value; then 1 (the 0 end);
 *                        ordinals number the fields put (zero ones too), as Go's field index;
 *   array   (Go slice)   U(count) + every element (zero elements too; a run adds its count);
 *   map     (Go map)     U(count) + key + value per entry (zero ones too; no deltas, no end);
 *   iface   (interface)  nil (the empty message): U(0); else U(len name) + name + type id +
 *                        F(data): see "interfaces" below.
 * A zero value (0, false, "", an empty array or map, a nil interface) is left out of a record
 * as gob does; a nested record is always sent, even when empty.
 *
 * Type descriptors: gob sends, once per encoder, a descriptor for every struct, slice and map
 * type reachable from what it encodes, including the types of zero fields and empty arrays.
 * The model charges each distinct shape once per message (a shape is the sequence of kinds of
 * a record's puts, recursively; an array's shape is its element's):
 *   common(L)        = (L > 0 ? 1 + U(L) + L : 0) + 1 + 2 + 1          CommonType{Name, Id}
 *   struct(n fields) = F(2 + 1 + [1 + common(S) + (n > 0 ? 1 + U(n) + SUM field : 0) + 1] + 1)
 *     field          = 1 + U(L) + L + 1 + id + 1,  L = FIELD_NAME_BYTES_LEN for string/bytes
 *                      fields, FIELD_NAME_LEN for the others; id = 2 for a struct, slice or
 *                      map field (user type ids 65..127), 1 for basic and interface fields
 *   slice            = F(2 + 1 + [1 + common(SLICE) + 1 + id(elem) + 1] + 1)
 *   map              = F(2 + 1 + [1 + common(MAP) + 1 + id(key) + 1 + id(value) + 1] + 1)
 * An empty array of records has no element to take a shape from: the model assumes Raft's
 * LogEntry{Term int; Command interface{}} (an empty array of arrays: a slice of ints; an empty
 * map: basic key and value). Shapes are remembered in a table of GOB_SHAPES_MAX per encoder;
 * past it, a new shape is charged every time it is seen (never fewer bytes than gob). Headers
 * carry no shapes: the descriptors a nested message brings (an interface's concrete struct, a
 * spliced message or run) are charged once per encoder for their total size, so two nested
 * types whose descriptors add up to the same size are taken for one (no lab service has two
 * command types).
 *
 * Whole-message sizes (struct gob_header; the header carries them or what they follow from):
 *   record = the top-level record's value (as above: sent fields + 1);
 *   desc   = descriptor of the top-level record + every other descriptor charged;
 *   rpc    = F(2 + record) + desc: the message as ONE Go struct sent by a NEW encoder, what
 *            6.824's labrpc sends per call (Encode(args)) and per reply;
 *   stream = SUM over top-level puts, zero ones included, of F(id + (1 if not a record) +
 *            value) + every descriptor except the top record's: the puts as a sequence of
 *            Encode calls on one new encoder, what persist() and a KV snapshot do
 *            (e.Encode(currentTerm); e.Encode(votedFor); e.Encode(log)); a top-level
 *            interface put counts as F(1 + 1 + its iface cost);
 *   iface  = the message's cost as the value of a Go interface field (next paragraph).
 * The empty message is 0 bytes under every model. Bytes that are not a valid message are
 * sized as their raw length (gob_size_*) and, put in an interface, as a boxed Go string.
 *
 * Interfaces (Raft log commands): gob sends U(len name) + registered name + type id +
 * F(data). A message whose top level holds exactly ONE put, of a uint, int, bool or bytes, is
 * the lab's boxed basic value (the tests' int and string commands): name "uint", "int",
 * "bool" or "string", id 1 byte, data = 0 (gob's singleton delta) + the value. Any other
 * message is a struct (a kvraft Op): name IFACE_NAME_LEN bytes, id 2 bytes, data = record,
 * and its descriptors (desc) are charged once per encoder, as gob sends the concrete type's
 * descriptor once. (A one-field struct stored in an interface would be
 * mistaken for a boxed value and miss its descriptor; no lab message does that.)
 *
 * Names: Go's type and field names are unknown here, so the model uses the constants below,
 * calibrated (tools/bench_gob.c) against 49 messages and states measured with Go 1.19's gob
 * through 6.5840's labgob: Raft's RPCs and persisted states, kvraft's RPCs, Op commands and
 * map snapshots. Every one is within 15% (ratios 0.88 to 1.13; maps are exact), and only the
 * names differ: values and framing are counted exactly.
 */
#ifndef LABGOB_H
#define LABGOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GOB_DEPTH_MAX 16u           /* nesting of records and arrays */
#define GOB_MESSAGE_MAX (64u << 20) /* body bytes one encoder may produce */

#define GOB_HEADER_MAGIC 0x67u
/* MAGIC + kind + 7 varints of at most 10 bytes. */
#define GOB_HEADER_MAX (2u + 7u * 10u)
/* Header sizes above this are malformed (far above what GOB_MESSAGE_MAX can produce). */
#define GOB_MODEL_BYTES_MAX (UINT64_C(1) << 48)

/* The model's name lengths (see above). Calibration, tools/bench_gob.c: struct names run from
 * "Op" (2) to "InstallSnapshotReply" (20); Raft's numeric, bool, slice and interface fields
 * have long names (Term 4 .. LastIncludedIndex 17), string fields short ones (Key, Value, Op,
 * Err, Data: 2..5); a kvraft Op is registered as "6.5840/kvraft.Op" (16). Go names a slice or
 * map type the first time the process meets it: by its Go string ("[]raft.LogEntry", 15) when
 * that is as a struct field, "" when at the top level (persist() before any AppendEntries
 * gives a state 16 bytes smaller). The model takes the named slice, the larger, so a limit
 * rejects what Go rejects in either history; top-level maps are always unnamed in the lab. */
#define GOB_MODEL_STRUCT_NAME_LEN 13u
#define GOB_MODEL_FIELD_NAME_LEN 7u
#define GOB_MODEL_FIELD_NAME_BYTES_LEN 3u
#define GOB_MODEL_SLICE_NAME_LEN 15u
#define GOB_MODEL_MAP_NAME_LEN 0u
#define GOB_MODEL_IFACE_NAME_LEN 16u
/* Distinct shapes whose descriptors one encoder remembers. */
#define GOB_SHAPES_MAX 32u

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
    X(GOB_EBADVALUE, -10, "value out of range for its type")                                       \
    X(GOB_EHEADER, -11,                                                                            \
      "not a labgob v2 message: missing or malformed header, or its length does not match")

enum gob_err {
#define GOB_ERR_ENUM(name, value, text) name = value,
    GOB_ERRNO_MAP(GOB_ERR_ENUM)
#undef GOB_ERR_ENUM
};

/* Returns a static, never-NULL description of a GOB_* code. */
const char *gob_strerror(int err);

/* Wire types. */
enum gob_type {
    GOB_UINT = 0,
    GOB_INT = 1,
    GOB_BOOL = 2,
    GOB_BYTES = 3,
    GOB_RECORD = 4,
    GOB_ARRAY = 5,
};

/* What a message is, for the model (the header's kind byte). */
enum gob_msg_kind {
    GOB_MSG_RECORD = 0,    /* a struct */
    GOB_MSG_BOX_UINT = 1,  /* one uint put: a boxed Go uint */
    GOB_MSG_BOX_INT = 2,   /* one int put */
    GOB_MSG_BOX_BOOL = 3,  /* one bool put */
    GOB_MSG_BOX_BYTES = 4, /* one bytes put: a boxed Go string */
    GOB_MSG_RUN = 5,       /* one array put: its elements can be spliced (gob_put_elem_run) */
};
#define GOB_MSG_KINDS_COUNT 6u

/* A parsed header (gob_header_parse). Sizes are in bytes of Go's gob under the model. */
struct gob_header {
    uint8_t kind;            /* enum gob_msg_kind */
    size_t header_len;       /* bytes of the header; the body follows */
    uint64_t body_len;       /* bytes of the body */
    uint64_t rpc_bytes;      /* one Go struct, new encoder */
    uint64_t stream_bytes;   /* top-level puts as Encode calls, new encoder */
    uint64_t iface_bytes;    /* as an interface value, descriptors not included */
    uint64_t record_bytes;   /* the top-level record's value */
    uint64_t value_bytes;    /* boxed kinds: the one value (the rest is derived from it) */
    uint64_t desc_bytes;     /* every descriptor, the top record's included */
    uint64_t run_count;      /* GOB_MSG_RUN: elements of the one array */
    uint64_t run_bytes;      /* GOB_MSG_RUN: their values */
    uint64_t run_desc_bytes; /* GOB_MSG_RUN: descriptors charged inside the array */
};

/* Parses and validates the header of the len bytes at buf (a whole message). GOB_OK, or
 * GOB_EHEADER for anything that is not a valid v2 message, including the empty input (which
 * is the valid empty message but has no header). */
int gob_header_parse(const uint8_t *buf, size_t len, struct gob_header *h);

/* ---------------------------------------------------------------- sizes */

/* The sizes labsim's byte limits compare. gob_size_rpc: what Go's labrpc would count for
 * this message as an RPC argument or reply (TestRPCBytes3B sums it over every call).
 * gob_size_stream: what Go's persister would hold if the message's top-level puts were a
 * sequence of Encode calls (RaftStateSize for MAXLOGSIZE and 8 x maxraftstate,
 * SnapshotSize for TestSnapshotSize4B). The empty input is 0; bytes that are not a valid
 * labgob message count as their raw length. O(1): only the header is read. */
size_t gob_size_rpc(const uint8_t *buf, size_t len);
size_t gob_size_stream(const uint8_t *buf, size_t len);

/* Bytes Go's gob spends on an unsigned integer (U above). */
size_t gob_model_uint_len(uint64_t v);

/* ---------------------------------------------------------------- encoder */

/* The model's state of one open record, array or map (private; see the model above). */
struct gob_model_frame {
    uint64_t value_bytes;   /* record: sent fields; array, map: elements */
    uint64_t count;         /* array, map: elements (a spliced run counts its elements) */
    uint64_t shape;         /* running key of this value's shape */
    uint64_t elem_shape;    /* array, map: shape of the first element (0: none yet) */
    uint64_t desc_at_begin; /* array: descriptor bytes charged when it opened */
    uint32_t puts;          /* record, pair: fields put, zero ones included */
    uint32_t sent_last;     /* record: ordinal of the last field gob would send */
    uint32_t bytes_fields;  /* record: string/bytes fields */
    uint32_t user_fields;   /* record: struct, slice and map fields */
    uint8_t role;           /* record, pair (a map entry), array, map */
    uint8_t elem_user;      /* array: elements are structs or slices; map: the key is */
    uint8_t value_user;     /* map: the value is a struct, slice or map */
};

struct gob_enc_frame {
    uint32_t field_last;  /* last field number written in this record */
    uint32_t field_asked; /* last field number put (zero values are not written) */
    uint8_t is_array;     /* 1: elements carry no key (arrays and maps) */
    uint8_t elem_type;    /* element wire type when is_array */
    uint64_t elems_left;  /* elements still to write when is_array */
    struct gob_model_frame model;
};

/* Where one element of a run ends (gob_enc_marks): its end offset in the body, and the
 * model's value bytes of the elements up to and including it. */
struct gob_mark {
    uint64_t body_end;
    uint64_t value_end;
};

/* The model's state of one message (private). gob_enc_reset clears each field by name but
 * leaves shapes[] past shapes_count as it was: a field added here is added there too. */
struct gob_model {
    uint64_t desc_bytes;   /* descriptors charged, the top record's excluded */
    uint64_t stream_bytes; /* SUM of the top-level puts' framed Encode payloads */
    uint8_t first_type;    /* model kind of the first top-level put */
    uint64_t first_bytes;  /* its value (zero values included) */
    uint64_t run_count;    /* the last top-level array: elements, values, descriptors */
    uint64_t run_bytes;
    uint64_t run_desc_bytes;
    uint32_t shapes_count;
    uint32_t shapes_overflow_count; /* shapes charged again because the table was full */
    uint64_t shapes[GOB_SHAPES_MAX];
};

/* A value captured as it was put (gob_enc_capture_begin / _end): its wire bytes and every
 * effect it had on the model, so gob_put_captured can put the same value again, in another
 * message, for the price of a copy (shardkv's snapshot re-puts the shards an op did not touch).
 * Caller-allocated (gob_capture_init / gob_capture_free); fields are private. */
struct gob_capture_charge {
    uint64_t shape;      /* a type the value's descriptors were charged under */
    uint64_t desc_bytes; /* what it costs when the message has not paid for it yet */
};

struct gob_capture {
    uint8_t *bytes; /* the value's wire bytes, its field key first when it was a field */
    size_t len;
    size_t cap;
    struct gob_capture_charge *charges; /* every charge, in order, paid or not */
    size_t charges_count;
    size_t charges_cap;
    size_t start;       /* body offset where the capture began */
    size_t key_len;     /* bytes of the field key at the front of bytes (0: an element) */
    uint32_t depth;     /* the frame the value was put in */
    uint8_t frame_role; /* that frame's model role: a value goes back into the same kind */
    uint8_t wire_type;  /* the value's wire type (its key's, or the array's element type) */
    uint8_t kind;       /* the completed put the model saw: kind, zero, value, shape */
    bool zero;
    bool done;
    uint64_t value_bytes;
    uint64_t shape;
    int err; /* GOB_OK, or why the capture cannot be put */
};

/* Caller-allocated. Fields are private; use the functions. */
struct gob_enc {
    uint8_t *buf; /* the header space (GOB_HEADER_MAX bytes), then the body */
    size_t len;   /* bytes used in buf, header space included (0 while buf is NULL) */
    size_t cap;
    int err;
    uint32_t depth;
    struct gob_enc_frame frames[GOB_DEPTH_MAX + 1];
    struct gob_model model;
    struct gob_mark *marks; /* borrowed (gob_enc_marks); NULL: none recorded */
    size_t marks_cap;
    size_t marks_count;
    struct gob_capture *capture; /* borrowed while a capture is open; NULL: none */
    /* The header of the message as last read (gob_enc_bytes, gob_enc_len), reused while
     * nothing it depends on changed: model_gen (bumped by every put and descriptor charge)
     * and len are what they were. Not logical state: the const readers update it. */
    uint64_t model_gen;
    uint64_t header_gen;
    size_t header_at_len;
    uint8_t header_n; /* 0: none cached */
    uint8_t header[GOB_HEADER_MAX];
};

void gob_enc_init(struct gob_enc *e);
/* Frees the buffer unless it was taken with gob_enc_take. */
void gob_enc_free(struct gob_enc *e);
/* Resets to empty (a new Go encoder for the model), keeping the allocation. */
void gob_enc_reset(struct gob_enc *e);
/* Returns GOB_OK or the first error; checks all records and arrays were closed. */
int gob_enc_finish(const struct gob_enc *e);
/* The message: header then body (valid until the next put, reset or free). The header is
 * written into space reserved in front of the body on each call; nothing else changes. An
 * encoder with nothing put gives the empty message (length 0). */
const uint8_t *gob_enc_bytes(const struct gob_enc *e);
size_t gob_enc_len(const struct gob_enc *e);
/* Hands the message to the caller (free() it; never NULL unless out of memory, then *len is
 * 0); the encoder is left empty. */
uint8_t *gob_enc_take(struct gob_enc *e, size_t *len);
/* The model's sizes of what was put so far (as the header will say; 0 when nothing was put). */
size_t gob_enc_size_rpc(const struct gob_enc *e);
size_t gob_enc_size_stream(const struct gob_enc *e);
size_t gob_enc_size_iface(const struct gob_enc *e);

/* Fields: `field` numbers start at 1 and must increase within a record (else GOB_EORDER). A
 * zero value is not written at all (as gob does), but the model still sees the field.
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

/* A Go map of `count` entries, as a record field. On the wire it is an array of records; put
 * each entry as gob_put_record_begin(e, 0), the key as field 1, the value as field 2 (any
 * kind, a record too), gob_put_record_end. The model charges Go's map encoding (no deltas or
 * end markers per entry, zero keys and values sent) and one map descriptor. Read it back with
 * gob_get_array_begin(d, field, GOB_RECORD). Close with gob_put_map_end. */
void gob_put_map_begin(struct gob_enc *e, uint32_t field, uint64_t count);
void gob_put_map_end(struct gob_enc *e);

/* An interface-typed value (a Raft log command): the `n` bytes at p are a whole labgob
 * message (an empty one is Go's nil), or any other bytes (modelled as a boxed Go string).
 * Written as bytes: read back with gob_get_iface, then decode the view as a message. */
void gob_put_iface(struct gob_enc *e, uint32_t field, const uint8_t *p, size_t n);
void gob_put_elem_iface(struct gob_enc *e, const uint8_t *p, size_t n);

/* Splicing pre-encoded messages, for speed (Raft's cached pieces of the persisted log). The
 * result, wire and model alike, is what putting the same values here directly would give
 * (unless the message also holds some of the same nested types unspliced: their descriptors
 * may then be charged twice, never fewer bytes than gob); decoders see ordinary records and
 * arrays. Misuse, or a `msg` that is not a valid message
 * of the right kind, is GOB_EMISUSE.
 * gob_put_msg: msg's top-level fields as the record `field` (a Go struct field).
 * gob_put_elem_msg: the same, as the next element of an array of records.
 * gob_put_elem_run: msg is a run (kind GOB_MSG_RUN: its only put is an array with the
 * current array's element type); its elements become the next elements of the current array
 * (which must have room for them all); an empty message adds nothing. */
void gob_put_msg(struct gob_enc *e, uint32_t field, const uint8_t *msg, size_t n);
void gob_put_elem_msg(struct gob_enc *e, const uint8_t *msg, size_t n);
void gob_put_elem_run(struct gob_enc *e, const uint8_t *msg, size_t n);
/* gob_put_elem_run for a caller that splices the same run many times: h is what
 * gob_header_parse returned for these msg and n (kept by the caller), so the header is not
 * parsed again. A header that does not span n bytes or is not a run is GOB_EMISUSE. */
void gob_put_elem_run_parsed(struct gob_enc *e, const uint8_t *msg, size_t n,
                             const struct gob_header *h);

/* Records a mark (struct gob_mark) for each element put directly in the next top-level array,
 * at most cap of them, into the caller's marks (borrowed until the next reset, which stops
 * the recording). With them a run can later be spliced in part (gob_put_elem_run_slice). */
void gob_enc_marks(struct gob_enc *e, struct gob_mark *marks, size_t cap);
/* Splices elements [from, to) of a run: msg and n as for gob_put_elem_run_parsed, marks the
 * h->run_count marks recorded when it was encoded. The wire holds exactly those elements and
 * the model adds their values; the run's descriptors are charged whole (a slice without some
 * nested type still pays for it: never fewer bytes than gob). When this encoder records marks
 * (gob_enc_marks, a run being built from slices), the slice's marks are carried over, so runs
 * can be concatenated without encoding their elements again. Bad arguments: GOB_EMISUSE. */
void gob_put_elem_run_slice(struct gob_enc *e, const uint8_t *msg, size_t n,
                            const struct gob_header *h, const struct gob_mark *marks, uint64_t from,
                            uint64_t to);

/* Capturing one value for gob_put_captured. Between _begin and _end put exactly one value in
 * the current frame (a field of a record, or an element of an array; a record or array with
 * all it holds). _end returns GOB_OK, GOB_ENOMEM, or GOB_EMISUSE when other than one value was
 * put, the frame changed, the value is a top-level array (a run's sizes come from its close,
 * which a re-put does not repeat) or the encoder failed. The encoder's own message is not
 * changed by capturing. */
void gob_capture_init(struct gob_capture *c);
void gob_capture_free(struct gob_capture *c);
void gob_enc_capture_begin(struct gob_enc *e, struct gob_capture *c);
int gob_enc_capture_end(struct gob_enc *e);
/* Puts a captured value again: as record field `field` (a value captured as a field), or, with
 * field 0, as the next element of the current array (a value captured as an element of the
 * same kind of frame). Wire and model are exactly what putting the same value directly would
 * give, descriptors included (each charge is replayed, so a type this message has already
 * paid for is not charged twice). Anything else is GOB_EMISUSE. */
void gob_put_captured(struct gob_enc *e, uint32_t field, const struct gob_capture *c);

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
    size_t pos; /* absolute offset into buf (the body starts after the header) */
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

/* The buffer is borrowed; it must outlive the decoder and every view taken from it. A
 * non-empty input must be a whole v2 message: otherwise every call fails with the sticky
 * GOB_EHEADER at offset 0. The empty input is the valid empty message. */
void gob_dec_init(struct gob_dec *d, const uint8_t *buf, size_t len);
/* GOB_OK when everything decoded cleanly and every record/array was closed. Unknown trailing
 * fields at the top level are skipped, as gob ignores fields the receiver does not have. */
int gob_dec_finish(struct gob_dec *d);
int gob_dec_err(const struct gob_dec *d);
/* Offset of the first error (for "at byte N" messages), counted from the start of the
 * message, header included. */
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
/* An interface value put with gob_put_iface: a view of the bytes that were put (a labgob
 * message to decode with its own gob_dec, or the raw bytes). Absent (nil): unchanged. */
void gob_get_iface(struct gob_dec *d, uint32_t field, const uint8_t **p, size_t *n);
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
void gob_get_elem_iface(struct gob_dec *d, const uint8_t **p, size_t *n);
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

/* Bytes a uint takes as a labgob varint (LEB128). */
size_t gob_uvarint_len(uint64_t v);

#endif /* LABGOB_H */
