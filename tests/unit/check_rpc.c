/* check_rpc: unit tests of labrpc, in virtual time.
 *
 * The first group ports labrpc's own Go tests (src/labrpc/test_test.go): Basic, Types,
 * Disconnect, Counts, Bytes, ConcurrentMany, Unreliable, ConcurrentOne, Regression1, Killed.
 * Arguments and replies are plain bytes (labrpc moves opaque bytes; labgob is not involved):
 * an int is 8 bytes little-endian, a string is its characters. The JunkServer handlers mirror
 * Go's. Test bodies that block run as sim tasks; each test names its seed.
 *
 * The second group pins down the rest of the contract: completion as events, the delay and
 * reordering bounds, determinism of the draws, the extensions, server replacement, cleanup,
 * the trace and the error paths.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labrpc.h"
#include "sim.h"

#define JUNK_SERVER_ID 7
#define RPC_TEST_LIMIT_US SIM_S(120)

/* ---------------------------------------------------------------- plain encodings */

static void enc_int(uint8_t out[8], int64_t x)
{
    uint64_t u = (uint64_t)x;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(u >> (8 * i));
}

static int64_t dec_int(const uint8_t *in, size_t len)
{
    ck_assert_uint_eq(len, 8);
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)in[i] << (8 * i);
    return (int64_t)u;
}

/* ---------------------------------------------------------------- the JunkServer */

struct junk {
    struct sim *sim;
    int log1_count;
    int log2_count;
    int handler4_runs;
    int handler5_runs;
    int handler2_node;           /* node context Handler2 last ran in */
    struct rpc_req *stuck;       /* Handler3's pending request */
    sim_time_us stuck_answer_us; /* answer it after this long (0 = never) */
    bool stuck_was_dead;         /* rpc_req_dead when it finally answered */
};

static void handler1(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct junk *js = receiver;
    char text[32] = {0};
    ck_assert_uint_lt(len, sizeof(text));
    memcpy(text, args, len);
    js->log1_count++;
    uint8_t reply[8];
    enc_int(reply, atoi(text));
    rpc_req_reply(req, reply, sizeof(reply));
}

static void handler2(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct junk *js = receiver;
    js->log2_count++;
    js->handler2_node = sim_node_current(js->sim);
    char reply[64];
    int n = snprintf(reply, sizeof(reply), "handler2-%lld", (long long)dec_int(args, len));
    rpc_req_reply(req, (const uint8_t *)reply, (size_t)n);
}

static void handler3_answer(struct sim *sim, void *arg)
{
    (void)sim;
    struct junk *js = arg;
    uint8_t reply[8];
    enc_int(reply, -99);
    js->stuck_was_dead = rpc_req_dead(js->stuck);
    rpc_req_reply(js->stuck, reply, sizeof(reply));
    js->stuck = NULL;
}

/* Go's Handler3 sleeps 20 s holding the lock: here it answers later, or never. */
static void handler3(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct junk *js = receiver;
    (void)dec_int(args, len);
    ck_assert_ptr_null(js->stuck);
    js->stuck = req;
    if (js->stuck_answer_us > 0) sim_after(js->sim, js->stuck_answer_us, handler3_answer, js);
}

/* Types: Go's Handler4 takes a pointer and Handler5 a value. Here the two live in different
 * services of one server, with different receivers and argument encodings. */
static void handler4(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct junk *js = receiver;
    ck_assert_uint_eq(len, 16); /* a two-int record */
    ck_assert_int_eq(dec_int(args, 8), 1);
    ck_assert_int_eq(dec_int(args + 8, 8), 2);
    js->handler4_runs++;
    rpc_req_reply(req, (const uint8_t *)"pointer", 7);
}

static void handler5(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct junk *js = receiver;
    ck_assert_uint_eq(len, 3); /* a short string */
    ck_assert_int_eq(memcmp(args, "abc", 3), 0);
    js->handler5_runs++;
    rpc_req_reply(req, (const uint8_t *)"no pointer", 10);
}

static void handler6(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    (void)receiver;
    (void)args;
    uint8_t reply[8];
    enc_int(reply, (int64_t)len);
    rpc_req_reply(req, reply, sizeof(reply));
}

static void handler7(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    (void)receiver;
    int64_t n = dec_int(args, len);
    ck_assert(n >= 0 && n < 1024);
    uint8_t reply[1024];
    memset(reply, 'y', (size_t)n);
    rpc_req_reply(req, reply, (size_t)n);
}

static void junk_register(struct rpc_server *server, struct junk *js)
{
    static const struct {
        const char *name;
        rpc_handler_fn fn;
    } methods[] = {{"Handler1", handler1}, {"Handler2", handler2}, {"Handler3", handler3},
                   {"Handler4", handler4}, {"Handler6", handler6}, {"Handler7", handler7}};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        ck_assert_int_eq(
            rpc_server_add_method(server, "JunkServer", methods[i].name, methods[i].fn, js),
            RPC_OK);
}

/* ---------------------------------------------------------------- fixture */

struct fix {
    struct sim *sim;
    struct rpc_net *net;
    struct rpc_server *server;
    struct rpc_end *end; /* "end1-99" -> JUNK_SERVER_ID */
    struct junk js;
    sim_time_us service_us; /* what fix_service_us answers */
};

/* A service-time function that answers the fixture's constant. */
static sim_time_us fix_service_us(void *arg)
{
    const struct fix *f = arg;
    return f->service_us;
}

static void fix_init(struct fix *f, uint64_t seed, bool enable)
{
    memset(f, 0, sizeof(*f));
    f->sim = sim_new(seed);
    ck_assert_ptr_nonnull(f->sim);
    f->js.sim = f->sim;
    f->net = rpc_net_new(f->sim);
    ck_assert_ptr_nonnull(f->net);
    /* These tests pin Go's labrpc semantics to exact virtual times, so they run with
     * instantaneous scheduling; the latency model has its own tests (labrpc_latency). */
    struct rpc_latency zero = {{0}};
    ck_assert_int_eq(rpc_net_set_latency(f->net, &zero, &zero), RPC_OK);
    f->server = rpc_server_new(f->net);
    ck_assert_ptr_nonnull(f->server);
    junk_register(f->server, &f->js);
    rpc_net_add_server(f->net, JUNK_SERVER_ID, f->server);
    f->end = rpc_net_make_end(f->net, "end1-99");
    ck_assert_ptr_nonnull(f->end);
    rpc_net_connect(f->net, f->end, JUNK_SERVER_ID);
    rpc_net_enable(f->net, f->end, enable);
}

static void fix_close(struct fix *f)
{
    rpc_net_cleanup(f->net);
    rpc_net_free(f->net);
    sim_free(f->sim);
}

static struct rpc_end *fix_end(struct fix *f, const char *name)
{
    struct rpc_end *end = rpc_net_make_end(f->net, name);
    ck_assert_ptr_nonnull(end);
    rpc_net_connect(f->net, end, JUNK_SERVER_ID);
    rpc_net_enable(f->net, end, true);
    return end;
}

/* Runs fn(f) as a task and the sim until it returns; fails the test past `limit_us`. */
struct body {
    struct fix *f;
    void (*fn)(struct fix *f);
    bool finished;
};

static void body_task(struct sim *sim, void *arg)
{
    (void)sim;
    struct body *b = arg;
    b->fn(b->f);
    b->finished = true;
}

static bool body_finished(struct sim *sim, void *arg)
{
    (void)sim;
    return ((struct body *)arg)->finished;
}

static void run_body(struct fix *f, void (*fn)(struct fix *f), sim_time_us limit_us)
{
    struct body b = {.f = f, .fn = fn};
    ck_assert_ptr_nonnull(sim_task_spawn(f->sim, "test", body_task, &b));
    sim_run_until(f->sim, body_finished, &b, sim_now_us(f->sim) + limit_us);
    ck_assert_msg(b.finished, "test body did not finish by %.3fs virtual",
                  (double)sim_now_us(f->sim) / 1e6);
}

/* Calls Handler2(arg) from a task; on success writes the reply as a C string. */
static bool call2(struct rpc_end *end, int64_t arg, char *out, size_t out_max)
{
    uint8_t args[8];
    enc_int(args, arg);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    bool ok = rpc_end_call_wait(end, "JunkServer.Handler2", args, sizeof(args), &reply, &reply_len);
    out[0] = '\0';
    if (ok) {
        ck_assert_uint_lt(reply_len, out_max);
        memcpy(out, reply, reply_len);
        out[reply_len] = '\0';
    } else {
        ck_assert_ptr_null(reply);
    }
    free(reply);
    return ok;
}

static void expect_handler2(struct rpc_end *end, int64_t arg)
{
    char got[64];
    char wanted[64];
    snprintf(wanted, sizeof(wanted), "handler2-%lld", (long long)arg);
    ck_assert_msg(call2(end, arg, got, sizeof(got)), "Handler2(%lld) failed", (long long)arg);
    ck_assert_str_eq(got, wanted);
}

/* Handler1 parses its string argument as a number: "9099" must come back as 9099. */
static void expect_handler1_9099(struct rpc_end *end)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    ck_assert(rpc_end_call_wait(end, "JunkServer.Handler1", (const uint8_t *)"9099", 4, &reply,
                                &reply_len));
    ck_assert_int_eq(dec_int(reply, reply_len), 9099);
    free(reply);
}

