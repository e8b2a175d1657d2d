/* labgob encoder, nested values: records, arrays and maps (frames pushed on the encoder's
 * stack), interface values (a whole message carried as bytes), and splices of pre-encoded
 * messages (gob_put_msg, gob_put_elem_msg, gob_put_elem_run).
 *
 * A splice writes exactly the bytes the same puts would have written here: a message body is
 * a record body without its end key, and a run's body is one array header followed by its
 * elements. The model side adds what the message's header says it cost, so a splice and the
 * direct puts give the same wire and the same sizes (the descriptors a spliced message
 * carries are charged as one unit, keyed by their total: labgob.h, "Type descriptors").
 */
#include <string.h>

#include "gob_int.h"

void gob_put_record_begin(struct gob_enc *e, uint32_t field)
{
    if (e->err != GOB_OK) return;
    const struct gob_enc_frame *f = &e->frames[e->depth];
    enum gob_role role = GOB_ROLE_RECORD;
    if (f->is_array) {
        if (field != 0) {
            gob_enc_fail(e, GOB_EMISUSE); /* an element has no field number */
            return;
        }
        if (!gob_enc_elem(e, GOB_RECORD)) return;
        if (f->model.role == GOB_ROLE_MAP) role = GOB_ROLE_PAIR; /* one entry of a map */
    } else if (gob_enc_field_key(e, field, GOB_RECORD, false) != GOB_SLOT_WRITE) {
        return; /* records are always written, even empty, as gob does */
    }
    gob_enc_push(e, role, GOB_RECORD, 0);
}

void gob_put_record_end(struct gob_enc *e)
{
    if (e->err != GOB_OK) return;
    if (e->depth == 0 || e->frames[e->depth].is_array) {
        gob_enc_fail(e, GOB_EMISUSE);
        return;
    }
    gob_enc_put_uvarint(e, 0); /* key 0 ends a nested record */
    if (e->err != GOB_OK) return;
    if (!gob_model_close(e)) {
        gob_enc_fail(e, GOB_EMISUSE); /* a map entry must be a key and a value */
        return;
    }
    e->depth--;
}

static void array_begin(struct gob_enc *e, uint32_t field, enum gob_type elem_type, uint64_t count,
                        enum gob_role role)
{
    if (e->err != GOB_OK) return;
    if (!gob_type_valid((uint64_t)elem_type)) {
        gob_enc_fail(e, GOB_EMISUSE);
        return;
    }
    if (count > GOB_MESSAGE_MAX) {
        gob_enc_fail(e, GOB_ENOMEM); /* every element takes at least one byte */
        return;
    }
    enum gob_slot slot = GOB_SLOT_FAIL;
    if (e->frames[e->depth].is_array) {
        if (field != 0 || role == GOB_ROLE_MAP) {
            gob_enc_fail(e, GOB_EMISUSE); /* elements have no field; maps are fields */
            return;
        }
        /* An element array is written even when empty. */
        slot = gob_enc_elem(e, GOB_ARRAY) ? GOB_SLOT_WRITE : GOB_SLOT_FAIL;
    } else {
        slot = gob_enc_field_key(e, field, GOB_ARRAY, count == 0);
    }
    if (slot == GOB_SLOT_FAIL) return;
    if (slot == GOB_SLOT_WRITE) {
        gob_enc_put_uvarint(e, (uint64_t)elem_type);
        gob_enc_put_uvarint(e, count);
    }
    if (e->err == GOB_OK) gob_enc_push(e, role, elem_type, count);
}

static void array_end(struct gob_enc *e, enum gob_role role)
{
    if (e->err != GOB_OK) return;
    const struct gob_enc_frame *f = &e->frames[e->depth];
    if (e->depth == 0 || !f->is_array || f->model.role != (uint8_t)role || f->elems_left != 0) {
        gob_enc_fail(e, GOB_EMISUSE); /* fewer elements than announced would corrupt the stream */
        return;
    }
    bool closed = gob_model_close(e);
    GOB_ASSERT(closed); /* only map entries can be malformed */
    e->depth--;
}

void gob_put_array_begin(struct gob_enc *e, uint32_t field, enum gob_type elem_type, uint64_t count)
{
    array_begin(e, field, elem_type, count, GOB_ROLE_ARRAY);
}

void gob_put_array_end(struct gob_enc *e)
{
    array_end(e, GOB_ROLE_ARRAY);
}

void gob_put_map_begin(struct gob_enc *e, uint32_t field, uint64_t count)
{
    array_begin(e, field, GOB_RECORD, count, GOB_ROLE_MAP);
}

void gob_put_map_end(struct gob_enc *e)
{
    array_end(e, GOB_ROLE_MAP);
}

/* ------------------------------------------------------------ interfaces */

