/* labgob varints: unsigned LEB128, seven bits per byte, least significant group first, the
 * high bit set on every byte but the last. A 64-bit value takes at most 10 bytes; the tenth
 * may only carry the top bit, so a tenth byte above 1 (or an eleventh byte) is an overflow. */
#include "gob_int.h"

size_t gob_uvarint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80u) {
        v >>= 7;
        n++;
    }
    GOB_ASSERT(n <= GOB_VARINT_LEN_MAX);
    return n;
}

size_t gob_uvarint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80u) {
        out[n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    GOB_ASSERT(n <= GOB_VARINT_LEN_MAX);
    return n;
}

void gob_dec_fail(struct gob_dec *d, int err, size_t at)
{
    GOB_ASSERT(err != GOB_OK);
    GOB_ASSERT(at <= d->len);
    if (d->err != GOB_OK) return;
    d->err = err;
    d->pos = at;
    d->peek_valid = false;
}

int gob_uvarint_get_long(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    GOB_ASSERT(*pos <= len);
    uint64_t value = 0;
    for (size_t i = 0; i < GOB_VARINT_LEN_MAX; i++) {
        if (*pos + i >= len) return GOB_ETRUNCATED;
        uint8_t b = buf[*pos + i];
        if (i == GOB_VARINT_LEN_MAX - 1 && b > 1u)
            return GOB_EOVERFLOW; /* bits beyond 64, or a continuation into an eleventh byte */
        value |= (uint64_t)(b & 0x7fu) << (7u * i);
        if ((b & 0x80u) == 0) {
            *v = value;
            *pos += i + 1;
            return GOB_OK;
        }
    }
    GOB_ASSERT(false); /* the tenth byte either ends the varint or fails above */
    return GOB_EOVERFLOW;
}

bool gob_dec_look_uvarint(struct gob_dec *d, uint64_t *v, size_t *used)
{
    GOB_ASSERT(d->pos <= d->len);
    size_t at = d->pos;
    int rc = gob_uvarint_get(d->buf, d->len, &at, v);
    if (rc != GOB_OK) {
        gob_dec_fail(d, rc, d->pos);
        return false;
    }
    *used = at - d->pos;
    return true;
}

bool gob_dec_read_uvarint(struct gob_dec *d, uint64_t *v)
{
    size_t used = 0;
    if (!gob_dec_look_uvarint(d, v, &used)) return false;
    GOB_ASSERT(used >= 1 && used <= d->len - d->pos);
    d->pos += used;
    return true;
}
