/* bench_gob: labgob's sizes next to Go's gob, and encode+decode throughput.
 *
 * Each row encodes one of the lab's messages or persisted states with labgob in the
 * canonical Go shape, as a student would write it (int fields as ints, Raft's entries as
 * LogEntry{Term int; Command interface{}} records, commands with gob_put_iface, kvraft's
 * snapshots as maps), and prints its raw labgob bytes, its gob-equivalent size under the
 * model of labgob.h (rpc: one struct on a new encoder, as labrpc sends it; stream: a sequence
 * of Encode calls, as persist() and a KV snapshot save), the size Go's gob gave for the same
 * values, and their ratio. The last line says whether every ratio is within 15%.
 *
 * go_gob_bytes were measured with Go 1.19's encoding/gob through 6.5840's labgob, one new
 * encoder per message (the persisted rows: per sequence of Encode calls), with the field
 * names of typical 6.5840 solutions (RequestVoteArgs{Term, CandidateId,
 * LastLogIndex, LastLogTerm}, AppendEntriesReply{Term, Success, XTerm, XIndex, XLen},
 * kvraft.Op{Type, Key, Value, ClientId, Seq}, ...). 63-bit values are 0x7fffffffffff0000 + i.
 * The wall clock is allowed here (tools/ only).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "labgob.h"

#define BENCH_GOB_ROUNDS 200000u
#define BENCH_GOB_ENTRIES_MAX 100u
#define BENCH_GOB_BIG INT64_C(0x7fffffffffff0000)
#define BENCH_GOB_RATIO_MIN 0.85
#define BENCH_GOB_RATIO_MAX 1.15

/* What a row's builder needs: the message's encoder and one for nested commands. */
struct bench_gob_ctx {
    struct gob_enc *e;
    struct gob_enc *cmd;
};

enum bench_gob_cmd { CMD_INT = 0, CMD_BIG = 1, CMD_PUT = 2, CMD_APPEND = 3 };

/* 10 characters, "v000000007" for 7, as the Go measurement's val10. */
static void bench_gob_val10(char out[11], uint64_t i)
{
    snprintf(out, 11, "v%09" PRIu64, i % 1000000000u);
}

/* A kvraft.Op{Type, Key, Value, ClientId, Seq} command, or a boxed int, into ctx->cmd. */
static void bench_gob_command(struct gob_enc *c, enum bench_gob_cmd kind, uint64_t i)
{
    char value[11];
    gob_enc_reset(c);
    if (kind == CMD_INT || kind == CMD_BIG) {
        gob_put_int(c, 1, (kind == CMD_BIG ? BENCH_GOB_BIG : 100) + (int64_t)i);
        return;
    }
    bench_gob_val10(value, i);
    gob_put_str(c, 1, kind == CMD_PUT ? "Put" : "Append");
    gob_put_str(c, 2, "k1");
    gob_put_str(c, 3, value);
    gob_put_int(c, 4, BENCH_GOB_BIG + 1);
    gob_put_int(c, 5, 7 + (int64_t)i);
}

/* []LogEntry with `count` entries of term 5 (and Go's dummy {0, nil} first when asked). */
static void bench_gob_log(struct bench_gob_ctx *x, uint32_t field, uint64_t count,
                          enum bench_gob_cmd kind, bool dummy)
{
    gob_put_array_begin(x->e, field, GOB_RECORD, count + (dummy ? 1 : 0));
    if (dummy) {
        gob_put_record_begin(x->e, 0);
        gob_put_int(x->e, 1, 0);
        gob_put_iface(x->e, 2, NULL, 0);
        gob_put_record_end(x->e);
    }
    for (uint64_t i = 0; i < count; i++) {
        bench_gob_command(x->cmd, kind, i);
        gob_put_record_begin(x->e, 0);
        gob_put_int(x->e, 1, 5);
        gob_put_iface(x->e, 2, gob_enc_bytes(x->cmd), gob_enc_len(x->cmd));
        gob_put_record_end(x->e);
    }
    gob_put_array_end(x->e);
}

