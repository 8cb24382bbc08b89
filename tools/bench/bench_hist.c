/* bench_hist: log-linear latency histogram (see bench_hist.h). */
#include "bench_hist.h"

#include <string.h>

void bench_hist_reset(struct bench_hist *h)
{
    memset(h, 0, sizeof(*h));
}

/* Bucket of a value: exact below BENCH_HIST_LINEAR, then 64 buckets per octave. */
static unsigned bucket_of(uint64_t v)
{
    if (v < BENCH_HIST_LINEAR) return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 6u; /* v >> shift lies in [64, 128) */
    unsigned idx = BENCH_HIST_LINEAR + (shift - 1u) * BENCH_HIST_SUB +
                   (unsigned)((v >> shift) - BENCH_HIST_SUB);
    return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1;
}

/* Midpoint of a bucket, in microseconds. */
static double bucket_value(unsigned idx)
{
    if (idx < BENCH_HIST_LINEAR) return (double)idx;
    unsigned rel = idx - BENCH_HIST_LINEAR;
    unsigned shift = rel / BENCH_HIST_SUB + 1u;
    uint64_t low = (uint64_t)(rel % BENCH_HIST_SUB + BENCH_HIST_SUB) << shift;
    uint64_t width = (uint64_t)1 << shift;
    return (double)low + (double)(width - 1) / 2.0;
}

void bench_hist_add(struct bench_hist *h, uint64_t value_us)
{
    if (h->count == 0 || value_us < h->min_us) h->min_us = value_us;
    if (value_us > h->max_us) h->max_us = value_us;
    h->count++;
    h->sum_us += value_us;
    h->buckets[bucket_of(value_us)]++;
}

double bench_hist_quantile_ms(const struct bench_hist *h, double q)
{
    if (h->count == 0) return 0.0;
    if (q >= 1.0) return (double)h->max_us / 1000.0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count) rank++;
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            double v = bucket_value(i);
            /* A bucket midpoint can exceed the exact extremes; clamp to them. */
            if (v > (double)h->max_us) v = (double)h->max_us;
            if (v < (double)h->min_us) v = (double)h->min_us;
            return v / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

double bench_hist_mean_ms(const struct bench_hist *h)
{
    return h->count ? (double)h->sum_us / (double)h->count / 1000.0 : 0.0;
}
