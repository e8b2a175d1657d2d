/* kvsrv: the single-server key/value service of lab 2 (6.5840's src/kvsrv): the server, the
 * clerk, and the two things the environment provides to them (an accounting allocator and a
 * random client id). This header is the whole contract a student implements; the graded suite
 * (tests/kvsrv/) includes nothing else of this module, so it builds against any files that
 * implement it (`make grade KVSRV_IMPL="..."`).
 *
 * The service: Get(key) returns the key's value ("" when it was never written); Put(key,
 * value) replaces it; Append(key, arg) appends arg and returns the value as it was just
 * before. One server, which never crashes; the network between a clerk and the server may
 * drop requests and replies (the unreliable tests). The clerk retries an operation until it
 * gets an answer and never gives up, and every Put and Append must take effect exactly once,
 * however often it was sent: the server recognises a retry by the clerk's client id and a
 * sequence number. A clerk has at most one operation outstanding at a time, so the server may
 * forget a client's cached reply as soon as that client's next request arrives. Gets must
 * leave no state on the server, and the server must not keep old values or old replies:
 * that is what the memory tests (TestMem*2) measure.
 *
 * What the environment provides (kvsrv/kvsrv_heap.c, always linked, like Raft's persister):
 *  - struct kvsrv_heap, an accounting allocator. EVERY byte the server keeps (its struct, the
 *    key/value store, the duplicate table, cached replies) must come from kvsrv_malloc /
 *    kvsrv_calloc / kvsrv_realloc and go back through kvsrv_free: the memory tests compare the
 *    heap's live bytes with the lab's limits, as Go's tests compare the process heap. Memory a
 *    handler uses only while it runs may come from plain malloc (freed before it returns).
 *  - kvsrv_nrand, Go's nrand(): the clerk's client id, drawn from the simulation's seeded
 *    randomness so a run replays exactly.
 *
 * The labrpc and labgob headers are on the include path: the server registers its handlers
 * ("KVServer.Get", "KVServer.Put", "KVServer.Append") on the rpc_server the harness gives it
 * and answers every request exactly once (rpc_req_reply); the clerk calls them with
 * rpc_end_call_wait from a sim task. The message formats are the implementation's own (both
 * ends are yours); encode them with labgob so the network counts Go-like bytes.
 *
 * Ownership: the harness owns the sim, the heap, the rpc_server and the end; the server and
 * clerk borrow them for their lives.
 */
#ifndef KVSRV_H
#define KVSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labrpc/labrpc.h"
#include "../src/sim.h"

#define KVSRV_VALUE_MAX (32u << 20) /* bytes of one value a clerk sends or a server stores */

#define KVSRV_ERRNO_MAP(X)                                                                         \
    X(KVSRV_OK, 0, "success")                                                                      \
    X(KVSRV_ENOMEM, -1, "out of memory")                                                           \
    X(KVSRV_EINVAL, -2, "invalid argument")                                                        \
    X(KVSRV_ERPC, -3, "could not register the RPC methods")

enum kvsrv_err {
#define KVSRV_ERR_ENUM(name, value, text) name = value,
    KVSRV_ERRNO_MAP(KVSRV_ERR_ENUM)
#undef KVSRV_ERR_ENUM
};

/* Returns a static, never-NULL description of a KVSRV_* code (provided). */
const char *kvsrv_strerror(int err);

/* ---------------------------------------------------------------- provided: the heap */

/* The server's heap. Caller-allocated; fields are read with the functions below. Each block
 * carries a small header (not counted) that records its size, so kvsrv_free needs no size. */
struct kvsrv_heap {
    uint64_t bytes_live;  /* bytes asked for by live blocks (what the memory tests compare) */
    uint64_t blocks_live; /* live blocks */
    uint64_t bytes_peak;  /* the largest bytes_live seen */
};

void kvsrv_heap_init(struct kvsrv_heap *heap);
/* malloc / calloc / realloc / free that count. NULL on OOM (or size overflow), as libc's;
 * kvsrv_realloc(heap, NULL, n) allocates, and a failed realloc leaves the block as it was.
 * kvsrv_free(heap, NULL) does nothing. A block must go back to the heap it came from. */
void *kvsrv_malloc(struct kvsrv_heap *heap, size_t size);
void *kvsrv_calloc(struct kvsrv_heap *heap, size_t count, size_t size);
void *kvsrv_realloc(struct kvsrv_heap *heap, void *block, size_t size);
void kvsrv_free(struct kvsrv_heap *heap, void *block);
/* Bytes held now by live blocks (Go's HeapAlloc, for the server alone). */
uint64_t kvsrv_heap_bytes(const struct kvsrv_heap *heap);

/* ---------------------------------------------------------------- provided: client ids */

/* Go's nrand(): a random number in [0, 2^62) for the clerk talking through `end` (a clerk's
 * client id). Drawn from the sim's PRNG stream named after the end, so it is the same on
 * every replay and differs between clerks (every clerk gets an end of its own). */
uint64_t kvsrv_nrand(struct sim *sim, const struct rpc_end *end);

/* ---------------------------------------------------------------- the server */

struct kvsrv_server;

/* Go's StartKVServer(): a server whose every kept byte comes from `heap`, with its handlers
 * "KVServer.Get", "KVServer.Put" and "KVServer.Append" registered on `server` (which the
 * harness then adds to the network as server 0). Handlers run as sim events: they must answer
 * (rpc_req_reply) and return; they may not block. On success *out is the server and KVSRV_OK
 * is returned; otherwise KVSRV_ENOMEM, KVSRV_EINVAL or KVSRV_ERPC and nothing is left
 * allocated. */
int kvsrv_server_start(struct sim *sim, struct kvsrv_heap *heap, struct rpc_server *server,
                       struct kvsrv_server **out);

/* Frees the server and everything it holds, back to its heap (which is then empty). Call
 * after the run, when no event can reach the server any more. NULL does nothing. */
void kvsrv_server_free(struct kvsrv_server *kv);

/* ---------------------------------------------------------------- the clerk */

struct kvsrv_clerk;

/* Go's MakeClerk(server): a clerk that talks to the server through `end` (borrowed). Makes its
 * client id with kvsrv_nrand. Plain malloc (clerks are not the server's memory). NULL on OOM
 * or bad arguments. */
struct kvsrv_clerk *kvsrv_clerk_new(struct sim *sim, struct rpc_end *end);
/* Frees the clerk; it must not be inside a call. NULL does nothing. */
void kvsrv_clerk_free(struct kvsrv_clerk *ck);

/* The operations: blocking, from a sim task only, one at a time per clerk. Each retries until
 * the server answers and never gives up, so it returns only once the operation has taken
 * effect (exactly once).
 *
 * kvsrv_clerk_get returns the value ("" for a missing key) and kvsrv_clerk_append the value
 * before the append, each as a malloc'd NUL-terminated string the caller frees; NULL on OOM
 * or bad arguments (NULL key or value, value longer than KVSRV_VALUE_MAX), and then no request
 * was sent. kvsrv_clerk_put returns KVSRV_OK, KVSRV_EINVAL or KVSRV_ENOMEM (nothing sent). */
char *kvsrv_clerk_get(struct kvsrv_clerk *ck, const char *key);
int kvsrv_clerk_put(struct kvsrv_clerk *ck, const char *key, const char *value);
char *kvsrv_clerk_append(struct kvsrv_clerk *ck, const char *key, const char *value);

#endif /* KVSRV_H */