/* ------------------------------------------------------------ Raft */

static void b_bytes_arg(struct bench_gob_ctx *x, uint64_t arg)
{
    char junk[285];
    memset(junk, 'x', 284);
    junk[284] = '\0';
    (void)arg;
    gob_put_str(x->e, 1, junk);
}

static void b_request_vote(struct bench_gob_ctx *x, uint64_t arg)
{
    (void)arg;
    gob_put_int(x->e, 1, 5);
    gob_put_int(x->e, 2, 2);
    gob_put_int(x->e, 3, 42);
    gob_put_int(x->e, 4, 4);
}

static void b_request_vote_reply(struct bench_gob_ctx *x, uint64_t granted)
{
    gob_put_int(x->e, 1, 5);
    gob_put_bool(x->e, 2, granted != 0);
}

/* arg: entries (low 16 bits), command kind (bits 16..). */
static void b_append_entries(struct bench_gob_ctx *x, uint64_t arg)
{
    gob_put_int(x->e, 1, 5);
    gob_put_int(x->e, 2, 1);
    gob_put_int(x->e, 3, 42);
    gob_put_int(x->e, 4, 4);
    bench_gob_log(x, 5, arg & 0xffffu, (enum bench_gob_cmd)(arg >> 16), false);
    gob_put_int(x->e, 6, 40);
}

static void b_append_reply(struct bench_gob_ctx *x, uint64_t success)
{
    gob_put_int(x->e, 1, 5);
    gob_put_bool(x->e, 2, success != 0);
    gob_put_int(x->e, 3, success ? 0 : 3);
    gob_put_int(x->e, 4, success ? 0 : 17);
    gob_put_int(x->e, 5, success ? 0 : 40);
}

static void b_install_snapshot(struct bench_gob_ctx *x, uint64_t arg)
{
    uint8_t data[100];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    (void)arg;
    gob_put_int(x->e, 1, 5);
    gob_put_int(x->e, 2, 1);
    gob_put_int(x->e, 3, 42);
    gob_put_int(x->e, 4, 4);
    gob_put_bytes(x->e, 5, data, sizeof(data));
}

static void b_install_snapshot_reply(struct bench_gob_ctx *x, uint64_t arg)
{
    (void)arg;
    gob_put_int(x->e, 1, 5);
}

/* persist(): Encode(5); Encode(2); Encode(log) [; Encode(42); Encode(4)]. arg: entries (low
 * 16 bits), command kind (bits 16..23), dummy entry (bit 24), snapshot point (bit 25). */
static void b_persist(struct bench_gob_ctx *x, uint64_t arg)
{
    gob_put_int(x->e, 1, 5);
    gob_put_int(x->e, 2, 2);
    bench_gob_log(x, 3, arg & 0xffffu, (enum bench_gob_cmd)((arg >> 16) & 0xffu),
                  (arg >> 24 & 1u) != 0);
    if ((arg >> 25 & 1u) != 0) {
        gob_put_int(x->e, 4, 42);
        gob_put_int(x->e, 5, 4);
    }
}

/* ------------------------------------------------------------ kvraft */

static void b_get_args(struct bench_gob_ctx *x, uint64_t arg)
{
    (void)arg;
    gob_put_str(x->e, 1, "k1");
    gob_put_int(x->e, 2, BENCH_GOB_BIG + 1);
    gob_put_int(x->e, 3, 7);
}

static const char *const bench_gob_errs[] = {"OK", "ErrWrongLeader", "ErrNoKey"};

static void b_get_reply(struct bench_gob_ctx *x, uint64_t err)
{
    char value[11];
    bench_gob_val10(value, 1);
    gob_put_str(x->e, 1, bench_gob_errs[err]);
    gob_put_str(x->e, 2, err == 0 ? value : "");
}

