/* raft_test_3c: the persistence tests (test_test.go, 3C). Each body is the Go test function
 * line for line; goroutines are sim tasks, time.Sleep is sim_sleep_us in virtual time,
 * math/rand is the config's "test" stream (the churn clients draw from their own streams). */
#include <inttypes.h>
#include <stdlib.h>

#include "raft_tests.h"

void raft_test_persist1_3c(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "basic persistence");

    raft_cfg_one_int(cfg, 11, servers, true);

    /* Crash and re-start all. */
    for (int i = 0; i < servers; i++)
        raft_cfg_start1(cfg, i, RAFT_CFG_APPLIER);
    for (int i = 0; i < servers; i++) {
        raft_cfg_disconnect(cfg, i);
        raft_cfg_connect(cfg, i);
    }

    raft_cfg_one_int(cfg, 12, servers, true);

    int leader1 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, leader1);
    raft_cfg_start1(cfg, leader1, RAFT_CFG_APPLIER);
    raft_cfg_connect(cfg, leader1);

    raft_cfg_one_int(cfg, 13, servers, true);

    int leader2 = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, leader2);
    raft_cfg_one_int(cfg, 14, servers - 1, true);
    raft_cfg_start1(cfg, leader2, RAFT_CFG_APPLIER);
    raft_cfg_connect(cfg, leader2);

    raft_cfg_wait(cfg, 4, servers, -1, NULL); /* wait for leader2 to join before killing i3 */

    int i3 = (raft_cfg_check_one_leader(cfg) + 1) % servers;
    raft_cfg_disconnect(cfg, i3);
    raft_cfg_one_int(cfg, 15, servers - 1, true);
    raft_cfg_start1(cfg, i3, RAFT_CFG_APPLIER);
    raft_cfg_connect(cfg, i3);

    raft_cfg_one_int(cfg, 16, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_persist2_3c(struct lab_ctx *ctx)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "more persistence");

    int index = 1;
    for (int iters = 0; iters < 5; iters++) {
        raft_cfg_one_int(cfg, 10 + index, servers, true);
        index++;

        int leader1 = raft_cfg_check_one_leader(cfg);

        raft_cfg_disconnect(cfg, (leader1 + 1) % servers);
        raft_cfg_disconnect(cfg, (leader1 + 2) % servers);

        raft_cfg_one_int(cfg, 10 + index, servers - 2, true);
        index++;

        raft_cfg_disconnect(cfg, (leader1 + 0) % servers);
        raft_cfg_disconnect(cfg, (leader1 + 3) % servers);
        raft_cfg_disconnect(cfg, (leader1 + 4) % servers);

        raft_cfg_start1(cfg, (leader1 + 1) % servers, RAFT_CFG_APPLIER);
        raft_cfg_start1(cfg, (leader1 + 2) % servers, RAFT_CFG_APPLIER);
        raft_cfg_connect(cfg, (leader1 + 1) % servers);
        raft_cfg_connect(cfg, (leader1 + 2) % servers);

        sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);

        raft_cfg_start1(cfg, (leader1 + 3) % servers, RAFT_CFG_APPLIER);
        raft_cfg_connect(cfg, (leader1 + 3) % servers);

        raft_cfg_one_int(cfg, 10 + index, servers - 2, true);
        index++;

        raft_cfg_connect(cfg, (leader1 + 4) % servers);
        raft_cfg_connect(cfg, (leader1 + 0) % servers);
    }

    raft_cfg_one_int(cfg, 1000, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_persist3_3c(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "partitioned leader and one follower crash, leader restarts");

    raft_cfg_one_int(cfg, 101, 3, true);

    int leader = raft_cfg_check_one_leader(cfg);
    raft_cfg_disconnect(cfg, (leader + 2) % servers);

    raft_cfg_one_int(cfg, 102, 2, true);

    raft_cfg_crash1(cfg, (leader + 0) % servers);
    raft_cfg_crash1(cfg, (leader + 1) % servers);
    raft_cfg_connect(cfg, (leader + 2) % servers);
    raft_cfg_start1(cfg, (leader + 0) % servers, RAFT_CFG_APPLIER);
    raft_cfg_connect(cfg, (leader + 0) % servers);

    raft_cfg_one_int(cfg, 103, 2, true);

    raft_cfg_start1(cfg, (leader + 1) % servers, RAFT_CFG_APPLIER);
    raft_cfg_connect(cfg, (leader + 1) % servers);

    raft_cfg_one_int(cfg, 104, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- Figure 8 */

/* The Figure 8 pause: with 10% chance up to half an election timeout, else 0-12 ms. */
static void figure8_sleep(struct raft_cfg *cfg)
{
    int64_t ms = 0;
    if (raft_test_rand_below(cfg, 1000) < 100)
        ms = raft_test_rand_int(cfg) % ((int64_t)(RAFT_ELECTION_TIMEOUT_US / SIM_US_PER_MS) / 2);
    else
        ms = raft_test_rand_int(cfg) % 13;
    sim_sleep_us(raft_cfg_sim(cfg), SIM_MS(ms));
}

/* Test the scenarios described in Figure 8 of the extended Raft paper. Each iteration asks a
 * leader, if there is one, to insert a command in the Raft log. If there is a leader, that
 * leader will fail quickly with a high probability (perhaps without committing the command),
 * or crash after a while with low probability (most likely committing the command). If the
 * number of alive servers isn't enough to form a majority, perhaps start a new server. The
 * leader in a new term may try to finish replicating log entries that haven't been committed
 * yet. */
void raft_test_figure8_3c(struct lab_ctx *ctx)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, false);
    raft_cfg_begin(cfg, "Figure 8");

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), 1, true);

    int nup = servers;
    for (int iters = 0; iters < 1000; iters++) {
        int leader = -1;
        for (int i = 0; i < servers; i++) {
            if (raft_cfg_raft(cfg, i) != NULL &&
                raft_cfg_start_int(cfg, i, raft_test_rand_int(cfg), NULL, NULL))
                leader = i;
        }

        figure8_sleep(cfg);

        if (leader != -1) {
            raft_cfg_crash1(cfg, leader);
            nup -= 1;
        }

        if (nup < 3) {
            int s = raft_test_rand_below(cfg, servers);
            if (raft_cfg_raft(cfg, s) == NULL) {
                raft_cfg_start1(cfg, s, RAFT_CFG_APPLIER);
                raft_cfg_connect(cfg, s);
                nup += 1;
            }
        }
    }

    for (int i = 0; i < servers; i++) {
        if (raft_cfg_raft(cfg, i) == NULL) {
            raft_cfg_start1(cfg, i, RAFT_CFG_APPLIER);
            raft_cfg_connect(cfg, i);
        }
    }

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- unreliable agreement */

