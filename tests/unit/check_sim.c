/* Unit tests of the simulation kernel: event order, timers, the run loop's limits, tasks,
 * PRNG streams, the trace and its digest. Each test states its seed. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_suites.h"
#include "sim.h"

/* ---------------------------------------------------------------- events */

struct order_log {
    int seen[64];
    int count;
};

struct order_ev {
    struct order_log *log;
    int id;
};

static void order_cb(struct sim *sim, void *arg)
{
    (void)sim;
    struct order_ev *ev = arg;
    ev->log->seen[ev->log->count++] = ev->id;
}

START_TEST(test_sim_fifo_ties)
{
    /* Goal: events due at the same time run in the order they were scheduled. */
    struct sim *sim = sim_new(1);
    struct order_log log = {{0}, 0};
    struct order_ev evs[10];
    for (int i = 0; i < 10; i++) {
        evs[i] = (struct order_ev){&log, i};
        /* Even ids at 5 ms, odd at 3 ms: odds first, each group in insertion order. */
        sim_after(sim, SIM_MS(i % 2 == 0 ? 5 : 3), order_cb, &evs[i]);
    }
    ck_assert(sim_run_until(sim, NULL, NULL, SIM_S(1)) == false);
    int want[10] = {1, 3, 5, 7, 9, 0, 2, 4, 6, 8};
    ck_assert_int_eq(log.count, 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(log.seen[i], want[i]);
    ck_assert_uint_eq(sim_now_us(sim), SIM_S(1));
    sim_free(sim);
}
END_TEST

/* Records the clock when it runs (sim_run_due runs late events at the driver's time). */
struct due_ev {
    struct order_log *log;
    int id;
    sim_time_us ran_at_us;
};

static void due_cb(struct sim *sim, void *arg)
{
    struct due_ev *ev = arg;
    ev->log->seen[ev->log->count++] = ev->id;
    ev->ran_at_us = sim_now_us(sim);
}

START_TEST(test_sim_run_due)
{
    /* Goal: the real-time driver's door runs, in (due, seq) order, exactly the events due by
     * the time it is given, at that time (late ones late), at most events_max of them, and
     * never moves the clock backwards. */
    struct sim *sim = sim_new(3);
    struct order_log log = {{0}, 0};
    struct due_ev evs[4] = {{&log, 0, 0}, {&log, 1, 0}, {&log, 2, 0}, {&log, 3, 0}};
    sim_after(sim, SIM_MS(5), due_cb, &evs[0]);
    sim_after(sim, SIM_MS(2), due_cb, &evs[1]);
    sim_after(sim, SIM_MS(2), due_cb, &evs[2]);
    sim_after(sim, SIM_MS(9), due_cb, &evs[3]);
    sim_time_us due_us = 0;
    ck_assert(sim_next_due(sim, &due_us));
    ck_assert_uint_eq(due_us, SIM_MS(2));
    /* 6 ms: three are due; a bound of two runs the two earliest, at 6 ms, and stops. */
    ck_assert_uint_eq(sim_run_due(sim, SIM_MS(6), 2), 2);
    ck_assert_int_eq(log.count, 2);
    ck_assert_int_eq(log.seen[0], 1);
    ck_assert_int_eq(log.seen[1], 2);
    ck_assert_uint_eq(evs[1].ran_at_us, SIM_MS(6));
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(6));
    /* A clock that stepped back (4 ms) leaves time at 6 ms and still runs what is due. */
    ck_assert_uint_eq(sim_run_due(sim, SIM_MS(4), 10), 1);
    ck_assert_int_eq(log.seen[2], 0);
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(6));
    /* Nothing more is due at 8 ms; the clock still advances. */
    ck_assert_uint_eq(sim_run_due(sim, SIM_MS(8), 10), 0);
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(8));
    ck_assert_uint_eq(sim_run_due(sim, SIM_MS(9), 10), 1);
    ck_assert_uint_eq(evs[3].ran_at_us, SIM_MS(9));
    ck_assert(!sim_next_due(sim, &due_us));
    sim_free(sim);
}
END_TEST

