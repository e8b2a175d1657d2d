/* bench_gob: labgob message sizes next to Go's gob, and encode+decode throughput.
 *
 * Messages are the ones whose sizes feed 6.824's byte limits: labrpc's Bytes test argument,
 * Raft's RequestVote, AppendEntries (heartbeat, 1 and 10 entries) and a persisted Raft state.
 * Log commands are opaque bytes in labsim; here each is a small int encoded with labgob
 * ({1: int}, 3 bytes), standing for the tests' int commands.
 *
 * go_gob_bytes was measured once with Go 1.19's encoding/gob on the same values (Go structs
 * with int fields, LogEntry{Term int; Command interface{}} holding an int), one new encoder per
 * message as labrpc does for every call and persist() does for every save, so it includes
 * gob's type descriptors. Values alone (a second message on the same encoder) cost Go:
 * 292, 12, 8, 14, 29, 147 and 144 bytes. The wall clock is allowed here (tools/ only).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "labgob.h"

#define BENCH_GOB_ROUNDS 200000u
#define BENCH_GOB_ENTRIES_MAX 10u

struct bench_gob_entry {
    uint64_t term;
    uint8_t command[8];
    size_t command_len;
};

/* Raft's AppendEntries arguments; also the persisted state (term, voted_for, log). */
struct bench_gob_ae {
    uint64_t term;
    int64_t leader;
    uint64_t prev_index;
    uint64_t prev_term;
    struct bench_gob_entry entries[BENCH_GOB_ENTRIES_MAX];
    uint64_t entries_count;
    uint64_t commit;
};

static void bench_gob_fill(struct bench_gob_ae *m, uint64_t entries_count)
{
    memset(m, 0, sizeof(*m));
    m->term = 5;
    m->leader = 1;
    m->prev_index = 42;
    m->prev_term = 4;
    m->commit = 40;
    m->entries_count = entries_count;
    for (uint64_t i = 0; i < entries_count; i++) {
        struct gob_enc cmd;
        gob_enc_init(&cmd);
        gob_put_int(&cmd, 1, (int64_t)(100 + i));
        m->entries[i].term = 5;
        m->entries[i].command_len = gob_enc_len(&cmd);
        memcpy(m->entries[i].command, gob_enc_bytes(&cmd), gob_enc_len(&cmd));
        gob_enc_free(&cmd);
    }
}

static void bench_gob_put_log(struct gob_enc *e, uint32_t field, const struct bench_gob_ae *m)
{
    gob_put_array_begin(e, field, GOB_RECORD, m->entries_count);
    for (uint64_t i = 0; i < m->entries_count; i++) {
        gob_put_record_begin(e, 0);
        gob_put_uint(e, 1, m->entries[i].term);
        gob_put_bytes(e, 2, m->entries[i].command, m->entries[i].command_len);
        gob_put_record_end(e);
    }
    gob_put_array_end(e);
}

static void bench_gob_put_ae(struct gob_enc *e, const struct bench_gob_ae *m)
{
    gob_put_uint(e, 1, m->term);
    gob_put_int(e, 2, m->leader);
    gob_put_uint(e, 3, m->prev_index);
    gob_put_uint(e, 4, m->prev_term);
    bench_gob_put_log(e, 5, m);
    gob_put_uint(e, 6, m->commit);
}

static int bench_gob_get_ae(const uint8_t *buf, size_t len, struct bench_gob_ae *m)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    memset(m, 0, sizeof(*m));
    gob_get_uint(&d, 1, &m->term);
    gob_get_int(&d, 2, &m->leader);
    gob_get_uint(&d, 3, &m->prev_index);
    gob_get_uint(&d, 4, &m->prev_term);
    m->entries_count = gob_get_array_begin(&d, 5, GOB_RECORD);
    if (m->entries_count > BENCH_GOB_ENTRIES_MAX) return GOB_ETOOBIG;
    for (uint64_t i = 0; i < m->entries_count; i++) {
        const uint8_t *p = NULL;
        size_t n = 0;
        gob_get_elem_record_begin(&d);
        gob_get_uint(&d, 1, &m->entries[i].term);
        gob_get_bytes(&d, 2, &p, &n);
        gob_get_record_end(&d);
        if (n > sizeof(m->entries[i].command)) return GOB_ETOOBIG;
        if (n > 0) memcpy(m->entries[i].command, p, n);
        m->entries[i].command_len = n;
    }
    if (m->entries_count > 0) gob_get_array_end(&d);
    gob_get_uint(&d, 6, &m->commit);
    return gob_dec_finish(&d);
}

