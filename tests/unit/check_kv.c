/* check_kv: the kvraft Check suite.
 *
 * - graded: every kvraft graded test through lab_run on two seeds, asserting LAB_PASS (the
 *   failure message is in the assertion), plus a replay that must reproduce the digest.
 * - store / codec: the store, the duplicate table and the labgob codecs, including malformed
 *   input.
 * - server: scenarios on a live cluster, each a small lab test body: a duplicated Append is
 *   applied once (sent twice by hand, and with labrpc duplicating every request), a clerk
 *   retries past non-leaders and then remembers the leader, clerks make distinct ids of their
 *   own that the servers tell apart, a restart from a snapshot keeps
 *   the duplicate table, bad arguments get an error reply.
 * - history: the harness turns an ILLEGAL history into a failure with an HTML artifact and an
 *   exhausted budget into LAB_UNKNOWN.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv_cfg_int.h"
#include "kv_int.h"
#include "kv_tests.h"

#define GRADED_SEEDS 2

/* ---------------------------------------------------------------- helpers */

static void run_body(lab_test_fn fn, const char *name, uint64_t seed, const char *artifact_dir,
                     struct lab_result *result)
{
    struct lab_test test = {name, "unit", name, fn};
    struct lab_opts opts = {0};
    opts.artifact_dir = artifact_dir;
    int rc = lab_run(&test, seed, &opts, result);
    ck_assert_int_eq(rc, 0);
}

static void assert_pass(const struct lab_result *r)
{
    ck_assert_msg(r->outcome == LAB_PASS, "outcome %d at %.3fs: %s", (int)r->outcome,
                  (double)r->fail_at_us / 1e6, r->message);
}

/* Runs fn as a graded-style test on one seed; it must pass. */
static void run_pass(lab_test_fn fn, const char *name, uint64_t seed)
{
    struct lab_result r;
    run_body(fn, name, seed, NULL, &r);
    assert_pass(&r);
}

/* Waits (in the test task) for a leader, up to 5 s of virtual time. */
static int await_leader(struct kv_cfg *cfg)
{
    for (int tries = 0; tries < 50; tries++) {
        int l = 0;
        if (kv_cfg_leader(cfg, &l)) return l;
        sim_sleep_us(kv_cfg_sim(cfg), SIM_MS(100));
    }
    lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "no leader");
    return -1;
}

/* Sends one op by hand on `end` and returns the reply's error (KV_REPLY_*), or -1 when the
 * call failed. */
static int raw_call(struct kv_cfg *cfg, struct rpc_end *end, const struct kv_op *op)
{
    const char *method = kv_method_full_names[op->kind];
    struct gob_enc e;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    struct kv_reply r;
    gob_enc_init(&e);
    if (kv_op_encode(&e, op) != KV_OK) lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "encode failed");
    bool ok =
        rpc_end_call_wait(end, method, gob_enc_bytes(&e), gob_enc_len(&e), &reply, &reply_len);
    gob_enc_free(&e);
    int err = -1;
    if (ok && kv_reply_decode(reply, reply_len, &r) == KV_OK) err = (int)r.err;
    free(reply);
    return err;
}

static struct kv_op op_make(uint64_t client, uint64_t seq, enum kv_op_kind kind, const char *key,
                            const char *value)
{
    struct kv_op op = {client,
                       seq,
                       kind,
                       (const uint8_t *)key,
                       strlen(key),
                       (const uint8_t *)value,
                       value != NULL ? strlen(value) : 0};
    return op;
}

/* Sends `op` to the leader until it is answered OK. */
static void raw_until_ok(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const struct kv_op *op)
{
    for (int tries = 0; tries < 100; tries++) {
        int l = await_leader(cfg);
        if (raw_call(cfg, ck->ends[l], op) == KV_REPLY_OK) return;
        sim_sleep_us(kv_cfg_sim(cfg), SIM_MS(100));
    }
    lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "op never answered OK");
}

static void expect_value(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key,
                         const char *want)
{
    kv_cfg_check(cfg, ck, key, want);
}

/* ---------------------------------------------------------------- graded */

