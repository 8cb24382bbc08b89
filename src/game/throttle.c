#include "game/throttle.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char key[THROTTLE_KEY_MAX + 1]; /* lower-cased; empty = free slot */
    unsigned failures;
    uint64_t first_ms, last_ms;
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
    while (n < capacity) n *= 2;
    throttle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->slots = calloc(n, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
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
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 1099511628211ull;
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
    if (!e || e->failures < t->max_failures) return 0;
    uint64_t since = now_ms - e->last_ms;
    return since >= t->lockout_ms ? 0 : t->lockout_ms - since;
}

void throttle_fail(throttle *t, const char *key, uint64_t now_ms)
{
    entry *e = lookup(t, key, 1);
    /* Old failures age out: only a burst within the window counts, and a locked-out key that
     * waited out its lockout starts afresh. */
    if (e->failures && (now_ms - e->first_ms > t->window_ms || now_ms - e->last_ms >= t->lockout_ms)) {
        e->failures = 0;
    }
    if (e->failures == 0) e->first_ms = now_ms;
    e->failures++;
    e->last_ms = now_ms;
}

void throttle_clear(throttle *t, const char *key)
{
    entry *e = lookup(t, key, 0);
    if (e) memset(e, 0, sizeof *e);
}
