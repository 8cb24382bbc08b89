#include "game/throttle.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Failures remembered per key: the window slides over the last max_failures of them. */
#define THROTTLE_FAILURES_CAP 32

typedef struct entry {
    char key[THROTTLE_KEY_MAX + 1]; /* lower-cased; empty = free slot */
    uint32_t count, head;           /* ring of the last failures' times */
    uint64_t last_ms, locked_until_ms;
    uint64_t times[THROTTLE_FAILURES_CAP];
} entry;

struct throttle {
    entry *slots;
    size_t mask;
    unsigned max_failures;
    uint64_t window_ms, lockout_ms;
};

/* Slots probed per key: a key lives in one of these; a full neighbourhood evicts its oldest. */
#define PROBES 8

throttle *throttle_create(size_t capacity, unsigned max_failures, uint64_t window_ms,
                          uint64_t lockout_ms)
{
    size_t n = 16;
    while (n < capacity)
        n *= 2;
    throttle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->slots = calloc(n, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    if (max_failures < 1) max_failures = 1;
    if (max_failures > THROTTLE_FAILURES_CAP) max_failures = THROTTLE_FAILURES_CAP;
    t->max_failures = max_failures;
    t->window_ms = window_ms;
    t->lockout_ms = lockout_ms;
    return t;
}

void throttle_destroy(throttle *t)
{
    if (!t) return;
    free(t->slots);
    free(t);
}

static void normalize(const char *key, char *out)
{
    size_t i = 0;
    for (; key[i] && i < THROTTLE_KEY_MAX; i++)
        out[i] = (char)tolower((unsigned char)key[i]);
    out[i] = 0;
}

static size_t hash(const char *k)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ull;
    return (size_t)h;
}

/* Finds the key's entry; with create, claims a free or the oldest slot for it. */
static entry *lookup(throttle *t, const char *key, int create)
{
    char k[THROTTLE_KEY_MAX + 1];
    normalize(key, k);
    size_t h = hash(k);
    entry *victim = NULL;
    for (size_t i = 0; i < PROBES; i++) {
        entry *e = &t->slots[(h + i) & t->mask];
        if (strcmp(e->key, k) == 0 && e->key[0]) return e;
        if (!e->key[0]) {
            if (!victim || victim->key[0]) victim = e; /* a free slot beats any eviction */
        } else if (!victim || (victim->key[0] && e->last_ms < victim->last_ms)) {
            victim = e;
        }
    }
    if (!create) return NULL;
    memset(victim, 0, sizeof *victim);
    strcpy(victim->key, k);
    return victim;
}

uint64_t throttle_wait_ms(throttle *t, const char *key, uint64_t now_ms)
{
    entry *e = lookup(t, key, 0);
    if (!e || e->locked_until_ms <= now_ms) return 0;
    return e->locked_until_ms - now_ms;
}

void throttle_fail(throttle *t, const char *key, uint64_t now_ms)
{
    entry *e = lookup(t, key, 1);
    e->times[e->head] = now_ms;
    e->head = (e->head + 1) % t->max_failures;
    if (e->count < t->max_failures) e->count++;
    e->last_ms = now_ms;
    /* Locked when the last max_failures failures all fall within one window, wherever that
     * window starts: a burst straddling any boundary counts. times[head] is now the oldest. */
    if (e->count == t->max_failures && now_ms - e->times[e->head] <= t->window_ms)
        e->locked_until_ms = now_ms + t->lockout_ms;
}

void throttle_clear(throttle *t, const char *key)
{
    entry *e = lookup(t, key, 0);
    if (e) memset(e, 0, sizeof *e);
}
