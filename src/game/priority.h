/*
 * priority: which of the actors a cmmo.v2 viewer sees get their position sent this tick, when a
 * bandwidth budget allows fewer than have moved (the "priority accumulator" of networked physics,
 * Quake III's per-client snapshot rate).
 *
 * Each candidate is an actor whose position the viewer has not been sent since it last moved.
 * Its priority grows with every tick it waits, faster the nearer it is, and jumps when it turned
 * since the viewer last got it (the viewer's interpolation is then wrong, not merely late). What
 * is chosen, in order of precedence:
 *   1. the `nearest` candidates nearest to the viewer, every tick, whatever the budget;
 *   2. candidates that have waited `stale_ticks` or more, longest wait first;
 *   3. the rest by priority, highest first;
 * up to `room` in all (at least the nearest). Priorities are compared in 128 steps, waits beyond
 * the stale bound in 127; where the room runs out within one step the candidates earlier in the
 * input go. The choice is a pure function of its input (the unit tests pin it).
 *
 * Pure computation: no allocation, no world, no clock; the caller keeps what was sent when.
 */
#ifndef CMMO_PRIORITY_H
#define CMMO_PRIORITY_H

#include <stddef.h>
#include <stdint.h>

typedef struct priority_candidate {
    uint32_t slot;   /* the caller's name for the actor (the world's slot) */
    uint32_t waited; /* ticks since the viewer was last sent this actor (>= 1) */
    float distance2; /* squared distance to the viewer, px^2 */
    uint8_t turned;  /* changed direction (or started, or stopped) since last sent */
    float priority;  /* filled by priority_select */
} priority_candidate;

/* The accumulated priority of one candidate: (ticks waited, plus PRIORITY_TURN_TICKS if it
 * turned) times a weight of 1 / (1 + (d / PRIORITY_HALF_DISTANCE)^2): 1 beside the viewer, 1/2 at
 * 200 px, 1/5 at 400 px. */
#define PRIORITY_HALF_DISTANCE 200.0f
#define PRIORITY_TURN_TICKS 3.0f
float priority_of(const priority_candidate *c);

/* Reorders c[0..n) so that the first k are the ones to send, and returns k:
 * min(n, max(room, min(n, nearest))). Cost: O(n) expected (selection, no full sort). */
size_t priority_select(priority_candidate *c, size_t n, size_t nearest, size_t room,
                       uint32_t stale_ticks);

#endif
