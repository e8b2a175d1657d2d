/* check_net: the real-network mode end to end: build/raftkv processes on loopback, driven over
 * HTTP as users drive them.
 *
 * Each test starts its own 3-node cluster (ports probed by binding port 0, so parallel runs
 * do not collide; data under a scratch directory) and kills it at the end. The nodes are
 * children that die with the test (PR_SET_PDEATHSIG), so a failing test leaves nothing running.
 * Every wait is bounded in count and in time. The tests:
 *  - linearizable under faults: concurrent clients record a history while the test SIGKILLs the
 *    leader, restarts it on its data directory, SIGSTOPs and SIGCONTs a node; src/lin's KV
 *    model must find it linearizable (a request that failed or timed out is a write of unknown
 *    outcome: it may apply at any time after its call);
 *  - durability: every acknowledged write survives SIGKILL of all three nodes and a restart;
 *  - damaged log: a torn last record in a node's write-ahead log is cut off and the node
 *    rejoins; a damaged record with intact ones after it stops its node with the file and
 *    offset, and the cluster goes on without it;
 *  - graceful shutdown: SIGTERM and SIGINT fail what cannot finish, exit 0 and log it;
 *  - bad input: each endpoint's bad requests get their status and JSON error and the node keeps
 *    serving; with no quorum a write gets 503 and Retry-After.
 * The raftkv binary is the one beside LABSIM_BIN (make test builds both).
 */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <jansson.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../net/net.h"
#include "../../raft/wal.h"
#include "check_suites.h"
#include "check_util.h"
#include "lin.h"

#define NODES 3
#define OP_TIMEOUT_MS 1500u
#define WAIT_STEP_MS 50u

struct cluster {
    struct cu_dir dir;
    char bin[512];
    struct net_addr raft[NODES];
    struct net_addr http[NODES];
    pid_t pid[NODES];
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A port nobody listens on now: bind port 0 and read what the kernel chose. */
static uint16_t port_probe(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t len = sizeof(sa);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void node_start(struct cluster *c, int i)
{
    char peers[256] = "";
    for (int j = 0; j < NODES; j++)
        snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers), "%s127.0.0.1:%u",
                 j > 0 ? "," : "", c->raft[j].port);
    char id[8], http[32], data[160], log[160];
    snprintf(id, sizeof(id), "%d", i);
    snprintf(http, sizeof(http), "127.0.0.1:%u", c->http[i].port);
    snprintf(data, sizeof(data), "%s/node%d", c->dir.path, i);
    snprintf(log, sizeof(log), "%s/node%d.log", c->dir.path, i);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE *f = freopen(log, "a", stderr);
        (void)f;
        char *argv[] = {c->bin, "--id",
                        id,     "--peers",
                        peers,  "--http",
                        http,   "--data-dir",
                        data,   "--request-timeout-ms",
                        "1000", "--op-timeout-ms",
                        "2000", NULL};
        execv(c->bin, argv);
        _exit(127);
    }
    c->pid[i] = pid;
}

static void node_signal(struct cluster *c, int i, int sig)
{
    ck_assert_int_gt(c->pid[i], 0);
    kill(c->pid[i], sig);
    if (sig == SIGKILL) {
        waitpid(c->pid[i], NULL, 0);
        c->pid[i] = 0;
    }
}

/* GET path on node i; the status, or 0 when the node did not answer. */
static int http_status(const struct cluster *c, int i, const char *method, const char *path,
                       const char *body, struct net_reply *out)
{
    struct net_reply r;
    if (net_http_call(&c->http[i], method, path, body, body ? strlen(body) : 0, 3000, &r) != NET_OK)
        return 0;
    if (out != NULL) {
        *out = r;
    } else {
        free(r.body);
    }
    return r.status;
}

/* Waits (bounded) until node i answers `path` with 200. */
static bool wait_200(const struct cluster *c, int i, const char *path, unsigned limit_ms)
{
    for (unsigned waited = 0; waited < limit_ms; waited += WAIT_STEP_MS) {
        if (http_status(c, i, "GET", path, NULL, NULL) == 200) return true;
        sleep_ms(WAIT_STEP_MS);
    }
    return false;
}

