/*
 * bench_interp: where the browser client draws another actor, and where that actor really was,
 * for the position error an observer sees (movement.position_error_px in the result).
 *
 * Two small value types, no heap memory, no clock of their own: every function takes the time in
 * milliseconds (any origin, as long as one run uses one), so the tests drive time by hand.
 *
 * struct bench_interp re-implements the Interpolator of web/js/motion.js, rule for rule, so that
 * the benchmark measures what a player of the browser client would see:
 *   - the actor is drawn `delay` ms in the past, on the line between the two positions received
 *     around that moment; before the oldest one it stands at the oldest, past the newest it stands
 *     at the newest (the client never extrapolates);
 *   - the delay is 100 ms (two ticks), or, while updates come further apart (a cmmo.v2 budget
 *     sends a far actor seldom), one tick more than the gap between them, at most 350 ms; the gap
 *     is remembered decaying by 0.9 per update, so the delay follows a sparser schedule at once
 *     and a denser one gently;
 *   - an update after a pause (gap over two ticks and over a tick longer than the walk between
 *     the two positions takes at 70 px/s) first repeats the old position at the time the walk
 *     must have started (at least a tick before the update): the actor stood, then walked;
 *   - at most 24 positions are kept (the oldest are forgotten).
 * When motion.js changes its rule, this file changes with it.
 *
 * struct bench_path is the mover's true path at tick resolution, from the positions the mover's
 * own connection receives: the server sends an actor's own position every tick it moves (legacy
 * and cmmo.v2 alike), so two positions more than 1.5 ticks apart mean it stood at the first until
 * the tick before the second.
 */
#ifndef CMMO_BENCH_INTERP_H
#define CMMO_BENCH_INTERP_H

#include <stdint.h>

/* motion.js's constants (the server's tick and walking speed, docs/PROTOCOL.md). */
#define BENCH_INTERP_TICK_MS 50.0
#define BENCH_INTERP_WALK_PX_PER_S 70.0
#define BENCH_INTERP_DELAY_MS (2 * BENCH_INTERP_TICK_MS)
#define BENCH_INTERP_MAX_DELAY_MS (250 + 2 * BENCH_INTERP_TICK_MS)
#define BENCH_INTERP_GAP_DECAY 0.9
#define BENCH_INTERP_SNAPSHOTS 24
/* The true path: 16 own positions are 0.75 s of walking, more than the longest delay (0.35 s)
 * a client draws in the past. */
#define BENCH_PATH_POINTS 16

struct bench_interp_point {
    double t_ms;
    double x, y;
};

/* A ring of the newest positions, oldest first from `first`. */
struct bench_interp {
    double base_delay_ms;
    double delay_ms;
    double gap_ms;
    struct bench_interp_point snaps[BENCH_INTERP_SNAPSHOTS];
    uint8_t first, len;
};

struct bench_path {
    struct bench_interp_point points[BENCH_PATH_POINTS];
    uint8_t first, len;
};

/* Starts an interpolation at (x, y) received at now_ms, as the client does on an actor's first
 * position: one snapshot, the delay at its base (100 ms). */
void bench_interp_init(struct bench_interp *ip, double x, double y, double now_ms);

/* A position received at now_ms. A time before the newest snapshot's counts as that time
 * (clocks only go forward). */
void bench_interp_push(struct bench_interp *ip, double x, double y, double now_ms);

/* The delay the client currently draws with, in ms (100 .. 350). */
double bench_interp_delay_ms(const struct bench_interp *ip);

/* Whether the client's history reaches back to the moment it draws at now_ms (now minus the
 * delay lies after its oldest snapshot). When it does not, the client stands the actor at its
 * oldest position: right for an actor that just came into view, but for an interpolation the
 * benchmark started on an actor the client had seen before, its drawing is not the client's. */
int bench_interp_covers(const struct bench_interp *ip, double now_ms);

/* Where the client draws the actor at now_ms, in *x, *y. */
void bench_interp_sample(const struct bench_interp *ip, double now_ms, double *x, double *y);

/* Empties a path. A zeroed struct is an empty path too. */
void bench_path_reset(struct bench_path *path);

/* The mover's own position, received at now_ms. A time before the newest point's counts as that
 * time. The oldest point is forgotten when the path is full. */
void bench_path_add(struct bench_path *path, double x, double y, double now_ms);

/* Where the mover was at t_ms, in *x, *y: on the line between the two own positions around t
 * (standing at the first until a tick before the second when they are over 1.5 ticks apart), at
 * the newest after it (it has not moved since, or that position would have come). Returns 0, or
 * -1 when the path is empty or t_ms lies before its oldest point (unknown; *x, *y untouched). */
int bench_path_at(const struct bench_path *path, double t_ms, double *x, double *y);

#endif
