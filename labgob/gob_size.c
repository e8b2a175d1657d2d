/* labgob message headers: writing and validating them, and the public size functions that
 * read a message's gob-equivalent sizes (labgob.h, "Wire format v2" and "the gob model").
 *
 * A header is trusted only when it is consistent with itself and with the input: the right
 * magic and kind, well-formed varints below GOB_MODEL_BYTES_MAX, a body_len that is exactly
 * the rest of the input, and sizes no struct can go below. What can be derived
 * is not carried (every header byte is paid for again in each nested command of each
 * persisted entry): a struct's rpc and iface follow from record and desc, and a boxed value's
 * sizes all follow from its one value (gob_model_box). Anything else is GOB_EHEADER, and the size
 * functions fall back to the raw length, so bytes that are not a labgob message are never
 * under-counted to zero.
 */
#include "gob_int.h"

static bool kind_is_box(uint8_t kind)
{
    return kind >= GOB_MSG_BOX_UINT && kind <= GOB_MSG_BOX_BYTES;
}

size_t gob_header_write(const struct gob_header *h, uint8_t *out)
{
    GOB_ASSERT(h->kind < GOB_MSG_KINDS_COUNT);
    const uint64_t sizes[] = {h->body_len, h->stream_bytes, h->record_bytes, h->desc_bytes};
    const uint64_t run[] = {h->run_count, h->run_bytes, h->run_desc_bytes};
    size_t n = 0;
    out[n++] = (uint8_t)GOB_HEADER_MAGIC;
    out[n++] = h->kind;
    if (kind_is_box(h->kind)) {
        n += gob_uvarint_put(out + n, h->body_len);
        n += gob_uvarint_put(out + n, h->value_bytes);
        return n;
    }
    GOB_ASSERT(h->rpc_bytes == gob_model_framed(2 + h->record_bytes) + h->desc_bytes);
    GOB_ASSERT(h->iface_bytes == gob_model_struct_iface_bytes(h->record_bytes));
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        n += gob_uvarint_put(out + n, sizes[i]);
    for (size_t i = 0; h->kind == GOB_MSG_RUN && i < sizeof(run) / sizeof(run[0]); i++)
        n += gob_uvarint_put(out + n, run[i]);
    GOB_ASSERT(n <= GOB_HEADER_MAX);
    return n;
}

/* Reads `count` bounded varints into out[]. */
static bool read_fields(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (gob_uvarint_get(buf, len, pos, &out[i]) != GOB_OK) return false;
        if (out[i] > GOB_MODEL_BYTES_MAX) return false;
    }
    return true;
}

/* The relations the encoder always produces for a struct (see the file comment). */
static bool record_consistent(const struct gob_header *h)
{
    if (h->record_bytes < 1 || h->stream_bytes < 4) return false;
    if (h->desc_bytes < gob_model_struct_desc(0, 0, 0)) return false; /* the top record's */
    if (h->kind == GOB_MSG_RUN && (h->run_count > h->run_bytes || h->run_bytes >= h->record_bytes))
        return false; /* every element takes a byte; the record holds the array */
    return h->run_desc_bytes <= h->desc_bytes;
}

/* A boxed value: one scalar whose key and value are the whole body, or no body when zero.
 * Returns the header length, 0 when malformed. */
static size_t box_fields(const uint8_t *buf, size_t len, uint64_t *body_len, uint64_t *value)
{
    uint64_t f[2] = {0};
    size_t pos = 2;
    if (!read_fields(buf, len, &pos, f, 2)) return 0;
    if (f[0] != len - pos || f[1] < 1) return 0;
    if (f[0] == 1 || (buf[1] == GOB_MSG_BOX_BOOL && f[1] != 1)) return 0;
    *body_len = f[0];
    *value = f[1];
    return pos;
}

bool gob_box_parse(const uint8_t *p, size_t n, uint8_t *kind, uint64_t *value_bytes)
{
    uint64_t body_len = 0;
    if (n < 2 || p[0] != GOB_HEADER_MAGIC || !kind_is_box(p[1])) return false;
    if (box_fields(p, n, &body_len, value_bytes) == 0) return false;
    *kind = p[1];
    return true;
}

static int parse_box(const uint8_t *buf, size_t len, struct gob_header *h)
{
    uint64_t body_len = 0;
    uint64_t value = 0;
    size_t pos = box_fields(buf, len, &body_len, &value);
    if (pos == 0) return GOB_EHEADER;
    gob_model_box(buf[1], body_len, value, h);
    h->header_len = pos;
    return GOB_OK;
}

/* A struct: rpc and iface are derived from record and desc (labgob.h), not carried. */
static int parse_record(const uint8_t *buf, size_t len, size_t pos, struct gob_header *h)
{
    uint64_t f[4] = {0};
    uint64_t run[3] = {0};
    h->kind = buf[1];
    if (!read_fields(buf, len, &pos, f, 4)) return GOB_EHEADER;
    if (h->kind == GOB_MSG_RUN && !read_fields(buf, len, &pos, run, 3)) return GOB_EHEADER;
    if (f[0] != len - pos) return GOB_EHEADER; /* truncated, padded or concatenated */
    h->header_len = pos;
    h->body_len = f[0];
    h->stream_bytes = f[1];
    h->record_bytes = f[2];
    h->desc_bytes = f[3];
    h->run_count = run[0];
    h->run_bytes = run[1];
    h->run_desc_bytes = run[2];
    if (!record_consistent(h)) return GOB_EHEADER;
    h->rpc_bytes = gob_model_framed(2 + h->record_bytes) + h->desc_bytes;
    h->iface_bytes = gob_model_struct_iface_bytes(h->record_bytes);
    return GOB_OK;
}

int gob_header_parse(const uint8_t *buf, size_t len, struct gob_header *h)
{
    struct gob_header parsed = {0};
    if (buf == NULL || len < 2 || buf[0] != GOB_HEADER_MAGIC || buf[1] >= GOB_MSG_KINDS_COUNT)
        return GOB_EHEADER;
    int rc =
        kind_is_box(buf[1]) ? parse_box(buf, len, &parsed) : parse_record(buf, len, 2, &parsed);
    if (rc != GOB_OK) return rc;
    GOB_ASSERT(parsed.header_len + parsed.body_len == len);
    *h = parsed;
    return GOB_OK;
}

static size_t size_clamp(uint64_t v)
{
    return v > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)v;
}

size_t gob_size_rpc(const uint8_t *buf, size_t len)
{
    struct gob_header h;
    if (len == 0) return 0;
    return gob_header_parse(buf, len, &h) == GOB_OK ? size_clamp(h.rpc_bytes) : len;
}

size_t gob_size_stream(const uint8_t *buf, size_t len)
{
    struct gob_header h;
    if (len == 0) return 0;
    return gob_header_parse(buf, len, &h) == GOB_OK ? size_clamp(h.stream_bytes) : len;
}