START_TEST(test_kv_graded)
{
    size_t count = lab_kv_tests_count;
    const struct lab_test *test = &lab_kv_tests[(size_t)_i % count];
    uint64_t seed = 1 + (uint64_t)_i / count;
    struct lab_result r;
    ck_assert_int_eq(lab_run(test, seed, NULL, &r), 0);
    ck_assert_msg(r.outcome == LAB_PASS, "%s seed %llu: outcome %d: %s", test->name,
                  (unsigned long long)seed, (int)r.outcome, r.message);
    uint32_t lines = strcmp(test->name, "TestOnePartition4A") == 0 ? 3 : 1;
    ck_assert_uint_eq(r.passed_lines, lines);
}
END_TEST

START_TEST(test_kv_replay_digest)
{
    const struct lab_test *test = lab_test_find("TestPersistPartitionUnreliable4A");
    ck_assert_ptr_nonnull(test);
    struct lab_result a;
    struct lab_result b;
    struct lab_result c;
    ck_assert_int_eq(lab_run(test, 7, NULL, &a), 0);
    ck_assert_int_eq(lab_run(test, 7, NULL, &b), 0);
    ck_assert_int_eq(lab_run(test, 8, NULL, &c), 0);
    ck_assert_uint_eq(a.digest, b.digest);
    ck_assert_uint_eq(a.events, b.events);
    ck_assert_uint_ne(a.digest, c.digest);
}
END_TEST

START_TEST(test_kv_catalogue)
{
    ck_assert_uint_eq(lab_kv_tests_count, 23);
    size_t parts_4a = 0;
    for (size_t i = 0; i < lab_kv_tests_count; i++) {
        const struct lab_test *found = lab_test_find(lab_kv_tests[i].name);
        ck_assert_ptr_nonnull(found);
        ck_assert(found->fn == lab_kv_tests[i].fn);
        parts_4a += strcmp(lab_kv_tests[i].part, "4A") == 0;
    }
    ck_assert_uint_eq(parts_4a, 14);
}
END_TEST

/* ---------------------------------------------------------------- store / codec */

START_TEST(test_kv_store_basic)
{
    struct kv_store s;
    kv_store_init(&s);
    ck_assert_ptr_null(kv_store_find(&s, (const uint8_t *)"a", 1));
    ck_assert_int_eq(kv_store_append(&s, (const uint8_t *)"a", 1, (const uint8_t *)"x", 1), KV_OK);
    ck_assert_int_eq(kv_store_append(&s, (const uint8_t *)"a", 1, (const uint8_t *)"yz", 2), KV_OK);
    ck_assert_str_eq((const char *)kv_store_find(&s, (const uint8_t *)"a", 1)->value, "xyz");
    ck_assert_int_eq(kv_store_put(&s, (const uint8_t *)"a", 1, (const uint8_t *)"q", 1), KV_OK);
    ck_assert_str_eq((const char *)kv_store_find(&s, (const uint8_t *)"a", 1)->value, "q");
    /* Many keys: the index grows; every key stays findable. */
    char key[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", 999 - i);
        ck_assert_int_eq(
            kv_store_put(&s, (const uint8_t *)key, strlen(key), (const uint8_t *)key, strlen(key)),
            KV_OK);
    }
    ck_assert_uint_eq(s.entries_count, 1001);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        const struct kv_entry *e = kv_store_find(&s, (const uint8_t *)key, strlen(key));
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq((const char *)e->value, key);
    }
    uint32_t *order = kv_store_sorted(&s);
    ck_assert_ptr_nonnull(order);
    for (size_t i = 1; i < s.entries_count; i++)
        ck_assert_int_lt(strcmp((const char *)s.entries[order[i - 1]].key,
                                (const char *)s.entries[order[i]].key),
                         0);
    free(order);
    /* Limits are errors, and leave the store as it was. */
    ck_assert_int_eq(kv_store_put(&s, (const uint8_t *)"a", 1, NULL, KV_VALUE_MAX + 1), KV_ELIMIT);
    ck_assert_str_eq((const char *)kv_store_find(&s, (const uint8_t *)"a", 1)->value, "q");
    kv_store_close(&s);
}
END_TEST

