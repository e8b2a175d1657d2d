/* labgob's gob model: the bookkeeping that turns every put into what Go's encoding/gob would
 * spend on it (labgob.h, "the gob model"): values per open frame, type descriptors once per
 * shape, and the top level both as one struct (rpc) and as a sequence of Encode calls
 * (stream). The encoder calls in here after each put and around each nested frame.
 *
 * Invariants:
 *   1. A frame's counters only grow while it is open; gob_model_open zeroes them.
 *   2. A shape is in e->model.shapes at most once; past GOB_SHAPES_MAX shapes a new one is
 *      charged every time it is seen, so the table can only make a message dearer, never
 *      cheaper than gob.
 *   3. model.desc_bytes is the sum of every charge since the last reset (the top record's
 *      descriptor excluded: it belongs to rpc only and is added by gob_model_header).
 * All sums saturate (gob_sat_add); with GOB_MESSAGE_MAX they stay far below 2^48.
 */
#include <string.h>

#include "gob_int.h"

/* Markers mixed into shape keys so a record, an array and a map of the same parts differ. */
#define SHAPE_TAG_RECORD 0x52u
#define SHAPE_TAG_ARRAY 0x41u
#define SHAPE_TAG_MAP 0x4du
#define SHAPE_TAG_ELEM 0x45u
#define SHAPE_TAG_NESTED 0x4eu

/* Go's names of the basic types a boxed message holds (labgob.h, "Interfaces"). */
#define NAME_LEN_UINT 4u   /* "uint" */
#define NAME_LEN_INT 3u    /* "int" */
#define NAME_LEN_BOOL 4u   /* "bool" */
#define NAME_LEN_STRING 6u /* "string" */

size_t gob_model_uint_len(uint64_t v)
{
    /* A comparison chain, not a loop: this runs for every put. */
    if (v < 0x80u) return 1;
    if (v <= 0xffu) return 2;
    if (v <= 0xffffu) return 3;
    if (v <= 0xffffffu) return 4;
    if (v <= 0xffffffffu) return 5;
    if (v <= UINT64_C(0xffffffffff)) return 6;
    if (v <= UINT64_C(0xffffffffffff)) return 7;
    if (v <= UINT64_C(0xffffffffffffff)) return 8;
    return 9;
}

uint64_t gob_model_framed(uint64_t payload)
{
    return gob_sat_add(gob_model_uint_len(payload), payload);
}

uint64_t gob_model_shape_mix(uint64_t h, uint64_t v)
{
    /* splitmix64's finaliser over (h, v): deterministic, and small inputs spread well. */
    uint64_t x = h * UINT64_C(0x9e3779b97f4a7c15) + v + 1u;
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x & GOB_SHAPE_MASK;
}

uint64_t gob_model_shape_step(uint64_t running, enum gob_kind kind, uint64_t shape)
{
    /* One multiply per put; the key is mixed properly when the record closes. */
    return (running ^ ((shape << 4) | (uint64_t)kind)) * UINT64_C(0x9e3779b97f4a7c15) + 1u;
}

uint64_t gob_model_record_shape(uint64_t running, uint32_t puts)
{
    return gob_model_shape_mix(gob_model_shape_mix(running, SHAPE_TAG_RECORD), puts);
}

uint64_t gob_model_nested_shape(uint64_t tag, uint64_t desc_bytes)
{
    return gob_model_shape_mix(gob_model_shape_mix(SHAPE_TAG_NESTED, tag), desc_bytes);
}

uint64_t gob_model_elem_shape(enum gob_kind kind, uint64_t shape)
{
    return gob_model_shape_mix(gob_model_shape_mix(SHAPE_TAG_ELEM, (uint64_t)kind), shape);
}

/* ------------------------------------------------------------ descriptors */