#define UNRELIABLE_AGREE_ITERS 50
#define UNRELIABLE_AGREE_WORKERS 4

struct agree_worker {
    struct raft_cfg *cfg;
    struct lab_waitgroup *wg;
    int64_t value;
};

static void agree_worker_task(struct sim *sim, void *arg)
{
    struct agree_worker *worker = arg;
    raft_cfg_one_int(worker->cfg, worker->value, 1, true);
    lab_waitgroup_done(sim, worker->wg);
}

void raft_test_unreliable_agree_3c(struct lab_ctx *ctx)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, true, false);
    raft_cfg_begin(cfg, "unreliable agreement");

    /* The workers' arguments live on this task's stack, which outlives them (wg.Wait). */
    struct agree_worker workers[UNRELIABLE_AGREE_ITERS][UNRELIABLE_AGREE_WORKERS];
    struct lab_waitgroup wg;
    lab_waitgroup_init(&wg);

    for (int iters = 1; iters < UNRELIABLE_AGREE_ITERS; iters++) {
        for (int j = 0; j < UNRELIABLE_AGREE_WORKERS; j++) {
            workers[iters][j] = (struct agree_worker){cfg, &wg, (100 * iters) + j};
            lab_waitgroup_add(&wg, 1);
            lab_go(ctx, "agree", agree_worker_task, &workers[iters][j]);
        }
        raft_cfg_one_int(cfg, iters, 1, true);
    }

    raft_cfg_set_unreliable(cfg, false);

    lab_waitgroup_wait(lab_sim(ctx), &wg);

    raft_cfg_one_int(cfg, 100, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_figure8_unreliable_3c(struct lab_ctx *ctx)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, true, false);
    raft_cfg_begin(cfg, "Figure 8 (unreliable)");

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg) % 10000, 1, true);

    int nup = servers;
    for (int iters = 0; iters < 1000; iters++) {
        if (iters == 200) raft_cfg_set_long_reordering(cfg, true);
        int leader = -1;
        for (int i = 0; i < servers; i++) {
            bool ok = raft_cfg_start_int(cfg, i, raft_test_rand_int(cfg) % 10000, NULL, NULL);
            if (ok && raft_cfg_connected(cfg, i)) leader = i;
        }

        figure8_sleep(cfg);

        if (leader != -1 &&
            raft_test_rand_below(cfg, 1000) < (int)(RAFT_ELECTION_TIMEOUT_US / SIM_US_PER_MS) / 2) {
            raft_cfg_disconnect(cfg, leader);
            nup -= 1;
        }

        if (nup < 3) {
            int s = raft_test_rand_below(cfg, servers);
            if (!raft_cfg_connected(cfg, s)) {
                raft_cfg_connect(cfg, s);
                nup += 1;
            }
        }
    }

    for (int i = 0; i < servers; i++) {
        if (!raft_cfg_connected(cfg, i)) raft_cfg_connect(cfg, i);
    }

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg) % 10000, servers, true);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- churn */

