/* Writes the committed seed corpus of the labgob fuzzer (tests/fuzz/corpus/gob/): a few dozen
 * small v2 messages that reach every wire type, every nesting shape, every header kind and
 * every error path, so the fuzzer starts from the interesting places. Crafted bad bodies go
 * behind a valid header (gob_fuzz_frame) so they reach the body decoder; crafted bad headers
 * go as they are. `make fuzz-gob-seeds` rebuilds them; the output is deterministic, so a
 * rerun changes no file (stale seeds of an older format must be deleted by hand).
 *
 * Usage: gen_gob_seeds <directory>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gob_fuzz_oracle.h"

#define KEY(delta, type) ((uint8_t)(((delta) << 3) | (type)))

static int seed_write(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    size_t wrote = n > 0 ? fwrite(p, 1, n, f) : 0;
    int closed = fclose(f);
    if (wrote != n || closed != 0) {
        fprintf(stderr, "gen_gob_seeds: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int seed_enc(const char *dir, const char *name, struct gob_enc *e)
{
    if (gob_enc_finish(e) != GOB_OK) {
        fprintf(stderr, "gen_gob_seeds: %s: %s\n", name, gob_strerror(gob_enc_finish(e)));
        return 1;
    }
    int rc = seed_write(dir, name, gob_enc_bytes(e), gob_enc_len(e));
    gob_enc_reset(e);
    return rc;
}

/* AppendEntries with `count` entries whose commands are boxed ints (every fifth one nil). */
static int seed_ae(const char *dir, const char *name, struct gob_enc *e, uint64_t count)
{
    struct gob_enc cmd;
    gob_enc_init(&cmd);
    gob_put_int(&cmd, 1, 100);
    struct ae_entry entries[16];
    for (uint64_t i = 0; i < count && i < 16; i++) {
        entries[i].term = 3 + i / 4;
        entries[i].command = gob_enc_bytes(&cmd);
        entries[i].command_len = i % 5 == 4 ? 0 : gob_enc_len(&cmd);
    }
    struct ae_msg m = {5, 1, 42, 4, entries, count, 40};
    int rc = ae_encode(&m, e) != GOB_OK ? 1 : seed_enc(dir, name, e);
    gob_enc_free(&cmd);
    return rc;
}

static int seeds_arrays(const char *dir, struct gob_enc *e)
{
    gob_put_array_begin(e, 1, GOB_INT, 3);
    gob_put_elem_int(e, -1);
    gob_put_elem_int(e, 0);
    gob_put_elem_int(e, 300);
    gob_put_array_end(e);
    gob_put_array_begin(e, 2, GOB_BOOL, 2);
    gob_put_elem_bool(e, true);
    gob_put_elem_bool(e, false);
    gob_put_array_end(e);
    gob_put_array_begin(e, 3, GOB_BYTES, 2);
    gob_put_elem_bytes(e, "", 0);
    gob_put_elem_bytes(e, "ab", 2);
    gob_put_array_end(e);
    gob_put_array_begin(e, 4, GOB_ARRAY, 2);
    gob_put_array_begin(e, 0, GOB_UINT, 1);
    gob_put_elem_uint(e, 7);
    gob_put_array_end(e);
    gob_put_array_begin(e, 0, GOB_UINT, 0);
    gob_put_array_end(e);
    gob_put_array_end(e);
    int rc = seed_enc(dir, "arrays", e);
    gob_put_record_begin(e, 1);
    gob_put_str(e, 1, "key");
    gob_put_record_begin(e, 2);
    gob_put_str(e, 1, "value");
    gob_put_record_end(e);
    gob_put_record_end(e);
    gob_put_uint(e, 2, 9);
    rc |= seed_enc(dir, "records", e);
    gob_put_map_begin(e, 1, 2);
    for (int i = 0; i < 2; i++) {
        gob_put_record_begin(e, 0);
        gob_put_str(e, 1, i == 0 ? "a" : "");
        gob_put_int(e, 2, i);
        gob_put_record_end(e);
    }
    gob_put_map_end(e);
    rc |= seed_enc(dir, "map", e);
    return rc;
}

