#include "game/throttle.h"

#include "core/log.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(THROTTLE_HASH_KEY_BYTES == crypto_shorthash_KEYBYTES, "SipHash-2-4 key size");

/* Failures remembered per key: the window slides over the last max_failures of them. */
#define THROTTLE_FAILURES_CAP 32
/* Longest name kept for log lines. */
#define THROTTLE_NAME_MAX 31

typedef struct entry {
    uint8_t used;
    char key[THROTTLE_KEY_MAX + 1]; /* lower-cased */
    uint64_t hash;
    uint32_t count, head; /* ring of the last failures' times */
    uint64_t last_ms, locked_until_ms;
    uint64_t times[]; /* max_failures of them: each table's entries are as long as it needs */
} entry;

struct throttle {
    unsigned char *slots; /* mask + 1 entries of stride bytes */
    size_t mask, stride;
    unsigned max_failures;
    uint64_t window_ms, lockout_ms;
    uint8_t hash_key[THROTTLE_HASH_KEY_BYTES];
    uint64_t refusals;
    uint64_t refusals_logged, last_log_ms;
    int logged_once;
    char name[THROTTLE_NAME_MAX + 1];
};

throttle *throttle_create_keyed(const char *name, size_t capacity, unsigned max_failures,
                                uint64_t window_ms, uint64_t lockout_ms,
                                const uint8_t hash_key[THROTTLE_HASH_KEY_BYTES])
{
    size_t n = 2 * THROTTLE_PROBES; /* a neighbourhood never wraps onto itself */
    while (n < capacity)
        n *= 2;
    throttle *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    if (max_failures < 1) max_failures = 1;
    if (max_failures > THROTTLE_FAILURES_CAP) max_failures = THROTTLE_FAILURES_CAP;
    t->stride = sizeof(entry) + max_failures * sizeof(uint64_t);
    t->slots = calloc(n, t->stride);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->mask = n - 1;
    t->max_failures = max_failures;
    t->window_ms = window_ms;
    t->lockout_ms = lockout_ms;
    memcpy(t->hash_key, hash_key, THROTTLE_HASH_KEY_BYTES);
    snprintf(t->name, sizeof t->name, "%s", name ? name : "");
    return t;
}

throttle *throttle_create(const char *name, size_t capacity, unsigned max_failures,
                          uint64_t window_ms, uint64_t lockout_ms)
{
    if (sodium_init() < 0) return NULL;
    uint8_t key[THROTTLE_HASH_KEY_BYTES];
    crypto_shorthash_keygen(key);
    throttle *t = throttle_create_keyed(name, capacity, max_failures, window_ms, lockout_ms, key);
    sodium_memzero(key, sizeof key);
    return t;
}

void throttle_destroy(throttle *t)
{
    if (!t) return;
    free(t->slots);
    free(t);
}

/* Lower-cases and cuts the key; returns its length. */
static size_t normalize(const char *key, char *out)
{
    size_t i = 0;
    for (; key[i] && i < THROTTLE_KEY_MAX; i++)
        out[i] = (char)tolower((unsigned char)key[i]);
    out[i] = 0;
    return i;
}

static entry *slot(const throttle *t, size_t i)
{
    return (entry *)(t->slots + (i & t->mask) * t->stride);
}

