/* bench_interp: the browser's interpolation of another actor, and a mover's true path (see
 * bench_interp.h). */
#include "bench_interp.h"

#include <assert.h>
#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- rings */

/* The i-th oldest snapshot (0 = oldest). */
static const struct bench_interp_point *snap_at(const struct bench_interp *ip, unsigned i)
{
    assert(i < ip->len);
    return &ip->snaps[(ip->first + i) % BENCH_INTERP_SNAPSHOTS];
}

static void snap_append(struct bench_interp *ip, double t_ms, double x, double y)
{
    unsigned slot = (ip->first + ip->len) % BENCH_INTERP_SNAPSHOTS;
    ip->snaps[slot] = (struct bench_interp_point){t_ms, x, y};
    if (ip->len < BENCH_INTERP_SNAPSHOTS)
        ip->len++;
    else
        ip->first = (uint8_t)((ip->first + 1) % BENCH_INTERP_SNAPSHOTS);
}

static const struct bench_interp_point *point_at(const struct bench_path *path, unsigned i)
{
    assert(i < path->len);
    return &path->points[(path->first + i) % BENCH_PATH_POINTS];
}

/* ---------------------------------------------------------------- the client's interpolation */

void bench_interp_init(struct bench_interp *ip, double x, double y, double now_ms)
{
    memset(ip, 0, sizeof(*ip));
    ip->base_delay_ms = BENCH_INTERP_DELAY_MS;
    ip->delay_ms = BENCH_INTERP_DELAY_MS;
    snap_append(ip, now_ms, x, y);
}

/* motion.js Interpolator.push, step by step. */
void bench_interp_push(struct bench_interp *ip, double x, double y, double now_ms)
{
    const struct bench_interp_point *last = snap_at(ip, ip->len - 1u);
    if (now_ms < last->t_ms) now_ms = last->t_ms;
    double walked = hypot(x - last->x, y - last->y) / BENCH_INTERP_WALK_PX_PER_S * 1000.0;
    double gap = now_ms - last->t_ms;
    if (gap > 2 * BENCH_INTERP_TICK_MS && gap - walked > BENCH_INTERP_TICK_MS) {
        /* It stood still first: the walk starts when it must have, not at the old snapshot. */
        double start = now_ms - fmax(walked, BENCH_INTERP_TICK_MS);
        snap_append(ip, start, last->x, last->y);
    } else if (gap > 0) {
        ip->gap_ms = fmax(gap, ip->gap_ms * BENCH_INTERP_GAP_DECAY);
        ip->delay_ms = fmin(BENCH_INTERP_MAX_DELAY_MS,
                            fmax(ip->base_delay_ms, ip->gap_ms + BENCH_INTERP_TICK_MS));
    }
    snap_append(ip, now_ms, x, y);
}

double bench_interp_delay_ms(const struct bench_interp *ip)
{
    return ip->delay_ms;
}

int bench_interp_covers(const struct bench_interp *ip, double now_ms)
{
    return now_ms - ip->delay_ms > snap_at(ip, 0)->t_ms;
}

/* motion.js Interpolator.sample (its position; the velocity is only for the animation). */
void bench_interp_sample(const struct bench_interp *ip, double now_ms, double *x, double *y)
{
    double t = now_ms - ip->delay_ms;
    const struct bench_interp_point *first = snap_at(ip, 0), *last = snap_at(ip, ip->len - 1u);
    const struct bench_interp_point *p = NULL;
    if (t <= first->t_ms)
        p = first;
    else if (t >= last->t_ms)
        p = last;
    if (p) {
        *x = p->x;
        *y = p->y;
        return;
    }
    /* The client walks back from the newest segment: the time drawn is near the newest end. */
    unsigned i = ip->len - 2u;
    while (i > 0 && snap_at(ip, i)->t_ms > t)
        i--;
    const struct bench_interp_point *a = snap_at(ip, i), *b = snap_at(ip, i + 1u);
    double span = b->t_ms - a->t_ms;
    if (span <= 0) {
        *x = b->x;
        *y = b->y;
        return;
    }
    double f = (t - a->t_ms) / span;
    *x = a->x + (b->x - a->x) * f;
    *y = a->y + (b->y - a->y) * f;
}

/* ---------------------------------------------------------------- the true path */

void bench_path_reset(struct bench_path *path)
{
    memset(path, 0, sizeof(*path));
}

void bench_path_add(struct bench_path *path, double x, double y, double now_ms)
{
    if (path->len && now_ms < point_at(path, path->len - 1u)->t_ms)
        now_ms = point_at(path, path->len - 1u)->t_ms;
    unsigned slot = (path->first + path->len) % BENCH_PATH_POINTS;
    path->points[slot] = (struct bench_interp_point){now_ms, x, y};
    if (path->len < BENCH_PATH_POINTS)
        path->len++;
    else
        path->first = (uint8_t)((path->first + 1) % BENCH_PATH_POINTS);
}

int bench_path_at(const struct bench_path *path, double t_ms, double *x, double *y)
{
    if (path->len == 0 || t_ms < point_at(path, 0)->t_ms) return -1;
    unsigned i = path->len - 1u;
    while (i > 0 && point_at(path, i - 1u)->t_ms > t_ms)
        i--;
    /* point i - 1 is at or before t (or i is 0 and the oldest is at t); point i follows it. */
    const struct bench_interp_point *b = point_at(path, i);
    if (i == 0 || t_ms >= b->t_ms) {
        *x = b->x;
        *y = b->y;
        return 0;
    }
    const struct bench_interp_point *a = point_at(path, i - 1u);
    /* Own positions come every tick the mover moves: a longer gap is standing still at a, then
     * one tick's step to b. */
    double start = a->t_ms;
    if (b->t_ms - a->t_ms > 1.5 * BENCH_INTERP_TICK_MS) start = b->t_ms - BENCH_INTERP_TICK_MS;
    if (t_ms <= start) {
        *x = a->x;
        *y = a->y;
        return 0;
    }
    double f = (t_ms - start) / (b->t_ms - start);
    *x = a->x + (b->x - a->x) * f;
    *y = a->y + (b->y - a->y) * f;
    return 0;
}
