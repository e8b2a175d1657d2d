/* raftkv-client: the client of a raftkv cluster (see the README's "Real-network mode").
 *
 *   raftkv-client [--nodes host:port,...] [--timeout-ms MS] COMMAND
 *     get KEY | put KEY VALUE | append KEY VALUE | delete KEY   one op; prints the value / ok
 *     health                      exit 0 when the node answers /health with 200, else 1
 *     info                        prints /cluster/info
 *     load --requests N --clients C [--delay-ms D] [--keys K] [--writes PCT] [--batch B]
 *                                 N requests from C concurrent clients; prints throughput,
 *                                 latency percentiles and the success rate
 *   raftkv-client fsync-rate DIR [SECONDS]   this disk's fsyncs per second (for make bench)
 *
 * Leader discovery: the client asks /cluster/info for the leader's HTTP address and sends
 * there first (any node would do: followers proxy). On a refused connection, a timeout or a
 * 503 it moves to the next node and backs off (25 ms doubling to 1 s, or the Retry-After),
 * until --timeout-ms (default 10 s) has passed. Exit status: 0 success, 1 failure or key not
 * found, 2 bad usage. The client is not simulated code: it uses threads and the real clock.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#define CLIENT_THREADS_MAX 256
#define CLIENT_ATTEMPTS_MAX 200
#define CLIENT_BATCH_MAX 128

struct client {
    struct net_addr nodes[NET_NODES_MAX];
    int nodes_count;
    int preferred;
    uint32_t timeout_ms;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Points `preferred` at the leader's HTTP address when some node names it. */
static void leader_discover(struct client *c)
{
    for (int i = 0; i < c->nodes_count; i++) {
        struct net_reply r;
        if (net_http_call(&c->nodes[i], "GET", "/cluster/info", NULL, 0, 1000, &r) != NET_OK)
            continue;
        json_t *root = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        const char *leader = json_string_value(json_object_get(root, "leader_http"));
        for (int j = 0; leader != NULL && j < c->nodes_count; j++) {
            char text[NET_HOST_MAX + 8];
            snprintf(text, sizeof(text), "%s:%u", c->nodes[j].host, c->nodes[j].port);
            if (strcmp(text, leader) == 0) c->preferred = j;
        }
        json_decref(root);
        free(r.body);
        if (leader != NULL) return;
    }
}

/* Sends until a node answers with anything but 503, or the timeout passes. The last reply (or
 * error) is returned; on NET_OK the reply body is the caller's. */
static int client_call(struct client *c, const char *method, const char *path, const char *body,
                       struct net_reply *out)
{
    double deadline = mono_s() + c->timeout_ms / 1000.0;
    uint32_t backoff_ms = 25;
    int rc = NET_ETIMEDOUT;
    for (int attempt = 0; attempt < CLIENT_ATTEMPTS_MAX; attempt++) {
        double left_s = deadline - mono_s();
        if (left_s <= 0) break;
        uint32_t budget_ms = left_s > 5.0 ? 5000u : (uint32_t)(left_s * 1000) + 1;
        rc = net_http_call(&c->nodes[c->preferred], method, path, body,
                           body != NULL ? strlen(body) : 0, budget_ms, out);
        if (rc == NET_OK && out->status != 503) return NET_OK;
        uint32_t wait_ms = backoff_ms;
        if (rc == NET_OK && out->retry_after_s > 0 && out->retry_after_s * 1000u < wait_ms)
            wait_ms = out->retry_after_s * 1000u;
        if (rc == NET_OK && attempt + 1 < CLIENT_ATTEMPTS_MAX &&
            mono_s() + wait_ms / 1e3 < deadline)
            free(out->body);
        else if (rc == NET_OK)
            return NET_OK; /* the last 503 is the answer */
        c->preferred = (c->preferred + 1) % c->nodes_count;
        sleep_ms(wait_ms);
        backoff_ms = backoff_ms * 2 > 1000 ? 1000 : backoff_ms * 2;
    }
    return rc;
}