/* The model's cost of an interface holding the n bytes at p; a struct message's descriptors
 * are charged once per encoder, as gob sends its concrete type once. */
static void put_iface_model(struct gob_enc *e, const uint8_t *p, size_t n)
{
    struct gob_header h;
    uint64_t value_bytes = 0;
    uint8_t box_kind = 0;
    if (n == 0) {
        value_bytes = gob_model_iface_bytes(NULL, 0); /* nil */
    } else if (gob_box_parse(p, n, &box_kind, &value_bytes)) {
        value_bytes = gob_model_box_iface_bytes(box_kind, value_bytes); /* no descriptor */
    } else if (gob_header_parse(p, n, &h) != GOB_OK) {
        value_bytes = gob_model_iface_bytes(NULL, n); /* raw bytes: a boxed string */
    } else {
        value_bytes = gob_model_iface_bytes(&h, n);
        if (h.kind == GOB_MSG_RECORD || h.kind == GOB_MSG_RUN)
            gob_model_charge(e, gob_model_nested_shape(GOB_NESTED_IFACE, h.desc_bytes),
                             h.desc_bytes);
    }
    gob_enc_model_put(e, GOB_KIND_IFACE, n == 0, value_bytes, GOB_KIND_IFACE);
}

void gob_put_iface(struct gob_enc *e, uint32_t field, const uint8_t *p, size_t n)
{
    if (gob_enc_bytes_field(e, field, p, n) != GOB_SLOT_FAIL) put_iface_model(e, p, n);
}

void gob_put_elem_iface(struct gob_enc *e, const uint8_t *p, size_t n)
{
    if (gob_enc_bytes_elem(e, p, n)) put_iface_model(e, p, n);
}

/* ------------------------------------------------------------ splices */

/* The header of a message to splice: an empty message is an empty record. */
static bool splice_header(struct gob_enc *e, const uint8_t *msg, size_t n, struct gob_header *h)
{
    if (!gob_enc_bytes_ok(e, msg, n)) return false;
    if (n > 0 && gob_header_parse(msg, n, h) == GOB_OK) return true;
    if (n > 0) {
        gob_enc_fail(e, GOB_EMISUSE); /* not a labgob message */
        return false;
    }
    memset(h, 0, sizeof(*h));
    h->record_bytes = 1;
    h->desc_bytes = gob_model_struct_desc(0, 0, 0);
    return true;
}

/* The body as a nested record (its end key added), then the model. */
static void splice_record(struct gob_enc *e, const uint8_t *msg, const struct gob_header *h)
{
    if (h->body_len > 0) gob_enc_put_raw(e, msg + h->header_len, (size_t)h->body_len);
    gob_enc_put_uvarint(e, 0);
    if (e->err != GOB_OK) return;
    uint64_t shape = gob_model_nested_shape(GOB_NESTED_MSG, h->desc_bytes);
    gob_model_charge(e, shape, h->desc_bytes);
    gob_enc_model_put(e, GOB_KIND_RECORD, false, h->record_bytes, shape);
}

void gob_put_msg(struct gob_enc *e, uint32_t field, const uint8_t *msg, size_t n)
{
    struct gob_header h;
    if (!splice_header(e, msg, n, &h)) return;
    if (gob_enc_field_key(e, field, GOB_RECORD, false) != GOB_SLOT_WRITE) return;
    splice_record(e, msg, &h);
}

void gob_put_elem_msg(struct gob_enc *e, const uint8_t *msg, size_t n)
{
    struct gob_header h;
    if (!splice_header(e, msg, n, &h)) return;
    if (e->frames[e->depth].model.role != GOB_ROLE_ARRAY) {
        gob_enc_fail(e, GOB_EMISUSE); /* a map entry is a key and a value, not a message */
        return;
    }
    if (!gob_enc_elem(e, GOB_RECORD)) return;
    splice_record(e, msg, &h);
}

/* The offset of a run's first element in its body: past the array's key, element type and
 * count, which must match the header and the array it goes into. 0 when they do not. */
static size_t run_elems_at(const uint8_t *body, size_t len, const struct gob_header *h,
                           uint8_t elem_type)
{
    size_t at = 0;
    uint64_t key = 0;
    uint64_t type = 0;
    uint64_t count = 0;
    if (gob_uvarint_get(body, len, &at, &key) != GOB_OK) return 0;
    if ((key & GOB_TYPE_MASK) != GOB_ARRAY || (key >> GOB_TYPE_BITS) == 0) return 0;
    if (gob_uvarint_get(body, len, &at, &type) != GOB_OK || type != elem_type) return 0;
    if (gob_uvarint_get(body, len, &at, &count) != GOB_OK || count != h->run_count) return 0;
    return at < len ? at : 0; /* a run of count >= 1 has element bytes */
}