static void cluster_start(struct cluster *c)
{
    memset(c, 0, sizeof(*c));
    char labsim[512];
    snprintf(labsim, sizeof(labsim), "%s", cu_labsim_bin());
    snprintf(c->bin, sizeof(c->bin), "%s/raftkv", dirname(labsim));
    ck_assert_msg(access(c->bin, X_OK) == 0, "no raftkv beside LABSIM_BIN: %s", c->bin);
    cu_dir_make(&c->dir, "net");
    for (int i = 0; i < NODES; i++) {
        char data[160];
        snprintf(data, sizeof(data), "%s/node%d", c->dir.path, i);
        ck_assert_int_eq(mkdir(data, 0755), 0);
        snprintf(c->raft[i].host, NET_HOST_MAX, "127.0.0.1");
        snprintf(c->http[i].host, NET_HOST_MAX, "127.0.0.1");
        c->raft[i].port = port_probe();
        c->http[i].port = port_probe();
    }
    for (int i = 0; i < NODES; i++)
        node_start(c, i);
    ck_assert_msg(wait_200(c, 0, "/health", 15000), "no leader within 15 s (logs in %s)",
                  c->dir.path);
}

static void cluster_stop(struct cluster *c, bool remove)
{
    for (int i = 0; i < NODES; i++) {
        if (c->pid[i] <= 0) continue;
        kill(c->pid[i], SIGCONT);
        node_signal(c, i, SIGKILL);
    }
    if (remove) cu_dir_remove(&c->dir);
}

/* The node that leads, by /cluster/info of the first node that answers; -1 when none says. */
static int leader_find(const struct cluster *c)
{
    for (int i = 0; i < NODES; i++) {
        struct net_reply r;
        if (c->pid[i] <= 0 || http_status(c, i, "GET", "/cluster/info", NULL, &r) != 200) continue;
        json_t *root = json_loads(r.body, 0, NULL);
        free(r.body);
        json_t *leader = json_object_get(root, "leader");
        int id = json_is_integer(leader) ? (int)json_integer_value(leader) : -1;
        json_decref(root);
        if (id >= 0) return id;
    }
    return -1;
}

/* ---------------------------------------------------------------- linearizability */

#define CLIENTS 4
#define HISTORY_MAX 4096
#define KEYS "abc"

struct hist_op {
    int client;
    int64_t call_us;
    int64_t return_us; /* INT64_MAX / 4: unknown outcome */
    enum lin_kv_kind kind;
    char key[2];
    char value[32];
    char *output;
};

struct workload {
    struct cluster *cluster;
    atomic_bool stop;
    atomic_int count;
    atomic_int succeeded;
    struct hist_op ops[HISTORY_MAX];
};

struct client_arg {
    struct workload *w;
    int id;
};

/* One op on a random node; records it unless it was a get that failed (no effect). */
static void client_op(struct workload *w, int id, uint64_t *rng, int n)
{
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t r = (uint32_t)(*rng >> 33);
    struct hist_op op = {.client = id, .kind = (enum lin_kv_kind)(r % 3)};
    op.key[0] = KEYS[(r / 3) % 3];
    snprintf(op.value, sizeof(op.value), "%d.%d;", id, n);
    int node = (int)((r / 9) % NODES);
    char path[32], body[64];
    snprintf(path, sizeof(path), "/kv/%s%s", op.key, op.kind == LIN_KV_APPEND ? "/append" : "");
    snprintf(body, sizeof(body), "{\"value\":\"%s\"}", op.value);
    const char *method = op.kind == LIN_KV_GET ? "GET" : op.kind == LIN_KV_PUT ? "PUT" : "POST";
    op.call_us = mono_us();
    struct net_reply reply;
    int rc =
        net_http_call(&w->cluster->http[node], method, path, op.kind == LIN_KV_GET ? NULL : body,
                      op.kind == LIN_KV_GET ? 0 : strlen(body), OP_TIMEOUT_MS, &reply);
    op.return_us = mono_us();
    bool ok =
        rc == NET_OK && (reply.status == 200 || (reply.status == 404 && op.kind == LIN_KV_GET));
    if (ok && op.kind == LIN_KV_GET && reply.status == 200) {
        json_t *root = json_loads(reply.body, 0, NULL);
        const char *v = json_string_value(json_object_get(root, "value"));
        op.output = strdup(v != NULL ? v : "?");
        json_decref(root);
    } else if (ok || op.kind != LIN_KV_GET) {
        op.output = strdup("");
    }
    if (rc == NET_OK) free(reply.body);
    if (!ok && op.kind == LIN_KV_GET) return;
    if (!ok) op.return_us = INT64_MAX / 4;
    if (ok) atomic_fetch_add(&w->succeeded, 1);
    int at = atomic_fetch_add(&w->count, 1);
    if (at < HISTORY_MAX)
        w->ops[at] = op;
    else
        free(op.output);
}

