/* kvsrv_int: our lab 2 implementation's internals shared by server.c, clerk.c and wire.c (and
 * the kvsrv unit tests). Not part of the graded contract: the graded suite includes only
 * kvsrv.h, and a student's KVSRV_IMPL replaces these files.
 *
 * Wire format (labgob), one message shape for every request and one for every reply:
 *   args:  1 client id, 2 seq (0 for a Get: Gets need no duplicate detection), 3 key, 4 value
 *   reply: 1 value (Get: the value; Append: the value before it; Put: empty)
 * which is Go's PutAppendArgs{Key, Value, ClientId, Seq} / GetArgs / PutAppendReply{Value}.
 */
#ifndef KVSRV_INT_H
#define KVSRV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labgob/labgob.h"
#include "kvsrv.h"

#define KVSRV_KEY_MAX 4096u /* bytes in a key */

enum kvsrv_op_kind { KVSRV_OP_GET = 0, KVSRV_OP_PUT = 1, KVSRV_OP_APPEND = 2 };
#define KVSRV_OP_KINDS_COUNT 3

/* "KVServer.Get", "KVServer.Put", "KVServer.Append", by kind; and the method names alone. */
extern const char *const kvsrv_method_full_names[KVSRV_OP_KINDS_COUNT];
extern const char *const kvsrv_method_names[KVSRV_OP_KINDS_COUNT];

/* Decoded arguments: key and value are views into the message. */
struct kvsrv_args {
    uint64_t client_id;
    uint64_t seq;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

/* Encodes into `e` (reset first). KVSRV_OK, KVSRV_EINVAL (key or value too long) or
 * KVSRV_ENOMEM. */
int kvsrv_args_encode(struct gob_enc *e, const struct kvsrv_args *a);
/* KVSRV_OK or KVSRV_EINVAL (malformed, or key or value over its bound). */
int kvsrv_args_decode(const uint8_t *buf, size_t len, struct kvsrv_args *a);
int kvsrv_reply_encode(struct gob_enc *e, const uint8_t *value, size_t value_len);
/* The reply's value as a view; KVSRV_OK or KVSRV_EINVAL. */
int kvsrv_reply_decode(const uint8_t *buf, size_t len, const uint8_t **value, size_t *value_len);

#endif /* KVSRV_INT_H */
