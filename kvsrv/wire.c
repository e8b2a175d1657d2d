/* wire: the labgob encodings of our lab 2 messages (see kvsrv_int.h) and the method names.
 * Zero values are left out by labgob, as gob does, so a Get's seq and value cost nothing.
 * Decoders check bounds and report KVSRV_EINVAL rather than trusting their input.
 */
#include "kvsrv_int.h"

const char *const kvsrv_method_full_names[KVSRV_OP_KINDS_COUNT] = {"KVServer.Get", "KVServer.Put",
                                                                   "KVServer.Append"};
const char *const kvsrv_method_names[KVSRV_OP_KINDS_COUNT] = {"Get", "Put", "Append"};

static int enc_result(const struct gob_enc *e)
{
    int rc = gob_enc_finish(e);
    if (rc == GOB_OK) return KVSRV_OK;
    return rc == GOB_ENOMEM ? KVSRV_ENOMEM : KVSRV_EINVAL;
}

int kvsrv_args_encode(struct gob_enc *e, const struct kvsrv_args *a)
{
    if (a->key_len > KVSRV_KEY_MAX || a->value_len > KVSRV_VALUE_MAX) return KVSRV_EINVAL;
    gob_enc_reset(e);
    gob_put_uint(e, 1, a->client_id);
    gob_put_uint(e, 2, a->seq);
    gob_put_bytes(e, 3, a->key, a->key_len);
    gob_put_bytes(e, 4, a->value, a->value_len);
    return enc_result(e);
}

int kvsrv_args_decode(const uint8_t *buf, size_t len, struct kvsrv_args *a)
{
    struct gob_dec d;
    *a = (struct kvsrv_args){0};
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &a->client_id);
    gob_get_uint(&d, 2, &a->seq);
    gob_get_bytes(&d, 3, &a->key, &a->key_len);
    gob_get_bytes(&d, 4, &a->value, &a->value_len);
    if (gob_dec_finish(&d) != GOB_OK) return KVSRV_EINVAL;
    if (a->key_len > KVSRV_KEY_MAX || a->value_len > KVSRV_VALUE_MAX) return KVSRV_EINVAL;
    return KVSRV_OK;
}

int kvsrv_reply_encode(struct gob_enc *e, const uint8_t *value, size_t value_len)
{
    gob_enc_reset(e);
    gob_put_bytes(e, 1, value, value_len);
    return enc_result(e);
}

int kvsrv_reply_decode(const uint8_t *buf, size_t len, const uint8_t **value, size_t *value_len)
{
    struct gob_dec d;
    *value = NULL;
    *value_len = 0;
    gob_dec_init(&d, buf, len);
    gob_get_bytes(&d, 1, value, value_len);
    return gob_dec_finish(&d) == GOB_OK ? KVSRV_OK : KVSRV_EINVAL;
}