/* CommonType{Name, Id}: the name is left out when empty (gob omits zero fields). */
static uint64_t common_len(uint64_t name_len)
{
    uint64_t name = name_len > 0 ? 1 + gob_model_uint_len(name_len) + name_len : 0;
    return name + 1 + GOB_MODEL_USER_ID_LEN + 1;
}

/* A descriptor message: -id, the delta of wireType's one field set, the type, two ends. */
static uint64_t wire_desc(uint64_t inner)
{
    return gob_model_framed(GOB_MODEL_USER_ID_LEN + 1 + inner + 1);
}

static uint64_t field_desc(uint64_t name_len, uint64_t id_len)
{
    return 1 + gob_model_uint_len(name_len) + name_len + 1 + id_len + 1;
}

uint64_t gob_model_struct_desc(uint32_t fields, uint32_t bytes_fields, uint32_t user_fields)
{
    GOB_ASSERT(bytes_fields <= fields);
    GOB_ASSERT(user_fields <= fields - bytes_fields);
    uint64_t list = 0;
    if (fields > 0) {
        uint64_t others = (uint64_t)(fields - bytes_fields);
        list = 1 + gob_model_uint_len(fields) +
               others * field_desc(GOB_MODEL_FIELD_NAME_LEN, GOB_MODEL_BASIC_ID_LEN) +
               bytes_fields * field_desc(GOB_MODEL_FIELD_NAME_BYTES_LEN, GOB_MODEL_BASIC_ID_LEN) +
               (uint64_t)user_fields * (GOB_MODEL_USER_ID_LEN - GOB_MODEL_BASIC_ID_LEN);
    }
    return wire_desc(1 + common_len(GOB_MODEL_STRUCT_NAME_LEN) + list + 1);
}

static uint64_t id_len(bool user)
{
    return user ? GOB_MODEL_USER_ID_LEN : GOB_MODEL_BASIC_ID_LEN;
}

uint64_t gob_model_slice_desc(bool elem_user)
{
    return wire_desc(1 + common_len(GOB_MODEL_SLICE_NAME_LEN) + 1 + id_len(elem_user) + 1);
}

uint64_t gob_model_map_desc(bool key_user, bool value_user)
{
    return wire_desc(1 + common_len(GOB_MODEL_MAP_NAME_LEN) + 1 + id_len(key_user) + 1 +
                     id_len(value_user) + 1);
}

/* True when this message has not paid for `shape` yet, which it now must (it is remembered,
 * or counted as an overflow). Callers compute the descriptor only then. */
static bool shape_unpaid(struct gob_enc *e, uint64_t shape)
{
    struct gob_model *m = &e->model;
    GOB_ASSERT(m->shapes_count <= GOB_SHAPES_MAX);
    for (uint32_t i = 0; i < m->shapes_count; i++) {
        if (m->shapes[i] == shape) return false; /* gob sent this type already */
    }
    if (m->shapes_count < GOB_SHAPES_MAX)
        m->shapes[m->shapes_count++] = shape;
    else if (m->shapes_overflow_count < UINT32_MAX)
        m->shapes_overflow_count++; /* not remembered: charged again when next seen (invariant 2) */
    return true;
}

void gob_model_charge(struct gob_enc *e, uint64_t shape, uint64_t desc_bytes)
{
    e->model_gen++;
    if (e->capture != NULL) gob_capture_log_charge(e->capture, shape, desc_bytes);
    if (shape_unpaid(e, shape)) e->model.desc_bytes = gob_sat_add(e->model.desc_bytes, desc_bytes);
}

/* ------------------------------------------------------------ puts */

void gob_model_open(struct gob_enc *e, enum gob_role role)
{
    struct gob_model_frame *m = &e->frames[e->depth].model;
    memset(m, 0, sizeof(*m));
    m->role = (uint8_t)role;
    m->desc_at_begin = e->model.desc_bytes;
}

/* A top-level put is also one Encode call of the stream model: its own framed message of
 * type id, gob's singleton delta (not for structs) and the value. */
