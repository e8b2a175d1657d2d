/* raft_test_3b: the log-replication tests (test_test.go, 3B). Each body is the Go test
 * function line for line; goroutines are sim tasks, time.Sleep is sim_sleep_us in virtual
 * time, math/rand is the config's "test" stream. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "raft_tests.h"

#define RPC_BYTES_CMD_LEN 5000

void raft_test_basic_agree_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "basic agreement");

    const int iters = 3;
    for (int index = 1; index < iters + 1; index++) {
        int nd = raft_cfg_n_committed(cfg, (uint64_t)index, NULL);
        if (nd > 0) lab_fatalf(ctx, SIM_NODE_NONE, "some have committed before Start()");

        int64_t xindex = raft_cfg_one_int(cfg, index * 100, servers, false);
        if (xindex != index)
            lab_fatalf(ctx, SIM_NODE_NONE, "got index %" PRId64 " but expected %d", xindex, index);
    }

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Go's randstring(n): n characters of URL-safe base64. */
static void rand_string(struct raft_cfg *cfg, uint8_t *buf, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    _Static_assert(sizeof(alphabet) == 65, "64 symbols");
    for (size_t k = 0; k < n; k++)
        buf[k] = (uint8_t)alphabet[raft_test_rand_below(cfg, 64)];
}

/* Check, based on counting bytes of RPCs, that each command is sent to each peer just once. */
void raft_test_rpc_bytes_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "RPC byte count");

    raft_cfg_one_int(cfg, 99, servers, false);
    uint64_t bytes0 = raft_cfg_bytes_total(cfg);

    const int iters = 10;
    uint64_t sent = 0;
    for (int index = 2; index < iters + 2; index++) {
        uint8_t text[RPC_BYTES_CMD_LEN];
        rand_string(cfg, text, sizeof(text));
        struct raft_cfg_value cmd = raft_cfg_str(text, sizeof(text));
        int64_t xindex = raft_cfg_one(cfg, &cmd, servers, false);
        if (xindex != index)
            lab_fatalf(ctx, SIM_NODE_NONE, "got index %" PRId64 " but expected %d", xindex, index);
        sent += sizeof(text);
    }

    uint64_t bytes1 = raft_cfg_bytes_total(cfg);
    uint64_t got = bytes1 - bytes0;
    uint64_t expected = (uint64_t)servers * sent;
    if (got > expected + 50000)
        lab_fatalf(ctx, SIM_NODE_NONE, "too many RPC bytes; got %" PRIu64 ", expected %" PRIu64,
                   got, expected);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Test just failure of followers. */
void raft_test_follower_failure_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "test progressive failure of followers");

    raft_cfg_one_int(cfg, 101, servers, false);

    /* Disconnect one follower from the network. */
    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, (leader1 + 1) % servers);

    /* The leader and remaining follower should be able to agree despite the disconnected
     * follower. */
    raft_cfg_one_int(cfg, 102, servers - 1, false);
    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    raft_cfg_one_int(cfg, 103, servers - 1, false);

    /* Disconnect the remaining follower. */
    int leader2 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, (leader2 + 1) % servers);
    raft_cfg_disconnect(cfg, (leader2 + 2) % servers);

    /* Submit a command. */
    uint64_t index = 0;
    bool ok = raft_cfg_start_int(cfg, leader2, 104, &index, NULL);
    if (!ok) lab_fatalf(ctx, leader2, "leader rejected Start()");
    if (index != 4) lab_fatalf(ctx, leader2, "expected index 4, got %" PRIu64, index);

    sim_sleep_us(lab_sim(ctx), 2 * RAFT_ELECTION_TIMEOUT_US);

    /* Check that command 104 did not commit. */
    int n = raft_cfg_n_committed(cfg, index, NULL);
    if (n > 0) lab_fatalf(ctx, SIM_NODE_NONE, "%d committed but no majority", n);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Test just failure of leaders. */
void raft_test_leader_failure_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "test failure of leaders");

    raft_cfg_one_int(cfg, 101, servers, false);

    /* Disconnect the first leader. */
    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, leader1);

    /* The remaining followers should elect a new leader. */
    raft_cfg_one_int(cfg, 102, servers - 1, false);
    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    raft_cfg_one_int(cfg, 103, servers - 1, false);

    /* Disconnect the new leader. */
    int leader2 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, leader2);

    /* Submit a command to each server. */
    for (int i = 0; i < servers; i++)
        raft_cfg_start_int(cfg, i, 104, NULL, NULL);

    sim_sleep_us(lab_sim(ctx), 2 * RAFT_ELECTION_TIMEOUT_US);

    /* Check that command 104 did not commit. */
    int n = raft_cfg_n_committed(cfg, 4, NULL);
    if (n > 0) lab_fatalf(ctx, SIM_NODE_NONE, "%d committed but no majority", n);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Test that a follower participates after disconnect and re-connect. */