static void b_put_append_args(struct bench_gob_ctx *x, uint64_t append)
{
    char value[11];
    bench_gob_val10(value, 1);
    gob_put_str(x->e, 1, "k1");
    gob_put_str(x->e, 2, value);
    gob_put_str(x->e, 3, append ? "Append" : "Put");
    gob_put_int(x->e, 4, BENCH_GOB_BIG + 1);
    gob_put_int(x->e, 5, 7);
}

static void b_put_append_reply(struct bench_gob_ctx *x, uint64_t err)
{
    gob_put_str(x->e, 1, bench_gob_errs[err]);
}

static void b_op(struct bench_gob_ctx *x, uint64_t append)
{
    bench_gob_command(x->e, append ? CMD_APPEND : CMD_PUT, 1);
}

/* map[string]string of n keys "k<i>" -> val10(i), as a field of the stream. */
static void bench_gob_kv_map(struct gob_enc *e, uint32_t field, uint64_t n)
{
    gob_put_map_begin(e, field, n);
    for (uint64_t i = 0; i < n; i++) {
        char key[24];
        char value[11];
        snprintf(key, sizeof(key), "k%" PRIu64, i);
        bench_gob_val10(value, i);
        gob_put_record_begin(e, 0);
        gob_put_str(e, 1, key);
        gob_put_str(e, 2, value);
        gob_put_record_end(e);
    }
    gob_put_map_end(e);
}

/* map[int64]int64 of c clients (63-bit ids) -> last seq 7 + i % 50. */
static void bench_gob_dup_map(struct gob_enc *e, uint32_t field, uint64_t c)
{
    gob_put_map_begin(e, field, c);
    for (uint64_t i = 0; i < c; i++) {
        gob_put_record_begin(e, 0);
        gob_put_int(e, 1, BENCH_GOB_BIG + (int64_t)i);
        gob_put_int(e, 2, 7 + (int64_t)(i % 50));
        gob_put_record_end(e);
    }
    gob_put_map_end(e);
}

/* A KV snapshot: Encode(kv) [; Encode(dups)]. arg: keys (low 16 bits), clients (high). A
 * map of clients alone when keys is 0. */
static void b_kv_snapshot(struct bench_gob_ctx *x, uint64_t arg)
{
    uint64_t keys = arg & 0xffffu;
    uint64_t clients = arg >> 16;
    if (keys > 0) bench_gob_kv_map(x->e, 1, keys);
    if (clients > 0) bench_gob_dup_map(x->e, 2, clients);
}

/* ------------------------------------------------------------ the table */

struct bench_gob_row {
    const char *name;
    bool stream; /* the stream model (persisted bytes); else rpc */
    void (*build)(struct bench_gob_ctx *x, uint64_t arg);
    uint64_t arg;
    int go_bytes;
};

#define AE(n, kind) ((uint64_t)(n) | ((uint64_t)(kind) << 16))
#define PERSIST(n, kind, dummy, snap)                                                              \
    ((uint64_t)(n) | ((uint64_t)(kind) << 16) | ((uint64_t)(dummy) << 24) |                        \
     ((uint64_t)(snap) << 25))
#define KV(keys, clients) ((uint64_t)(keys) | ((uint64_t)(clients) << 16))