/* An outcome recorded by the callback form. */
struct outcome {
    struct sim *sim;
    int calls;
    bool ok;
    sim_time_us at_us;
    size_t reply_len;
    int node; /* node context of the callback */
};

static void outcome_cb(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct outcome *o = ctx;
    o->calls++;
    o->ok = ok;
    o->at_us = sim_now_us(o->sim);
    o->reply_len = reply_len;
    o->node = sim_node_current(o->sim);
    if (!ok) {
        ck_assert_ptr_null(reply);
        ck_assert_uint_eq(reply_len, 0);
    }
}

static void call2_async(struct rpc_end *end, int64_t arg, struct outcome *o)
{
    uint8_t args[8];
    enc_int(args, arg);
    rpc_end_call(end, "JunkServer.Handler2", args, sizeof(args), outcome_cb, o);
}

/* Handler3 answers after js.stuck_answer_us (or never): the call a test leaves pending. */
static void call3_async(struct rpc_end *end, int64_t arg, struct outcome *o)
{
    uint8_t args[8];
    enc_int(args, arg);
    rpc_end_call(end, "JunkServer.Handler3", args, sizeof(args), outcome_cb, o);
}

/* ---------------------------------------------------------------- ports of test_test.go */

static void basic_body(struct fix *f)
{
    expect_handler2(f->end, 111);
    expect_handler1_9099(f->end);
}

START_TEST(test_rpc_basic)
{
    struct fix f;
    fix_init(&f, 1, true);
    run_body(&f, basic_body, RPC_TEST_LIMIT_US);
    ck_assert_int_eq(f.js.log1_count, 1);
    ck_assert_int_eq(f.js.log2_count, 1);
    fix_close(&f);
}
END_TEST

struct other {
    int runs;
};

static void types_body(struct fix *f)
{
    uint8_t record[16];
    enc_int(record, 1);
    enc_int(record + 8, 2);
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    ck_assert(rpc_end_call_wait(f->end, "JunkServer.Handler4", record, sizeof(record), &reply,
                                &reply_len));
    ck_assert_uint_eq(reply_len, 7);
    ck_assert_int_eq(memcmp(reply, "pointer", 7), 0);
    free(reply);
    ck_assert(rpc_end_call_wait(f->end, "JunkOther.Handler5", (const uint8_t *)"abc", 3, &reply,
                                &reply_len));
    ck_assert_uint_eq(reply_len, 10);
    ck_assert_int_eq(memcmp(reply, "no pointer", 10), 0);
    free(reply);
}

START_TEST(test_rpc_types)
{
    struct fix f;
    fix_init(&f, 2, true);
    /* A second service on the same server, with its own receiver. */
    struct junk other = {.sim = f.sim};
    ck_assert_int_eq(rpc_server_add_method(f.server, "JunkOther", "Handler5", handler5, &other),
                     RPC_OK);
    run_body(&f, types_body, RPC_TEST_LIMIT_US);
    ck_assert_int_eq(f.js.handler4_runs, 1);
    ck_assert_int_eq(f.js.handler5_runs, 0);
    ck_assert_int_eq(other.handler5_runs, 1);
    ck_assert_uint_eq(rpc_server_count(f.server), 2);
    fix_close(&f);
}
END_TEST

static void disconnect_body(struct fix *f)
{
    char got[64];
    /* Connected but not enabled: no reply. */
    ck_assert(!call2(f->end, 111, got, sizeof(got)));
    ck_assert_str_eq(got, "");
    rpc_net_enable(f->net, f->end, true);
    expect_handler1_9099(f->end);
}

START_TEST(test_rpc_disconnect)
{
    struct fix f;
    fix_init(&f, 3, false);
    run_body(&f, disconnect_body, RPC_TEST_LIMIT_US);
    ck_assert_int_eq(f.js.log2_count, 0);
    ck_assert_int_eq(f.js.log1_count, 1);
    ck_assert_uint_eq(rpc_net_count(f.net, JUNK_SERVER_ID), 1);
    ck_assert_uint_eq(rpc_net_total_count(f.net), 2);
    fix_close(&f);
}
END_TEST

static void counts_body(struct fix *f)
{
    for (int i = 0; i < 17; i++)
        expect_handler2(f->end, i);
}

START_TEST(test_rpc_counts)
{
    struct fix f;
    fix_init(&f, 4, true);
    run_body(&f, counts_body, RPC_TEST_LIMIT_US);
    ck_assert_uint_eq(rpc_net_count(f.net, JUNK_SERVER_ID), 17);
    ck_assert_uint_eq(rpc_server_count(f.server), 17);
    ck_assert_uint_eq(rpc_net_total_count(f.net), 17);
    ck_assert_uint_eq(rpc_net_count(f.net, JUNK_SERVER_ID + 1), 0);
    fix_close(&f);
}
END_TEST

static void bytes_body(struct fix *f)
{
    /* Go's 71-character literal doubled twice: 284 characters. */
    uint8_t args[284];
    memset(args, 'x', sizeof(args));
    for (int i = 0; i < 17; i++) {
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        ck_assert(rpc_end_call_wait(f->end, "JunkServer.Handler6", args, sizeof(args), &reply,
                                    &reply_len));
        ck_assert_int_eq(dec_int(reply, reply_len), (int64_t)sizeof(args));
        free(reply);
    }
    uint64_t n = rpc_net_total_bytes(f->net);
    ck_assert_msg(n >= 4828 && n <= 6000, "wrong GetTotalBytes() %llu, expected about 5000",
                  (unsigned long long)n);
    for (int i = 0; i < 17; i++) {
        uint8_t arg[8];
        enc_int(arg, 107);
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        ck_assert(
            rpc_end_call_wait(f->end, "JunkServer.Handler7", arg, sizeof(arg), &reply, &reply_len));
        ck_assert_uint_eq(reply_len, 107);
        free(reply);
    }
    uint64_t nn = rpc_net_total_bytes(f->net) - n;
    ck_assert_msg(nn >= 1800 && nn <= 2500, "wrong GetTotalBytes() %llu, expected about 2000",
                  (unsigned long long)nn);
    /* Exactly as labrpc counts: request bytes at send plus delivered reply bytes. */
    ck_assert_uint_eq(n, 17u * (284u + 8u));
    ck_assert_uint_eq(nn, 17u * (8u + 107u));
}

START_TEST(test_rpc_bytes)
{
    struct fix f;
    fix_init(&f, 5, true);
    run_body(&f, bytes_body, RPC_TEST_LIMIT_US);
    fix_close(&f);
}
END_TEST

/* ConcurrentMany: 20 tasks, each with its own end, 10 calls each. */
struct many {
    struct fix *f;
    int client;
    int completed;
    bool finished;
};

static void many_client(struct sim *sim, void *arg)
{
    (void)sim;
    struct many *m = arg;
    char name[16];
    snprintf(name, sizeof(name), "%d", m->client);
    struct rpc_end *end = fix_end(m->f, name);
    for (int j = 0; j < 10; j++) {
        expect_handler2(end, m->client * 100 + j);
        m->completed++;
    }
    m->finished = true;
}

static bool all_finished(struct many *m, int n)
{
    for (int i = 0; i < n; i++) {
        if (!m[i].finished) return false;
    }
    return true;
}

static void concurrent_many_body(struct fix *f)
{
    struct many m[20];
    for (int i = 0; i < 20; i++) {
        m[i] = (struct many){.f = f, .client = i};
        ck_assert_ptr_nonnull(sim_task_spawn(f->sim, "client", many_client, &m[i]));
    }
    while (!all_finished(m, 20))
        sim_sleep_us(f->sim, SIM_MS(1));
    int total = 0;
    for (int i = 0; i < 20; i++)
        total += m[i].completed;
    ck_assert_int_eq(total, 200);
    ck_assert_uint_eq(rpc_net_count(f->net, JUNK_SERVER_ID), 200);
}

START_TEST(test_rpc_concurrent_many)
{
    struct fix f;
    fix_init(&f, 6, true);
    run_body(&f, concurrent_many_body, RPC_TEST_LIMIT_US);
    fix_close(&f);
}
END_TEST

/* Unreliable: 300 concurrent one-call clients (callback form: more than SIM_TASKS_MAX). */
START_TEST(test_rpc_unreliable)
{
    struct fix f;
    fix_init(&f, 7000u + (uint64_t)_i, true);
    rpc_net_set_reliable(f.net, false);
    ck_assert(!rpc_net_reliable(f.net));
    struct outcome *o = calloc(300, sizeof(*o));
    ck_assert_ptr_nonnull(o);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof(name), "%d", i);
        o[i].sim = f.sim;
        call2_async(fix_end(&f, name), i * 100, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_S(10));
    int total = 0;
    for (int i = 0; i < 300; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        if (o[i].ok) {
            char wanted[64];
            int n = snprintf(wanted, sizeof(wanted), "handler2-%d", i * 100);
            ck_assert_uint_eq(o[i].reply_len, (size_t)n);
            total++;
        }
    }
    ck_assert_msg(total != 300 && total != 0, "all RPCs succeeded despite unreliable");
    /* 10% request and 10% reply drops: about 81% succeed. */
    ck_assert_msg(total > 200 && total < 280, "%d of 300 succeeded", total);
    ck_assert_uint_eq(rpc_net_total_count(f.net), 300);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    free(o);
    fix_close(&f);
}
END_TEST