void raft_test_fail_agree_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "agreement after follower reconnects");

    raft_cfg_one_int(cfg, 101, servers, false);

    /* Disconnect one follower from the network. */
    int leader = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, (leader + 1) % servers);

    /* The leader and remaining follower should be able to agree despite the disconnected
     * follower. */
    raft_cfg_one_int(cfg, 102, servers - 1, false);
    raft_cfg_one_int(cfg, 103, servers - 1, false);
    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    raft_cfg_one_int(cfg, 104, servers - 1, false);
    raft_cfg_one_int(cfg, 105, servers - 1, false);

    /* Re-connect. */
    raft_cfg_connect(cfg, (leader + 1) % servers);

    /* The full set of servers should preserve previous agreements, and be able to agree on
     * new commands. */
    raft_cfg_one_int(cfg, 106, servers, true);
    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    raft_cfg_one_int(cfg, 107, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_fail_no_agree_3b(struct lab_ctx *ctx)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "no agreement if too many followers disconnect");

    raft_cfg_one_int(cfg, 10, servers, false);

    /* 3 of 5 followers disconnect. */
    int leader = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, (leader + 1) % servers);
    raft_cfg_disconnect(cfg, (leader + 2) % servers);
    raft_cfg_disconnect(cfg, (leader + 3) % servers);

    uint64_t index = 0;
    bool ok = raft_cfg_start_int(cfg, leader, 20, &index, NULL);
    if (!ok) lab_fatalf(ctx, leader, "leader rejected Start()");
    if (index != 2) lab_fatalf(ctx, leader, "expected index 2, got %" PRIu64, index);

    sim_sleep_us(lab_sim(ctx), 2 * RAFT_ELECTION_TIMEOUT_US);

    int n = raft_cfg_n_committed(cfg, index, NULL);
    if (n > 0) lab_fatalf(ctx, SIM_NODE_NONE, "%d committed but no majority", n);

    /* Repair. */
    raft_cfg_connect(cfg, (leader + 1) % servers);
    raft_cfg_connect(cfg, (leader + 2) % servers);
    raft_cfg_connect(cfg, (leader + 3) % servers);

    /* The disconnected majority may have chosen a leader from among their own ranks,
     * forgetting index 2. */
    int leader2 = raft_cfg_check_one_leader(cfg);
    uint64_t index2 = 0;
    bool ok2 = raft_cfg_start_int(cfg, leader2, 30, &index2, NULL);
    if (!ok2) lab_fatalf(ctx, leader2, "leader2 rejected Start()");
    if (index2 < 2 || index2 > 3) lab_fatalf(ctx, leader2, "unexpected index %" PRIu64, index2);

    raft_cfg_one_int(cfg, 1000, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- concurrent Start()s */

#define CONCURRENT_STARTS_ITERS 5

/* What the five Start() goroutines of one try share: Go's `is` channel and WaitGroup. */
struct concurrent_try {
    struct raft_cfg *cfg;
    int leader;
    uint64_t term;
    uint64_t indices[CONCURRENT_STARTS_ITERS]; /* the channel `is` (buffered, 5) */
    int indices_count;
    struct lab_waitgroup wg;
};

struct concurrent_start {
    struct concurrent_try *try;
    int i;
};

static void concurrent_start_task(struct sim *sim, void *arg)
{
    struct concurrent_start *start = arg;
    struct concurrent_try *try = start->try;
    uint64_t index = 0;
    uint64_t term1 = 0;
    bool ok = raft_cfg_start_int(try->cfg, try->leader, 100 + start->i, &index, &term1);
    if (term1 == try->term && ok) try->indices[try->indices_count++] = index;
    lab_waitgroup_done(sim, &try->wg);
}

/* Formats Go's %v of an []int. */
static void format_ints(const int64_t *v, int count, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int k = 0; k < count && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s%" PRId64, k > 0 ? " " : "", v[k]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

/* One try of TestConcurrentStarts3B: 1 on success, 0 to try again. */
static int concurrent_starts_try(struct lab_ctx *ctx, struct raft_cfg *cfg,
                                 struct concurrent_try *try, int servers)
{
    struct concurrent_start starts[CONCURRENT_STARTS_ITERS];
    try->cfg = cfg;
    try->leader = raft_cfg_check_one_leader(cfg);
    try->indices_count = 0;
    if (!raft_cfg_start_int(cfg, try->leader, 1, NULL, &try->term))
        return 0; /* leader moved on really quickly */

    lab_waitgroup_init(&try->wg);
    for (int ii = 0; ii < CONCURRENT_STARTS_ITERS; ii++) {
        starts[ii] = (struct concurrent_start){.try = try, .i = ii};
        lab_waitgroup_add(&try->wg, 1);
        lab_go(ctx, "start", concurrent_start_task, &starts[ii]);
    }
    lab_waitgroup_wait(lab_sim(ctx), &try->wg);

    for (int j = 0; j < servers; j++) {
        uint64_t t = 0;
        raft_cfg_get_state(cfg, j, &t);
        if (t != try->term) return 0; /* term changed -- can't expect low RPC counts */
    }

    int64_t cmds[CONCURRENT_STARTS_ITERS];
    int cmds_count = 0;
    for (int k = 0; k < try->indices_count; k++) {
        struct raft_cfg_value cmd;
        if (!raft_cfg_wait(cfg, try->indices[k], servers, (int64_t)try->term, &cmd))
            return 0; /* peers moved on to later terms */
        if (cmd.kind != RAFT_CFG_INT) {
            char text[64];
            raft_cfg_value_format(&cmd, text, sizeof(text));
            lab_fatalf(ctx, SIM_NODE_NONE, "value %s is not an int", text);
        }
        cmds[cmds_count++] = cmd.num;
    }

    for (int ii = 0; ii < CONCURRENT_STARTS_ITERS; ii++) {
        int64_t x = 100 + ii;
        bool ok = false;
        for (int j = 0; j < cmds_count; j++)
            ok = ok || cmds[j] == x;
        if (!ok) {
            char list[128];
            format_ints(cmds, cmds_count, list, sizeof(list));
            lab_fatalf(ctx, SIM_NODE_NONE, "cmd %" PRId64 " missing in %s", x, list);
        }
    }
    return 1;
}

void raft_test_concurrent_starts_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "concurrent Start()s");

    struct concurrent_try try;
    bool success = false;
    for (int attempt = 0; attempt < 5 && !success; attempt++) {
        if (attempt > 0)
            sim_sleep_us(lab_sim(ctx), SIM_S(3)); /* give the solution some time to settle */
        success = concurrent_starts_try(ctx, cfg, &try, servers) == 1;
    }
    if (!success) lab_fatalf(ctx, SIM_NODE_NONE, "term changed too often");

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- rejoin and backup */

void raft_test_rejoin_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "rejoin of partitioned leader");

    raft_cfg_one_int(cfg, 101, servers, true);

    /* Leader network failure. */
    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, leader1);

    /* Make the old leader try to agree on some entries. */
    raft_cfg_start_int(cfg, leader1, 102, NULL, NULL);
    raft_cfg_start_int(cfg, leader1, 103, NULL, NULL);
    raft_cfg_start_int(cfg, leader1, 104, NULL, NULL);

    /* The new leader commits, also for index=2. */
    raft_cfg_one_int(cfg, 103, 2, true);

    /* New leader network failure. */
    int leader2 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, leader2);

    /* Old leader connected again. */
    raft_cfg_connect(cfg, leader1);

    raft_cfg_one_int(cfg, 104, 2, true);

    /* All together now. */
    raft_cfg_connect(cfg, leader2);

    raft_cfg_one_int(cfg, 105, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_backup_3b(struct lab_ctx *ctx)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "leader backs up quickly over incorrect follower logs");

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    /* Put the leader and one follower in a partition. */
    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, (leader1 + 2) % servers);
    raft_cfg_disconnect(cfg, (leader1 + 3) % servers);
    raft_cfg_disconnect(cfg, (leader1 + 4) % servers);

    /* Submit lots of commands that won't commit. */
    for (int i = 0; i < 50; i++)
        raft_cfg_start_int(cfg, leader1, raft_test_rand_int(cfg), NULL, NULL);

    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US / 2);

    raft_cfg_disconnect(cfg, (leader1 + 0) % servers);
    raft_cfg_disconnect(cfg, (leader1 + 1) % servers);

    /* Allow the other partition to recover. */
    raft_cfg_connect(cfg, (leader1 + 2) % servers);
    raft_cfg_connect(cfg, (leader1 + 3) % servers);
    raft_cfg_connect(cfg, (leader1 + 4) % servers);

    /* Lots of successful commands to the new group. */
    for (int i = 0; i < 50; i++)
        raft_cfg_one_int(cfg, raft_test_rand_int(cfg), 3, true);

    /* Now another partitioned leader and one follower. */
    int leader2 = raft_cfg_check_one_leader(cfg);
    int other = (leader1 + 2) % servers;
    if (leader2 == other) other = (leader2 + 1) % servers;
    raft_cfg_disconnect(cfg, other);

    /* Lots more commands that won't commit. */
    for (int i = 0; i < 50; i++)
        raft_cfg_start_int(cfg, leader2, raft_test_rand_int(cfg), NULL, NULL);

    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US / 2);

    /* Bring the original leader back to life. */
    for (int i = 0; i < servers; i++)
        raft_cfg_disconnect(cfg, i);
    raft_cfg_connect(cfg, (leader1 + 0) % servers);
    raft_cfg_connect(cfg, (leader1 + 1) % servers);
    raft_cfg_connect(cfg, other);

    /* Lots of successful commands to the new group. */
    for (int i = 0; i < 50; i++)
        raft_cfg_one_int(cfg, raft_test_rand_int(cfg), 3, true);

    /* Now everyone. */
    for (int i = 0; i < servers; i++)
        raft_cfg_connect(cfg, i);
    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- RPC counts */