static const struct bench_gob_row bench_gob_rows[] = {
    {"labrpc_bytes_arg", false, b_bytes_arg, 0, 292},
    {"request_vote_args", false, b_request_vote, 0, 100},
    {"request_vote_reply", false, b_request_vote_reply, 1, 64},
    {"request_vote_reply_denied", false, b_request_vote_reply, 0, 62},
    {"append_entries_heartbeat", false, b_append_entries, AE(0, CMD_INT), 206},
    {"append_entries_1", false, b_append_entries, AE(1, CMD_INT), 221},
    {"append_entries_10", false, b_append_entries, AE(10, CMD_INT), 339},
    {"append_entries_10_63bit", false, b_append_entries, AE(10, CMD_BIG), 409},
    {"append_entries_reply", false, b_append_reply, 0, 96},
    {"append_entries_reply_ok", false, b_append_reply, 1, 92},
    {"install_snapshot_100", false, b_install_snapshot, 0, 222},
    {"install_snapshot_reply", false, b_install_snapshot_reply, 0, 50},
    {"raft_state_1", true, b_persist, PERSIST(1, CMD_INT, 0, 0), 101},
    {"raft_state_1_snap", true, b_persist, PERSIST(1, CMD_INT, 0, 1), 109},
    {"raft_state_10", true, b_persist, PERSIST(10, CMD_INT, 0, 0), 219},
    {"raft_state_10_snap", true, b_persist, PERSIST(10, CMD_INT, 0, 1), 227},
    {"raft_state_100", true, b_persist, PERSIST(100, CMD_INT, 0, 0), 1462},
    {"raft_state_100_snap", true, b_persist, PERSIST(100, CMD_INT, 0, 1), 1470},
    {"raft_state_dummy_10", true, b_persist, PERSIST(10, CMD_INT, 1, 0), 220},
    {"raft_state_10_63bit", true, b_persist, PERSIST(10, CMD_BIG, 0, 0), 289},
    {"raft_state_100_63bit", true, b_persist, PERSIST(100, CMD_BIG, 0, 0), 2090},
    {"raft_state_100_63bit_snap", true, b_persist, PERSIST(100, CMD_BIG, 0, 1), 2098},
    {"raft_state_dummy_only", true, b_persist, PERSIST(0, CMD_INT, 1, 0), 89},
    {"raft_state_dummy_only_snap", true, b_persist, PERSIST(0, CMD_INT, 1, 1), 97},
    {"kv_get_args", false, b_get_args, 0, 71},
    {"kv_get_reply", false, b_get_reply, 0, 61},
    {"kv_get_reply_wrong_leader", false, b_get_reply, 1, 61},
    {"kv_get_reply_no_key", false, b_get_reply, 2, 55},
    {"kv_put_args", false, b_put_append_args, 0, 111},
    {"kv_append_args", false, b_put_append_args, 1, 114},
    {"kv_put_append_reply", false, b_put_append_reply, 0, 45},
    {"kv_put_append_reply_wrong_leader", false, b_put_append_reply, 1, 57},
    {"kv_op_put", false, b_op, 0, 102},
    {"kv_op_append", false, b_op, 1, 105},
    {"append_entries_1_op", false, b_append_entries, AE(1, CMD_PUT), 331},
    {"append_entries_10_op", false, b_append_entries, AE(10, CMD_PUT), 855},
    {"append_entries_10_op_append", false, b_append_entries, AE(10, CMD_APPEND), 885},
    {"raft_state_dummy_10_op_snap", true, b_persist, PERSIST(10, CMD_PUT, 1, 1), 744},
    {"kv_snapshot_1_keys", true, b_kv_snapshot, KV(1, 0), 34},
    {"kv_snapshot_10_keys", true, b_kv_snapshot, KV(10, 0), 161},
    {"kv_snapshot_100_keys", true, b_kv_snapshot, KV(100, 0), 1512},
    {"kv_snapshot_3_clients", true, b_kv_snapshot, KV(0, 3), 50},
    {"kv_snapshot_100_clients", true, b_kv_snapshot, KV(0, 100), 1022},
    {"kv_snapshot_1_keys_3_clients", true, b_kv_snapshot, KV(1, 3), 84},
    {"kv_snapshot_1_keys_100_clients", true, b_kv_snapshot, KV(1, 100), 1056},
    {"kv_snapshot_10_keys_3_clients", true, b_kv_snapshot, KV(10, 3), 211},
    {"kv_snapshot_10_keys_100_clients", true, b_kv_snapshot, KV(10, 100), 1183},
    {"kv_snapshot_100_keys_3_clients", true, b_kv_snapshot, KV(100, 3), 1562},
    {"kv_snapshot_100_keys_100_clients", true, b_kv_snapshot, KV(100, 100), 2534},
};