START_TEST(test_sim_timer_cancel)
{
    /* Goal: a cancelled timer never runs; cancelling twice, or after it ran, is a no-op; a
     * stale id does not cancel the event that reused its slot. */
    struct sim *sim = sim_new(2);
    struct order_log log = {{0}, 0};
    struct order_ev a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
    sim_timer_id ta = sim_after(sim, 10, order_cb, &a);
    sim_timer_id tb = sim_after(sim, 20, order_cb, &b);
    ck_assert_uint_eq(sim_pending(sim), 2);
    ck_assert(sim_timer_cancel(sim, ta));
    ck_assert(!sim_timer_cancel(sim, ta));
    ck_assert(!sim_timer_cancel(sim, 0));
    ck_assert_uint_eq(sim_pending(sim), 1);
    sim_timer_id tc = sim_after(sim, 5, order_cb, &c); /* reuses a's slot */
    ck_assert(!sim_timer_cancel(sim, ta));
    sim_run_until(sim, NULL, NULL, 100);
    ck_assert(!sim_timer_cancel(sim, tb));
    ck_assert(!sim_timer_cancel(sim, tc));
    ck_assert_int_eq(log.count, 2);
    ck_assert_int_eq(log.seen[0], 3);
    ck_assert_int_eq(log.seen[1], 2);
    sim_free(sim);
}
END_TEST

static void chain_cb(struct sim *sim, void *arg)
{
    int *count = arg;
    (*count)++;
    sim_after(sim, SIM_MS(10), chain_cb, count);
}

static bool count_reached(struct sim *sim, void *arg)
{
    (void)sim;
    return *(int *)arg >= 7;
}

START_TEST(test_sim_run_until_limits)
{
    /* Goal: run_until stops on the predicate, on the deadline (clock left at the deadline),
     * and on sim_stop; it reports which. */
    struct sim *sim = sim_new(3);
    int count = 0;
    sim_after(sim, 0, chain_cb, &count);
    ck_assert(sim_run_until(sim, count_reached, &count, SIM_S(10)));
    ck_assert_int_eq(count, 7);
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(60));
    ck_assert(!sim_run_until(sim, NULL, NULL, SIM_MS(95)));
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(95));
    ck_assert_int_eq(count, 10);
    sim_stop(sim);
    ck_assert(!sim_run_until(sim, NULL, NULL, SIM_S(10)));
    ck_assert(!sim_step(sim));
    ck_assert_int_eq(count, 10);
    sim_free(sim);
}
END_TEST

/* ---------------------------------------------------------------- tasks */

struct sleeper {
    sim_time_us woke_at[3];
    int rounds;
};

static void sleeper_fn(struct sim *sim, void *arg)
{
    struct sleeper *s = arg;
    for (int i = 0; i < 3; i++) {
        sim_sleep_us(sim, SIM_MS(100));
        s->woke_at[s->rounds++] = sim_now_us(sim);
    }
}

START_TEST(test_sim_task_sleep)
{
    /* Goal: a task sleeps in virtual time and finishes; its stack is released. */
    struct sim *sim = sim_new(4);
    struct sleeper s = {{0}, 0};
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "sleeper", sleeper_fn, &s));
    ck_assert_uint_eq(sim_tasks_alive(sim), 1);
    sim_run_until(sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(s.rounds, 3);
    ck_assert_uint_eq(s.woke_at[0], SIM_MS(100));
    ck_assert_uint_eq(s.woke_at[2], SIM_MS(300));
    ck_assert_uint_eq(sim_tasks_alive(sim), 0);
    sim_free(sim);
}
END_TEST

struct parker {
    struct sim_task *task;
    bool first_woken;
    bool second_woken;
    sim_time_us first_at;
    sim_time_us second_at;
};

static void parker_fn(struct sim *sim, void *arg)
{
    struct parker *p = arg;
    p->first_woken = sim_task_park(sim, SIM_S(5));
    p->first_at = sim_now_us(sim);
    p->second_woken = sim_task_park(sim, SIM_MS(50));
    p->second_at = sim_now_us(sim);
}

static void waker_cb(struct sim *sim, void *arg)
{
    struct parker *p = arg;
    ck_assert(sim_task_wake(sim, p->task));
    ck_assert(!sim_task_wake(sim, p->task)); /* already runnable */
}

/* Node contexts seen by node_probe_cb and node_probe_task, in the order they ran. */
struct node_probe {
    int seen[4];
    int count;
};

static void node_probe_cb(struct sim *sim, void *arg)
{
    struct node_probe *p = arg;
    p->seen[p->count++] = sim_node_current(sim);
}

static void node_probe_task(struct sim *sim, void *arg)
{
    struct node_probe *p = arg;
    sim_sleep_us(sim, SIM_MS(1)); /* woken by a timer event: still runs as its own node */
    p->seen[p->count++] = sim_node_current(sim);
}