static void put_top(struct gob_enc *e, enum gob_kind kind, uint64_t value_bytes, uint32_t puts)
{
    struct gob_model *m = &e->model;
    uint64_t payload = id_len(gob_kind_user(kind)) + (kind == GOB_KIND_RECORD ? 0u : 1u);
    m->stream_bytes = gob_sat_add(m->stream_bytes, gob_model_framed(payload + value_bytes));
    if (puts == 1) {
        m->first_type = (uint8_t)kind;
        m->first_bytes = value_bytes;
    }
}

static void put_field(struct gob_enc *e, uint32_t depth, enum gob_kind kind, bool zero,
                      uint64_t value_bytes, uint64_t shape)
{
    struct gob_model_frame *m = &e->frames[depth].model;
    GOB_ASSERT(m->puts < UINT32_MAX); /* field numbers are 32 bits and increase */
    m->puts++;
    if (kind == GOB_KIND_BYTES) m->bytes_fields++;
    if (gob_kind_user(kind)) m->user_fields++;
    m->shape = gob_model_shape_step(m->shape, kind, shape);
    if (!zero) {
        uint64_t delta = gob_model_uint_len(m->puts - m->sent_last);
        m->value_bytes = gob_sat_add(m->value_bytes, gob_sat_add(delta, value_bytes));
        m->sent_last = m->puts;
    }
    if (depth == 0) put_top(e, kind, value_bytes, m->puts);
}

/* Go's map entries send key and value with no delta and no end marker, zero ones too. */
static void put_pair_part(struct gob_model_frame *m, enum gob_kind kind, uint64_t value_bytes,
                          uint64_t shape)
{
    if (m->puts < UINT32_MAX) m->puts++;
    if (m->puts == 1) m->elem_user = gob_kind_user(kind) ? 1u : 0u;
    if (m->puts == 2) m->value_user = gob_kind_user(kind) ? 1u : 0u;
    m->value_bytes = gob_sat_add(m->value_bytes, value_bytes);
    m->shape = gob_model_shape_step(m->shape, kind, shape);
}

static void put_elem(struct gob_enc *e, uint32_t depth, enum gob_kind kind, uint64_t value_bytes,
                     uint64_t shape)
{
    struct gob_model_frame *m = &e->frames[depth].model;
    if (m->count == 0) m->elem_shape = gob_model_elem_shape(kind, shape);
    m->count = gob_sat_add(m->count, 1);
    m->value_bytes = gob_sat_add(m->value_bytes, value_bytes);
    /* An element of the top-level array is complete here: its bytes are all written. */
    if (depth == 1 && e->marks != NULL && e->marks_count < e->marks_cap) {
        GOB_ASSERT(e->len >= GOB_HEADER_MAX);
        e->marks[e->marks_count].body_end = e->len - GOB_HEADER_MAX;
        e->marks[e->marks_count].value_end = m->value_bytes;
        e->marks_count++;
    }
}

/* The completed put goes to the frame at `depth` (the current one, or the parent of a frame
 * being closed). */
static void put_at(struct gob_enc *e, uint32_t depth, enum gob_kind kind, bool zero,
                   uint64_t value_bytes, uint64_t shape)
{
    GOB_ASSERT(depth <= e->depth);
    struct gob_model_frame *m = &e->frames[depth].model;
    e->model_gen++; /* the header may change (see gob_enc_bytes) */
    if (e->capture != NULL && depth == e->capture->depth)
        gob_capture_log_put(e->capture, kind, zero, value_bytes, shape);
    switch ((enum gob_role)m->role) {
    case GOB_ROLE_RECORD:
        put_field(e, depth, kind, zero, value_bytes, shape);
        break;
    case GOB_ROLE_PAIR:
        put_pair_part(m, kind, value_bytes, shape);
        break;
    case GOB_ROLE_ARRAY:
        put_elem(e, depth, kind, value_bytes, shape);
        break;
    case GOB_ROLE_MAP:
        GOB_ASSERT(false); /* a map's elements are pairs, reported by gob_model_close */
        break;
    }
}