START_TEST(test_kv_dups)
{
    struct kv_dups d;
    kv_dups_init(&d);
    ck_assert_ptr_null(kv_dups_find(&d, 5));
    ck_assert_int_eq(kv_dups_record(&d, 9, 1, 0), KV_OK);
    ck_assert_int_eq(kv_dups_record(&d, 5, 3, 0), KV_OK);
    ck_assert_int_eq(kv_dups_record(&d, 7, 2, 5), KV_OK);
    ck_assert_int_eq(kv_dups_record(&d, 5, 4, 0), KV_OK);
    ck_assert_uint_eq(d.sessions_count, 3);
    ck_assert_uint_eq(d.sessions[0].client_id, 5);
    ck_assert_uint_eq(d.sessions[1].client_id, 7);
    ck_assert_uint_eq(d.sessions[2].client_id, 9);
    ck_assert_uint_eq(kv_dups_find(&d, 5)->seq_last, 4);
    ck_assert_uint_eq(kv_dups_find(&d, 7)->err_last, 5);
    kv_dups_close(&d);
}
END_TEST

START_TEST(test_kv_codec_roundtrip)
{
    struct gob_enc e;
    gob_enc_init(&e);
    struct kv_op op = op_make(1005, 42, KV_OP_APPEND, "key", "x 1 2 y");
    struct kv_op back;
    ck_assert_int_eq(kv_op_encode(&e, &op), KV_OK);
    ck_assert_int_eq(kv_op_decode(gob_enc_bytes(&e), gob_enc_len(&e), &back), KV_OK);
    ck_assert_uint_eq(back.client_id, 1005);
    ck_assert_uint_eq(back.seq, 42);
    ck_assert_int_eq(back.kind, KV_OP_APPEND);
    ck_assert_mem_eq(back.key, "key", 3);
    ck_assert_mem_eq(back.value, "x 1 2 y", 7);
    /* Every truncation of a valid op is rejected or decodes to a prefix of its fields; it
     * never reads out of bounds (ASan proves that part). */
    for (size_t len = 0; len < gob_enc_len(&e); len++)
        (void)kv_op_decode(gob_enc_bytes(&e), len, &back);
    /* A kind that is no method, or of the wrong wire type, is malformed. */
    gob_enc_reset(&e);
    gob_put_str(&e, 3, "Delete");
    ck_assert_int_eq(kv_op_decode(gob_enc_bytes(&e), gob_enc_len(&e), &back), KV_EDECODE);
    gob_enc_reset(&e);
    gob_put_uint(&e, 3, 7);
    ck_assert_int_eq(kv_op_decode(gob_enc_bytes(&e), gob_enc_len(&e), &back), KV_EDECODE);
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    ck_assert_int_eq(kv_op_decode(junk, sizeof(junk), &back), KV_EDECODE);

    struct kv_reply reply = {KV_REPLY_OK, (const uint8_t *)"v", 1};
    struct kv_reply rback;
    ck_assert_int_eq(kv_reply_encode(&e, &reply), KV_OK);
    ck_assert_int_eq(kv_reply_decode(gob_enc_bytes(&e), gob_enc_len(&e), &rback), KV_OK);
    ck_assert_int_eq(rback.err, KV_REPLY_OK);
    ck_assert_uint_eq(rback.value_len, 1);
    gob_enc_reset(&e);
    gob_put_uint(&e, 1, KV_REPLY_ERRS_COUNT);
    ck_assert_int_eq(kv_reply_decode(gob_enc_bytes(&e), gob_enc_len(&e), &rback), KV_EDECODE);
    gob_enc_free(&e);
}
END_TEST

