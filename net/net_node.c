/* net_node: one node of the real-network mode, from start to a clean stop.
 *
 * Start: recover the data directory's write-ahead log (net_persister_open: a torn last record
 * is cut off and logged; a log that does not check out stops the node with the file and
 * offset), make the kernel (its seed drawn from the OS at
 * every start, so the KV client ids of a restarted node never repeat its previous life's), the
 * driver, the network (listening on this node's Raft address), the KV server on its Raft
 * (kv_server_start: the same code the graded suites run), the proposer and the HTTP server.
 *
 * Every driver turn ends in node_flush: the persister's sync first, then the peers' and the
 * HTTP clients' bytes (net.h, output commit). A failed sync is fatal: the node cannot promise
 * what it already promised, so it stops with status 1 and says why.
 *
 * Shutdown on SIGINT or SIGTERM: stop accepting (new HTTP connections are refused, requests
 * on open ones get 503), let in-flight requests finish for up to NET_DRAIN_US, then kill the KV
 * server (which answers what still waits), sync, close every handle and exit 0, with one log
 * line at the signal and one at the end. A second signal during the drain ends it at once.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net_int.h"

#define NET_DRAIN_US SIM_S(3)
#define DRAIN_POLL_MS 20u
#define NET_FINAL_WRITE_MS 1000u

void net_log(const struct net_node *node, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "raftkv[%d]: %s\n", node->cfg.id, line);
    fflush(stderr);
}

void net_node_config_default(struct net_node_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->id = -1;
    cfg->maxraftstate = 1 << 20;
    cfg->http_request_timeout_ms = 10000;
    cfg->op_timeout_ms = 3000;
}

void net_node_count(struct net_node *node, int status, sim_time_us started_us)
{
    node->stats.requests++;
    if (status >= 100 && status < 600) node->stats.by_status[status / 100]++;
    sim_time_us now = sim_now_us(node->sim);
    uint64_t us = started_us != 0 && now > started_us ? now - started_us : 0;
    uint32_t bucket = 0;
    while (bucket + 1 < NET_LATENCY_BUCKETS && (1ull << bucket) < us)
        bucket++;
    node->stats.latency_us_hist[bucket]++;
}

static void node_flush(void *arg)
{
    struct net_node *node = arg;
    char err[256];
    if (net_persister_sync(node->persister, err, sizeof(err)) != NET_OK) {
        net_log(node, "fatal: cannot sync the state: %s", err);
        _exit(1);
    }
    if (node->rpc != NULL) net_rpc_flush(node->rpc);
    if (node->http != NULL) net_http_flush(node->http);
}

static uint64_t seed_draw(void)
{
    uint64_t seed = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed)) seed = 0;
        close(fd);
    }
    /* Without /dev/urandom, the pid and the monotonic clock still differ between lives. */
    return seed != 0 ? seed : (uint64_t)getpid() * 0x9e3779b97f4a7c15ull ^ uv_hrtime();
}

static void handle_close(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle)) uv_close(handle, NULL);
}

static void on_final(uv_timer_t *timer)
{
    uv_walk(timer->loop, handle_close, NULL);
}

static void node_stop(struct net_node *node)
{
    if (node->stopped) return;
    node->stopped = true;
    uv_timer_stop(&node->drain_timer);
    kv_server_kill(node->kv);   /* answers what still waits */
    net_loop_turn(&node->loop); /* those answers go out, after the last sync */
    char err[256];
    if (net_persister_sync(node->persister, err, sizeof(err)) != NET_OK) {
        net_log(node, "cannot sync the state at shutdown: %s", err);
        node->exit_status = 1;
    }
    net_http_close(node->http);
    net_rpc_shutdown(node->rpc);
    net_loop_close(&node->loop);
    uv_close((uv_handle_t *)&node->sigint, NULL);
    uv_close((uv_handle_t *)&node->sigterm, NULL);
    /* Answers still being written get NET_FINAL_WRITE_MS; a client that does not read them
     * does not hold the process (the timer is unreferenced: it never keeps the loop alive). */
    uv_timer_start(&node->drain_timer, on_final, NET_FINAL_WRITE_MS, 0);
    uv_unref((uv_handle_t *)&node->drain_timer);
}

static void on_drain_poll(uv_timer_t *timer)
{
    struct net_node *node = timer->data;
    bool idle = net_http_in_flight(node->http) == 0 && net_prop_in_flight(node->prop) == 0;
    if (idle || net_loop_now_us(&node->loop) - node->draining_since_us >= NET_DRAIN_US)
        node_stop(node);
}

static void on_signal(uv_signal_t *sig, int signum)
{
    struct net_node *node = sig->data;
    const char *name = signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (node->draining) {
        net_log(node, "%s again: stopping now", name);
        node_stop(node);
        return;
    }
    node->draining = true;
    node->draining_since_us = net_loop_now_us(&node->loop);
    net_log(node, "%s: shutting down: no new requests, finishing %u in flight", name,
            net_http_in_flight(node->http));
    net_http_stop_accepting(node->http);
    uv_timer_start(&node->drain_timer, on_drain_poll, 0, DRAIN_POLL_MS);
}