static void *client_run(void *arg)
{
    struct client_arg *a = arg;
    uint64_t rng = 0x1234567ull * (uint64_t)(a->id + 1);
    for (int n = 0; n < HISTORY_MAX / CLIENTS && !atomic_load(&a->w->stop); n++)
        client_op(a->w, a->id, &rng, n);
    return NULL;
}

/* The fault schedule, on the test's own thread while the clients run. */
static void faults_run(struct cluster *c)
{
    sleep_ms(1500);
    int leader = leader_find(c);
    ck_assert_msg(leader >= 0, "no leader before the kill");
    node_signal(c, leader, SIGKILL);
    sleep_ms(2000);
    node_start(c, leader); /* restarted on its data directory */
    sleep_ms(1500);
    int paused = (leader + 1) % NODES;
    node_signal(c, paused, SIGSTOP);
    sleep_ms(2000);
    node_signal(c, paused, SIGCONT);
    sleep_ms(1500);
}

START_TEST(test_net_linearizable_under_faults)
{
    struct cluster c;
    cluster_start(&c);
    struct workload *w = calloc(1, sizeof(*w));
    ck_assert_ptr_nonnull(w);
    w->cluster = &c;
    pthread_t threads[CLIENTS];
    struct client_arg args[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        args[i] = (struct client_arg){w, i};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, client_run, &args[i]), 0);
    }
    faults_run(&c);
    atomic_store(&w->stop, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);
    int n = atomic_load(&w->count) < HISTORY_MAX ? atomic_load(&w->count) : HISTORY_MAX;
    /* Progress through the faults: the history is not trivially linearizable. */
    ck_assert_msg(atomic_load(&w->succeeded) >= 50, "only %d ops succeeded",
                  atomic_load(&w->succeeded));
    struct lin_kv_op *ops = calloc((size_t)n, sizeof(*ops));
    for (int i = 0; i < n; i++)
        ops[i] = (struct lin_kv_op){.client = w->ops[i].client,
                                    .call_us = w->ops[i].call_us,
                                    .return_us = w->ops[i].return_us,
                                    .kind = w->ops[i].kind,
                                    .key = w->ops[i].key,
                                    .value = w->ops[i].kind == LIN_KV_GET ? "" : w->ops[i].value,
                                    .output = w->ops[i].output};
    struct lin_result *res = NULL;
    int verdict = lin_check_kv(ops, (size_t)n, NULL, &res);
    if (verdict != LIN_OK && res != NULL) lin_result_print(res, stderr);
    ck_assert_msg(verdict == LIN_OK, "history of %d ops: %s (logs in %s)", n,
                  verdict >= 0 ? lin_verdict_name((enum lin_verdict)verdict)
                               : lin_strerror(verdict),
                  c.dir.path);
    lin_result_free(res);
    /* Every node serves again after the faults. */
    for (int i = 0; i < NODES; i++)
        ck_assert_msg(wait_200(&c, i, "/health", 10000), "node %d does not serve again", i);
    for (int i = 0; i < n; i++)
        free(w->ops[i].output);
    free(ops);
    free(w);
    cluster_stop(&c, true);
}
END_TEST

/* ---------------------------------------------------------------- durability */

#define DURABLE_KEYS 40