static uint64_t hash(const throttle *t, const char *k, size_t len)
{
    uint8_t out[crypto_shorthash_BYTES];
    crypto_shorthash(out, (const unsigned char *)k, len, t->hash_key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

/* When the entry's state stops mattering: no failure left within the window (a new failure
 * could not be counted with any older one) and no lockout running. */
static uint64_t expires_ms(const throttle *t, const entry *e)
{
    uint64_t window_end = e->last_ms + t->window_ms + 1;
    return window_end > e->locked_until_ms ? window_end : e->locked_until_ms;
}

static int is_live(const throttle *t, const entry *e, uint64_t now_ms)
{
    return e->used && now_ms < expires_ms(t, e);
}

/* Counts a refusal; logs the first, then at most once per window with the count since. */
static void refuse(throttle *t, uint64_t now_ms)
{
    t->refusals++;
    if (t->logged_once && now_ms - t->last_log_ms < t->window_ms) return;
    log_warn("throttle_full", "table=%s refusals=%llu since_last=%llu", t->name,
             (unsigned long long)t->refusals,
             (unsigned long long)(t->refusals - t->refusals_logged));
    t->logged_once = 1;
    t->last_log_ms = now_ms;
    t->refusals_logged = t->refusals;
}

typedef struct found {
    entry *entry;     /* the key's entry, or NULL */
    entry *room;      /* a free or expired slot in its neighbourhood, or NULL */
    uint64_t free_at; /* with neither: when the first slot of the neighbourhood expires */
} found;

/* Looks the key up in its neighbourhood. Never moves or clears another key's live state. */
static found lookup(throttle *t, const char *k, uint64_t h, uint64_t now_ms)
{
    found f = {NULL, NULL, UINT64_MAX};
    for (size_t i = 0; i < THROTTLE_PROBES; i++) {
        entry *e = slot(t, (size_t)(h + i));
        /* Slots are cleared in place, so a key may sit past a free slot: look at all of them. */
        if (e->used && e->hash == h && strcmp(e->key, k) == 0) {
            f.entry = e;
            return f;
        }
        if (!is_live(t, e, now_ms)) {
            if (!f.room) f.room = e;
        } else if (expires_ms(t, e) < f.free_at) {
            f.free_at = expires_ms(t, e);
        }
    }
    return f;
}

uint64_t throttle_wait_ms(throttle *t, const char *key, uint64_t now_ms)
{
    char k[THROTTLE_KEY_MAX + 1];
    size_t len = normalize(key, k);
    found f = lookup(t, k, hash(t, k, len), now_ms);
    if (f.entry) return f.entry->locked_until_ms > now_ms ? f.entry->locked_until_ms - now_ms : 0;
    if (f.room) return 0;
    refuse(t, now_ms);
    return f.free_at - now_ms;
}

int throttle_fail(throttle *t, const char *key, uint64_t now_ms)
{
    char k[THROTTLE_KEY_MAX + 1];
    size_t len = normalize(key, k);
    uint64_t h = hash(t, k, len);
    found f = lookup(t, k, h, now_ms);
    entry *e = f.entry ? f.entry : f.room;
    if (!e) {
        refuse(t, now_ms);
        return THROTTLE_FULL;
    }
    if (!is_live(t, e, now_ms)) { /* a new key, or one whose old state has expired */
        memset(e, 0, t->stride);
        e->used = 1;
        e->hash = h;
        memcpy(e->key, k, len + 1);
    }
    e->times[e->head] = now_ms;
    e->head = (e->head + 1) % t->max_failures;
    if (e->count < t->max_failures) e->count++;
    e->last_ms = now_ms;
    /* Locked when the last max_failures failures all fall within one window, wherever that
     * window starts: a burst straddling any boundary counts. times[head] is now the oldest. */
    if (e->count == t->max_failures && now_ms - e->times[e->head] <= t->window_ms)
        e->locked_until_ms = now_ms + t->lockout_ms;
    return THROTTLE_OK;
}

void throttle_clear(throttle *t, const char *key)
{
    char k[THROTTLE_KEY_MAX + 1];
    size_t len = normalize(key, k);
    found f = lookup(t, k, hash(t, k, len), 0);
    if (f.entry) memset(f.entry, 0, t->stride);
}

uint64_t throttle_refusals(const throttle *t)
{
    return t->refusals;
}

size_t throttle_home_slot(const throttle *t, const char *key)
{
    char k[THROTTLE_KEY_MAX + 1];
    size_t len = normalize(key, k);
    return (size_t)(hash(t, k, len) & t->mask);
}