START_TEST(test_sim_node_context)
{
    /* Goal: an event runs in the node context of the code that scheduled it, a task in the one
     * it was spawned in, and between events the context is "none" (crash reports name it). */
    struct sim *sim = sim_new(5);
    ck_assert_int_eq(sim_node_current(sim), SIM_NODE_NONE);
    struct node_probe p = {{0}, 0};
    ck_assert_int_eq(sim_node_swap(sim, 2), SIM_NODE_NONE);
    sim_after(sim, SIM_MS(5), node_probe_cb, &p);
    ck_assert_int_eq(sim_node_swap(sim, 7), 2);
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "probe", node_probe_task, &p));
    sim_node_swap(sim, SIM_NODE_NONE);
    sim_after(sim, SIM_MS(10), node_probe_cb, &p);
    sim_run_until(sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(p.count, 3);
    ck_assert_int_eq(p.seen[0], 7); /* the task, after its 1 ms sleep */
    ck_assert_int_eq(p.seen[1], 2);
    ck_assert_int_eq(p.seen[2], SIM_NODE_NONE);
    ck_assert_int_eq(sim_node_current(sim), SIM_NODE_NONE);
    sim_free(sim);
}
END_TEST

START_TEST(test_sim_task_park_wake)
{
    /* Goal: park returns true when woken (before its timeout) and false on timeout. */
    struct sim *sim = sim_new(5);
    struct parker p = {0};
    p.task = sim_task_spawn(sim, "parker", parker_fn, &p);
    sim_after(sim, SIM_MS(30), waker_cb, &p);
    sim_run_until(sim, NULL, NULL, SIM_S(10));
    ck_assert(p.first_woken);
    ck_assert_uint_eq(p.first_at, SIM_MS(30));
    ck_assert(!p.second_woken);
    ck_assert_uint_eq(p.second_at, SIM_MS(80));
    ck_assert_uint_eq(sim_pending(sim), 0); /* the first park's timeout was cancelled */
    sim_free(sim);
}
END_TEST

struct cond_case {
    struct sim_cond cond;
    int woken;
    int timed_out;
    int flag;
};

static void cond_waiter(struct sim *sim, void *arg)
{
    struct cond_case *c = arg;
    if (sim_cond_wait(sim, &c->cond, SIM_MS(100)))
        c->woken++;
    else
        c->timed_out++;
}

static void cond_broadcaster(struct sim *sim, void *arg)
{
    struct cond_case *c = arg;
    sim_cond_broadcast(sim, &c->cond);
}

static bool flag_set(struct sim *sim, void *arg)
{
    (void)sim;
    return ((struct cond_case *)arg)->flag != 0;
}

static void flag_setter(struct sim *sim, void *arg)
{
    (void)sim;
    ((struct cond_case *)arg)->flag = 1;
}

static void wait_until_fn(struct sim *sim, void *arg)
{
    struct cond_case *c = arg;
    ck_assert(!sim_wait_until(sim, flag_set, c, SIM_MS(20), SIM_MS(90)));
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(90));
    sim_after(sim, SIM_MS(45), flag_setter, c);
    ck_assert(sim_wait_until(sim, flag_set, c, SIM_MS(20), SIM_S(1)));
    ck_assert_uint_eq(sim_now_us(sim), SIM_MS(150)); /* polled at 110, 130, 150 */
}