/* ConcurrentOne: 20 tasks on one end. */
struct one {
    struct fix *f;
    int arg;
    bool finished;
};

static void one_client(struct sim *sim, void *arg)
{
    (void)sim;
    struct one *o = arg;
    expect_handler2(o->f->end, o->arg);
    o->finished = true;
}

static void concurrent_one_body(struct fix *f)
{
    struct one o[20];
    for (int i = 0; i < 20; i++) {
        o[i] = (struct one){.f = f, .arg = 100 + i};
        ck_assert_ptr_nonnull(sim_task_spawn(f->sim, "client", one_client, &o[i]));
    }
    for (int i = 0; i < 20; i++) {
        while (!o[i].finished)
            sim_sleep_us(f->sim, SIM_MS(1));
    }
    ck_assert_int_eq(f->js.log2_count, 20);
    ck_assert_uint_eq(rpc_net_count(f->net, JUNK_SERVER_ID), 20);
}

START_TEST(test_rpc_concurrent_one)
{
    struct fix f;
    fix_init(&f, 8, true);
    run_body(&f, concurrent_one_body, RPC_TEST_LIMIT_US);
    fix_close(&f);
}
END_TEST

/* Regression1: calls parked on a disabled end must not delay a call made after enabling. */
static void regression1_client(struct sim *sim, void *arg)
{
    (void)sim;
    struct one *o = arg;
    char got[64];
    ck_assert(!call2(o->f->end, o->arg, got, sizeof(got))); /* this call ought to fail */
    o->finished = true;
}

static void regression1_body(struct fix *f)
{
    struct one o[20];
    for (int i = 0; i < 20; i++) {
        o[i] = (struct one){.f = f, .arg = 100 + i};
        ck_assert_ptr_nonnull(sim_task_spawn(f->sim, "client", regression1_client, &o[i]));
    }
    sim_sleep_us(f->sim, SIM_MS(100));
    sim_time_us t0 = sim_now_us(f->sim);
    rpc_net_enable(f->net, f->end, true);
    expect_handler2(f->end, 99);
    sim_time_us dur_us = sim_now_us(f->sim) - t0;
    ck_assert_msg(dur_us <= SIM_MS(30), "RPC took too long (%llu us) after Enable",
                  (unsigned long long)dur_us);
    for (int i = 0; i < 20; i++) {
        while (!o[i].finished)
            sim_sleep_us(f->sim, SIM_MS(1));
    }
    ck_assert_int_eq(f->js.log2_count, 1);
    ck_assert_uint_eq(rpc_net_count(f->net, JUNK_SERVER_ID), 1);
}

START_TEST(test_rpc_regression1)
{
    struct fix f;
    fix_init(&f, 9000u + (uint64_t)_i, false);
    run_body(&f, regression1_body, RPC_TEST_LIMIT_US);
    fix_close(&f);
}
END_TEST

/* Killed: DeleteServer unblocks a call stuck in its handler. */
struct stuck_call {
    struct fix *f;
    bool finished;
    bool ok;
    sim_time_us at_us;
};

static void stuck_client(struct sim *sim, void *arg)
{
    struct stuck_call *c = arg;
    uint8_t args[8];
    enc_int(args, 99);
    c->ok = rpc_end_call_wait(c->f->end, "JunkServer.Handler3", args, sizeof(args), NULL, NULL);
    c->at_us = sim_now_us(sim);
    c->finished = true;
}

static bool stuck_finished(struct sim *sim, void *arg)
{
    (void)sim;
    return ((struct stuck_call *)arg)->finished;
}

static void killed_body(struct fix *f)
{
    struct stuck_call c = {.f = f};
    ck_assert_ptr_nonnull(sim_task_spawn(f->sim, "caller", stuck_client, &c));
    sim_sleep_us(f->sim, SIM_MS(1000));
    ck_assert_msg(!c.finished, "Handler3 should not have returned yet");
    sim_sleep_us(f->sim, SIM_MS(100));
    ck_assert_msg(!c.finished, "Handler3 should not have returned yet");
    sim_time_us deleted_at_us = sim_now_us(f->sim);
    rpc_net_delete_server(f->net, JUNK_SERVER_ID);
    sim_wait_until(f->sim, stuck_finished, &c, SIM_MS(1), SIM_MS(200));
    ck_assert_msg(c.finished, "Handler3 should return after DeleteServer()");
    ck_assert_msg(!c.ok, "Handler3 returned successfully despite DeleteServer()");
    ck_assert_msg(c.at_us - deleted_at_us <= SIM_MS(100), "unblocked after %llu us",
                  (unsigned long long)(c.at_us - deleted_at_us));
}

START_TEST(test_rpc_killed)
{
    struct fix f;
    fix_init(&f, 10, true);
    f.js.stuck_answer_us = SIM_S(20); /* Go's Handler3 sleeps 20 s */
    run_body(&f, killed_body, RPC_TEST_LIMIT_US);
    ck_assert_ptr_nonnull(f.js.stuck);
    /* The call has failed but its handler still holds the request. */
    ck_assert_uint_eq(rpc_net_inflight(f.net), 1);
    uint64_t bytes = rpc_net_total_bytes(f.net);
    sim_run_until(f.sim, NULL, NULL, SIM_S(25));
    /* The late answer was taken and went nowhere. */
    ck_assert_ptr_null(f.js.stuck);
    ck_assert(f.js.stuck_was_dead);
    ck_assert_uint_eq(rpc_net_total_bytes(f.net), bytes);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);
}
END_TEST

/* A handler that never answers: the net frees its request (ASan checks the leak). */
START_TEST(test_rpc_killed_never_answers)
{
    struct fix f;
    fix_init(&f, 11, true);
    struct outcome o = {.sim = f.sim};
    call3_async(f.end, 1, &o);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(450));
    ck_assert_int_eq(o.calls, 0);
    rpc_net_delete_server(f.net, JUNK_SERVER_ID);
    sim_run_until(f.sim, NULL, NULL, SIM_S(5));
    ck_assert_int_eq(o.calls, 1);
    ck_assert(!o.ok);
    /* Polls come every 100 ms from delivery at 0: the one at 500 ms sees it dead. */
    ck_assert_uint_eq(o.at_us, SIM_MS(500));
    ck_assert(rpc_req_dead(f.js.stuck));
    ck_assert_uint_eq(rpc_net_inflight(f.net), 1);
    fix_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- beyond the Go tests */

/* Reliable calls complete as events at the same virtual time, FIFO, never inline. */
START_TEST(test_rpc_complete_as_events)
{
    struct fix f;
    fix_init(&f, 12, true);
    struct outcome o[3] = {{.sim = f.sim}, {.sim = f.sim}, {.sim = f.sim}};
    sim_run_until(f.sim, NULL, NULL, SIM_MS(5));
    for (int i = 0; i < 3; i++)
        call2_async(f.end, i, &o[i]);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(o[i].calls, 0); /* nothing ran inside rpc_end_call */
    ck_assert_uint_gt(sim_pending(f.sim), 0);
    /* Undeliverable and after-cleanup failures are events too. */
    struct rpc_end *loose = rpc_net_make_end(f.net, "loose");
    struct outcome lo = {.sim = f.sim};
    call2_async(loose, 1, &lo);
    ck_assert_int_eq(lo.calls, 0);
    /* Run the events one by one: the replies come back in call order. */
    int done_order[3];
    int done_count = 0;
    for (int steps = 0; steps < 100 && done_count < 3; steps++) {
        ck_assert(sim_step(f.sim));
        for (int i = 0; i < 3; i++) {
            bool seen = false;
            for (int k = 0; k < done_count; k++)
                seen = seen || done_order[k] == i;
            if (o[i].calls == 1 && !seen) done_order[done_count++] = i;
        }
    }
    ck_assert_int_eq(done_count, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(done_order[i], i);
        ck_assert(o[i].ok);
        ck_assert_uint_eq(o[i].at_us, SIM_MS(5)); /* zero added delay */
    }
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(lo.calls, 1);
    ck_assert(!lo.ok);
    rpc_net_cleanup(f.net);
    struct outcome co = {.sim = f.sim};
    call2_async(f.end, 5, &co);
    ck_assert_int_eq(co.calls, 0);
    sim_run_until(f.sim, NULL, NULL, SIM_S(2));
    ck_assert_int_eq(co.calls, 1);
    ck_assert(!co.ok);
    ck_assert_uint_eq(co.at_us, SIM_S(1));
    fix_close(&f);
}
END_TEST