START_TEST(test_kv_snapshot_roundtrip)
{
    struct kv_store s;
    struct kv_dups d;
    kv_store_init(&s);
    kv_dups_init(&d);
    kv_store_put(&s, (const uint8_t *)"b", 1, (const uint8_t *)"2", 1);
    kv_store_put(&s, (const uint8_t *)"a", 1, (const uint8_t *)"1", 1);
    kv_store_put(&s, (const uint8_t *)"", 0, (const uint8_t *)"empty key", 9);
    kv_store_put(&s, (const uint8_t *)"c", 1, NULL, 0);
    kv_dups_record(&d, 1001, 17, 0);
    kv_dups_record(&d, 1000, 3, KV_REPLY_TOO_BIG);
    struct gob_enc e;
    gob_enc_init(&e);
    ck_assert_int_eq(kv_snapshot_encode(&e, 99, &s, &d), KV_OK);
    struct kv_store s2;
    struct kv_dups d2;
    kv_store_init(&s2);
    kv_dups_init(&d2);
    uint64_t index = 0;
    ck_assert_int_eq(kv_snapshot_decode(gob_enc_bytes(&e), gob_enc_len(&e), &index, &s2, &d2),
                     KV_OK);
    ck_assert_uint_eq(index, 99);
    ck_assert_uint_eq(s2.entries_count, 4);
    /* Decoded in key order. */
    ck_assert_uint_eq(s2.entries[0].key_len, 0);
    ck_assert_str_eq((const char *)s2.entries[1].key, "a");
    ck_assert_str_eq((const char *)kv_store_find(&s2, (const uint8_t *)"", 0)->value, "empty key");
    ck_assert_uint_eq(kv_store_find(&s2, (const uint8_t *)"c", 1)->value_len, 0);
    ck_assert_uint_eq(d2.sessions_count, 2);
    ck_assert_uint_eq(kv_dups_find(&d2, 1001)->seq_last, 17);
    ck_assert_uint_eq(kv_dups_find(&d2, 1000)->err_last, KV_REPLY_TOO_BIG);
    /* Same contents, same bytes: the encoding does not depend on insertion order. */
    struct gob_enc e2;
    gob_enc_init(&e2);
    ck_assert_int_eq(kv_snapshot_encode(&e2, 99, &s2, &d2), KV_OK);
    ck_assert_uint_eq(gob_enc_len(&e), gob_enc_len(&e2));
    ck_assert_mem_eq(gob_enc_bytes(&e), gob_enc_bytes(&e2), gob_enc_len(&e));
    /* Truncations never crash; the full-length minus one is an error. */
    for (size_t len = 0; len < gob_enc_len(&e); len++) {
        struct kv_store s3;
        struct kv_dups d3;
        kv_store_init(&s3);
        kv_dups_init(&d3);
        (void)kv_snapshot_decode(gob_enc_bytes(&e), len, &index, &s3, &d3);
        kv_store_close(&s3);
        kv_dups_close(&d3);
    }
    gob_enc_free(&e);
    gob_enc_free(&e2);
    kv_store_close(&s);
    kv_store_close(&s2);
    kv_dups_close(&d);
    kv_dups_close(&d2);
}
END_TEST

START_TEST(test_kv_strerror)
{
    ck_assert_str_eq(kv_strerror(KV_OK), "success");
    ck_assert_str_eq(kv_strerror(KV_EDECODE), "malformed encoded op, reply or snapshot");
    ck_assert_str_eq(kv_strerror(-99), "unknown kvraft error");
    char full[64];
    for (int k = 0; k < KV_OP_KINDS_COUNT; k++) {
        snprintf(full, sizeof(full), "KVServer.%s", kv_method_names[k]);
        ck_assert_str_eq(kv_method_full_names[k], full);
    }
}
END_TEST

/* ---------------------------------------------------------------- server scenarios */

/* The same Append (same client id and seq) sent twice is applied once, also when it is
 * resent after a later op of the same client. */
static void body_duplicate_append(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitDuplicateAppend", 3, false, -1);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_put(cfg, ck, "k", "", -1);
    struct kv_op a = op_make(77, 1, KV_OP_APPEND, "k", "a");
    struct kv_op b = op_make(77, 2, KV_OP_APPEND, "k", "b");
    raw_until_ok(cfg, ck, &a);
    raw_until_ok(cfg, ck, &a);
    expect_value(cfg, ck, "k", "a");
    raw_until_ok(cfg, ck, &b);
    raw_until_ok(cfg, ck, &a); /* a late retry of an older op */
    expect_value(cfg, ck, "k", "ab");
    int l = await_leader(cfg);
    struct kv_server_stats st;
    kv_server_stats(cfg->servers[l], &st);
    if (st.duplicates_skipped < 2)
        lab_fatalf(ctx, l, "duplicates skipped %llu, want >= 2",
                   (unsigned long long)st.duplicates_skipped);
    /* No history check: the hand-sent ops are not in it. */
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_duplicate_append_applied_once)
{
    run_pass(body_duplicate_append, "UnitDuplicateAppend", 3);
}
END_TEST