START_TEST(test_sim_cond_and_wait_until)
{
    /* Goal: broadcast wakes every waiter once; a late waiter times out; wait_until polls at
     * its interval and honours its limit. */
    struct sim *sim = sim_new(6);
    struct cond_case c = {0};
    sim_cond_init(&c.cond);
    for (int i = 0; i < 3; i++)
        sim_task_spawn(sim, "waiter", cond_waiter, &c);
    sim_after(sim, SIM_MS(10), cond_broadcaster, &c);
    sim_run_until(sim, NULL, NULL, SIM_MS(20));
    sim_task_spawn(sim, "late", cond_waiter, &c);
    sim_run_until(sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(c.woken, 3);
    ck_assert_int_eq(c.timed_out, 1);
    ck_assert_uint_eq(c.cond.waiters_count, 0);
    struct sim *sim2 = sim_new(6);
    sim_task_spawn(sim2, "wait-until", wait_until_fn, &c);
    sim_run_until(sim2, NULL, NULL, SIM_S(2));
    ck_assert_uint_eq(sim_tasks_alive(sim2), 0);
    sim_free(sim2);
    sim_free(sim);
}
END_TEST

static void exiting_fn(struct sim *sim, void *arg)
{
    int *stage = arg;
    *stage = 1;
    sim_sleep_us(sim, 10);
    *stage = 2;
    sim_task_exit(sim);
}

static void forever_fn(struct sim *sim, void *arg)
{
    (void)arg;
    sim_task_park(sim, SIM_TIMEOUT_NEVER);
}

START_TEST(test_sim_task_exit_and_free_parked)
{
    /* Goal: sim_task_exit ends a task where it stands; sim_free releases tasks that are still
     * parked (checked under the sanitizer build for leaks). */
    struct sim *sim = sim_new(7);
    int stage = 0;
    sim_task_spawn(sim, "exiter", exiting_fn, &stage);
    for (int i = 0; i < 5; i++)
        sim_task_spawn(sim, "forever", forever_fn, NULL);
    sim_run_until(sim, NULL, NULL, SIM_S(1));
    ck_assert_int_eq(stage, 2);
    ck_assert_uint_eq(sim_tasks_alive(sim), 5);
    sim_free(sim);
}
END_TEST

struct interleave {
    char log[64];
    int len;
};

struct interleave_arg {
    struct interleave *il;
    char name;
    sim_time_us step_us;
};

static void interleave_fn(struct sim *sim, void *arg)
{
    struct interleave_arg *a = arg;
    for (int i = 0; i < 4; i++) {
        a->il->log[a->il->len++] = a->name;
        sim_sleep_us(sim, a->step_us);
    }
}

START_TEST(test_sim_two_sims_independent)
{
    /* Goal: two sims in one process interleave their own tasks without interference. */
    struct sim *s1 = sim_new(8);
    struct sim *s2 = sim_new(8);
    struct interleave il1 = {{0}, 0}, il2 = {{0}, 0};
    struct interleave_arg a = {&il1, 'a', 10}, b = {&il1, 'b', 15};
    struct interleave_arg c = {&il2, 'c', 5};
    sim_task_spawn(s1, "a", interleave_fn, &a);
    sim_task_spawn(s1, "b", interleave_fn, &b);
    sim_task_spawn(s2, "c", interleave_fn, &c);
    for (int i = 0; i < 100; i++) {
        sim_step(s1);
        sim_step(s2);
    }
    ck_assert_str_eq(il1.log, "abababab");
    ck_assert_str_eq(il2.log, "cccc");
    sim_free(s1);
    sim_free(s2);
}
END_TEST

/* ---------------------------------------------------------------- PRNG */

START_TEST(test_sim_rand_streams)
{
    /* Goal: a stream depends only on (seed, name): extra draws on one stream leave another
     * unchanged; different names or seeds give different sequences; below() stays in range. */
    struct sim *sim = sim_new(9);
    struct sim_rand a1, a2, b;
    sim_rand_init(&a1, sim, "net");
    sim_rand_init(&b, sim, "timer");
    for (int i = 0; i < 1000; i++)
        sim_rand_u64(&b);
    sim_rand_init(&a2, sim, "net");
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(sim_rand_u64(&a1), sim_rand_u64(&a2));
    struct sim_rand n0, n1;
    sim_rand_init_n(&n0, sim, "raft.timer", 0);
    sim_rand_init_n(&n1, sim, "raft.timer", 1);
    ck_assert_uint_ne(sim_rand_u64(&n0), sim_rand_u64(&n1));
    struct sim *other = sim_new(10);
    struct sim_rand o;
    sim_rand_init(&o, other, "net");
    sim_rand_init(&a1, sim, "net");
    ck_assert_uint_ne(sim_rand_u64(&o), sim_rand_u64(&a1));
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t x = sim_rand_below(&a1, 7);
        ck_assert_uint_lt(x, 7);
        hist[x]++;
    }
    for (int i = 0; i < 7; i++)
        ck_assert(hist[i] > 9000 && hist[i] < 11000);
    for (int i = 0; i < 1000; i++) {
        int64_t r = sim_rand_range(&a1, -3, 3);
        ck_assert(r >= -3 && r <= 3);
    }
    sim_free(other);
    sim_free(sim);
}
END_TEST

static int nrand_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