START_TEST(test_net_durable_across_kill_all)
{
    struct cluster c;
    cluster_start(&c);
    bool acked[DURABLE_KEYS] = {false};
    int acked_count = 0;
    for (int k = 0; k < DURABLE_KEYS; k++) {
        char path[32], body[64];
        snprintf(path, sizeof(path), "/kv/d%d", k);
        snprintf(body, sizeof(body), "{\"value\":\"value-%d\"}", k);
        acked[k] = http_status(&c, k % NODES, "PUT", path, body, NULL) == 200;
        acked_count += acked[k];
    }
    ck_assert_int_ge(acked_count, DURABLE_KEYS / 2);
    for (int i = 0; i < NODES; i++)
        node_signal(&c, i, SIGKILL);
    for (int i = 0; i < NODES; i++)
        node_start(&c, i);
    ck_assert_msg(wait_200(&c, 1, "/health", 15000), "no leader after the restart");
    for (int k = 0; k < DURABLE_KEYS; k++) {
        if (!acked[k]) continue;
        char path[32], want[32];
        snprintf(path, sizeof(path), "/kv/d%d", k);
        snprintf(want, sizeof(want), "value-%d", k);
        struct net_reply r = {0};
        int status = 0;
        /* Bounded: 100 tries 50 ms apart while the node is not up yet or has no leader. */
        for (int attempt = 0; attempt < 100 && status != 200 && status != 404; attempt++) {
            if (attempt > 0) sleep_ms(WAIT_STEP_MS);
            if (status != 0) free(r.body);
            status = http_status(&c, (k + 1) % NODES, "GET", path, NULL, &r);
        }
        ck_assert_msg(status == 200, "acknowledged key d%d: status %d after restart", k, status);
        json_t *root = json_loads(r.body, 0, NULL);
        ck_assert_str_eq(json_string_value(json_object_get(root, "value")), want);
        json_decref(root);
        free(r.body);
    }
    cluster_stop(&c, true);
}
END_TEST

/* ---------------------------------------------------------------- damaged log */

/* Overwrites len bytes of `path` at `offset`. */
static void file_poke(const char *path, long offset, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, offset, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
}

/* A crash in the middle of an append: the node was writing its last record again when it died,
 * and only the record's header and half its payload landed, then garbage. Returns the torn
 * bytes added. Only unsynced bytes are torn, as on a real disk: cutting into a synced record
 * would make the node forget entries it acknowledged, which Raft's leader rightly never
 * resends (matchIndex only grows). */
static size_t file_tear(const char *path, const char *garbage)
{
    FILE *f = fopen(path, "r+b");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof(buf), f);
    ck_assert_uint_lt(len, sizeof(buf));
    size_t off = WAL_FILE_HEADER_SIZE;
    size_t last = 0;
    for (int k = 0; k < 100000 && off + WAL_RECORD_HEADER_SIZE <= len; k++) {
        last = off;
        off += WAL_RECORD_HEADER_SIZE + (buf[off + 8] | (size_t)buf[off + 9] << 8 |
                                         (size_t)buf[off + 10] << 16 | (size_t)buf[off + 11] << 24);
    }
    ck_assert_msg(last > 0 && off == len, "%s: not a whole log of records", path);
    size_t torn = (len - last + WAL_RECORD_HEADER_SIZE) / 2;
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    ck_assert_uint_eq(fwrite(buf + last, 1, torn, f), torn);
    ck_assert_uint_eq(fwrite(garbage, 1, strlen(garbage), f), strlen(garbage));
    fclose(f);
    return torn + strlen(garbage);
}

static char *node_log(const struct cluster *c, int i);
static int node_exit_wait(struct cluster *c, int i, unsigned limit_ms);

/* PUTs through node i until one answers 200 (bounded: limit_ms, each try at most the client's
 * 3 s); a restarted node may still be reconnecting, or a new leader still being elected. */
static bool put_until_200(const struct cluster *c, int i, const char *path, const char *body,
                          unsigned limit_ms)
{
    int64_t deadline_us = mono_us() + (int64_t)limit_ms * 1000;
    while (mono_us() < deadline_us) {
        if (http_status(c, i, "PUT", path, body, NULL) == 200) return true;
        sleep_ms(WAIT_STEP_MS);
    }
    return false;
}