/* Everything up to serving; on failure err says why and the node is left to node_free. */
static int node_start(struct net_node *node, char *err, size_t err_size)
{
    int rc = net_persister_open(node->cfg.data_dir, &node->persister, err, err_size);
    if (rc != NET_OK) return rc;
    uint64_t records = 0;
    uint64_t torn_bytes = 0;
    net_persister_recovery(node->persister, &records, &torn_bytes);
    if (torn_bytes > 0)
        net_log(node,
                "recovered %llu records of the write-ahead log; cut off a torn tail of %llu "
                "bytes",
                (unsigned long long)records, (unsigned long long)torn_bytes);
    uint64_t seed = seed_draw();
    node->sim = sim_new(seed);
    if (node->sim == NULL || uv_loop_init(&node->uv) != 0) {
        snprintf(err, err_size, "out of memory");
        return NET_ENOMEM;
    }
    node->uv_ready = true;
    net_loop_init(&node->loop, &node->uv, node->sim, node_flush, node);
    sim_node_swap(node->sim, node->cfg.id);
    node->rpc = net_rpc_new(&node->loop, node->cfg.peers, node->cfg.peers_count, node->cfg.id, err,
                            err_size);
    if (node->rpc == NULL || err[0] != '\0') return NET_EADDR;
    struct rpc_end *ends[NET_NODES_MAX];
    for (int i = 0; i < node->cfg.peers_count; i++)
        ends[i] = net_rpc_end(node->rpc, i);
    rc = kv_server_start(node->sim, ends, node->cfg.peers_count, node->cfg.id, node->persister,
                         node->cfg.maxraftstate, net_rpc_server(node->rpc), &node->kv);
    if (rc != KV_OK) {
        snprintf(err, err_size, "cannot start the KV service on the saved state: %s",
                 kv_strerror(rc));
        return NET_ECORRUPT;
    }
    node->prop = net_prop_new(node->sim, node->rpc, node->cfg.peers_count, node->cfg.id);
    if (node->prop == NULL || net_info_register(node, net_rpc_server(node->rpc)) != RPC_OK) {
        snprintf(err, err_size, "out of memory");
        return NET_ENOMEM;
    }
    node->http = net_http_new(&node->loop, &node->cfg.http, node->cfg.http_request_timeout_ms,
                              net_api_handle, node, err, err_size);
    if (node->http == NULL || err[0] != '\0') return NET_EADDR;
    sim_node_swap(node->sim, SIM_NODE_NONE);
    uv_signal_init(&node->uv, &node->sigint);
    uv_signal_init(&node->uv, &node->sigterm);
    uv_timer_init(&node->uv, &node->drain_timer);
    node->sigint.data = node->sigterm.data = node->drain_timer.data = node;
    uv_signal_start(&node->sigint, on_signal, SIGINT);
    uv_signal_start(&node->sigterm, on_signal, SIGTERM);
    net_log(node, "serving: raft %s:%u, http %s:%u, data %s, %d nodes, seed %llu",
            node->cfg.peers[node->cfg.id].host, node->cfg.peers[node->cfg.id].port,
            node->cfg.http.host, net_http_addr(node->http).port, node->cfg.data_dir,
            node->cfg.peers_count, (unsigned long long)seed);
    return NET_OK;
}

static void node_free(struct net_node *node)
{
    if (node->sim != NULL) {
        /* Messages that arrived during the last turns still own their bytes: let them run
         * (the KV server is dead, so they change nothing). Bounded like any turn. */
        sim_run_due(node->sim, sim_now_us(node->sim), NET_LOOP_EVENTS_PER_TURN);
    }
    if (node->kv != NULL) kv_server_free(node->kv);
    net_prop_free(node->prop);
    if (node->http != NULL) net_http_free(node->http);
    if (node->rpc != NULL) net_rpc_free(node->rpc);
    raft_persister_free(node->persister);
    if (node->sim != NULL) sim_free(node->sim);
}

int net_node_run(const struct net_node_config *cfg)
{
    struct net_node *node = calloc(1, sizeof(*node));
    if (node == NULL) return 1;
    node->cfg = *cfg;
    char err[512] = "";
    int rc = node_start(node, err, sizeof(err));
    if (rc != NET_OK) {
        net_log(node, "cannot start: %s", err);
        if (node->kv != NULL) kv_server_kill(node->kv);
        if (node->uv_ready) {
            /* Close what was opened (listeners, the driver's handles) and let the loop finish
             * the closes, so everything below can be freed. */
            uv_walk(&node->uv, handle_close, NULL);
            uv_run(&node->uv, UV_RUN_DEFAULT);
            uv_loop_close(&node->uv);
        }
        node_free(node);
        free(node);
        return 1;
    }
    uv_run(&node->uv, UV_RUN_DEFAULT);
    /* Whatever is left open (the final timer, connections of clients that never read) closes
     * now; the second run only completes those closes. */
    uv_walk(&node->uv, handle_close, NULL);
    uv_run(&node->uv, UV_RUN_DEFAULT);
    int status = node->exit_status;
    net_log(node, "stopped: state synced (%llu fsyncs), exit %d",
            (unsigned long long)net_persister_syncs(node->persister), status);
    node_free(node);
    uv_loop_close(&node->uv);
    free(node);
    return status;
}
