/* rpc_hop: the scheduling latency of a message, Go's goroutine hops in virtual time.
 *
 * In Go's labrpc a call crosses goroutines on the way in (the caller's channel send to the
 * network goroutine, processReq, the dispatch goroutine that decodes the arguments and runs
 * the handler) and again on the way back (the reply channel, the caller decoding the reply),
 * and every crossing waits for the scheduler. The default distributions are what that costs:
 * request latency (just before Call until the handler starts) and reply latency (the handler
 * returns until Call returns), measured with the 2024 handout's labrpc and labgob, go1.19.8,
 * GOMAXPROCS 2, one caller making 20,000 sequential calls on an otherwise idle 2-core Linux
 * machine, averaged over four runs (with and without 50 goroutines ticking every 1 ms, which
 * made no difference). Measured: p0, p10, p50, p90, p99, p99.9 and the maximum; the
 * quantiles between p10 and p90 are interpolated linearly. The maximum is capped at 2 ms
 * (single runs reached 1.5-8 ms). Tails under CPU contention (20 callers on 2 cores: p99 of
 * 8-13 ms, the Go scheduler's preemption) are not modelled: virtual time charges no CPU.
 *
 * Invariant: every installed distribution has non-decreasing quantiles <= RPC_LATENCY_US_MAX,
 * so a draw is bounded and cannot overflow the clock.
 */
#include "rpc_int.h"

_Static_assert(RPC_LATENCY_POINTS >= 2u, "a distribution needs two end points");

static const uint64_t latency_ppm[RPC_LATENCY_POINTS] = RPC_LATENCY_PPM;
static const struct rpc_latency latency_request_default = {
    {22, 25, 29, 33, 37, 41, 48, 55, 61, 68, 192, 521, 2000}};
static const struct rpc_latency latency_reply_default = {
    {14, 17, 20, 24, 27, 31, 36, 41, 45, 50, 152, 419, 2000}};

void rpc_latency_default(struct rpc_latency *request, struct rpc_latency *reply)
{
    if (request != NULL) *request = latency_request_default;
    if (reply != NULL) *reply = latency_reply_default;
}

static bool latency_valid(const struct rpc_latency *lat)
{
    for (uint32_t i = 0; i < RPC_LATENCY_POINTS; i++) {
        if (lat->quantile_us[i] > RPC_LATENCY_US_MAX) return false;
        if (i > 0 && lat->quantile_us[i] < lat->quantile_us[i - 1u]) return false;
    }
    return true;
}

int rpc_net_set_latency(struct rpc_net *net, const struct rpc_latency *request,
                        const struct rpc_latency *reply)
{
    if (request != NULL && !latency_valid(request)) return RPC_ERANGE;
    if (reply != NULL && !latency_valid(reply)) return RPC_ERANGE;
    if (request != NULL) net->latency_request = *request;
    if (reply != NULL) net->latency_reply = *reply;
    return RPC_OK;
}

sim_time_us rpc_latency_draw(struct rpc_net *net, const struct rpc_latency *lat)
{
    const sim_time_us *q = lat->quantile_us;
    uint64_t ppm = sim_rand_below(&net->rand_hop, latency_ppm[RPC_LATENCY_POINTS - 1u]);
    uint32_t k = 0;
    while (k + 2u < RPC_LATENCY_POINTS && ppm >= latency_ppm[k + 1u])
        k++;
    SIM_ASSERT(net->sim, SIM_NODE_NONE, ppm >= latency_ppm[k]);
    SIM_ASSERT(net->sim, SIM_NODE_NONE, q[k] <= q[k + 1u]);
    uint64_t span_ppm = latency_ppm[k + 1u] - latency_ppm[k];
    sim_time_us us = q[k] + (q[k + 1u] - q[k]) * (ppm - latency_ppm[k]) / span_ppm;
    SIM_ASSERT(net->sim, SIM_NODE_NONE, us <= q[k + 1u]);
    return us;
}