static int one_op(struct client *c, const char *cmd, int argc, char **argv)
{
    bool has_value = strcmp(cmd, "put") == 0 || strcmp(cmd, "append") == 0;
    if (argc != (has_value ? 2 : 1)) {
        fprintf(stderr, "raftkv-client: %s needs %s\n", cmd, has_value ? "KEY VALUE" : "KEY");
        return 2;
    }
    char key[3 * 1024 + 1];
    char path[sizeof(key) + 16];
    if (!net_key_escape(argv[0], key, sizeof(key))) {
        fprintf(stderr, "raftkv-client: key too long\n");
        return 2;
    }
    snprintf(path, sizeof(path), "/kv/%s%s", key, strcmp(cmd, "append") == 0 ? "/append" : "");
    const char *method = strcmp(cmd, "get") == 0      ? "GET"
                         : strcmp(cmd, "put") == 0    ? "PUT"
                         : strcmp(cmd, "delete") == 0 ? "DELETE"
                                                      : "POST";
    char *body = NULL;
    if (has_value) {
        json_t *o = json_pack("{s:s}", "value", argv[1]);
        body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
    leader_discover(c);
    struct net_reply r;
    int rc = client_call(c, method, path, body, &r);
    free(body);
    if (rc != NET_OK) {
        fprintf(stderr, "raftkv-client: %s %s: %s\n", cmd, argv[0], net_strerror(rc));
        return 1;
    }
    int status = r.status;
    json_t *root = json_loads(r.body, 0, NULL);
    if (status == 200 && strcmp(cmd, "get") == 0)
        printf("%s\n", json_string_value(json_object_get(root, "value")));
    else if (status == 200)
        printf("ok\n");
    else
        fprintf(stderr, "raftkv-client: %s %s: %d %s\n", cmd, argv[0], status,
                json_string_value(json_object_get(root, "error")));
    json_decref(root);
    free(r.body);
    return status == 200 ? 0 : 1;
}

static int health(struct client *c)
{
    struct net_reply r;
    int rc = net_http_call(&c->nodes[0], "GET", "/health", NULL, 0, c->timeout_ms, &r);
    if (rc != NET_OK) {
        fprintf(stderr, "raftkv-client: health: %s\n", net_strerror(rc));
        return 1;
    }
    printf("%d %s\n", r.status, r.body);
    free(r.body);
    return r.status == 200 ? 0 : 1;
}

static int info(struct client *c)
{
    struct net_reply r;
    int rc = client_call(c, "GET", "/cluster/info", NULL, &r);
    if (rc != NET_OK) {
        fprintf(stderr, "raftkv-client: info: %s\n", net_strerror(rc));
        return 1;
    }
    printf("%s\n", r.body);
    free(r.body);
    return r.status == 200 ? 0 : 1;
}

/* ---------------------------------------------------------------- load mode */

struct load {
    struct client base;
    long requests;
    int clients;
    uint32_t delay_ms;
    int keys;
    int writes_pct;
    int batch;
    atomic_long next;
    atomic_long ok;
    atomic_long ops_ok;
    double *latency_s; /* one per request */
};

struct load_thread {
    struct load *load;
    int index;
    pthread_t thread;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* The body of a write request: one put, or a batch of them. */
static char *write_body(struct load *l, uint64_t *rng, char *path, size_t path_size)
{
    json_t *o;
    if (l->batch <= 1) {
        snprintf(path, path_size, "/kv/k%d", (int)(xorshift(rng) % (uint64_t)l->keys));
        o = json_pack("{s:s}", "value", "v");
    } else {
        snprintf(path, path_size, "/batch");
        json_t *ops = json_array();
        for (int i = 0; i < l->batch; i++) {
            char key[32];
            snprintf(key, sizeof(key), "k%d", (int)(xorshift(rng) % (uint64_t)l->keys));
            json_array_append_new(
                ops, json_pack("{s:s,s:s,s:s}", "op", "put", "key", key, "value", "v"));
        }
        o = json_pack("{s:o}", "ops", ops);
    }
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return body;
}

static void *load_run(void *arg)
{
    struct load_thread *t = arg;
    struct load *l = t->load;
    struct client c = l->base;
    c.preferred = (c.preferred + t->index) % c.nodes_count;
    leader_discover(&c);
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(t->index + 1);
    for (;;) {
        long i = atomic_fetch_add(&l->next, 1);
        if (i >= l->requests) break;
        bool write = (int)(xorshift(&rng) % 100) < l->writes_pct;
        char path[64];
        char *body = NULL;
        if (write) {
            body = write_body(l, &rng, path, sizeof(path));
        } else {
            snprintf(path, sizeof(path), "/kv/k%d", (int)(xorshift(&rng) % (uint64_t)l->keys));
        }
        double t0 = mono_s();
        struct net_reply r;
        int rc = client_call(&c, write ? (l->batch > 1 ? "POST" : "PUT") : "GET", path, body, &r);
        l->latency_s[i] = mono_s() - t0;
        free(body);
        if (rc == NET_OK && (r.status == 200 || r.status == 404)) {
            atomic_fetch_add(&l->ok, 1);
            atomic_fetch_add(&l->ops_ok, write && l->batch > 1 ? l->batch : 1);
        }
        if (rc == NET_OK) free(r.body);
        if (l->delay_ms > 0) sleep_ms(l->delay_ms);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static bool load_flags(struct load *l, int argc, char **argv)
{
    for (int i = 0; i + 1 < argc; i += 2) {
        char *end = NULL;
        long v = strtol(argv[i + 1], &end, 10);
        if (end == argv[i + 1] || *end != '\0') v = -1; /* not a number: rejected below */
        if (strcmp(argv[i], "--requests") == 0 && v > 0 && v <= 100000000)
            l->requests = v;
        else if (strcmp(argv[i], "--clients") == 0 && v > 0 && v <= CLIENT_THREADS_MAX)
            l->clients = (int)v;
        else if (strcmp(argv[i], "--delay-ms") == 0 && v >= 0 && v <= 60000)
            l->delay_ms = (uint32_t)v;
        else if (strcmp(argv[i], "--keys") == 0 && v > 0 && v <= 1000000)
            l->keys = (int)v;
        else if (strcmp(argv[i], "--writes") == 0 && v >= 0 && v <= 100)
            l->writes_pct = (int)v;
        else if (strcmp(argv[i], "--batch") == 0 && v > 0 && v <= CLIENT_BATCH_MAX)
            l->batch = (int)v;
        else {
            fprintf(stderr, "raftkv-client: load: bad flag or value '%s %s'\n", argv[i],
                    argv[i + 1]);
            return false;
        }
    }
    if (argc % 2 != 0) {
        fprintf(stderr, "raftkv-client: load: %s needs a value\n", argv[argc - 1]);
        return false;
    }
    return true;
}

static int load_mode(struct client *c, int argc, char **argv)
{
    struct load *l = calloc(1, sizeof(*l));
    if (l == NULL) return 1;
    *l = (struct load){
        .base = *c, .requests = 1000, .clients = 1, .keys = 100, .writes_pct = 50, .batch = 1};
    if (!load_flags(l, argc, argv)) {
        free(l);
        return 2;
    }
    l->latency_s = calloc((size_t)l->requests, sizeof(double));
    struct load_thread *threads = calloc((size_t)l->clients, sizeof(*threads));
    if (l->latency_s == NULL || threads == NULL) return 1;
    double t0 = mono_s();
    for (int i = 0; i < l->clients; i++) {
        threads[i] = (struct load_thread){.load = l, .index = i};
        pthread_create(&threads[i].thread, NULL, load_run, &threads[i]);
    }
    for (int i = 0; i < l->clients; i++)
        pthread_join(threads[i].thread, NULL);
    double elapsed = mono_s() - t0;
    qsort(l->latency_s, (size_t)l->requests, sizeof(double), cmp_double);
    long ok = atomic_load(&l->ok);
    long ops_ok = atomic_load(&l->ops_ok);
    size_t n = (size_t)l->requests;
    printf("load: %ld requests by %d clients (writes %d%%, batch %d) in %.3f s\n", l->requests,
           l->clients, l->writes_pct, l->batch, elapsed);
    printf("throughput: %.1f requests/s, %.1f ops/s; success %.2f%%\n", ok / elapsed,
           ops_ok / elapsed, 100.0 * ok / l->requests);
    printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", 1e3 * l->latency_s[n / 2],
           1e3 * l->latency_s[n * 9 / 10], 1e3 * l->latency_s[n * 99 / 100],
           1e3 * l->latency_s[n - 1]);
    int status = ok == l->requests ? 0 : 1;
    free(threads);
    free(l->latency_s);
    free(l);
    return status;
}

static int fsync_rate(int argc, char **argv)
{
    if (argc < 1) {
        fprintf(stderr, "raftkv-client: fsync-rate needs DIR\n");
        return 2;
    }
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    char path[600];
    snprintf(path, sizeof(path), "%s/fsync-probe", argv[0]);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    char block[4096] = {0};
    long count = 0;
    double t0 = mono_s();
    while (mono_s() - t0 < seconds && count < 10000000) {
        if (pwrite(fd, block, sizeof(block), 0) != (ssize_t)sizeof(block) || fsync(fd) != 0) break;
        count++;
    }
    double elapsed = mono_s() - t0;
    close(fd);
    unlink(path);
    printf("fsync: %.0f/s (%ld in %.2f s, 4 KiB rewrite + fsync)\n", count / elapsed, count,
           elapsed);
    return 0;
}

int main(int argc, char **argv)
{
    struct client c = {.timeout_ms = 10000};
    char err[256];
    const char *nodes = "127.0.0.1:8001,127.0.0.1:8002,127.0.0.1:8003";
    int i = 1;
    while (i + 1 < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--nodes") == 0) {
            nodes = argv[i + 1];
        } else if (strcmp(argv[i], "--timeout-ms") == 0) {
            char *end = NULL;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end != '\0' || v <= 0 || v > 3600000) {
                fprintf(stderr, "raftkv-client: bad --timeout-ms '%s'\n", argv[i + 1]);
                return 2;
            }
            c.timeout_ms = (uint32_t)v;
        } else {
            fprintf(stderr, "raftkv-client: unknown flag '%s'\n", argv[i]);
            return 2;
        }
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: raftkv-client [--nodes host:port,...] [--timeout-ms MS] "
                        "get|put|append|delete|health|info|load|fsync-rate ...\n");
        return 2;
    }
    const char *cmd = argv[i++];
    if (strcmp(cmd, "fsync-rate") == 0) return fsync_rate(argc - i, argv + i);
    if (net_addr_list_parse(nodes, c.nodes, NET_NODES_MAX, &c.nodes_count, err, sizeof(err)) !=
        NET_OK) {
        fprintf(stderr, "raftkv-client: --nodes: %s\n", err);
        return 2;
    }
    if (strcmp(cmd, "health") == 0) return health(&c);
    if (strcmp(cmd, "info") == 0) return info(&c);
    if (strcmp(cmd, "load") == 0) return load_mode(&c, argc - i, argv + i);
    if (strcmp(cmd, "get") == 0 || strcmp(cmd, "put") == 0 || strcmp(cmd, "append") == 0 ||
        strcmp(cmd, "delete") == 0)
        return one_op(&c, cmd, argc - i, argv + i);
    fprintf(stderr, "raftkv-client: unknown command '%s'\n", cmd);
    return 2;
}