START_TEST(test_sim_nrand)
{
    /* Goal: sim_nrand is Go's nrand made replayable: the same seed gives the same draws, a
     * different seed different ones; every draw is below 2^62 and the top of that range is
     * reached; 10000 draws never collide (a clerk's id must be unique); draws on a component's
     * stream do not move it, nor it theirs; and it traces nothing (the digest stays put). */
    struct sim *sim = sim_new(9);
    struct sim *twin = sim_new(9);
    struct sim *other = sim_new(10);
    uint64_t digest = sim_digest(sim);
    ck_assert_uint_ne(sim_nrand(sim), sim_nrand(other));
    struct sim_rand net;
    sim_rand_init(&net, twin, "net");
    for (int i = 0; i < 1000; i++)
        sim_rand_u64(&net); /* another stream's draws: sim_nrand(twin) must not move */
    ck_assert_uint_ne(sim_nrand(twin), 0); /* twin's first draw, to keep it level with sim */
    enum { DRAWS = 10000 };
    static uint64_t draws[DRAWS];
    uint64_t top = 0;
    for (int i = 0; i < DRAWS; i++) {
        draws[i] = sim_nrand(sim);
        ck_assert_uint_eq(draws[i], sim_nrand(twin));
        ck_assert_uint_lt(draws[i], 1ull << 62);
        if (draws[i] > top) top = draws[i];
    }
    ck_assert_uint_ge(top, 1ull << 61);
    ck_assert_uint_eq(sim_digest(sim), digest);
    struct sim *fresh_sim = sim_new(9);
    struct sim_rand fresh;
    struct sim_rand after;
    sim_rand_init(&fresh, fresh_sim, "net");
    sim_rand_init(&after, sim, "net"); /* sim has drawn 10001 nrands by now */
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(sim_rand_u64(&after), sim_rand_u64(&fresh));
    sim_free(fresh_sim);
    qsort(draws, DRAWS, sizeof(draws[0]), nrand_cmp);
    for (int i = 1; i < DRAWS; i++)
        ck_assert_uint_ne(draws[i - 1], draws[i]);
    sim_free(other);
    sim_free(twin);
    sim_free(sim);
}
END_TEST

/* ---------------------------------------------------------------- trace */

static const struct sim_trace_kind kind_ping = {1, SIM_TOPIC_NET, "test.ping", {"n", "to"}};
static const struct sim_trace_kind kind_tick = {2, SIM_TOPIC_TIMER, "test.tick", {"n"}};

struct pinger {
    struct sim_rand r;
    int n;
};

static void ping_cb(struct sim *sim, void *arg)
{
    struct pinger *p = arg;
    if (p->n >= 50) return;
    p->n++;
    sim_trace4(sim, p->n % 3, &kind_ping, p->n, (int64_t)sim_rand_below(&p->r, 5), 0, 0);
    sim_tracef(sim, SIM_NODE_NONE, &kind_tick, p->n, 0, "tick %d", p->n);
    sim_after(sim, 1 + sim_rand_below(&p->r, 1000), ping_cb, p);
}

static uint64_t ping_run(uint64_t seed, uint32_t mask, size_t *recorded)
{
    struct sim *sim = sim_new(seed);
    struct pinger p = {{{0}}, 0};
    sim_rand_init(&p.r, sim, "ping");
    sim_trace_record(sim, mask, 1000);
    sim_after(sim, 0, ping_cb, &p);
    sim_run_until(sim, NULL, NULL, SIM_S(100));
    uint64_t digest = sim_digest(sim);
    if (recorded != NULL) *recorded = sim_trace_count(sim);
    sim_free(sim);
    return digest;
}

START_TEST(test_sim_trace_digest)
{
    /* Goal: same seed, same digest, whatever is recorded; another seed, another digest. */
    size_t rec_all = 0, rec_net = 0, rec_none = 0;
    uint64_t d1 = ping_run(11, SIM_TOPICS_ALL, &rec_all);
    uint64_t d2 = ping_run(11, SIM_TOPIC_BIT(SIM_TOPIC_NET), &rec_net);
    uint64_t d3 = ping_run(11, 0, &rec_none);
    uint64_t d4 = ping_run(12, SIM_TOPICS_ALL, NULL);
    ck_assert_uint_eq(d1, d2);
    ck_assert_uint_eq(d1, d3);
    ck_assert_uint_ne(d1, d4);
    ck_assert_uint_eq(rec_all, 100);
    ck_assert_uint_eq(rec_net, 50);
    ck_assert_uint_eq(rec_none, 0);
}
END_TEST