/* A run (one array of records) and a message holding it spliced twice. */
static int seeds_splices(const char *dir, struct gob_enc *e)
{
    struct gob_enc run;
    gob_enc_init(&run);
    gob_put_array_begin(&run, 1, GOB_RECORD, 2);
    for (int i = 0; i < 2; i++) {
        gob_put_record_begin(&run, 0);
        gob_put_int(&run, 1, 7);
        gob_put_iface(&run, 2, NULL, 0);
        gob_put_record_end(&run);
    }
    gob_put_array_end(&run);
    int rc = seed_enc(dir, "run", &run);
    gob_put_array_begin(&run, 1, GOB_RECORD, 2); /* seed_enc reset it: the same run again */
    for (int i = 0; i < 2; i++) {
        gob_put_record_begin(&run, 0);
        gob_put_int(&run, 1, 7);
        gob_put_iface(&run, 2, NULL, 0);
        gob_put_record_end(&run);
    }
    gob_put_array_end(&run);
    gob_put_int(e, 1, 5);
    gob_put_array_begin(e, 2, GOB_RECORD, 4);
    gob_put_elem_run(e, gob_enc_bytes(&run), gob_enc_len(&run));
    gob_put_elem_run(e, gob_enc_bytes(&run), gob_enc_len(&run));
    gob_put_array_end(e);
    gob_put_msg(e, 3, gob_enc_bytes(&run), gob_enc_len(&run));
    rc |= seed_enc(dir, "spliced", e);
    gob_enc_free(&run);
    return rc;
}

static int seeds_valid(const char *dir, struct gob_enc *e)
{
    int rc = seed_ae(dir, "ae-heartbeat", e, 0);
    rc |= seed_ae(dir, "ae-1", e, 1);
    rc |= seed_ae(dir, "ae-10", e, 10);
    rc |= seed_enc(dir, "empty", e);
    gob_put_uint(e, 1, 5);
    gob_put_int(e, 2, 2);
    gob_put_uint(e, 3, 42);
    gob_put_uint(e, 4, 4);
    rc |= seed_enc(dir, "request-vote", e);
    gob_put_uint(e, 1, 5);
    gob_put_bool(e, 2, true);
    rc |= seed_enc(dir, "request-vote-reply", e);
    gob_put_int(e, 1, INT64_MIN);
    gob_put_int(e, 2, INT64_MAX);
    gob_put_uint(e, 3, UINT64_MAX);
    gob_put_uint(e, UINT32_MAX, 1);
    rc |= seed_enc(dir, "extremes", e);
    gob_put_int(e, 1, 100);
    rc |= seed_enc(dir, "box-int", e);
    gob_put_str(e, 1, "a string command");
    rc |= seed_enc(dir, "box-bytes", e);
    gob_put_bool(e, 1, false);
    rc |= seed_enc(dir, "box-zero", e);
    rc |= seeds_arrays(dir, e);
    rc |= seeds_splices(dir, e);
    return rc;
}

static int seed_deep(const char *dir, struct gob_enc *e)
{
    for (uint32_t level = 0; level < GOB_DEPTH_MAX; level++) {
        if (level % 2 == 0) {
            gob_put_array_begin(e, level == 0 ? 1 : 3, GOB_RECORD, 1);
        } else {
            gob_put_record_begin(e, 0);
            gob_put_uint(e, 2, level);
        }
    }
    for (uint32_t level = GOB_DEPTH_MAX; level-- > 0;) {
        if (level % 2 == 0)
            gob_put_array_end(e);
        else
            gob_put_record_end(e);
    }
    return seed_enc(dir, "deep-16", e);
}

/* Writes a crafted body behind a valid header. */
static int seed_body(const char *dir, const char *name, const uint8_t *body, size_t n)
{
    uint8_t framed[GOB_FUZZ_FRAME_HEADER_MAX + 64];
    if (n > 64) return 1;
    return seed_write(dir, name, framed, gob_fuzz_frame(body, n, framed));
}