/* labrpc runs every request's handler twice: Appends still land exactly once. */
static void body_network_duplicates(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    char value[32];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitNetworkDuplicates", 5, true, -1);
    rpc_net_set_duplicate_permille(cfg->net, 1000);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_put(cfg, ck, "0", "", 0);
    for (int j = 0; j < 40; j++) {
        snprintf(value, sizeof(value), "x 0 %d y", j);
        kv_cfg_append(cfg, ck, "0", value, 0);
    }
    const char *v = kv_cfg_get(cfg, ck, "0", 0);
    kv_cfg_check_clnt_appends(cfg, 0, v, 40);
    kv_cfg_check_history(cfg);
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_network_duplicates)
{
    run_pass(body_network_duplicates, "UnitNetworkDuplicates", (uint64_t)_i + 1);
}
END_TEST

/* Clerks name themselves (Go's nrand): 64 clerks get 64 distinct ids below 2^62, and two
 * clerks' first Appends (both seq 1) are both applied, so the servers told them apart. */
static void body_clerk_ids(struct lab_ctx *ctx)
{
    enum { CLERKS = 64 };
    int all[KV_CFG_SERVERS_MAX];
    uint64_t ids[CLERKS];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitClerkIds", 3, false, -1);
    struct kv_cfg_clerk *cks[CLERKS];
    for (int i = 0; i < CLERKS; i++) {
        cks[i] = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
        ids[i] = kv_clerk_id(cks[i]->ck);
        if (ids[i] >= (1ull << 62)) lab_fatalf(ctx, SIM_NODE_NONE, "clerk id %d is not 62-bit", i);
        for (int j = 0; j < i; j++)
            if (ids[j] == ids[i]) lab_fatalf(ctx, SIM_NODE_NONE, "clerks %d and %d collide", j, i);
    }
    kv_cfg_put(cfg, cks[0], "k", "", -1);
    kv_cfg_append(cfg, cks[1], "k", "a", -1);
    kv_cfg_append(cfg, cks[2], "k", "b", -1);
    expect_value(cfg, cks[0], "k", "ab");
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_clerk_ids)
{
    run_pass(body_clerk_ids, "UnitClerkIds", 3);
}
END_TEST

/* A clerk whose first servers are not the leader gets there, then goes straight to it. */
static void body_wrong_leader_retry(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitWrongLeader", 3, false, -1);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_put(cfg, ck, "k", "v", -1);
    int l = await_leader(cfg);
    struct rpc_end *ends[3] = {ck->ends[(l + 1) % 3], ck->ends[(l + 2) % 3], ck->ends[l]};
    struct kv_clerk *mine = kv_clerk_new(kv_cfg_sim(cfg), ends, 3);
    int rc = kv_clerk_append(mine, "k", "w");
    uint64_t rpcs1 = kv_clerk_calls(mine);
    int leader_index = kv_clerk_leader(mine);
    char *v = kv_clerk_get(mine, "k");
    uint64_t rpcs2 = kv_clerk_calls(mine);
    bool ok = rc == KV_OK && v != NULL && strcmp(v, "vw") == 0;
    free(v);
    kv_clerk_free(mine);
    if (!ok) lab_fatalf(ctx, SIM_NODE_NONE, "append through a wrong-leader clerk failed");
    /* Two ErrWrongLeader answers, then the leader. */
    if (rpcs1 != 3 || leader_index != 2)
        lab_fatalf(ctx, SIM_NODE_NONE, "first op: %llu RPCs, leader index %d (want 3, 2)",
                   (unsigned long long)rpcs1, leader_index);
    if (rpcs2 - rpcs1 != 1)
        lab_fatalf(ctx, SIM_NODE_NONE, "second op took %llu RPCs, want 1 (remembered leader)",
                   (unsigned long long)(rpcs2 - rpcs1));
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_wrong_leader_retry)
{
    run_pass(body_wrong_leader_retry, "UnitWrongLeader", 5);
}
END_TEST