START_TEST(test_net_damaged_wal)
{
    /* Node 1's log gets a torn last record: it recovers the records before it, says so, and
     * rejoins (with node 2 down, a write needs it). Node 2's log gets a flipped byte in its first
     * record, with intact records after it: it stops with one line naming the file and offset,
     * exit 1, and the other two keep serving. */
    struct cluster c;
    cluster_start(&c);
    ck_assert_int_eq(http_status(&c, 0, "PUT", "/kv/x", "{\"value\":\"1\"}", NULL), 200);
    char path[200];
    node_signal(&c, 1, SIGKILL);
    snprintf(path, sizeof(path), "%s/node1/raft.wal", c.dir.path);
    size_t torn = file_tear(path, "torn-write");
    node_start(&c, 1);
    ck_assert_msg(wait_200(&c, 1, "/kv/x", 10000), "node 1 did not recover past a torn record");
    char *log = node_log(&c, 1);
    char want[300];
    snprintf(want, sizeof(want), "cut off a torn tail of %zu bytes", torn);
    ck_assert_msg(strstr(log, want) != NULL, "no line '%s': %s", want, log);
    free(log);
    node_signal(&c, 2, SIGKILL);
    ck_assert_msg(put_until_200(&c, 0, "/kv/x", "{\"value\":\"2\"}", 15000),
                  "nodes 0 and 1 must make a quorum once node 1 rejoined");
    snprintf(path, sizeof(path), "%s/node2/raft.wal", c.dir.path);
    file_poke(path, WAL_FILE_HEADER_SIZE + WAL_RECORD_HEADER_SIZE + 1, "\xff\x00\xff", 3);
    node_start(&c, 2);
    int status = node_exit_wait(&c, 2, 5000);
    ck_assert_msg(status == 1, "a node on a corrupt log must exit 1 (got %d)", status);
    log = node_log(&c, 2);
    snprintf(want, sizeof(want),
             "%s: corrupted record in the middle of the log: the record at offset %u ", path,
             WAL_FILE_HEADER_SIZE);
    ck_assert_msg(strstr(log, want) != NULL, "the log must name the file and offset: %s", log);
    free(log);
    ck_assert_msg(put_until_200(&c, 0, "/kv/x", "{\"value\":\"3\"}", 15000),
                  "nodes 0 and 1 must keep serving without node 2");
    cluster_stop(&c, true);
}
END_TEST

/* ---------------------------------------------------------------- shutdown */