/* Undeliverable calls fail after 0-6999 ms with long delays, 0-99 ms without. */
static void undeliverable_times(struct fix *f, bool long_delays, sim_time_us *min_us,
                                sim_time_us *max_us)
{
    enum { N = 200 };
    struct outcome o[N];
    memset(o, 0, sizeof(o));
    rpc_net_set_long_delays(f->net, long_delays);
    rpc_net_enable(f->net, f->end, false);
    sim_time_us t0 = sim_now_us(f->sim);
    for (int i = 0; i < N; i++) {
        o[i].sim = f->sim;
        call2_async(f->end, i, &o[i]);
    }
    sim_run_until(f->sim, NULL, NULL, t0 + SIM_S(8));
    *min_us = UINT64_MAX;
    *max_us = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        ck_assert(!o[i].ok);
        sim_time_us d = o[i].at_us - t0;
        ck_assert_uint_eq(d % SIM_US_PER_MS, 0); /* whole milliseconds, like Go's */
        *min_us = d < *min_us ? d : *min_us;
        *max_us = d > *max_us ? d : *max_us;
    }
}

START_TEST(test_rpc_long_delays)
{
    struct fix f;
    fix_init(&f, 13000u + (uint64_t)_i, true);
    sim_time_us min_us;
    sim_time_us max_us;
    undeliverable_times(&f, false, &min_us, &max_us);
    ck_assert_uint_le(max_us, SIM_MS(99));
    ck_assert_uint_le(min_us, SIM_MS(5)); /* 200 uniform draws cover the range */
    ck_assert_uint_ge(max_us, SIM_MS(90));
    undeliverable_times(&f, true, &min_us, &max_us);
    ck_assert_uint_le(max_us, SIM_MS(6999));
    ck_assert_uint_le(min_us, SIM_MS(200));
    ck_assert_uint_ge(max_us, SIM_MS(6500));
    ck_assert_int_eq(f.js.log2_count, 0);
    ck_assert_uint_eq(rpc_net_total_count(f.net), 400);
    fix_close(&f);
}
END_TEST

/* Long reordering holds about 2/3 of the replies for 200-2200 ms; bytes count at delivery. */
START_TEST(test_rpc_long_reordering)
{
    enum { N = 300 };
    struct fix f;
    fix_init(&f, 14000u + (uint64_t)_i, true);
    rpc_net_set_long_reordering(f.net, true);
    struct outcome o[N];
    memset(o, 0, sizeof(o));
    for (int i = 0; i < N; i++) {
        o[i].sim = f.sim;
        call2_async(f.end, i, &o[i]);
    }
    uint64_t request_bytes = (uint64_t)N * 8u;
    sim_run_until(f.sim, NULL, NULL, SIM_MS(1));
    int held = 0;
    uint64_t reply_bytes_now = 0;
    for (int i = 0; i < N; i++) {
        if (o[i].calls == 1) reply_bytes_now += o[i].reply_len;
    }
    ck_assert_uint_eq(rpc_net_total_bytes(f.net), request_bytes + reply_bytes_now);
    sim_run_until(f.sim, NULL, NULL, SIM_S(3));
    uint64_t reply_bytes = 0;
    sim_time_us max_us = 0;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        ck_assert(o[i].ok); /* reliable: reordered, never lost */
        reply_bytes += o[i].reply_len;
        if (o[i].at_us == 0) continue;
        held++;
        ck_assert_uint_ge(o[i].at_us, SIM_MS(200));
        ck_assert_uint_le(o[i].at_us, SIM_MS(2200));
        max_us = o[i].at_us > max_us ? o[i].at_us : max_us;
    }
    ck_assert_msg(held > N / 2 && held < N * 4 / 5, "%d of %d held", held, N);
    ck_assert_uint_gt(max_us, SIM_MS(1200));
    ck_assert_uint_lt(reply_bytes_now, reply_bytes);
    ck_assert_uint_eq(rpc_net_total_bytes(f.net), request_bytes + reply_bytes);
    fix_close(&f);
}
END_TEST

/* One scenario with every fault on; returns a fingerprint of the outcomes. `service` says
 * whether the JunkServer service is timed (service_us) for the run; *inflight (when not NULL) is
 * what the network still holds at the end. */
enum chaos_service { CHAOS_UNTIMED, CHAOS_TIMED, CHAOS_TIMED_THEN_REMOVED };
static uint64_t chaos_run_with(uint64_t seed, uint32_t dup_permille, enum chaos_service service,
                               sim_time_us service_us, uint64_t *digest, size_t *inflight)
{
    enum { N = 200 };
    struct fix f;
    fix_init(&f, seed, true);
    f.service_us = service_us;
    if (service != CHAOS_UNTIMED) {
        ck_assert_int_eq(rpc_server_set_service_time(f.server, "JunkServer", fix_service_us, &f),
                         RPC_OK);
    }
    if (service == CHAOS_TIMED_THEN_REMOVED)
        ck_assert_int_eq(rpc_server_set_service_time(f.server, "JunkServer", NULL, NULL), RPC_OK);
    rpc_net_set_reliable(f.net, false);
    rpc_net_set_long_reordering(f.net, true);
    rpc_net_set_duplicate_permille(f.net, dup_permille);
    struct rpc_end *off = rpc_net_make_end(f.net, "off");
    rpc_net_connect(f.net, off, JUNK_SERVER_ID);
    struct outcome o[N];
    memset(o, 0, sizeof(o));
    for (int i = 0; i < N; i++) {
        o[i].sim = f.sim;
        call2_async(i % 10 == 0 ? off : f.end, i, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_S(10));
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        h = (h ^ (o[i].at_us * 2u + o[i].ok)) * 1099511628211ull;
    }
    *digest = sim_digest(f.sim);
    if (inflight != NULL) *inflight = rpc_net_inflight(f.net);
    fix_close(&f);
    return h;
}

static uint64_t chaos_run(uint64_t seed, uint32_t dup_permille, uint64_t *digest)
{
    return chaos_run_with(seed, dup_permille, CHAOS_UNTIMED, 0, digest, NULL);
}

START_TEST(test_rpc_deterministic)
{
    uint64_t d1;
    uint64_t d2;
    uint64_t d3;
    uint64_t h1 = chaos_run(15, 0, &d1);
    uint64_t h2 = chaos_run(15, 0, &d2);
    uint64_t h3 = chaos_run(16, 0, &d3);
    ck_assert_uint_eq(h1, h2);
    ck_assert_uint_eq(d1, d2);
    ck_assert_uint_ne(h1, h3);
    ck_assert_uint_ne(d1, d3);
    /* Duplication draws from its own stream: the callers see exactly the same outcomes. */
    uint64_t d4;
    uint64_t h4 = chaos_run(15, 500, &d4);
    ck_assert_uint_eq(h1, h4);
    ck_assert_uint_ne(d1, d4); /* but the trace shows the duplicates */
}
END_TEST

START_TEST(test_rpc_duplicate)
{
    struct fix f;
    fix_init(&f, 17, true);
    rpc_net_set_duplicate_permille(f.net, 1000);
    struct outcome o[10];
    for (int i = 0; i < 10; i++) {
        o[i] = (struct outcome){.sim = f.sim};
        call2_async(f.end, i, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(o[i].calls, 1); /* the duplicate's reply is discarded */
        ck_assert(o[i].ok);
    }
    ck_assert_int_eq(f.js.log2_count, 20);
    ck_assert_uint_eq(rpc_net_count(f.net, JUNK_SERVER_ID), 20);
    ck_assert_uint_eq(rpc_net_total_count(f.net), 10);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    /* Off again: one handler run per call. */
    rpc_net_set_duplicate_permille(f.net, 0);
    struct outcome last = {.sim = f.sim};
    call2_async(f.end, 11, &last);
    sim_run_until(f.sim, NULL, NULL, SIM_S(2));
    ck_assert_int_eq(f.js.log2_count, 21);
    fix_close(&f);
}
END_TEST

START_TEST(test_rpc_reply_cut)
{
    struct fix f;
    fix_init(&f, 18, true);
    struct rpc_end *other = fix_end(&f, "other");
    rpc_end_set_reply_cut(f.end, true);
    struct outcome cut = {.sim = f.sim};
    struct outcome fine = {.sim = f.sim};
    call2_async(f.end, 1, &cut);
    call2_async(other, 2, &fine);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(cut.calls, 1);
    ck_assert(!cut.ok); /* handled, but the reply was lost */
    ck_assert(fine.ok);
    ck_assert_int_eq(f.js.log2_count, 2);
    ck_assert_uint_eq(rpc_net_total_bytes(f.net), 8u + 8u + fine.reply_len);
    rpc_end_set_reply_cut(f.end, false);
    struct outcome healed = {.sim = f.sim};
    call2_async(f.end, 3, &healed);
    sim_run_until(f.sim, NULL, NULL, SIM_S(2));
    ck_assert(healed.ok);
    fix_close(&f);
}
END_TEST

/* AddServer on a used id replaces the server: the old one's calls fail, new ones reach the
 * new server, and a late answer from the old one is never delivered. */
START_TEST(test_rpc_replace_server)
{
    struct fix f;
    fix_init(&f, 19, true);
    f.js.stuck_answer_us = SIM_MS(250);
    struct outcome stuck = {.sim = f.sim};
    call3_async(f.end, 5, &stuck);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(50));
    struct rpc_server *fresh = rpc_server_new(f.net);
    struct junk js2 = {.sim = f.sim};
    junk_register(fresh, &js2);
    rpc_net_add_server(f.net, JUNK_SERVER_ID, fresh);
    struct outcome next = {.sim = f.sim};
    call2_async(f.end, 6, &next);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(stuck.calls, 1);
    ck_assert(!stuck.ok);
    ck_assert_uint_eq(stuck.at_us, SIM_MS(100)); /* the first poll saw it */
    ck_assert(f.js.stuck_was_dead);
    ck_assert(next.ok);
    ck_assert_int_eq(js2.log2_count, 1);
    ck_assert_int_eq(f.js.log2_count, 0);
    ck_assert_uint_eq(rpc_net_count(f.net, JUNK_SERVER_ID), 1);
    ck_assert_uint_eq(rpc_server_count(f.server), 1);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);
}
END_TEST