/* A restart from a snapshot keeps the duplicate table: a late retry is still recognised. */
static void body_snapshot_keeps_dups(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    char value[32];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitSnapshotDups", 3, false, 300);
    int n = kv_cfg_all(cfg, all);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, n);
    kv_cfg_put(cfg, ck, "k", "", -1);
    struct kv_op z = op_make(99, 1, KV_OP_APPEND, "k", "z");
    raw_until_ok(cfg, ck, &z);
    for (int j = 0; j < 60; j++) {
        snprintf(value, sizeof(value), "%d.", j);
        kv_cfg_put(cfg, ck, "other", value, -1);
    }
    if (kv_cfg_snapshot_size(cfg) == 0)
        lab_fatalf(ctx, SIM_NODE_NONE, "no snapshot after 60 ops with maxraftstate 300");
    for (int i = 0; i < n; i++)
        kv_cfg_shutdown_server(cfg, i);
    sim_sleep_us(kv_cfg_sim(cfg), SIM_S(1));
    for (int i = 0; i < n; i++)
        kv_cfg_start_server(cfg, i);
    kv_cfg_connect_all(cfg);
    raw_until_ok(cfg, ck, &z);
    expect_value(cfg, ck, "k", "z");
    expect_value(cfg, ck, "other", "59.");
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_snapshot_keeps_dups)
{
    run_pass(body_snapshot_keeps_dups, "UnitSnapshotDups", 11);
}
END_TEST

/* Malformed arguments and a method/kind mismatch are answered with ErrBadArgs. */
static void body_bad_args(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitBadArgs", 3, false, -1);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_put(cfg, ck, "k", "v", -1);
    int l = await_leader(cfg);
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01};
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    struct kv_reply r;
    bool ok =
        rpc_end_call_wait(ck->ends[l], "KVServer.Put", junk, sizeof(junk), &reply, &reply_len);
    int err = ok && kv_reply_decode(reply, reply_len, &r) == KV_OK ? (int)r.err : -1;
    free(reply);
    if (err != KV_REPLY_BAD_ARGS) lab_fatalf(ctx, l, "junk Put answered %d, want ErrBadArgs", err);
    struct kv_op get_as_put = op_make(5, 1, KV_OP_GET, "k", NULL);
    struct gob_enc e;
    gob_enc_init(&e);
    kv_op_encode(&e, &get_as_put);
    reply = NULL;
    ok = rpc_end_call_wait(ck->ends[l], "KVServer.Put", gob_enc_bytes(&e), gob_enc_len(&e), &reply,
                           &reply_len);
    gob_enc_free(&e);
    err = ok && kv_reply_decode(reply, reply_len, &r) == KV_OK ? (int)r.err : -1;
    free(reply);
    if (err != KV_REPLY_BAD_ARGS)
        lab_fatalf(ctx, l, "Get sent to Put answered %d, want ErrBadArgs", err);
    expect_value(cfg, ck, "k", "v");
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_bad_args)
{
    run_pass(body_bad_args, "UnitBadArgs", 2);
}
END_TEST

/* ---------------------------------------------------------------- history verdicts */

static void body_illegal(struct lab_ctx *ctx)
{
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitIllegal", 3, false, -1);
    kv_cfg_history_add(cfg, 0, 0, 10, KV_CFG_PUT, "x", "1", NULL);
    kv_cfg_history_add(cfg, 1, 20, 30, KV_CFG_GET, "x", NULL, "2");
    kv_cfg_mark(cfg, 1, "crash 1");
    kv_cfg_check_history(cfg);
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_history_illegal)
{
    char dir[] = "/tmp/kvillegalXXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    struct lab_result r;
    run_body(body_illegal, "UnitIllegal", 1, dir, &r);
    ck_assert_int_eq(r.outcome, LAB_FAIL);
    ck_assert_str_eq(r.message, "history is not linearizable");
    char want[300];
    snprintf(want, sizeof(want), "%s/UnitIllegal-1.html", dir);
    ck_assert_str_eq(r.artifact, want);
    ck_assert_int_eq(access(want, R_OK), 0);
    unlink(want);
    rmdir(dir);
}
END_TEST