void gob_model_put(struct gob_enc *e, enum gob_kind kind, bool zero, uint64_t value_bytes,
                   uint64_t shape)
{
    GOB_ASSERT(e->err == GOB_OK);
    put_at(e, e->depth, kind, zero, value_bytes, shape);
}

void gob_model_splice_run(struct gob_enc *e, const struct gob_header *h, uint64_t count,
                          uint64_t value_bytes)
{
    struct gob_model_frame *m = &e->frames[e->depth].model;
    GOB_ASSERT(m->role == GOB_ROLE_ARRAY);
    GOB_ASSERT(h->kind == GOB_MSG_RUN && count > 0 && count <= h->run_count);
    GOB_ASSERT(value_bytes <= h->run_bytes);
    uint64_t shape = gob_model_nested_shape(GOB_NESTED_RUN, h->run_desc_bytes);
    if (m->count == 0) m->elem_shape = shape;
    m->count = gob_sat_add(m->count, count);
    m->value_bytes = gob_sat_add(m->value_bytes, value_bytes);
    if (h->run_desc_bytes > 0) gob_model_charge(e, shape, h->run_desc_bytes);
}

/* ------------------------------------------------------------ closing frames */

/* Raft's LogEntry{Term int; Command interface{}}: what an empty array of records holds. */
static uint64_t default_record_shape(struct gob_enc *e)
{
    uint64_t running = 0;
    running = gob_model_shape_step(running, GOB_KIND_INT, GOB_KIND_INT);
    running = gob_model_shape_step(running, GOB_KIND_IFACE, GOB_KIND_IFACE);
    uint64_t shape = gob_model_record_shape(running, 2);
    gob_model_charge(e, shape, gob_model_struct_desc(2, 0, 0));
    return gob_model_elem_shape(GOB_KIND_RECORD, shape);
}

/* The element shape of an array closed without elements (labgob.h: the model's defaults). */
static uint64_t default_elem_shape(struct gob_enc *e, enum gob_type elem_type)
{
    if (elem_type == GOB_RECORD) return default_record_shape(e);
    if (elem_type != GOB_ARRAY) {
        enum gob_kind kind = (enum gob_kind)elem_type;
        return gob_model_elem_shape(kind, (uint64_t)kind);
    }
    uint64_t ints = gob_model_elem_shape(GOB_KIND_INT, GOB_KIND_INT);
    uint64_t slice = gob_model_shape_mix(SHAPE_TAG_ARRAY, ints);
    gob_model_charge(e, slice, gob_model_slice_desc(false));
    return gob_model_elem_shape(GOB_KIND_ARRAY, slice);
}

struct closed {
    enum gob_kind kind;
    bool zero;
    uint64_t value_bytes;
    uint64_t shape;
};

static void close_record(struct gob_enc *e, const struct gob_model_frame *m, struct closed *c)
{
    c->kind = GOB_KIND_RECORD;
    c->zero = false; /* gob always sends a nested struct */
    c->value_bytes = gob_sat_add(m->value_bytes, 1);
    c->shape = gob_model_record_shape(m->shape, m->puts);
    if (e->capture != NULL) { /* a capture logs the charge even when already paid */
        gob_model_charge(e, c->shape,
                         gob_model_struct_desc(m->puts, m->bytes_fields, m->user_fields));
    } else if (shape_unpaid(e, c->shape)) {
        uint64_t desc = gob_model_struct_desc(m->puts, m->bytes_fields, m->user_fields);
        e->model.desc_bytes = gob_sat_add(e->model.desc_bytes, desc);
        e->model_gen++;
    }
}

