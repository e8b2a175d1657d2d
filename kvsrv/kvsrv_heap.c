/* kvsrv_heap: what the environment provides to a lab 2 implementation (see kvsrv.h): the
 * accounting allocator the server keeps its memory in, Go's nrand() for client ids, and
 * kvsrv_strerror. Always linked, whatever KVSRV_IMPL names, like Raft's persister: the memory
 * tests trust these counts, so a student's files cannot change how they are kept.
 *
 * Every block is [header][payload]; the header holds the payload's size, padded to
 * max_align_t so the payload stays aligned for any type. bytes_live counts payload sizes only,
 * exactly what the server asked for: the measure is the server's own data, not libc's
 * rounding, so it is the same on every machine and every run.
 *
 * Invariants: bytes_live is the sum of the sizes of live blocks and blocks_live their number;
 * both return to 0 once every block was freed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvsrv.h"

#define HEAP_HEADER_SIZE sizeof(max_align_t)
#define NRAND_BITS_MASK ((UINT64_C(1) << 62) - 1u)

_Static_assert(sizeof(max_align_t) >= sizeof(size_t), "the header holds a size");

const char *kvsrv_strerror(int err)
{
    switch (err) {
#define KVSRV_ERR_CASE(name, value, text)                                                          \
    case name:                                                                                     \
        return text;
        KVSRV_ERRNO_MAP(KVSRV_ERR_CASE)
#undef KVSRV_ERR_CASE
    default:
        return "unknown kvsrv error";
    }
}

void kvsrv_heap_init(struct kvsrv_heap *heap)
{
    memset(heap, 0, sizeof(*heap));
}

static size_t *block_header(void *block)
{
    return (size_t *)(void *)((unsigned char *)block - HEAP_HEADER_SIZE);
}

static void heap_add(struct kvsrv_heap *heap, size_t size)
{
    heap->bytes_live += size;
    heap->blocks_live++;
    if (heap->bytes_live > heap->bytes_peak) heap->bytes_peak = heap->bytes_live;
}

static void heap_sub(struct kvsrv_heap *heap, size_t size)
{
    /* A block freed twice or into the wrong heap would break every later measurement. */
    if (heap->blocks_live == 0 || heap->bytes_live < size) {
        fprintf(stderr, "kvsrv heap: a block freed twice or into the wrong heap\n");
        abort();
    }
    heap->bytes_live -= size;
    heap->blocks_live--;
}

void *kvsrv_malloc(struct kvsrv_heap *heap, size_t size)
{
    if (heap == NULL || size > SIZE_MAX - HEAP_HEADER_SIZE) return NULL;
    unsigned char *raw = malloc(HEAP_HEADER_SIZE + size);
    if (raw == NULL) return NULL;
    *(size_t *)(void *)raw = size;
    heap_add(heap, size);
    return raw + HEAP_HEADER_SIZE;
}

void *kvsrv_calloc(struct kvsrv_heap *heap, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) return NULL;
    void *block = kvsrv_malloc(heap, count * size);
    if (block != NULL) memset(block, 0, count * size);
    return block;
}

void *kvsrv_realloc(struct kvsrv_heap *heap, void *block, size_t size)
{
    if (block == NULL) return kvsrv_malloc(heap, size);
    if (heap == NULL || size > SIZE_MAX - HEAP_HEADER_SIZE) return NULL;
    size_t old = *block_header(block);
    unsigned char *raw = realloc(block_header(block), HEAP_HEADER_SIZE + size);
    if (raw == NULL) return NULL;
    *(size_t *)(void *)raw = size;
    heap_sub(heap, old);
    heap_add(heap, size);
    return raw + HEAP_HEADER_SIZE;
}

void kvsrv_free(struct kvsrv_heap *heap, void *block)
{
    if (block == NULL) return;
    size_t *header = block_header(block);
    heap_sub(heap, *header);
    free(header);
}

uint64_t kvsrv_heap_bytes(const struct kvsrv_heap *heap)
{
    return heap->bytes_live;
}

uint64_t kvsrv_nrand(struct sim *sim, const struct rpc_end *end)
{
    char name[RPC_NAME_MAX + 16];
    struct sim_rand r;
    snprintf(name, sizeof(name), "kvsrv.nrand/%s", rpc_end_name(end));
    sim_rand_init(&r, sim, name);
    return sim_rand_u64(&r) & NRAND_BITS_MASK;
}
