#include "game/priority.h"

#include <math.h>

float priority_of(const priority_candidate *c)
{
    float weight = exp2f(-sqrtf(c->distance2) / PRIORITY_HALF_DISTANCE);
    return weight * ((float)c->waited + (c->turned ? PRIORITY_TURN_TICKS : 0.0f));
}

/* Orders for the two selections: a before b. Both are total orders (the slot breaks ties), so
 * the selection's result does not depend on the input's order beyond the set it holds. */
typedef int (*before_fn)(const priority_candidate *a, const priority_candidate *b,
                         uint32_t stale_ticks);

static int nearer(const priority_candidate *a, const priority_candidate *b, uint32_t stale_ticks)
{
    (void)stale_ticks;
    if (a->distance2 != b->distance2) return a->distance2 < b->distance2;
    return a->slot < b->slot;
}

static int more_urgent(const priority_candidate *a, const priority_candidate *b,
                       uint32_t stale_ticks)
{
    int sa = a->waited >= stale_ticks, sb = b->waited >= stale_ticks;
    if (sa != sb) return sa;
    if (sa && a->waited != b->waited) return a->waited > b->waited;
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->slot < b->slot;
}

static void swap(priority_candidate *a, priority_candidate *b)
{
    priority_candidate t = *a;
    *a = *b;
    *b = t;
}

/* Moves the k candidates that come first in `before` to c[0..k) (in no order): quickselect with
 * a median-of-three pivot, deterministic. */
static void select_first(priority_candidate *c, size_t n, size_t k, before_fn before,
                         uint32_t stale)
{
    size_t lo = 0, hi = n; /* the k-th lies in [lo, hi) */
    while (hi - lo > 1 && k > lo && k < hi) {
        size_t mid = lo + (hi - lo) / 2, last = hi - 1;
        if (before(&c[mid], &c[lo], stale)) swap(&c[mid], &c[lo]);
        if (before(&c[last], &c[lo], stale)) swap(&c[last], &c[lo]);
        if (before(&c[last], &c[mid], stale)) swap(&c[last], &c[mid]);
        swap(&c[mid], &c[last]); /* the median is the pivot, at the end */
        size_t store = lo;
        for (size_t i = lo; i < last; i++)
            if (before(&c[i], &c[last], stale)) swap(&c[i], &c[store++]);
        swap(&c[store], &c[last]);
        if (store == k) return;
        if (store < k)
            lo = store + 1;
        else
            hi = store;
    }
}

size_t priority_select(priority_candidate *c, size_t n, size_t nearest, size_t room,
                       uint32_t stale_ticks)
{
    if (room < nearest) room = nearest;
    if (n <= room) return n;
    select_first(c, n, nearest, nearer, stale_ticks);
    for (size_t i = nearest; i < n; i++)
        c[i].priority = priority_of(&c[i]);
    select_first(c + nearest, n - nearest, room - nearest, more_urgent, stale_ticks);
    return room;
}
