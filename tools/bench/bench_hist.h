/*
 * bench_hist: a fixed-size log-linear latency histogram.
 *
 * The benchmark records hundreds of thousands of latencies per second (every chat delivery to
 * every player), so it cannot keep the samples. Values are microseconds; each power of two is
 * split into 64 buckets, so a reported percentile is within 1/64 (1.6 %) of the true sample,
 * which is far below the run-to-run noise. min, max and the mean are exact.
 *
 * A histogram is a plain struct with no heap memory: zero it (or bench_hist_reset) to empty it.
 */
#ifndef CMMO_BENCH_HIST_H
#define CMMO_BENCH_HIST_H

#include <stdint.h>

/* 128 exact buckets for 0..127 us, then 64 per power of two up to 2^41 us (25 days). */
#define BENCH_HIST_LINEAR 128
#define BENCH_HIST_SUB 64
#define BENCH_HIST_OCTAVES 35
#define BENCH_HIST_BUCKETS (BENCH_HIST_LINEAR + BENCH_HIST_OCTAVES * BENCH_HIST_SUB)

struct bench_hist {
    uint64_t count;
    uint64_t sum_us;
    uint64_t min_us;
    uint64_t max_us;
    uint32_t buckets[BENCH_HIST_BUCKETS];
};

/* Empties the histogram. */
void bench_hist_reset(struct bench_hist *h);

/* Records one value in microseconds; values past the last bucket land in it (max stays exact). */
void bench_hist_add(struct bench_hist *h, uint64_t value_us);

/* The value at quantile q (0 < q <= 1) in milliseconds, or 0 when the histogram is empty.
 * q = 1 returns the exact maximum. */
double bench_hist_quantile_ms(const struct bench_hist *h, double q);

/* The mean in milliseconds, or 0 when empty. */
double bench_hist_mean_ms(const struct bench_hist *h);

#endif
