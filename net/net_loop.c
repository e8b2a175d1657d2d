/* net_loop: the real-time driver, the only place real time enters a node.
 *
 * The kernel keeps its event queue, timers and tasks exactly as in simulation; this file
 * drives them from a libuv loop instead of sim_run_until. A turn: read the monotonic clock,
 * sim_run_due (advance virtual time to it and run what is due, a bounded number of events),
 * then the flush callback (output commit: persister sync, then socket writes), then re-arm one
 * uv timer for the next due event. Turns run from that timer and from a check handle, which
 * libuv calls after every poll, so events that I/O callbacks scheduled at "now" run in the same
 * loop iteration.
 *
 * Invariants: virtual time == real time since net_loop_init, never going backwards (the
 * kernel's rule); turns never nest (in_turn).
 */
#include <stdlib.h>

#include "net_int.h"

sim_time_us net_loop_now_us(const struct net_loop *loop)
{
    return (sim_time_us)((uv_hrtime() - loop->start_ns) / 1000u);
}

static void on_timer(uv_timer_t *timer);

static void timer_arm(struct net_loop *loop)
{
    sim_time_us due_us = 0;
    if (!sim_next_due(loop->sim, &due_us)) {
        uv_timer_stop(&loop->timer);
        return;
    }
    sim_time_us now_us = net_loop_now_us(loop);
    /* uv timers have millisecond resolution: round up so the timer never fires early. */
    uint64_t wait_ms = due_us > now_us ? (due_us - now_us + 999u) / 1000u : 0;
    uv_timer_start(&loop->timer, on_timer, wait_ms, 0);
}

void net_loop_turn(struct net_loop *loop)
{
    if (loop->in_turn) return;
    loop->in_turn = true;
    sim_run_due(loop->sim, net_loop_now_us(loop), NET_LOOP_EVENTS_PER_TURN);
    if (loop->flush != NULL) loop->flush(loop->flush_arg);
    timer_arm(loop);
    loop->in_turn = false;
}

static void on_timer(uv_timer_t *timer)
{
    net_loop_turn(timer->data);
}

static void on_check(uv_check_t *check)
{
    net_loop_turn(check->data);
}

int net_loop_init(struct net_loop *loop, uv_loop_t *uv, struct sim *sim, net_flush_fn flush,
                  void *arg)
{
    *loop = (struct net_loop){.uv = uv, .sim = sim, .flush = flush, .flush_arg = arg};
    loop->start_ns = uv_hrtime();
    if (uv_timer_init(uv, &loop->timer) != 0) return NET_EIO;
    if (uv_check_init(uv, &loop->check) != 0) return NET_EIO;
    loop->timer.data = loop;
    loop->check.data = loop;
    uv_timer_start(&loop->timer, on_timer, 0, 0);
    uv_check_start(&loop->check, on_check);
    /* The check handle alone must not keep the loop alive once everything else closed. */
    uv_unref((uv_handle_t *)&loop->check);
    return NET_OK;
}

void net_loop_close(struct net_loop *loop)
{
    uv_timer_stop(&loop->timer);
    uv_check_stop(&loop->check);
    uv_close((uv_handle_t *)&loop->timer, NULL);
    uv_close((uv_handle_t *)&loop->check, NULL);
}