/* One crafted body per error the decoder can report for bad bytes. */
static int seeds_bad(const char *dir)
{
    static const struct {
        const char *name;
        uint8_t bytes[12];
        size_t len;
    } bad[] = {
        {"bad-truncated-varint", {KEY(1, GOB_UINT), 0x80}, 2},
        {"bad-truncated-record", {KEY(1, GOB_RECORD), KEY(1, GOB_UINT), 1}, 3},
        {"bad-overflow",
         {KEY(1, GOB_UINT), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
         11},
        {"bad-type-6", {0x0e, 0}, 2},
        {"bad-delta-0", {KEY(0, GOB_BYTES), 0}, 2},
        {"bad-top-end", {KEY(1, GOB_UINT), 1, 0}, 3},
        {"bad-elem-type", {KEY(1, GOB_ARRAY), 6, 1, 0}, 4},
        {"bad-count", {KEY(1, GOB_ARRAY), GOB_UINT, 9, 1}, 4},
        {"bad-length", {KEY(1, GOB_BYTES), 9, 'a'}, 3},
        {"bad-bool", {KEY(1, GOB_BOOL), 2}, 2},
        {"bad-elem-bool", {KEY(1, GOB_ARRAY), GOB_BOOL, 2, 1, 2}, 5},
        {"wrong-type-term", {KEY(1, GOB_INT), 3}, 2},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        rc |= seed_body(dir, bad[i].name, bad[i].bytes, bad[i].len);
    uint8_t deep[2 * (GOB_DEPTH_MAX + 1)];
    memset(deep, KEY(1, GOB_RECORD), GOB_DEPTH_MAX + 1);
    memset(deep + GOB_DEPTH_MAX + 1, 0, GOB_DEPTH_MAX + 1);
    rc |= seed_body(dir, "bad-depth-17", deep, sizeof(deep));
    return rc;
}

/* One crafted header per way a header can be wrong (each is GOB_EHEADER). */
static int seeds_bad_headers(const char *dir)
{
    static const uint8_t body[] = {KEY(1, GOB_UINT), 5};
    uint8_t good[GOB_FUZZ_FRAME_HEADER_MAX + sizeof(body)];
    size_t n = gob_fuzz_frame(body, sizeof(body), good);
    uint8_t in[GOB_FUZZ_FRAME_HEADER_MAX + sizeof(body) + 1];
    int rc = 0;
    memcpy(in, good, n);
    in[0] = 0x68;
    rc |= seed_write(dir, "bad-header-magic", in, n);
    memcpy(in, good, n);
    in[1] = GOB_MSG_KINDS_COUNT;
    rc |= seed_write(dir, "bad-header-kind", in, n);
    rc |= seed_write(dir, "bad-header-cut", good, 5);
    memcpy(in, good, n);
    in[n] = 0;
    rc |= seed_write(dir, "bad-header-padded", in, n + 1); /* body_len no longer matches */
    memcpy(in, good, n);
    in[3] = 3; /* stream below one Encode call */
    rc |= seed_write(dir, "bad-header-stream", in, n);
    static const uint8_t headerless[] = {KEY(1, GOB_UINT), 5};
    rc |= seed_write(dir, "bad-header-none", headerless, sizeof(headerless));
    static const uint8_t box_bool[] = {
        GOB_HEADER_MAGIC, GOB_MSG_BOX_BOOL, 2, 3, KEY(1, GOB_BOOL), 1};
    rc |= seed_write(dir, "bad-header-box", box_bool, sizeof(box_bool)); /* a bool costs 1 */
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_gob_seeds <directory>\n");
        return 2;
    }
    struct gob_enc e;
    gob_enc_init(&e);
    int rc = seeds_valid(argv[1], &e);
    rc |= seed_deep(argv[1], &e);
    rc |= seeds_bad(argv[1]);
    rc |= seeds_bad_headers(argv[1]);
    gob_enc_free(&e);
    return rc == 0 ? 0 : 1;
}