/* Disabling the end also kills a pending call; answering quickly after enable works. */
START_TEST(test_rpc_disable_kills_pending)
{
    struct fix f;
    fix_init(&f, 20, true);
    f.js.stuck_answer_us = SIM_MS(330);
    struct outcome stuck = {.sim = f.sim};
    call3_async(f.end, 5, &stuck);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(120));
    rpc_net_enable(f.net, f.end, false);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(150));
    rpc_net_enable(f.net, f.end, true); /* re-enabled before the next poll at 200 ms */
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    /* Go checks only on its 100 ms ticks and when the handler returns: alive both times. */
    ck_assert_int_eq(stuck.calls, 1);
    ck_assert(stuck.ok);
    ck_assert_uint_eq(stuck.at_us, SIM_MS(330));
    /* Now disabled across a poll. */
    struct outcome second = {.sim = f.sim};
    call3_async(f.end, 5, &second);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(1050));
    rpc_net_enable(f.net, f.end, false);
    sim_run_until(f.sim, NULL, NULL, SIM_S(3));
    ck_assert_int_eq(second.calls, 1);
    ck_assert(!second.ok);
    ck_assert_uint_eq(second.at_us, SIM_MS(1100));
    fix_close(&f);
}
END_TEST

/* A server that dies while its handler works, answering before the next poll: the answer
 * is checked too, and not delivered. */
START_TEST(test_rpc_dead_at_answer)
{
    struct fix f;
    fix_init(&f, 29, true);
    f.js.stuck_answer_us = SIM_MS(80);
    struct outcome o = {.sim = f.sim};
    call3_async(f.end, 5, &o);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(30));
    rpc_net_delete_server(f.net, JUNK_SERVER_ID);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(o.calls, 1);
    ck_assert(!o.ok);
    ck_assert_uint_eq(o.at_us, SIM_MS(80));
    ck_assert(f.js.stuck_was_dead);
    ck_assert_uint_eq(rpc_net_total_bytes(f.net), 8);
    fix_close(&f);
}
END_TEST

/* The draws, predicted one call at a time from a private copy of the "labrpc" stream: this
 * pins Go's order (delay, request drop, reply drop, reorder, and the nested hold draw). */
struct predicted {
    bool ok;
    sim_time_us took_us;
};

static struct predicted predict_call(struct sim_rand *r, bool deliverable, bool long_delays)
{
    struct predicted p = {false, 0};
    if (!deliverable) {
        p.took_us = SIM_MS(sim_rand_below(r, long_delays ? 7000 : 100));
        return p;
    }
    p.took_us = SIM_MS(sim_rand_below(r, 27));
    if (sim_rand_below(r, 1000) < 100) return p; /* request dropped */
    if (sim_rand_below(r, 1000) < 100) return p; /* reply dropped */
    p.ok = true;
    if (sim_rand_below(r, 900) < 600) {
        uint64_t span = sim_rand_below(r, 2000);
        p.took_us += SIM_MS(200 + sim_rand_below(r, 1 + span));
    }
    return p;
}

static void draw_order_body(struct fix *f)
{
    struct sim_rand r;
    sim_rand_init(&r, f->sim, "labrpc");
    int ok_count = 0;
    int held_count = 0;
    for (int i = 0; i < 400; i++) {
        bool deliverable = i % 7 != 3;
        bool long_delays = i % 14 == 3;
        rpc_net_enable(f->net, f->end, deliverable);
        rpc_net_set_long_delays(f->net, long_delays);
        struct predicted p = predict_call(&r, deliverable, long_delays);
        sim_time_us t0 = sim_now_us(f->sim);
        char got[64];
        bool ok = call2(f->end, i, got, sizeof(got));
        sim_time_us took_us = sim_now_us(f->sim) - t0;
        ck_assert_msg(ok == p.ok, "call %d: ok=%d, predicted %d", i, ok, p.ok);
        ck_assert_msg(took_us == p.took_us, "call %d took %llu us, predicted %llu", i,
                      (unsigned long long)took_us, (unsigned long long)p.took_us);
        ok_count += ok;
        held_count += ok && took_us >= SIM_MS(200);
    }
    /* The prediction exercised every branch. */
    ck_assert_int_gt(ok_count, 200);
    ck_assert_int_lt(ok_count, 340);
    ck_assert_int_gt(held_count, 100);
}

START_TEST(test_rpc_draw_order)
{
    struct fix f;
    fix_init(&f, 30000u + (uint64_t)_i, true);
    rpc_net_set_reliable(f.net, false);
    rpc_net_set_long_reordering(f.net, true);
    run_body(&f, draw_order_body, SIM_S(2000));
    fix_close(&f);
}
END_TEST

/* After Cleanup: new calls fail without being counted, held replies are not delivered. */
START_TEST(test_rpc_cleanup)
{
    struct fix f;
    fix_init(&f, 21, true);
    rpc_net_set_long_reordering(f.net, true);
    enum { N = 30 };
    struct outcome o[N];
    for (int i = 0; i < N; i++) {
        o[i] = (struct outcome){.sim = f.sim};
        call2_async(f.end, i, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_MS(100));
    int delivered_before = 0;
    for (int i = 0; i < N; i++)
        delivered_before += o[i].calls;
    ck_assert_int_gt(delivered_before, 0);
    ck_assert_int_lt(delivered_before, N);
    uint64_t bytes = rpc_net_total_bytes(f.net);
    rpc_net_cleanup(f.net);
    struct outcome late = {.sim = f.sim};
    call2_async(f.end, 99, &late);
    sim_run_until(f.sim, NULL, NULL, SIM_S(5));
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(o[i].calls, 1);
        if (o[i].at_us >= SIM_MS(100)) ck_assert(!o[i].ok);
    }
    ck_assert_int_eq(late.calls, 1);
    ck_assert(!late.ok);
    ck_assert_uint_eq(late.at_us, SIM_MS(100));
    ck_assert_uint_eq(rpc_net_total_count(f.net), N);
    ck_assert_uint_eq(rpc_net_total_bytes(f.net), bytes);
    ck_assert_int_eq(f.js.log2_count, N);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);
}
END_TEST

START_TEST(test_rpc_delete_end)
{
    struct fix f;
    fix_init(&f, 22, true);
    ck_assert_str_eq(rpc_end_name(f.end), "end1-99");
    rpc_net_delete_end(f.net, f.end);
    rpc_net_enable(f.net, f.end, true); /* no effect on a deleted end */
    struct outcome o = {.sim = f.sim};
    call2_async(f.end, 1, &o);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(o.calls, 1);
    ck_assert(!o.ok);
    ck_assert_uint_lt(o.at_us, SIM_MS(100));
    ck_assert_int_eq(f.js.log2_count, 0);
    ck_assert_uint_eq(rpc_net_total_count(f.net), 1);
    fix_close(&f);
}
END_TEST

/* The trace: each call gets the next call id, a send, maybe a deliver, and one terminal
 * event, stamped with the sender's node (deliveries with the server's). */
START_TEST(test_rpc_trace)
{
    struct fix f;
    fix_init(&f, 23, true);
    rpc_end_set_node(f.end, 3);
    sim_trace_record(f.sim, SIM_TOPIC_BIT(SIM_TOPIC_NET), 100);
    struct outcome a = {.sim = f.sim};
    call2_async(f.end, 1, &a);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    rpc_net_enable(f.net, f.end, false);
    struct outcome b = {.sim = f.sim};
    call2_async(f.end, 2, &b);
    sim_run_until(f.sim, NULL, NULL, SIM_S(2));
    ck_assert(a.ok);
    ck_assert(!b.ok);
    /* Crash reports name the node the code acts for: the handler runs as its server, the
     * callbacks as the caller. */
    ck_assert_int_eq(f.js.handler2_node, JUNK_SERVER_ID);
    ck_assert_int_eq(a.node, 3);
    ck_assert_int_eq(b.node, 3);
    static const uint16_t ids[] = {100, 101, 105, 100, 104};
    static const int nodes[] = {3, JUNK_SERVER_ID, 3, 3, 3};
    static const int64_t calls[] = {1, 1, 1, 2, 2};
    ck_assert_uint_eq(sim_trace_count(f.sim), 5);
    for (size_t i = 0; i < 5; i++) {
        const struct sim_trace_rec *r = sim_trace_at(f.sim, i);
        ck_assert_uint_eq(r->kind->id, ids[i]);
        ck_assert_int_eq(r->kind->topic, SIM_TOPIC_NET);
        ck_assert_int_eq(r->node, nodes[i]);
        ck_assert_int_eq(r->v[0], calls[i]);
        ck_assert_int_eq(r->v[1], JUNK_SERVER_ID);
    }
    const struct sim_trace_rec *send = sim_trace_at(f.sim, 0);
    ck_assert_str_eq(send->kind->name, "rpc.send");
    ck_assert_int_eq(send->v[2], 8);
    ck_assert_str_eq(send->text, "JunkServer.Handler2");
    ck_assert_int_eq(sim_trace_at(f.sim, 1)->v[2], 1); /* the server's count */
    const struct sim_trace_rec *reply = sim_trace_at(f.sim, 2);
    ck_assert_int_eq(reply->v[2], (int64_t)a.reply_len);
    ck_assert_uint_eq(reply->at_us, 0);
    const struct sim_trace_rec *fail = sim_trace_at(f.sim, 4);
    ck_assert_int_eq(fail->v[2], 1); /* undeliverable */
    ck_assert_uint_eq(fail->at_us, b.at_us);
    fix_close(&f);
}
END_TEST

