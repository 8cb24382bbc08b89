/*
 * bench_run: the benchmark engine. Runs one workload against a server and fills the results.
 *
 * Phases, in order (see bench_opts.h for the knobs):
 *   ramp     connect the players at --rate with at most --max-inflight waiting for a login reply;
 *            each registers (or not) and logs in; the first ModelDelta after Ok is its own actor
 *   spread   (--spread) everyone walks to a point of an even grid over the world
 *   warmup   everyone plays (Targets, Chats) unmeasured, so the window starts in steady state
 *   window   everyone plays, measured; GET /stats?reset=1 opens it, GET /stats closes it;
 *            the --storm players connect all at once --storm-delay into it
 *   drain    nobody sends; late chats (sent in the window) are still counted
 * Then every connection is closed and the loop ends.
 *
 * Chat latency: each chat's text carries its send time and sender ("t=<ns> s=<index> n=<seq>"),
 * every receiver subtracts; a delivery counts if it was sent in the window to a player already in
 * PLAY. Movement latency: from a Target to the first delta of that actor whose step points at the
 * new target (not a step of the previous walk), seen by the mover and by one observer.
 */
#ifndef CMMO_BENCH_RUN_H
#define CMMO_BENCH_RUN_H

#include "bench_opts.h"
#include "bench_report.h"

/* Runs the workload described by opts. Fills results (the caller frees results->stats_end).
 * Returns 0 when the run happened (whatever it measured), -1 if it could not start. */
int bench_run(const struct bench_opts *opts, struct bench_results *results);

#endif
