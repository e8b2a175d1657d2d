/* bench_rpc: labrpc's Benchmark (src/labrpc/test_test.go): 100,000 sequential calls of
 * JunkServer.Handler2(111) from one task on a reliable network, timed with the wall clock.
 * Arguments and replies are plain bytes (an 8-byte little-endian int, the reply string). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "labrpc.h"
#include "sim.h"

#define BENCH_RPC_CALLS 100000u

struct bench_rpc {
    struct rpc_end *end;
    uint64_t handled;
    uint64_t good;
};

static void bench_handler2(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct bench_rpc *b = receiver;
    int64_t x = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        x |= (int64_t)((uint64_t)args[i] << (8 * i));
    char reply[32];
    int n = snprintf(reply, sizeof(reply), "handler2-%lld", (long long)x);
    b->handled++;
    rpc_req_reply(req, (const uint8_t *)reply, (size_t)n);
}

static void bench_rpc_task(struct sim *sim, void *arg)
{
    (void)sim;
    struct bench_rpc *b = arg;
    uint8_t args[8] = {111, 0, 0, 0, 0, 0, 0, 0};
    for (uint32_t i = 0; i < BENCH_RPC_CALLS; i++) {
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        bool ok = rpc_end_call_wait(b->end, "JunkServer.Handler2", args, sizeof(args), &reply,
                                    &reply_len);
        if (ok && reply_len == 12 && memcmp(reply, "handler2-111", 12) == 0) b->good++;
        free(reply);
    }
}

void bench_rpc(FILE *out)
{
    struct sim *sim = sim_new(1);
    struct rpc_net *net = sim != NULL ? rpc_net_new(sim) : NULL;
    struct rpc_server *server = net != NULL ? rpc_server_new(net) : NULL;
    struct bench_rpc b = {0};
    b.end = net != NULL ? rpc_net_make_end(net, "end1-99") : NULL;
    if (server == NULL || b.end == NULL ||
        rpc_server_add_method(server, "JunkServer", "Handler2", bench_handler2, &b) != RPC_OK) {
        fprintf(out, "bench rpc error=setup\n");
        rpc_net_free(net);
        sim_free(sim);
        return;
    }
    rpc_net_add_server(net, 9, server);
    rpc_net_connect(net, b.end, 9);
    rpc_net_enable(net, b.end, true);
    sim_task_spawn(sim, "bench", bench_rpc_task, &b);
    double t0 = bench_wall_ms();
    sim_run_until(sim, NULL, NULL, SIM_TIMEOUT_NEVER);
    double ms = bench_wall_ms() - t0;
    if (b.good != BENCH_RPC_CALLS)
        fprintf(out, "bench rpc error=wrong_replies good=%llu\n", (unsigned long long)b.good);
    fprintf(out, "bench rpc calls=%u wall_ms=%.0f calls_per_s=%.0f virtual_s=%.3f\n",
            BENCH_RPC_CALLS, ms, (double)BENCH_RPC_CALLS / (ms / 1e3),
            (double)sim_now_us(sim) / 1e6);
    rpc_net_free(net);
    sim_free(sim);
}