START_TEST(test_rpc_registry_errors)
{
    struct fix f;
    fix_init(&f, 25, true);
    struct rpc_server *s = rpc_server_new(f.net);
    ck_assert_int_eq(rpc_server_add_method(s, "A", "m", handler2, NULL), RPC_OK);
    ck_assert_int_eq(rpc_server_add_method(s, "A", "m", handler2, NULL), RPC_EEXIST);
    ck_assert_int_eq(rpc_server_add_method(s, "A.B", "m", handler2, NULL), RPC_ENAME);
    ck_assert_int_eq(rpc_server_add_method(s, "A", "m.x", handler2, NULL), RPC_ENAME);
    ck_assert_int_eq(rpc_server_add_method(s, "", "m", handler2, NULL), RPC_ENAME);
    ck_assert_int_eq(rpc_server_add_method(s, "A", NULL, handler2, NULL), RPC_ENAME);
    char long_name[RPC_NAME_MAX + 1];
    memset(long_name, 'n', RPC_NAME_MAX);
    long_name[RPC_NAME_MAX] = '\0';
    ck_assert_int_eq(rpc_server_add_method(s, long_name, "m", handler2, NULL), RPC_ENAME);
    long_name[RPC_NAME_MAX - 1] = '\0'; /* the longest allowed */
    ck_assert_int_eq(rpc_server_add_method(s, long_name, "m", handler2, NULL), RPC_OK);
    for (unsigned i = 1; i < RPC_METHODS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof(name), "m%u", i);
        ck_assert_int_eq(rpc_server_add_method(s, "A", name, handler2, NULL), RPC_OK);
    }
    ck_assert_int_eq(rpc_server_add_method(s, "A", "one_more", handler2, NULL), RPC_ELIMIT);
    ck_assert_int_eq(rpc_server_add_method(s, "C", "m", handler2, NULL), RPC_OK);
    ck_assert_int_eq(rpc_server_add_method(s, "D", "m", handler2, NULL), RPC_OK);
    ck_assert_int_eq(rpc_server_add_method(s, "E", "m", handler2, NULL), RPC_ELIMIT);
    ck_assert_str_eq(rpc_strerror(RPC_OK), "success");
    ck_assert_str_eq(rpc_strerror(RPC_ELIMIT), "too many services, methods or calls in flight");
    ck_assert_str_eq(rpc_strerror(RPC_EEXIST), "name already registered");
    ck_assert_str_eq(rpc_strerror(-99), "unknown labrpc error");
    ck_assert_ptr_null(rpc_net_new(NULL));
    ck_assert_ptr_eq(rpc_net_sim(f.net), f.sim);
    fix_close(&f);
}
END_TEST

/* Freeing the net with calls in every state cancels their events: the sim may go on. */
START_TEST(test_rpc_free_midflight)
{
    struct fix f;
    fix_init(&f, 26, true);
    rpc_net_set_reliable(f.net, false);
    rpc_net_set_long_reordering(f.net, true);
    f.js.stuck_answer_us = 0;
    struct outcome o[40];
    for (int i = 0; i < 40; i++) {
        o[i] = (struct outcome){.sim = f.sim};
        call2_async(f.end, i, &o[i]);
    }
    struct outcome stuck = {.sim = f.sim};
    call3_async(f.end, 1, &stuck);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(150));
    rpc_net_free(f.net);
    int calls_before = 0;
    for (int i = 0; i < 40; i++)
        calls_before += o[i].calls;
    sim_run_until(f.sim, NULL, NULL, SIM_S(10));
    int calls_after = 0;
    for (int i = 0; i < 40; i++)
        calls_after += o[i].calls;
    ck_assert_int_eq(calls_before, calls_after);
    ck_assert_int_lt(calls_after, 40);
    ck_assert_int_eq(stuck.calls, 0);
    sim_free(f.sim);
}
END_TEST

static void wait_outside_task(void)
{
    struct fix f;
    fix_init(&f, 27, true);
    uint8_t args[8];
    enc_int(args, 1);
    (void)rpc_end_call_wait(f.end, "JunkServer.Handler2", args, sizeof(args), NULL, NULL);
}

START_TEST(test_rpc_wait_outside_task_asserts)
{
    wait_outside_task();
}
END_TEST

/* Go's dispatcher log.Fatal()s on an unknown method: so do we, loudly. */
START_TEST(test_rpc_unknown_method_asserts)
{
    struct fix f;
    fix_init(&f, 28, true);
    struct outcome o = {.sim = f.sim};
    rpc_end_call(f.end, "JunkServer.NoSuch", NULL, 0, outcome_cb, &o);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
}
END_TEST

/* ---------------------------------------------------------------- service time */

#define STAMPS_MAX 16

/* "Timed.Stamp" records when and with which argument each handler run happened. */
struct stamps {
    struct sim *sim;
    int count;
    int64_t args[STAMPS_MAX];
    sim_time_us at_us[STAMPS_MAX];
};

static void stamp_handler(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct stamps *st = receiver;
    ck_assert_int_lt(st->count, STAMPS_MAX);
    st->args[st->count] = dec_int(args, len);
    st->at_us[st->count] = sim_now_us(st->sim);
    st->count++;
    rpc_req_reply(req, args, len);
}

static void stamp_call(struct rpc_end *end, int64_t arg, struct outcome *o)
{
    uint8_t args[8];
    enc_int(args, arg);
    rpc_end_call(end, "Timed.Stamp", args, sizeof(args), outcome_cb, o);
}

/* The junk fixture plus the Stamp method, with the given service time. */
static void fix_init_service(struct fix *f, struct stamps *st, uint64_t seed,
                             sim_time_us service_us)
{
    fix_init(f, seed, true);
    memset(st, 0, sizeof(*st));
    st->sim = f->sim;
    ck_assert_int_eq(rpc_server_add_method(f->server, "Timed", "Stamp", stamp_handler, st), RPC_OK);
    /* Handler3 again, as a timed method: it answers after js.stuck_answer_us. */
    ck_assert_int_eq(rpc_server_add_method(f->server, "Timed", "Slow", handler3, &f->js), RPC_OK);
    f->service_us = service_us;
    ck_assert_int_eq(rpc_server_set_service_time(f->server, "Timed", fix_service_us, f), RPC_OK);
}

/* Requests that arrive together are handled one at a time, in arrival order, each after one
 * more service time; each reply leaves when its handler runs; the count goes up then. */
START_TEST(test_rpc_service_serial)
{
    struct fix f;
    struct stamps st;
    fix_init_service(&f, &st, 40, SIM_MS(10));
    struct rpc_end *other = fix_end(&f, "other");
    struct outcome o[4];
    for (int i = 0; i < 4; i++) {
        o[i] = (struct outcome){.sim = f.sim};
        stamp_call(i % 2 == 0 ? f.end : other, 100 + i, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_MS(15));
    ck_assert_int_eq(st.count, 1);
    ck_assert_uint_eq(rpc_server_count(f.server), 1); /* counted when the handler runs */
    ck_assert_int_eq(o[1].calls, 0);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(st.count, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(st.args[i], 100 + i);
        ck_assert_uint_eq(st.at_us[i], SIM_MS(10) * (sim_time_us)(i + 1));
        ck_assert_int_eq(o[i].calls, 1);
        ck_assert(o[i].ok);
        ck_assert_uint_eq(o[i].at_us, st.at_us[i]);
    }
    ck_assert_uint_eq(rpc_net_count(f.net, JUNK_SERVER_ID), 4);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);
}
END_TEST

/* A request waits for the one before it, an idle server takes exactly one service time, and
 * a handler that answers later does not hold the server: the next request runs one service
 * time after the slow handler started. */
