/* labgob encoder, captures: one value's wire bytes and model effects, recorded as it is put,
 * so the same value can be put again in a later message for the price of a copy
 * (gob_put_captured). shardkv re-encodes its whole state at every snapshot; with captures only
 * the shards that changed are encoded again.
 *
 * Why a re-put is exact: a value's bytes do not depend on where it goes (an element has no
 * key; a field's key is written afresh for its new place), and its model effects are (1) the
 * descriptor charges made while it was put, in order, each of which the target message pays or
 * not depending only on the shapes it has seen (gob_model_charge decides again), and (2) one
 * completed put (kind, zero, value bytes, shape) into the frame it went into. Frames opened
 * inside the value start from zero, so nothing else reaches outside it. The one exception, a
 * top-level array (whose close also sets the message's run sizes), is refused.
 *
 * Invariants: while e->capture is set, c->depth <= e->depth; c->done is set by exactly one put
 * into frame c->depth; c->err sticks.
 */
#include <string.h>

#include "gob_int.h"

void gob_capture_init(struct gob_capture *c)
{
    memset(c, 0, sizeof(*c));
    c->err = GOB_EMISUSE; /* nothing captured yet */
}

void gob_capture_free(struct gob_capture *c)
{
    free(c->bytes);
    free(c->charges);
    gob_capture_init(c);
}

void gob_capture_log_charge(struct gob_capture *c, uint64_t shape, uint64_t desc_bytes)
{
    if (c->err != GOB_OK) return;
    if (c->charges_count == c->charges_cap) {
        size_t cap = c->charges_cap < 8 ? 8 : 2 * c->charges_cap;
        struct gob_capture_charge *grown = realloc(c->charges, cap * sizeof(*grown));
        if (grown == NULL) {
            c->err = GOB_ENOMEM;
            return;
        }
        c->charges = grown;
        c->charges_cap = cap;
    }
    c->charges[c->charges_count++] = (struct gob_capture_charge){shape, desc_bytes};
}

void gob_capture_log_put(struct gob_capture *c, enum gob_kind kind, bool zero, uint64_t value_bytes,
                         uint64_t shape)
{
    if (c->done) c->err = GOB_EMISUSE; /* a capture holds exactly one value */
    c->done = true;
    c->kind = (uint8_t)kind;
    c->zero = zero;
    c->value_bytes = value_bytes;
    c->shape = shape;
}

void gob_enc_capture_begin(struct gob_enc *e, struct gob_capture *c)
{
    GOB_ASSERT(c != NULL);
    c->len = 0;
    c->charges_count = 0;
    c->key_len = 0;
    c->done = false;
    c->start = gob_enc_body_len(e);
    c->depth = e->depth;
    c->frame_role = e->frames[e->depth].model.role;
    c->wire_type = e->frames[e->depth].elem_type;
    c->err = e->err != GOB_OK || e->capture != NULL ? GOB_EMISUSE : GOB_OK;
    if (e->capture == NULL) e->capture = c;
}

/* Copies the body bytes put since the capture began. */
static int capture_copy(const struct gob_enc *e, struct gob_capture *c)
{
    size_t end = gob_enc_body_len(e);
    GOB_ASSERT(end >= c->start);
    size_t n = end - c->start;
    if (n > c->cap) {
        uint8_t *grown = realloc(c->bytes, n);
        if (grown == NULL) return GOB_ENOMEM;
        c->bytes = grown;
        c->cap = n;
    }
    if (n > 0) memcpy(c->bytes, e->buf + GOB_HEADER_MAX + c->start, n);
    c->len = n;
    return GOB_OK;
}

/* A field's bytes start with its key: note its length and the value's wire type. */
static int capture_key(struct gob_capture *c)
{
    if (c->len == 0) return c->zero ? GOB_OK : GOB_EMISUSE; /* a zero field writes nothing */
    size_t pos = 0;
    uint64_t key = 0;
    if (gob_uvarint_get(c->bytes, c->len, &pos, &key) != GOB_OK) return GOB_EMISUSE;
    c->key_len = pos;
    c->wire_type = (uint8_t)(key & GOB_TYPE_MASK);
    return GOB_OK;
}

int gob_enc_capture_end(struct gob_enc *e)
{
    struct gob_capture *c = e->capture;
    if (c == NULL) return GOB_EMISUSE;
    e->capture = NULL;
    if (c->err == GOB_OK && (e->err != GOB_OK || e->depth != c->depth || !c->done))
        c->err = GOB_EMISUSE;
    if (c->err == GOB_OK) c->err = capture_copy(e, c);
    if (c->err == GOB_OK && !e->frames[e->depth].is_array) c->err = capture_key(c);
    return c->err;
}

void gob_put_captured(struct gob_enc *e, uint32_t field, const struct gob_capture *c)
{
    if (e->err != GOB_OK) return;
    const struct gob_enc_frame *f = &e->frames[e->depth];
    if (c == NULL || c->err != GOB_OK || !c->done || f->model.role != c->frame_role ||
        (f->is_array && (field != 0 || c->key_len != 0))) {
        gob_enc_fail(e, GOB_EMISUSE);
        return;
    }
    if (f->is_array) {
        if (!gob_enc_elem(e, (enum gob_type)c->wire_type)) return;
        gob_enc_put_raw(e, c->bytes, c->len);
    } else {
        enum gob_slot slot = gob_enc_field_key(e, field, (enum gob_type)c->wire_type, c->zero);
        if (slot == GOB_SLOT_WRITE) gob_enc_put_raw(e, c->bytes + c->key_len, c->len - c->key_len);
    }
    if (e->err != GOB_OK) return;
    for (size_t i = 0; i < c->charges_count; i++)
        gob_model_charge(e, c->charges[i].shape, c->charges[i].desc_bytes);
    gob_enc_model_put(e, (enum gob_kind)c->kind, c->zero, c->value_bytes, c->shape);
}