static void bench_gob_line(FILE *out, const char *name, const struct gob_enc *e, int go_bytes)
{
    int rc = gob_enc_finish(e);
    if (rc != GOB_OK) {
        fprintf(out, "bench gob msg=%s error=\"%s\"\n", name, gob_strerror(rc));
        return;
    }
    if (go_bytes > 0)
        fprintf(out, "bench gob msg=%s bytes=%zu go_gob_bytes=%d\n", name, gob_enc_len(e),
                go_bytes);
    else
        fprintf(out, "bench gob msg=%s bytes=%zu go_gob_bytes=-\n", name, gob_enc_len(e));
}

static void bench_gob_sizes(FILE *out, struct gob_enc *e)
{
    char junk[285];
    memset(junk, 'x', 284);
    junk[284] = '\0';
    gob_enc_reset(e);
    gob_put_str(e, 1, junk);
    bench_gob_line(out, "labrpc_bytes_arg", e, 292);

    gob_enc_reset(e);
    gob_put_uint(e, 1, 5);  /* term */
    gob_put_int(e, 2, 2);   /* candidate id */
    gob_put_uint(e, 3, 42); /* last log index */
    gob_put_uint(e, 4, 4);  /* last log term */
    bench_gob_line(out, "request_vote_args", e, 100);

    gob_enc_reset(e);
    gob_put_uint(e, 1, 5);    /* term */
    gob_put_bool(e, 2, true); /* vote granted */
    bench_gob_line(out, "request_vote_reply", e, 64);

    static const struct {
        const char *name;
        uint64_t entries;
        int go_bytes;
    } aes[] = {{"append_entries_heartbeat", 0, 206},
               {"append_entries_1", 1, 221},
               {"append_entries_10", 10, 339}};
    struct bench_gob_ae m;
    for (size_t i = 0; i < sizeof(aes) / sizeof(aes[0]); i++) {
        bench_gob_fill(&m, aes[i].entries);
        gob_enc_reset(e);
        bench_gob_put_ae(e, &m);
        bench_gob_line(out, aes[i].name, e, aes[i].go_bytes);
    }

    bench_gob_fill(&m, 10);
    for (uint64_t i = 0; i < m.entries_count; i++)
        m.entries[i].term = 1 + i / 4;
    gob_enc_reset(e);
    gob_put_uint(e, 1, 5); /* current term */
    gob_put_int(e, 2, 2);  /* voted for */
    bench_gob_put_log(e, 3, &m);
    bench_gob_line(out, "raft_state_10", e, 219);
}

/* Encodes and decodes AppendEntries with 10 entries, BENCH_GOB_ROUNDS times. */
static void bench_gob_speed(FILE *out, struct gob_enc *e)
{
    struct bench_gob_ae m;
    struct bench_gob_ae back;
    bench_gob_fill(&m, 10);
    double t0 = bench_wall_ms();
    for (uint32_t round = 0; round < BENCH_GOB_ROUNDS; round++) {
        m.term = 5 + round; /* vary the input so no round can be folded away */
        gob_enc_reset(e);
        bench_gob_put_ae(e, &m);
        if (gob_enc_finish(e) != GOB_OK ||
            bench_gob_get_ae(gob_enc_bytes(e), gob_enc_len(e), &back) != GOB_OK) {
            fprintf(out, "bench gob encode_decode error at round %u\n", round);
            return;
        }
        if (back.term != m.term || back.entries_count != m.entries_count) {
            fprintf(out, "bench gob encode_decode mismatch at round %u\n", round);
            return;
        }
    }
    double ms = bench_wall_ms() - t0;
    double per_s = ms > 0 ? (double)BENCH_GOB_ROUNDS * 1000.0 / ms : 0;
    fprintf(out, "bench gob encode_decode_per_s=%.0f msg=append_entries_10 rounds=%u ms=%.1f\n",
            per_s, BENCH_GOB_ROUNDS, ms);
}

void bench_gob(FILE *out)
{
    struct gob_enc e;
    gob_enc_init(&e);
    bench_gob_sizes(out, &e);
    bench_gob_speed(out, &e);
    gob_enc_free(&e);
}