static void close_array(struct gob_enc *e, const struct gob_enc_frame *f, struct closed *c)
{
    const struct gob_model_frame *m = &f->model;
    uint64_t elem_shape = m->count > 0 ? m->elem_shape : default_elem_shape(e, f->elem_type);
    /* Descriptors charged inside the array (its elements' types): a run's share. */
    uint64_t inside = e->model.desc_bytes - m->desc_at_begin;
    c->kind = GOB_KIND_ARRAY;
    c->zero = m->count == 0;
    c->value_bytes = gob_sat_add(gob_model_uint_len(m->count), m->value_bytes);
    c->shape = gob_model_shape_mix(SHAPE_TAG_ARRAY, elem_shape);
    bool elem_user = f->elem_type == GOB_RECORD || f->elem_type == GOB_ARRAY;
    gob_model_charge(e, c->shape, gob_model_slice_desc(elem_user));
    if (e->depth == 1 && e->capture != NULL) e->capture->err = GOB_EMISUSE; /* see _end */
    if (e->depth == 1) { /* a top-level array: what a run of it would splice */
        e->model.run_count = m->count;
        e->model.run_bytes = m->value_bytes;
        e->model.run_desc_bytes = inside;
    }
}

static void close_map(struct gob_enc *e, const struct gob_model_frame *m, struct closed *c)
{
    uint64_t elem_shape = m->count > 0 ? m->elem_shape : 0;
    bool key_user = m->count > 0 && m->elem_user != 0;
    bool value_user = m->count > 0 && m->value_user != 0;
    c->kind = GOB_KIND_MAP;
    c->zero = m->count == 0;
    c->value_bytes = gob_sat_add(gob_model_uint_len(m->count), m->value_bytes);
    c->shape = gob_model_shape_mix(SHAPE_TAG_MAP, elem_shape);
    gob_model_charge(e, c->shape, gob_model_map_desc(key_user, value_user));
}

/* A finished map entry goes to its map frame: count, values, and (first entry) the key and
 * value kinds the map's descriptor needs. */
static void entry_to_map(struct gob_model_frame *map, const struct gob_model_frame *pair)
{
    GOB_ASSERT(map->role == GOB_ROLE_MAP);
    if (map->count == 0) {
        map->elem_shape = gob_model_record_shape(pair->shape, pair->puts);
        map->elem_user = pair->elem_user;
        map->value_user = pair->value_user;
    }
    map->count = gob_sat_add(map->count, 1);
    map->value_bytes = gob_sat_add(map->value_bytes, pair->value_bytes);
}

bool gob_model_close(struct gob_enc *e)
{
    GOB_ASSERT(e->depth > 0);
    const struct gob_enc_frame *f = &e->frames[e->depth];
    struct gob_model_frame *parent = &e->frames[e->depth - 1].model;
    struct closed c = {0};
    switch ((enum gob_role)f->model.role) {
    case GOB_ROLE_PAIR:
        if (f->model.puts != 2) return false; /* an entry is a key and a value */
        entry_to_map(parent, &f->model);
        return true;
    case GOB_ROLE_RECORD:
        close_record(e, &f->model, &c);
        break;
    case GOB_ROLE_ARRAY:
        close_array(e, f, &c);
        break;
    case GOB_ROLE_MAP:
        close_map(e, &f->model, &c);
        break;
    }
    put_at(e, e->depth - 1, c.kind, c.zero, c.value_bytes, c.shape);
    return true;
}

/* ------------------------------------------------------------ whole messages */

static uint64_t boxed_bytes(uint64_t name_len, uint64_t value_bytes)
{
    /* name, basic type id, then the value framed with gob's singleton delta */
    return gob_model_uint_len(name_len) + name_len + GOB_MODEL_BASIC_ID_LEN +
           gob_model_framed(gob_sat_add(1, value_bytes));
}

uint64_t gob_model_box_iface_bytes(uint8_t kind, uint64_t value_bytes)
{
    static const uint8_t names[] = {NAME_LEN_UINT, NAME_LEN_INT, NAME_LEN_BOOL, NAME_LEN_STRING};
    GOB_ASSERT(kind >= GOB_MSG_BOX_UINT && kind <= GOB_MSG_BOX_BYTES);
    return boxed_bytes(names[kind - GOB_MSG_BOX_UINT], value_bytes);
}