/* Checks that the current frame is an array the run h (of msg, n bytes) can go into, and
 * returns where its elements start in its body (0: misuse, then failed). */
static size_t run_check(struct gob_enc *e, const uint8_t *msg, size_t n, const struct gob_header *h)
{
    if (!gob_enc_bytes_ok(e, msg, n)) return 0;
    const struct gob_enc_frame *f = &e->frames[e->depth];
    size_t at = 0;
    if (f->is_array && f->model.role == GOB_ROLE_ARRAY && h->kind == GOB_MSG_RUN &&
        h->header_len + h->body_len == n && h->run_count > 0)
        at = run_elems_at(msg + h->header_len, (size_t)h->body_len, h, f->elem_type);
    if (at == 0) gob_enc_fail(e, GOB_EMISUSE);
    return at;
}

/* The marks of spliced elements, when this encoder records marks for its top-level array:
 * src[0..count) are the source's marks of those elements, from body offset `from` and value
 * `value_from` on. Without source marks the recording stops (a mark would be unknown). */
static void marks_carry(struct gob_enc *e, const struct gob_mark *src, uint64_t count,
                        uint64_t from, uint64_t value_from, uint64_t body_at, uint64_t value_at)
{
    if (e->marks == NULL || e->depth != 1) return;
    if (src == NULL || count > e->marks_cap - e->marks_count) {
        e->marks = NULL;
        return;
    }
    for (uint64_t i = 0; i < count; i++) { /* bounded by the elements spliced */
        struct gob_mark *m = &e->marks[e->marks_count++];
        m->body_end = body_at + (src[i].body_end - from);
        m->value_end = value_at + (src[i].value_end - value_from);
    }
}

/* Copies body bytes [from, to) of the run as `count` elements worth value_bytes; src_marks
 * (or NULL) are theirs, value_from the source's value before the first of them. */
static void run_splice(struct gob_enc *e, const uint8_t *msg, const struct gob_header *h,
                       uint64_t from, uint64_t to, uint64_t count, uint64_t value_bytes,
                       const struct gob_mark *src_marks, uint64_t value_from)
{
    struct gob_enc_frame *f = &e->frames[e->depth];
    if (count > f->elems_left) {
        gob_enc_fail(e, GOB_EMISUSE);
        return;
    }
    uint64_t body_at = gob_enc_body_len(e);
    uint64_t value_at = f->model.value_bytes;
    gob_enc_put_raw(e, msg + h->header_len + from, (size_t)(to - from));
    if (e->err != GOB_OK) return;
    f->elems_left -= count;
    gob_model_splice_run(e, h, count, value_bytes);
    marks_carry(e, src_marks, count, from, value_from, body_at, value_at);
}

void gob_put_elem_run_parsed(struct gob_enc *e, const uint8_t *msg, size_t n,
                             const struct gob_header *h)
{
    if (e->err == GOB_OK && h->kind == GOB_MSG_RUN && h->run_count == 0 &&
        h->header_len + h->body_len == n)
        return; /* an empty array: nothing on the wire, nothing to add */
    size_t at = run_check(e, msg, n, h);
    if (at > 0) run_splice(e, msg, h, at, h->body_len, h->run_count, h->run_bytes, NULL, 0);
}

void gob_put_elem_run_slice(struct gob_enc *e, const uint8_t *msg, size_t n,
                            const struct gob_header *h, const struct gob_mark *marks, uint64_t from,
                            uint64_t to)
{
    size_t at = run_check(e, msg, n, h);
    if (at == 0) return;
    if (marks == NULL || from >= to || to > h->run_count) {
        gob_enc_fail(e, GOB_EMISUSE);
        return;
    }
    uint64_t lo = from > 0 ? marks[from - 1].body_end : at;
    uint64_t hi = marks[to - 1].body_end;
    uint64_t value_lo = from > 0 ? marks[from - 1].value_end : 0;
    uint64_t value_hi = marks[to - 1].value_end;
    if (lo < at || lo >= hi || hi > h->body_len || value_lo >= value_hi ||
        value_hi > h->run_bytes || marks[h->run_count - 1].body_end != h->body_len) {
        gob_enc_fail(e, GOB_EMISUSE); /* marks that do not belong to this run */
        return;
    }
    run_splice(e, msg, h, lo, hi, to - from, value_hi - value_lo, marks + from, value_lo);
}

void gob_put_elem_run(struct gob_enc *e, const uint8_t *msg, size_t n)
{
    struct gob_header h;
    if (!gob_enc_bytes_ok(e, msg, n) || n == 0) return; /* the empty message adds nothing */
    if (gob_header_parse(msg, n, &h) != GOB_OK) {
        gob_enc_fail(e, GOB_EMISUSE);
        return;
    }
    gob_put_elem_run_parsed(e, msg, n, &h);
}