#define CHURN_CLIENTS 3
#define CHURN_VALUES_MAX (1u << 20)

/* One churn client (Go's cfn goroutine) and its result channel. */
struct churn_client {
    struct raft_cfg *cfg;
    const bool *stop;
    int me;
    struct sim_rand rand;
    int64_t *values; /* the values it saw committed (owned) */
    size_t values_count;
    size_t values_cap;
    bool returned; /* the deferred `ch <- ret` ran */
    bool ret_ok;   /* ret != nil */
    struct sim_cond done;
};

static void churn_note_value(struct churn_client *client, int64_t x)
{
    if (client->values_count == client->values_cap) {
        size_t cap = client->values_cap == 0 ? 256 : client->values_cap * 2;
        int64_t *grown =
            cap <= CHURN_VALUES_MAX ? realloc(client->values, cap * sizeof(*grown)) : NULL;
        if (grown == NULL) {
            lab_fatalf(raft_cfg_lab(client->cfg), SIM_NODE_NONE,
                       "tester limit: cannot record committed value %zu", client->values_count);
            return;
        }
        client->values = grown;
        client->values_cap = cap;
    }
    client->values[client->values_count++] = x;
}

/* Maybe the leader will commit x at index, maybe not; but don't wait forever. */
static void churn_await(struct churn_client *client, uint64_t index, int64_t x)
{
    static const int backoff_ms[] = {10, 20, 50, 100, 200};
    for (size_t k = 0; k < sizeof(backoff_ms) / sizeof(backoff_ms[0]); k++) {
        struct raft_cfg_value cmd;
        int nd = raft_cfg_n_committed(client->cfg, index, &cmd);
        if (nd > 0) {
            if (cmd.kind != RAFT_CFG_INT)
                lab_fatalf(raft_cfg_lab(client->cfg), SIM_NODE_NONE, "wrong command type");
            if (cmd.num == x) churn_note_value(client, x);
            return;
        }
        sim_sleep_us(raft_cfg_sim(client->cfg), SIM_MS(backoff_ms[k]));
    }
}

static void churn_client_task(struct sim *sim, void *arg)
{
    struct churn_client *client = arg;
    struct raft_cfg *cfg = client->cfg;
    while (!*client->stop) {
        int64_t x = (int64_t)(sim_rand_u64(&client->rand) >> 1);
        uint64_t index = 0;
        bool ok = false;
        for (int i = 0; i < raft_cfg_servers(cfg); i++) {
            /* Try them all, maybe one of them is a leader. */
            uint64_t index1 = 0;
            if (raft_cfg_raft(cfg, i) != NULL && raft_cfg_start_int(cfg, i, x, &index1, NULL)) {
                ok = true;
                index = index1;
            }
        }
        if (ok)
            churn_await(client, index, x);
        else
            sim_sleep_us(sim, SIM_MS(79 + client->me * 17));
    }
    client->ret_ok = true;
    client->returned = true;
    sim_cond_broadcast(sim, &client->done);
}