#define COUNT_ITERS 10

static uint64_t count_rpcs(const struct raft_cfg *cfg, int servers)
{
    uint64_t n = 0;
    for (int j = 0; j < servers; j++)
        n += raft_cfg_rpc_count(cfg, j);
    return n;
}

/* One try of TestCount3B's agreement phase: 1 on success (*total2 set), 0 to try again. */
static int count_try(struct lab_ctx *ctx, struct raft_cfg *cfg, int servers, uint64_t *total2)
{
    int leader = raft_cfg_check_one_leader(cfg);
    uint64_t total1 = count_rpcs(cfg, servers);
    uint64_t starti = 0;
    uint64_t term = 0;
    if (!raft_cfg_start_int(cfg, leader, 1, &starti, &term))
        return 0; /* leader moved on really quickly */
    int64_t cmds[COUNT_ITERS + 1];
    for (int i = 1; i < COUNT_ITERS + 2; i++) {
        int64_t x = (int64_t)sim_rand_below(raft_cfg_rand(cfg), UINT64_C(1) << 31);
        uint64_t index1 = 0;
        uint64_t term1 = 0;
        cmds[i - 1] = x;
        bool ok = raft_cfg_start_int(cfg, leader, x, &index1, &term1);
        if (term1 != term || !ok) return 0; /* term changed while starting / no longer the leader */
        if (starti + (uint64_t)i != index1) lab_fatalf(ctx, leader, "Start() failed");
    }
    for (int i = 1; i < COUNT_ITERS + 1; i++) {
        struct raft_cfg_value cmd;
        if (!raft_cfg_wait(cfg, starti + (uint64_t)i, servers, (int64_t)term, &cmd))
            return 0; /* term changed -- try again */
        if (cmd.kind != RAFT_CFG_INT || cmd.num != cmds[i - 1]) {
            char got[64];
            char list[256];
            raft_cfg_value_format(&cmd, got, sizeof(got));
            format_ints(cmds, COUNT_ITERS + 1, list, sizeof(list));
            lab_fatalf(ctx, SIM_NODE_NONE,
                       "wrong value %s committed for index %" PRIu64 "; expected %s", got,
                       starti + (uint64_t)i, list);
        }
    }
    bool failed = false;
    *total2 = 0;
    for (int j = 0; j < servers; j++) {
        uint64_t t = 0;
        raft_cfg_get_state(cfg, j, &t);
        failed = failed || t != term; /* term changed -- can't expect low RPC counts */
        *total2 += raft_cfg_rpc_count(cfg, j);
    }
    if (failed) return 0;
    if (*total2 - total1 > (COUNT_ITERS + 1 + 3) * 3)
        lab_fatalf(ctx, SIM_NODE_NONE, "too many RPCs (%" PRIu64 ") for %d entries",
                   *total2 - total1, COUNT_ITERS);
    return 1;
}

void raft_test_count_3b(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "RPC counts aren't too high");

    raft_cfg_check_one_leader(cfg);
    uint64_t total1 = count_rpcs(cfg, servers);
    if (total1 > 30 || total1 < 1)
        lab_fatalf(ctx, SIM_NODE_NONE, "too many or few RPCs (%" PRIu64 ") to elect initial leader",
                   total1);

    uint64_t total2 = 0;
    bool success = false;
    for (int attempt = 0; attempt < 5 && !success; attempt++) {
        if (attempt > 0)
            sim_sleep_us(lab_sim(ctx), SIM_S(3)); /* give the solution some time to settle */
        success = count_try(ctx, cfg, servers, &total2) == 1;
    }
    if (!success) lab_fatalf(ctx, SIM_NODE_NONE, "term changed too often");

    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);

    uint64_t total3 = count_rpcs(cfg, servers);
    if (total3 - total2 > 3 * 20)
        lab_fatalf(ctx, SIM_NODE_NONE, "too many RPCs (%" PRIu64 ") for 1 second of idleness",
                   total3 - total2);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}