/* Prints one row; returns its ratio (0 on an encoding error). */
static double bench_gob_row(FILE *out, struct bench_gob_ctx *x, const struct bench_gob_row *r)
{
    gob_enc_reset(x->e);
    r->build(x, r->arg);
    int rc = gob_enc_finish(x->e);
    if (rc != GOB_OK) {
        fprintf(out, "bench gob msg=%s error=\"%s\"\n", r->name, gob_strerror(rc));
        return 0;
    }
    size_t model = r->stream ? gob_enc_size_stream(x->e) : gob_enc_size_rpc(x->e);
    double ratio = (double)model / (double)r->go_bytes;
    fprintf(out,
            "bench gob msg=%s model=%s bytes=%zu gob_model_bytes=%zu go_gob_bytes=%d "
            "ratio=%.3f\n",
            r->name, r->stream ? "stream" : "rpc", gob_enc_len(x->e), model, r->go_bytes, ratio);
    return ratio;
}

static void bench_gob_sizes(FILE *out, struct bench_gob_ctx *x)
{
    const size_t rows = sizeof(bench_gob_rows) / sizeof(bench_gob_rows[0]);
    double lo = 1e9;
    double hi = 0;
    for (size_t i = 0; i < rows; i++) {
        double ratio = bench_gob_row(out, x, &bench_gob_rows[i]);
        if (ratio < lo) lo = ratio;
        if (ratio > hi) hi = ratio;
    }
    bool ok = lo >= BENCH_GOB_RATIO_MIN && hi <= BENCH_GOB_RATIO_MAX;
    fprintf(out, "bench gob model rows=%zu ratio_min=%.3f ratio_max=%.3f within_15pct=%s\n", rows,
            lo, hi, ok ? "yes" : "no");
}

/* ------------------------------------------------------------ speed */

/* Decodes AppendEntries (the rows' shape); returns the entries seen or -1 on error. */
static int64_t bench_gob_decode_ae(const uint8_t *buf, size_t len)
{
    struct gob_dec d;
    int64_t v[5] = {0};
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, 1, &v[0]);
    gob_get_int(&d, 2, &v[1]);
    gob_get_int(&d, 3, &v[2]);
    gob_get_int(&d, 4, &v[3]);
    uint64_t count = gob_get_array_begin(&d, 5, GOB_RECORD);
    for (uint64_t i = 0; i < count; i++) {
        int64_t term = 0;
        const uint8_t *cmd = NULL;
        size_t cmd_len = 0;
        gob_get_elem_record_begin(&d);
        gob_get_int(&d, 1, &term);
        gob_get_iface(&d, 2, &cmd, &cmd_len);
        gob_get_record_end(&d);
    }
    if (count > 0) gob_get_array_end(&d);
    gob_get_int(&d, 6, &v[4]);
    return gob_dec_finish(&d) == GOB_OK && v[0] > 0 ? (int64_t)count : -1;
}

/* Encodes and decodes AppendEntries with 10 entries, BENCH_GOB_ROUNDS times. */
static void bench_gob_speed(FILE *out, struct bench_gob_ctx *x)
{
    double t0 = bench_wall_ms();
    for (uint32_t round = 0; round < BENCH_GOB_ROUNDS; round++) {
        gob_enc_reset(x->e);
        b_append_entries(x, AE(10, CMD_INT));
        gob_put_int(x->e, 7, round); /* vary the input so no round can be folded away */
        if (gob_enc_finish(x->e) != GOB_OK ||
            bench_gob_decode_ae(gob_enc_bytes(x->e), gob_enc_len(x->e)) != 10) {
            fprintf(out, "bench gob encode_decode error at round %u\n", round);
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
    struct gob_enc cmd;
    gob_enc_init(&e);
    gob_enc_init(&cmd);
    struct bench_gob_ctx x = {&e, &cmd};
    bench_gob_sizes(out, &x);
    bench_gob_speed(out, &x);
    gob_enc_free(&cmd);
    gob_enc_free(&e);
}