START_TEST(test_rpc_service_queueing)
{
    struct fix f;
    struct stamps st;
    fix_init_service(&f, &st, 41, SIM_MS(10));
    f.js.stuck_answer_us = SIM_MS(50);
    struct outcome a = {.sim = f.sim};
    struct outcome b = {.sim = f.sim};
    struct outcome c = {.sim = f.sim};
    struct outcome slow = {.sim = f.sim};
    struct outcome d = {.sim = f.sim};
    stamp_call(f.end, 1, &a); /* t=0: runs at 10 */
    sim_run_until(f.sim, NULL, NULL, SIM_MS(5));
    stamp_call(f.end, 2, &b); /* t=5: waits for a, runs at 20 */
    sim_run_until(f.sim, NULL, NULL, SIM_MS(50));
    stamp_call(f.end, 3, &c); /* t=50: idle server, runs at 60 */
    sim_run_until(f.sim, NULL, NULL, SIM_MS(100));
    uint8_t args[8];
    enc_int(args, 7);
    rpc_end_call(f.end, "Timed.Slow", args, sizeof(args), outcome_cb, &slow);
    stamp_call(f.end, 4, &d); /* t=100: slow runs at 110 and answers at 160; d runs at 120 */
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(st.count, 4);
    ck_assert_uint_eq(st.at_us[0], SIM_MS(10));
    ck_assert_uint_eq(st.at_us[1], SIM_MS(20));
    ck_assert_uint_eq(st.at_us[2], SIM_MS(60));
    ck_assert_uint_eq(st.at_us[3], SIM_MS(120));
    ck_assert(a.ok && b.ok && c.ok && d.ok && slow.ok);
    ck_assert_uint_eq(b.at_us, SIM_MS(20));
    ck_assert_uint_eq(d.at_us, SIM_MS(120));
    ck_assert_uint_eq(slow.at_us, SIM_MS(160));
    ck_assert_uint_eq(rpc_server_count(f.server), 5);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);
}
END_TEST

/* Timing is per service and off by default: a service whose timing was set and removed
 * again has the outcomes and digest of a run with none, while timing the called service shows in
 * both. Untimed requests to a server whose other service is busy are not delayed. A service time
 * above RPC_SERVICE_US_MAX is capped; an unknown service is refused. */
START_TEST(test_rpc_service_untimed)
{
    struct fix f;
    struct stamps st;
    fix_init_service(&f, &st, 42, SIM_S(5));
    ck_assert_int_eq(rpc_server_set_service_time(f.server, "Nope", fix_service_us, &f), RPC_ENAME);
    ck_assert_int_eq(rpc_server_set_service_time(f.server, "", fix_service_us, &f), RPC_ENAME);
    struct outcome capped = {.sim = f.sim};
    struct outcome other = {.sim = f.sim};
    stamp_call(f.end, 9, &capped);
    call2_async(f.end, 1, &other); /* JunkServer: untimed, not behind the queued Stamp */
    sim_run_until(f.sim, NULL, NULL, SIM_S(3));
    ck_assert_int_eq(other.calls, 1);
    ck_assert_uint_eq(other.at_us, 0);
    ck_assert_int_eq(st.count, 1);
    ck_assert_uint_eq(st.at_us[0], RPC_SERVICE_US_MAX);
    fix_close(&f);

    uint64_t d_default;
    uint64_t d_removed;
    uint64_t d_svc;
    size_t inflight = 99;
    uint64_t h_default = chaos_run_with(43, 500, CHAOS_UNTIMED, 0, &d_default, NULL);
    uint64_t h_removed =
        chaos_run_with(43, 500, CHAOS_TIMED_THEN_REMOVED, SIM_MS(1), &d_removed, NULL);
    uint64_t h_svc = chaos_run_with(43, 500, CHAOS_TIMED, SIM_MS(1), &d_svc, &inflight);
    ck_assert_uint_eq(h_default, h_removed);
    ck_assert_uint_eq(d_default, d_removed);
    ck_assert_uint_ne(h_default, h_svc);
    ck_assert_uint_ne(d_default, d_svc);
    ck_assert_uint_eq(inflight, 0); /* duplicates and failed calls left nothing queued */
}
END_TEST

/* A queued request whose server dies never reaches its handler: found dead when its turn
 * comes (before the next poll), or failed by the 100 ms poll while it waits. Its slot stays
 * spent. Nothing is left in flight. */
START_TEST(test_rpc_service_death_while_queued)
{
    struct fix f;
    struct stamps st;
    fix_init_service(&f, &st, 44, SIM_MS(30));
    struct outcome a = {.sim = f.sim};
    struct outcome b = {.sim = f.sim};
    stamp_call(f.end, 1, &a);
    stamp_call(f.end, 2, &b);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(40));
    rpc_net_delete_server(f.net, JUNK_SERVER_ID);
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert(a.ok);
    ck_assert_int_eq(b.calls, 1);
    ck_assert(!b.ok);
    ck_assert_uint_eq(b.at_us, SIM_MS(60)); /* at its turn, before the poll at 100 */
    ck_assert_int_eq(st.count, 1);
    ck_assert_uint_eq(rpc_server_count(f.server), 1);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);

    fix_init_service(&f, &st, 45, SIM_MS(300));
    struct rpc_end *other = fix_end(&f, "other");
    struct outcome first = {.sim = f.sim};
    struct outcome cut = {.sim = f.sim};
    struct outcome late = {.sim = f.sim};
    stamp_call(f.end, 1, &first);
    stamp_call(other, 2, &cut);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(50));
    rpc_net_enable(f.net, other, false);
    sim_run_until(f.sim, NULL, NULL, SIM_MS(110));
    ck_assert_int_eq(cut.calls, 1);
    ck_assert(!cut.ok);
    ck_assert_uint_eq(cut.at_us, SIM_MS(100)); /* the first poll saw it */
    stamp_call(f.end, 3, &late);
    sim_run_until(f.sim, NULL, NULL, SIM_S(2));
    ck_assert(first.ok && late.ok);
    ck_assert_uint_eq(first.at_us, SIM_MS(300));
    ck_assert_uint_eq(late.at_us, SIM_MS(900)); /* after the slot the failed call took */
    ck_assert_int_eq(st.count, 2);
    ck_assert_int_eq(st.args[1], 3);
    ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
    fix_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- end of a run */

/* Every call whose callback has not run when the run ends gets it once, with ok=false: one
 * stuck in a handler that never answers and one not yet delivered; a call that completed
 * earlier is not called again, and nothing runs twice if it is asked twice. */
START_TEST(test_rpc_fail_inflight_at_end)
{
    struct fix f;
    fix_init(&f, 57, true);
    struct outcome done = {.sim = f.sim};
    struct outcome stuck = {.sim = f.sim};
    struct outcome unsent = {.sim = f.sim};
    call2_async(f.end, 1, &done);
    call3_async(f.end, 2, &stuck); /* Handler3 never answers (stuck_answer_us = 0) */
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(done.calls, 1);
    ck_assert_int_eq(stuck.calls, 0);
    call2_async(f.end, 3, &unsent); /* its delivery event never runs */
    rpc_net_fail_inflight(f.net);
    ck_assert_int_eq(done.calls, 1);
    ck_assert_int_eq(stuck.calls, 1);
    ck_assert(!stuck.ok);
    ck_assert_int_eq(unsent.calls, 1);
    ck_assert(!unsent.ok);
    rpc_net_fail_inflight(f.net);
    ck_assert_int_eq(stuck.calls, 1);
    ck_assert_int_eq(unsent.calls, 1);
    fix_close(&f);
}
END_TEST

/* ---------------------------------------------------------------- scheduling latency */

/* A fixture with the default (measured) latencies back in place. */
static void fix_init_hop(struct fix *f, struct stamps *st, uint64_t seed)
{
    fix_init_service(f, st, seed, 0);
    ck_assert_int_eq(rpc_server_set_service_time(f->server, "Timed", NULL, NULL), RPC_OK);
    struct rpc_latency req;
    struct rpc_latency rep;
    rpc_latency_default(&req, &rep);
    ck_assert_int_eq(rpc_net_set_latency(f->net, &req, &rep), RPC_OK);
}

/* Reliable is not instantaneous: one call at a time, every handler runs strictly after its
 * send and every reply strictly after its handler, within the distributions' end points. */
START_TEST(test_rpc_latency_reliable_takes_time)
{
    struct fix f;
    struct stamps st;
    fix_init_hop(&f, &st, 50);
    struct rpc_latency req;
    struct rpc_latency rep;
    rpc_latency_default(&req, &rep);
    ck_assert_uint_gt(req.quantile_us[0], 0);
    ck_assert_uint_gt(rep.quantile_us[0], 0);
    for (int i = 0; i < STAMPS_MAX; i++) {
        sim_time_us sent_us = sim_now_us(f.sim);
        struct outcome o = {.sim = f.sim};
        stamp_call(f.end, i, &o);
        sim_run_until(f.sim, NULL, NULL, sent_us + SIM_MS(10));
        ck_assert_int_eq(o.calls, 1);
        ck_assert(o.ok);
        ck_assert_uint_ge(st.at_us[i], sent_us + req.quantile_us[0]);
        ck_assert_uint_le(st.at_us[i], sent_us + req.quantile_us[RPC_LATENCY_POINTS - 1u]);
        ck_assert_uint_ge(o.at_us, st.at_us[i] + rep.quantile_us[0]);
        ck_assert_uint_le(o.at_us, st.at_us[i] + rep.quantile_us[RPC_LATENCY_POINTS - 1u]);
    }
    fix_close(&f);
}
END_TEST