/* Waits (bounded) for node i to exit; its exit status, or -1 when it did not. */
static int node_exit_wait(struct cluster *c, int i, unsigned limit_ms)
{
    for (unsigned waited = 0; waited < limit_ms; waited += WAIT_STEP_MS) {
        int st = 0;
        if (waitpid(c->pid[i], &st, WNOHANG) == c->pid[i]) {
            c->pid[i] = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        sleep_ms(WAIT_STEP_MS);
    }
    return -1;
}

static char *node_log(const struct cluster *c, int i)
{
    char path[200];
    snprintf(path, sizeof(path), "%s/node%d.log", c->dir.path, i);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *log = calloc(1, 65536);
    size_t n = fread(log, 1, 65535, f);
    fclose(f);
    ck_assert_uint_gt(n, 0);
    return log;
}

START_TEST(test_net_graceful_shutdown)
{
    /* SIGTERM: a request the node cannot finish (no quorum) fails with 503 instead of hanging,
     * the node exits 0 and says so in one line at the signal and one at the end; SIGINT the
     * same; the state it synced is there at the next start. */
    struct cluster c;
    cluster_start(&c);
    ck_assert_int_eq(http_status(&c, 0, "PUT", "/kv/s", "{\"value\":\"kept\"}", NULL), 200);
    node_signal(&c, 2, SIGKILL);
    node_signal(&c, 1, SIGTERM);
    ck_assert_int_eq(node_exit_wait(&c, 1, 5000), 0);
    /* Node 0 has no quorum now: its op waits; SIGINT during it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(c.http[0].port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char put[] = "PUT /kv/t HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"value\":\"x\"}";
    ck_assert_int_gt(send(fd, put, sizeof(put) - 1, MSG_NOSIGNAL), 0);
    sleep_ms(300);
    node_signal(&c, 0, SIGINT);
    char buf[512] = "";
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    ck_assert_int_gt(poll(&pfd, 1, 6000), 0);
    ck_assert_int_gt(recv(fd, buf, sizeof(buf) - 1, 0), 0);
    close(fd);
    ck_assert_msg(strncmp(buf, "HTTP/1.1 503", 12) == 0, "in-flight answer: %s", buf);
    ck_assert_int_eq(node_exit_wait(&c, 0, 5000), 0);
    char *log = node_log(&c, 0);
    ck_assert_ptr_nonnull(strstr(log, "SIGINT: shutting down"));
    ck_assert_ptr_nonnull(strstr(log, "stopped: state synced"));
    free(log);
    log = node_log(&c, 1);
    ck_assert_ptr_nonnull(strstr(log, "SIGTERM: shutting down"));
    free(log);
    for (int i = 0; i < NODES; i++)
        node_start(&c, i);
    ck_assert_msg(wait_200(&c, 0, "/health", 15000), "no leader after the restart");
    struct net_reply r = {0};
    ck_assert_int_eq(http_status(&c, 0, "GET", "/kv/s", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"kept\""));
    free(r.body);
    cluster_stop(&c, true);
}
END_TEST

/* ---------------------------------------------------------------- bad input */

/* Sends raw bytes, optionally waits, and returns the response's status (0: none). */
static int raw_status(const struct net_addr *a, const char *bytes, size_t len, unsigned pause_ms,
                      char *head, size_t head_size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(a->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    size_t sent = 0;
    while (sent < len) {
        ssize_t w = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0) break; /* the server may close early on a body it refused */
        sent += (size_t)w;
    }
    if (pause_ms > 0) sleep_ms(pause_ms);
    char buf[4096] = "";
    size_t got = 0;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    while (got + 1 < sizeof(buf) && poll(&pfd, 1, 3000) > 0) {
        ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
        if (strstr(buf, "\r\n\r\n") != NULL) break;
    }
    buf[got] = '\0';
    close(fd);
    if (head != NULL) snprintf(head, head_size, "%s", buf);
    int status = 0;
    return sscanf(buf, "HTTP/1.1 %d", &status) == 1 ? status : 0;
}

static void expect(struct cluster *c, const char *method, const char *path, const char *body,
                   int want)
{
    struct net_reply r;
    int status = http_status(c, 0, method, path, body, &r);
    ck_assert_msg(status == want, "%s %s: status %d, want %d", method, path, status, want);
    json_t *root = json_loads(r.body, 0, NULL);
    if (want >= 400)
        ck_assert_msg(json_is_string(json_object_get(root, "error")), "%s %s: no JSON error: %s",
                      method, path, r.body);
    json_decref(root);
    free(r.body);
}

static void bad_http(struct cluster *c)
{
    char head[4096];
    const struct net_addr *a = &c->http[0];
    /* Not HTTP at all. */
    ck_assert_int_eq(raw_status(a, "GARBAGE\r\n\r\n", 11, 0, NULL, 0), 400);
    /* A body declared over the limit is refused before it is read. */
    const char big[] = "PUT /kv/x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n{";
    ck_assert_int_eq(raw_status(a, big, sizeof(big) - 1, 0, NULL, 0), 413);
    /* Headers over the limit. */
    size_t huge_len = 40000;
    char *huge = malloc(huge_len + 64);
    int n = snprintf(huge, 64, "GET /status HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'a', huge_len);
    memcpy(huge + n + huge_len, "\r\n\r\n", 4);
    ck_assert_int_eq(raw_status(a, huge, (size_t)n + huge_len + 4, 0, NULL, 0), 431);
    free(huge);
    /* A slow client: half a request line, then silence past the 1 s request timeout. */
    ck_assert_int_eq(raw_status(a, "GET /sta", 8, 1600, NULL, 0), 408);
    /* Abrupt disconnects: mid-body, and right after a complete request. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(a->port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char part[] = "PUT /kv/x HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"va";
    ck_assert_int_gt(send(fd, part, sizeof(part) - 1, MSG_NOSIGNAL), 0);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char whole[] = "PUT /kv/gone HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"value\":\"x\"}";
    ck_assert_int_gt(send(fd, whole, sizeof(whole) - 1, MSG_NOSIGNAL), 0);
    close(fd);
    /* 405 carries Allow. */
    ck_assert_int_eq(raw_status(a, "POST /status HTTP/1.1\r\n\r\n", 25, 0, head, sizeof(head)),
                     405);
    ck_assert_ptr_nonnull(strstr(head, "Allow: GET"));
}

START_TEST(test_net_bad_input)
{
    struct cluster c;
    cluster_start(&c);
    expect(&c, "PUT", "/kv/k", "{\"value\": ", 400);                      /* malformed JSON */
    expect(&c, "PUT", "/kv/k", "{\"value\": 5}", 400);                    /* not a string */
    expect(&c, "PUT", "/kv/k", "{\"value\": \"\"}", 400);                 /* empty value */
    expect(&c, "PUT", "/kv/k", "{\"value\":\"a\",\"value\":\"b\"}", 400); /* duplicate */
    expect(&c, "PUT", "/kv/%zz", "{\"value\": \"v\"}", 400);              /* bad escape */
    expect(&c, "GET", "/kv/%01", NULL, 400);                              /* control character */
    expect(&c, "GET", "/kv/", NULL, 400);                                 /* empty key */
    expect(&c, "GET", "/kv/a/b", NULL, 400);                              /* raw slash */
    expect(&c, "POST", "/kv/k/append", "[1]", 400);
    expect(&c, "POST", "/batch", "{\"ops\": []}", 400);
    expect(&c, "POST", "/batch", "{\"ops\": [{\"op\": \"cas\", \"key\": \"k\"}]}", 400);
    expect(&c, "GET", "/kv/never-written", NULL, 404);
    expect(&c, "GET", "/no/such/endpoint", NULL, 404);
    expect(&c, "POST", "/kv/k", "{}", 405);
    expect(&c, "DELETE", "/stats", NULL, 405);
    expect(&c, "GET", "/batch", NULL, 405);
    bad_http(&c);
    /* The node still serves every endpoint. */
    expect(&c, "PUT", "/kv/k", "{\"value\": \"v1\"}", 200);
    expect(&c, "POST", "/kv/k/append", "{\"value\": \"+2\"}", 200);
    expect(&c, "POST", "/batch",
           "{\"ops\": [{\"op\": \"get\", \"key\": \"k\"}, {\"op\": \"put\", \"key\": \"j\", "
           "\"value\": \"w\"}]}",
           200);
    struct net_reply r;
    ck_assert_int_eq(http_status(&c, 0, "GET", "/kv/k", NULL, &r), 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"v1+2\""));
    free(r.body);
    expect(&c, "DELETE", "/kv/k", NULL, 200);
    expect(&c, "GET", "/kv/k", NULL, 404);
    expect(&c, "GET", "/status", NULL, 200);
    expect(&c, "GET", "/stats", NULL, 200);
    expect(&c, "GET", "/cluster/info", NULL, 200);
    /* No quorum: 503 with Retry-After, and the node still answers what needs no quorum. */
    node_signal(&c, 1, SIGKILL);
    node_signal(&c, 2, SIGKILL);
    ck_assert_int_eq(net_http_call(&c.http[0], "PUT", "/kv/q", "{\"value\":\"x\"}", 13, 5000, &r),
                     NET_OK);
    ck_assert_int_eq(r.status, 503);
    ck_assert_uint_ge(r.retry_after_s, 1);
    free(r.body);
    expect(&c, "GET", "/health", NULL, 503);
    expect(&c, "GET", "/status", NULL, 200);
    cluster_stop(&c, true);
}
END_TEST

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("cluster");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_net_linearizable_under_faults);
    tcase_add_test(tc, test_net_durable_across_kill_all);
    tcase_add_test(tc, test_net_damaged_wal);
    tcase_add_test(tc, test_net_graceful_shutdown);
    tcase_add_test(tc, test_net_bad_input);
    suite_add_tcase(s, tc);
    return s;
}
