#include "server/tickstats.h"

#include <string.h>

void tickstats_reset(tickstats *t)
{
    memset(t, 0, sizeof *t);
}

void tickstats_add(tickstats *t, uint64_t ns)
{
    uint64_t b = ns / TICKSTATS_BUCKET_NS;
    if (b >= TICKSTATS_BUCKETS) b = TICKSTATS_BUCKETS - 1;
    t->buckets[b]++;
    t->count++;
    t->sum_ns += ns;
    if (ns > t->max_ns) t->max_ns = ns;
}

double tickstats_quantile_ms(const tickstats *t, double q)
{
    if (t->count == 0) return 0;
    /* Nearest rank: the smallest duration with at least q of all ticks at or below it. */
    double rank = q * (double)t->count;
    uint64_t want = (uint64_t)rank;
    if ((double)want < rank) want++;
    if (want == 0) want = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < TICKSTATS_BUCKETS - 1; i++) {
        seen += t->buckets[i];
        if (seen >= want) {
            double edge = (double)(i + 1) * TICKSTATS_BUCKET_NS / 1e6;
            double max = (double)t->max_ns / 1e6;
            return edge < max ? edge : max; /* a bucket's edge may lie above every tick in it */
        }
    }
    return (double)t->max_ns / 1e6; /* the overflow bucket: only the maximum is known */
}

uint64_t tickstats_count_upto(const tickstats *t, uint64_t ns)
{
    uint64_t last = ns / TICKSTATS_BUCKET_NS, n = 0;
    for (uint64_t i = 0; i < last && i < TICKSTATS_BUCKETS - 1; i++)
        n += t->buckets[i];
    return n;
}