/* Requests sent at the same instant on one end reach the handler in another order, as
 * goroutines do in Go; all of them arrive. */
START_TEST(test_rpc_latency_reorders)
{
    struct fix f;
    struct stamps st;
    fix_init_hop(&f, &st, 51);
    struct outcome o[STAMPS_MAX];
    for (int i = 0; i < STAMPS_MAX; i++) {
        o[i] = (struct outcome){.sim = f.sim};
        stamp_call(f.end, i, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(st.count, STAMPS_MAX);
    int inversions = 0;
    for (int i = 1; i < STAMPS_MAX; i++)
        inversions += st.args[i] < st.args[i - 1];
    ck_assert_int_gt(inversions, 0);
    for (int i = 0; i < STAMPS_MAX; i++)
        ck_assert(o[i].ok);
    fix_close(&f);
}
END_TEST

/* Latencies come from their own stream: on an unreliable network, calls made one at a time
 * meet the same drops with and without latency (Go's draws are not reshuffled), only later. */
START_TEST(test_rpc_latency_keeps_go_draws)
{
    enum { CALLS = 40 };
    bool ok[2][CALLS];
    for (int with_hop = 0; with_hop < 2; with_hop++) {
        struct fix f;
        struct stamps st;
        fix_init_service(&f, &st, 52, 0);
        ck_assert_int_eq(rpc_server_set_service_time(f.server, "Timed", NULL, NULL), RPC_OK);
        if (with_hop) {
            struct rpc_latency req;
            struct rpc_latency rep;
            rpc_latency_default(&req, &rep);
            ck_assert_int_eq(rpc_net_set_latency(f.net, &req, &rep), RPC_OK);
        }
        rpc_net_set_reliable(f.net, false);
        for (int i = 0; i < CALLS; i++) {
            struct outcome o = {.sim = f.sim};
            call2_async(f.end, i, &o);
            sim_run_until(f.sim, NULL, NULL, sim_now_us(f.sim) + SIM_S(1));
            ck_assert_int_eq(o.calls, 1);
            ok[with_hop][i] = o.ok;
        }
        fix_close(&f);
    }
    int fails = 0;
    for (int i = 0; i < CALLS; i++) {
        ck_assert_int_eq(ok[0][i], ok[1][i]);
        fails += !ok[0][i];
    }
    ck_assert_int_gt(fails, 0); /* the comparison saw drops */
}
END_TEST

/* As in Go, a request whose server is deleted, replaced or cut off while it travels still
 * runs the handler (the count goes up); only the reply is lost. */
START_TEST(test_rpc_latency_dead_server_still_handles)
{
    for (int how = 0; how < 3; how++) {
        struct fix f;
        struct stamps st;
        fix_init_hop(&f, &st, 53u + (uint64_t)how);
        struct outcome o = {.sim = f.sim};
        stamp_call(f.end, 5, &o);
        ck_assert_int_eq(st.count, 0); /* still on its way */
        if (how == 0) rpc_net_delete_server(f.net, JUNK_SERVER_ID);
        if (how == 1) rpc_net_add_server(f.net, JUNK_SERVER_ID, rpc_server_new(f.net));
        if (how == 2) rpc_net_enable(f.net, f.end, false);
        sim_run_until(f.sim, NULL, NULL, SIM_S(1));
        ck_assert_int_eq(st.count, 1);
        ck_assert_int_eq(st.args[0], 5);
        ck_assert_uint_eq(rpc_server_count(f.server), 1);
        ck_assert_int_eq(o.calls, 1);
        ck_assert(!o.ok);
        ck_assert_uint_eq(rpc_net_inflight(f.net), 0);
        fix_close(&f);
    }
}
END_TEST

/* Distributions are checked when installed, and draws follow them: every draw inside the
 * end points, and each probability band gets its share (a reply at 2x the request latency,
 * both uniform on 0-1000 us here, so the band edges are exact). */
START_TEST(test_rpc_latency_distribution)
{
    struct fix f;
    fix_init(&f, 56, true);
    struct rpc_latency bad = {{5, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
    ck_assert_int_eq(rpc_net_set_latency(f.net, &bad, NULL), RPC_ERANGE);
    struct rpc_latency huge = {{0}};
    huge.quantile_us[RPC_LATENCY_POINTS - 1u] = RPC_LATENCY_US_MAX + 1u;
    ck_assert_int_eq(rpc_net_set_latency(f.net, NULL, &huge), RPC_ERANGE);
    /* Quantile = ppm / 1000: a uniform 0-1000 us distribution. */
    static const uint64_t ppm[RPC_LATENCY_POINTS] = RPC_LATENCY_PPM;
    struct rpc_latency uniform;
    for (uint32_t i = 0; i < RPC_LATENCY_POINTS; i++)
        uniform.quantile_us[i] = ppm[i] / 1000u;
    struct rpc_latency zero = {{0}};
    ck_assert_int_eq(rpc_net_set_latency(f.net, &uniform, &zero), RPC_OK);
    enum { CALLS = 4000 };
    int below_100 = 0;
    int above_990 = 0;
    static struct outcome o[CALLS];
    for (int i = 0; i < CALLS; i++) {
        o[i] = (struct outcome){.sim = f.sim};
        call2_async(f.end, i, &o[i]);
    }
    sim_run_until(f.sim, NULL, NULL, SIM_S(1));
    for (int i = 0; i < CALLS; i++) {
        ck_assert(o[i].ok);
        ck_assert_uint_le(o[i].at_us, 1000);
        below_100 += o[i].at_us < 100;
        above_990 += o[i].at_us >= 990;
    }
    ck_assert_int_gt(below_100, CALLS / 10 - CALLS / 25); /* p10 band: ~10% */
    ck_assert_int_lt(below_100, CALLS / 10 + CALLS / 25);
    ck_assert_int_gt(above_990, 0); /* the 1% tail band is drawn too */
    ck_assert_int_lt(above_990, CALLS / 25);
    fix_close(&f);
}
END_TEST

Suite *rpc_suite(void)
{
    Suite *s = suite_create("rpc");
    TCase *go = tcase_create("labrpc_go");
    tcase_set_timeout(go, 20);
    tcase_add_test(go, test_rpc_basic);
    tcase_add_test(go, test_rpc_types);
    tcase_add_test(go, test_rpc_disconnect);
    tcase_add_test(go, test_rpc_counts);
    tcase_add_test(go, test_rpc_bytes);
    tcase_add_test(go, test_rpc_concurrent_many);
    tcase_add_loop_test(go, test_rpc_unreliable, 0, 5);
    tcase_add_test(go, test_rpc_concurrent_one);
    tcase_add_loop_test(go, test_rpc_regression1, 0, 5);
    tcase_add_test(go, test_rpc_killed);
    tcase_add_test(go, test_rpc_killed_never_answers);
    suite_add_tcase(s, go);

    TCase *more = tcase_create("labrpc_contract");
    tcase_set_timeout(more, 20);
    tcase_add_test(more, test_rpc_complete_as_events);
    tcase_add_loop_test(more, test_rpc_long_delays, 0, 3);
    tcase_add_loop_test(more, test_rpc_long_reordering, 0, 3);
    tcase_add_test(more, test_rpc_deterministic);
    tcase_add_test(more, test_rpc_duplicate);
    tcase_add_test(more, test_rpc_reply_cut);
    tcase_add_test(more, test_rpc_replace_server);
    tcase_add_test(more, test_rpc_disable_kills_pending);
    tcase_add_test(more, test_rpc_dead_at_answer);
    tcase_add_loop_test(more, test_rpc_draw_order, 0, 3);
    tcase_add_test(more, test_rpc_cleanup);
    tcase_add_test(more, test_rpc_delete_end);
    tcase_add_test(more, test_rpc_trace);
    tcase_add_test(more, test_rpc_registry_errors);
    tcase_add_test(more, test_rpc_free_midflight);
    tcase_add_test(more, test_rpc_fail_inflight_at_end);
    tcase_add_test_raise_signal(more, test_rpc_wait_outside_task_asserts, SIGABRT);
    tcase_add_test_raise_signal(more, test_rpc_unknown_method_asserts, SIGABRT);
    suite_add_tcase(s, more);

    TCase *service = tcase_create("labrpc_service_time");
    tcase_set_timeout(service, 20);
    tcase_add_test(service, test_rpc_service_serial);
    tcase_add_test(service, test_rpc_service_queueing);
    tcase_add_test(service, test_rpc_service_untimed);
    tcase_add_test(service, test_rpc_service_death_while_queued);
    suite_add_tcase(s, service);

    TCase *hop = tcase_create("labrpc_latency");
    tcase_set_timeout(hop, 20);
    tcase_add_test(hop, test_rpc_latency_reliable_takes_time);
    tcase_add_test(hop, test_rpc_latency_reorders);
    tcase_add_test(hop, test_rpc_latency_keeps_go_draws);
    tcase_add_test(hop, test_rpc_latency_dead_server_still_handles);
    tcase_add_test(hop, test_rpc_latency_distribution);
    suite_add_tcase(s, hop);
    return s;
}