uint64_t gob_model_iface_bytes(const struct gob_header *h, size_t n)
{
    if (h != NULL) return h->iface_bytes;
    if (n == 0) return gob_model_uint_len(0); /* nil: an empty name */
    return boxed_bytes(NAME_LEN_STRING, gob_sat_add(gob_model_uint_len(n), n));
}

uint64_t gob_model_struct_iface_bytes(uint64_t record_bytes)
{
    /* registered name, user type id, framed record */
    return gob_model_uint_len(GOB_MODEL_IFACE_NAME_LEN) + GOB_MODEL_IFACE_NAME_LEN +
           GOB_MODEL_USER_ID_LEN + gob_model_framed(record_bytes);
}

static uint8_t header_kind(const struct gob_enc *e)
{
    if (e->frames[0].model.puts != 1) return GOB_MSG_RECORD;
    if (e->model.first_type <= GOB_KIND_BYTES)
        return (uint8_t)(GOB_MSG_BOX_UINT + e->model.first_type);
    return e->model.first_type == GOB_KIND_ARRAY ? GOB_MSG_RUN : GOB_MSG_RECORD;
}

void gob_model_box(uint8_t kind, uint64_t body_len, uint64_t value_bytes, struct gob_header *h)
{
    GOB_ASSERT(kind >= GOB_MSG_BOX_UINT && kind <= GOB_MSG_BOX_BYTES);
    enum gob_kind put = (enum gob_kind)(kind - GOB_MSG_BOX_UINT);
    bool zero = body_len == 0; /* a zero value writes no key, so no body */
    h->kind = kind;
    h->body_len = body_len;
    h->value_bytes = value_bytes;
    /* One field at ordinal 1: delta 1 (one byte) + value when sent, then the end. */
    h->record_bytes = zero ? 1 : gob_sat_add(2, value_bytes);
    h->desc_bytes = gob_model_struct_desc(1, put == GOB_KIND_BYTES ? 1 : 0, 0);
    h->rpc_bytes = gob_sat_add(gob_model_framed(gob_sat_add(2, h->record_bytes)), h->desc_bytes);
    /* One Encode of a basic value: basic id, singleton delta, value; no descriptor. */
    h->stream_bytes = gob_model_framed(gob_sat_add(2, value_bytes));
    h->iface_bytes = gob_model_box_iface_bytes(kind, value_bytes);
}

void gob_model_header(const struct gob_enc *e, struct gob_header *h)
{
    const struct gob_model_frame *top = &e->frames[0].model;
    const struct gob_model *m = &e->model;
    memset(h, 0, sizeof(*h));
    uint8_t kind = header_kind(e);
    uint64_t body_len = e->len > 0 ? e->len - GOB_HEADER_MAX : 0;
    if (kind >= GOB_MSG_BOX_UINT && kind <= GOB_MSG_BOX_BYTES) {
        gob_model_box(kind, body_len, m->first_bytes, h);
        return;
    }
    h->kind = kind;
    h->body_len = body_len;
    h->record_bytes = gob_sat_add(top->value_bytes, 1);
    uint64_t desc_top = gob_model_struct_desc(top->puts, top->bytes_fields, top->user_fields);
    h->desc_bytes = gob_sat_add(desc_top, m->desc_bytes);
    h->rpc_bytes = gob_sat_add(gob_model_framed(gob_sat_add(2, h->record_bytes)), h->desc_bytes);
    h->stream_bytes = gob_sat_add(m->stream_bytes, m->desc_bytes);
    h->iface_bytes = gob_model_struct_iface_bytes(h->record_bytes);
    if (kind == GOB_MSG_RUN) {
        h->run_count = m->run_count;
        h->run_bytes = m->run_bytes;
        h->run_desc_bytes = m->run_desc_bytes;
    }
}