/* One round of churn: maybe disconnect, maybe (re)start and connect, maybe crash. */
static void churn_round(struct raft_cfg *cfg, int servers)
{
    if (raft_test_rand_below(cfg, 1000) < 200) {
        int i = raft_test_rand_below(cfg, servers);
        raft_cfg_disconnect(cfg, i);
    }
    if (raft_test_rand_below(cfg, 1000) < 500) {
        int i = raft_test_rand_below(cfg, servers);
        if (raft_cfg_raft(cfg, i) == NULL) raft_cfg_start1(cfg, i, RAFT_CFG_APPLIER);
        raft_cfg_connect(cfg, i);
    }
    if (raft_test_rand_below(cfg, 1000) < 200) {
        int i = raft_test_rand_below(cfg, servers);
        if (raft_cfg_raft(cfg, i) != NULL) raft_cfg_crash1(cfg, i);
    }
}

/* Every value a client saw committed must be in the final log (Go's "really" list). */
static void churn_verify(struct lab_ctx *ctx, struct raft_cfg *cfg, int servers,
                         struct churn_client *clients, int64_t last_index)
{
    int64_t *really = calloc((size_t)(last_index > 0 ? last_index : 1), sizeof(*really));
    if (really == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory checking the churn log");
        return;
    }
    for (int64_t index = 1; index <= last_index; index++) {
        struct raft_cfg_value v;
        raft_cfg_wait(cfg, (uint64_t)index, servers, -1, &v);
        if (v.kind != RAFT_CFG_INT) {
            free(really);
            lab_fatalf(ctx, SIM_NODE_NONE, "not an int");
            return;
        }
        really[index - 1] = v.num;
    }
    for (int c = 0; c < CHURN_CLIENTS; c++) {
        for (size_t k = 0; k < clients[c].values_count; k++) {
            bool ok = false;
            for (int64_t r = 0; r < last_index && !ok; r++)
                ok = really[r] == clients[c].values[k];
            if (!ok) {
                free(really);
                lab_fatalf(ctx, SIM_NODE_NONE, "didn't find a value");
                return;
            }
        }
    }
    free(really);
}

static void churn_stop_clients(struct lab_ctx *ctx, struct churn_client *clients, bool *stop)
{
    *stop = true;
    for (int c = 0; c < CHURN_CLIENTS; c++) {
        while (!clients[c].returned)
            sim_cond_wait(lab_sim(ctx), &clients[c].done, SIM_TIMEOUT_NEVER);
        if (!clients[c].ret_ok) lab_fatalf(ctx, SIM_NODE_NONE, "client failed");
    }
}

static void internal_churn(struct lab_ctx *ctx, bool unreliable)
{
    const int servers = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, unreliable, false);
    raft_cfg_begin(cfg, unreliable ? "unreliable churn" : "churn");

    /* Create concurrent clients. */
    bool stop = false;
    struct churn_client clients[CHURN_CLIENTS] = {0};
    for (int c = 0; c < CHURN_CLIENTS; c++) {
        clients[c].cfg = cfg;
        clients[c].stop = &stop;
        clients[c].me = c;
        sim_rand_init_n(&clients[c].rand, lab_sim(ctx), "test.client", c);
        sim_cond_init(&clients[c].done);
        lab_go(ctx, "churn-client", churn_client_task, &clients[c]);
    }

    for (int iters = 0; iters < 20; iters++) {
        churn_round(cfg, servers);
        /* Make crash/restart infrequent enough that the peers can often keep up, but not so
         * infrequent that everything has settled down from one change to the next. */
        sim_sleep_us(lab_sim(ctx), (RAFT_ELECTION_TIMEOUT_US * 7) / 10);
    }

    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    raft_cfg_set_unreliable(cfg, false);
    for (int i = 0; i < servers; i++) {
        if (raft_cfg_raft(cfg, i) == NULL) raft_cfg_start1(cfg, i, RAFT_CFG_APPLIER);
        raft_cfg_connect(cfg, i);
    }

    churn_stop_clients(ctx, clients, &stop);

    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);

    int64_t last_index = raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
    churn_verify(ctx, cfg, servers, clients, last_index);
    for (int c = 0; c < CHURN_CLIENTS; c++)
        free(clients[c].values);

    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_reliable_churn_3c(struct lab_ctx *ctx)
{
    internal_churn(ctx, false);
}

void raft_test_unreliable_churn_3c(struct lab_ctx *ctx)
{
    internal_churn(ctx, true);
}