/* Counts streamed events and checks they are the net ones. */
static void stream_count(struct sim *sim, const struct sim_trace_rec *rec, void *arg)
{
    (void)sim;
    ck_assert_int_eq(rec->kind->topic, SIM_TOPIC_NET);
    ck_assert_int_eq(rec->v[0], (int64_t)(*(size_t *)arg) + 1); /* ping n = 1, 2, ... */
    (*(size_t *)arg)++;
}

START_TEST(test_sim_trace_stream)
{
    /* Goal: a stream sees every event of its topics as it is traced, recorded or not, keeps
     * nothing, and leaves the digest alone (labsim replay --check-trace relies on all three). */
    uint64_t plain = ping_run(11, 0, NULL);
    struct sim *sim = sim_new(11);
    struct pinger p = {{{0}}, 0};
    size_t streamed = 0;
    sim_rand_init(&p.r, sim, "ping");
    sim_trace_set_stream(sim, SIM_TOPIC_BIT(SIM_TOPIC_NET), stream_count, &streamed);
    sim_after(sim, 0, ping_cb, &p);
    sim_run_until(sim, NULL, NULL, SIM_S(100));
    ck_assert_uint_eq(streamed, 50);
    ck_assert_uint_eq(sim_trace_count(sim), 0);
    ck_assert_uint_eq(sim_digest(sim), plain);
    sim_free(sim);
}
END_TEST

START_TEST(test_sim_trace_write)
{
    /* Goal: the trace file has the header, one K line per kind and one E line per record. */
    struct sim *sim = sim_new(13);
    sim_trace_record(sim, SIM_TOPICS_ALL, 10);
    sim_trace4(sim, 2, &kind_ping, 7, 1, 0, 0);
    sim_tracef(sim, SIM_NODE_NONE, &kind_tick, 3, 0, "a\tb");
    char path[] = "/tmp/labsim-trace-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(sim_trace_write(sim, path, "TestX"), SIM_OK);
    FILE *f = fopen(path, "r");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    ck_assert_ptr_nonnull(strstr(buf, "# title TestX\n"));
    ck_assert_ptr_nonnull(strstr(buf, "K 1 net test.ping n to\n"));
    ck_assert_ptr_nonnull(strstr(buf, "E 0 2 1 7 1\t\n"));
    ck_assert_ptr_nonnull(strstr(buf, "E 0 -1 2 3\ta\\tb\n"));
    ck_assert_int_eq(sim_trace_write(sim, "/nonexistent/dir/x", "T"), SIM_EIO);
    sim_free(sim);
}
END_TEST

START_TEST(test_sim_topics)
{
    /* Goal: topic names round-trip; unknown names are rejected. */
    for (int t = 0; t < (int)SIM_TOPIC_COUNT; t++)
        ck_assert_int_eq(sim_topic_parse(sim_topic_name((enum sim_topic)t)), t);
    ck_assert_int_eq(sim_topic_parse("nosuch"), -1);
    ck_assert_str_eq(sim_strerror(SIM_ETIMEDOUT), "virtual-time limit reached");
}
END_TEST

static void assert_fails_fn(struct sim *sim, void *arg)
{
    (void)arg;
    SIM_ASSERTF(sim, 3, sim_now_us(sim) < SIM_MS(5), "deliberate failure at %d", 42);
}

/* Runs a sim in a child: seed, replay hint, and `fn` scheduled at `at_us`; the run must abort
 * (SIGABRT). What the child printed on stderr goes into buf. */
