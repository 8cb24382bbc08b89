/*
 * tickstats: a histogram of tick durations, for the statistics page and the benchmark.
 * Fixed buckets of 10 microseconds up to 1 s (longer ticks count in the last bucket; the maximum
 * is kept exactly).
 */
#ifndef CMMO_TICKSTATS_H
#define CMMO_TICKSTATS_H

#include <stdint.h>

#define TICKSTATS_BUCKETS 100000
#define TICKSTATS_BUCKET_NS 10000

typedef struct tickstats {
    uint64_t count;
    uint64_t max_ns;
    uint64_t sum_ns;
    uint32_t buckets[TICKSTATS_BUCKETS];
} tickstats;

void tickstats_reset(tickstats *t);
void tickstats_add(tickstats *t, uint64_t ns);
/* How many ticks took at most ns (to bucket precision: 10 us). */
uint64_t tickstats_count_upto(const tickstats *t, uint64_t ns);
/* The duration below which the fraction q (0..1) of ticks fall, in milliseconds. */
double tickstats_quantile_ms(const tickstats *t, double q);

#endif