static void body_unknown(struct lab_ctx *ctx)
{
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitUnknown", 3, false, -1);
    /* Three concurrent appends and a read: more than the 2 steps the budget allows. */
    kv_cfg_history_add(cfg, 0, 0, 100, KV_CFG_APPEND, "x", "a", NULL);
    kv_cfg_history_add(cfg, 1, 0, 100, KV_CFG_APPEND, "x", "b", NULL);
    kv_cfg_history_add(cfg, 2, 0, 100, KV_CFG_APPEND, "x", "c", NULL);
    kv_cfg_history_add(cfg, 3, 200, 300, KV_CFG_GET, "x", NULL, "cba");
    kv_cfg_set_lin_steps(cfg, 2);
    kv_cfg_check_history(cfg);
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_history_unknown)
{
    struct lab_result r;
    run_body(body_unknown, "UnitUnknown", 1, NULL, &r);
    ck_assert_msg(r.outcome == LAB_UNKNOWN, "outcome %d: %s", (int)r.outcome, r.message);
}
END_TEST

static void body_history_ok(struct lab_ctx *ctx)
{
    struct kv_cfg *cfg = kv_cfg_make(ctx, "UnitHistoryOk", 3, false, -1);
    size_t before = kv_cfg_history_count(cfg);
    /* A Get overlapping a Put may see either value; one after it must see the new one. */
    kv_cfg_history_add(cfg, 0, 0, 10, KV_CFG_PUT, "x", "1", NULL);
    kv_cfg_history_add(cfg, 1, 5, 15, KV_CFG_GET, "x", NULL, "");
    kv_cfg_history_add(cfg, 2, 20, 30, KV_CFG_GET, "x", NULL, "1");
    kv_cfg_history_add(cfg, 2, 40, 50, KV_CFG_GET, "y", NULL, "");
    if (kv_cfg_history_count(cfg) != before + 4) lab_fatalf(ctx, SIM_NODE_NONE, "history count");
    kv_cfg_check_history(cfg);
    kv_cfg_cleanup(cfg);
}

START_TEST(test_kv_history_ok)
{
    run_pass(body_history_ok, "UnitHistoryOk", 1);
}
END_TEST

START_TEST(test_kv_duration_format)
{
    char buf[48];
    kv_cfg_duration_format(100000000ull / 3ull, buf, sizeof(buf));
    ck_assert_str_eq(buf, "33.333333ms");
    kv_cfg_duration_format(5000000ull, buf, sizeof(buf));
    ck_assert_str_eq(buf, "5ms");
    kv_cfg_duration_format(1500000000ull, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1.5s");
    kv_cfg_duration_format(61000000000ull, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1m1s");
    kv_cfg_duration_format(999ull, buf, sizeof(buf));
    ck_assert_str_eq(buf, "999ns");
    kv_cfg_duration_format(0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "0s");
}
END_TEST

Suite *kv_suite(void)
{
    Suite *s = suite_create("kv");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, test_kv_store_basic);
    tcase_add_test(unit, test_kv_dups);
    tcase_add_test(unit, test_kv_codec_roundtrip);
    tcase_add_test(unit, test_kv_snapshot_roundtrip);
    tcase_add_test(unit, test_kv_strerror);
    tcase_add_test(unit, test_kv_duration_format);
    tcase_add_test(unit, test_kv_catalogue);
    suite_add_tcase(s, unit);

    TCase *server = tcase_create("server");
    tcase_set_timeout(server, 30);
    tcase_add_test(server, test_kv_duplicate_append_applied_once);
    tcase_add_loop_test(server, test_kv_network_duplicates, 0, 3);
    tcase_add_test(server, test_kv_wrong_leader_retry);
    tcase_add_test(server, test_kv_clerk_ids);
    tcase_add_test(server, test_kv_snapshot_keeps_dups);
    tcase_add_test(server, test_kv_bad_args);
    tcase_add_test(server, test_kv_history_illegal);
    tcase_add_test(server, test_kv_history_unknown);
    tcase_add_test(server, test_kv_history_ok);
    suite_add_tcase(s, server);

    TCase *graded = tcase_create("graded");
    tcase_set_timeout(graded, 60);
    tcase_add_loop_test(graded, test_kv_graded, 0, (int)(lab_kv_tests_count * GRADED_SEEDS));
    tcase_add_test(graded, test_kv_replay_digest);
    suite_add_tcase(s, graded);
    return s;
}