static void sim_abort_child(uint64_t seed, const char *hint, sim_time_us at_us, sim_event_cb fn,
                            char *buf, size_t buf_size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        struct sim *sim = sim_new(seed);
        sim_set_replay_hint(sim, hint);
        sim_after(sim, at_us, fn, NULL);
        sim_run_until(sim, NULL, NULL, SIM_S(1));
        _exit(0); /* not reached when the abort works */
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < buf_size - 1 && (n = read(fds[0], buf + len, buf_size - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    close(fds[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGABRT);
}

START_TEST(test_sim_assert_aborts)
{
    /* Goal: SIM_ASSERT aborts, and what it prints names the seed, the virtual time, the node
     * and the replay command (DESIGN.md section 4). The failing run happens in a child whose
     * stderr comes back through a pipe. */
    char buf[2048];
    sim_abort_child(14, "labsim replay TestNothing --seed 14", SIM_MS(7), assert_fails_fn, buf,
                    sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "assertion failed: sim_now_us(sim) < SIM_MS(5)"));
    ck_assert_ptr_nonnull(strstr(buf, "seed 14, at 0.007000s virtual, node 3"));
    ck_assert_ptr_nonnull(strstr(buf, "deliberate failure at 42"));
    ck_assert_ptr_nonnull(strstr(buf, "replay: labsim replay TestNothing --seed 14"));
}
END_TEST

/* ---------------------------------------------------------------- sleep(0) and livelocks */

struct yield_log {
    char seq[16];
    int len;
};

static void yield_note_a(struct sim *sim, void *arg)
{
    (void)sim;
    struct yield_log *log = arg;
    log->seq[log->len++] = 'a';
}

static void yield_sleeper(struct sim *sim, void *arg)
{
    struct yield_log *log = arg;
    log->seq[log->len++] = 's';
    sim_after(sim, 0, yield_note_a, log); /* due now, queued before the sleep */
    sim_sleep_us(sim, 0);
    log->seq[log->len++] = 'w';
}

START_TEST(test_sim_sleep_zero_yields)
{
    /* Goal: sleep(0) yields as Go's time.Sleep(0) does: an event already due at this instant
     * runs before the task goes on, and no virtual time passes. */
    struct sim *sim = sim_new(31);
    struct yield_log log = {{0}, 0};
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "sleeper", yield_sleeper, &log));
    sim_run_until(sim, NULL, NULL, SIM_S(1));
    ck_assert_str_eq(log.seq, "saw");
    sim_free(sim);
}
END_TEST

static const struct sim_trace_kind storm_kind = {98, SIM_TOPIC_NET, "test.storm", {"n", NULL}};

/* A message storm in zero time: every event traces a "send" and schedules the next at once. */
static void storm_fn(struct sim *sim, void *arg)
{
    (void)arg;
    sim_trace(sim, 2, &storm_kind, NULL, "Raft.AppendEntries");
    sim_after(sim, 0, storm_fn, NULL);
}

START_TEST(test_sim_livelock_names_storm)
{
    /* Goal: the livelock guard is the last resort, and its report names what the storm is
     * made of (kind, text and node of the most frequent traced events) next to the usual
     * seed / time / replay lines. */
    char buf[4096];
    sim_abort_child(15, "labsim replay TestStorm --seed 15", SIM_MS(3), storm_fn, buf, sizeof(buf));
    ck_assert_ptr_nonnull(strstr(buf, "livelock: 50000000 events without virtual time"));
    ck_assert_ptr_nonnull(strstr(buf, "test.storm Raft.AppendEntries n2 (256)"));
    ck_assert_ptr_nonnull(strstr(buf, "seed 15, at 0.003000s virtual"));
    ck_assert_ptr_nonnull(strstr(buf, "replay: labsim replay TestStorm --seed 15"));
}
END_TEST

Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("events");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sim_fifo_ties);
    tcase_add_test(tc, test_sim_timer_cancel);
    tcase_add_test(tc, test_sim_run_until_limits);
    tcase_add_test(tc, test_sim_run_due);
    suite_add_tcase(s, tc);
    tc = tcase_create("tasks");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sim_task_sleep);
    tcase_add_test(tc, test_sim_task_park_wake);
    tcase_add_test(tc, test_sim_cond_and_wait_until);
    tcase_add_test(tc, test_sim_task_exit_and_free_parked);
    tcase_add_test(tc, test_sim_two_sims_independent);
    tcase_add_test(tc, test_sim_sleep_zero_yields);
    tcase_add_test(tc, test_sim_node_context);
    suite_add_tcase(s, tc);
    tc = tcase_create("rand");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sim_rand_streams);
    tcase_add_test(tc, test_sim_nrand);
    suite_add_tcase(s, tc);
    tc = tcase_create("trace");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_sim_trace_digest);
    tcase_add_test(tc, test_sim_trace_write);
    tcase_add_test(tc, test_sim_trace_stream);
    tcase_add_test(tc, test_sim_topics);
    tcase_add_test(tc, test_sim_assert_aborts);
    suite_add_tcase(s, tc);
    tc = tcase_create("livelock");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sim_livelock_names_storm);
    suite_add_tcase(s, tc);
    sim_fs_tcases_add(s);
    return s;
}
