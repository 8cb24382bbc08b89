/*
 * fast_auth: auth.h's contract without argon2id, for fuzzing the session state machine.
 *
 * argon2id with the server's parameters costs 12 MiB and tens of milliseconds per call, which
 * would bring the fuzzer down to a few executions per second and teach it nothing about the
 * session. This keeps everything the session can observe: the work runs on a workpool thread,
 * the callback comes later on the loop thread, a NULL hash never matches, auth_destroy runs the
 * outstanding callbacks. The "hash" is a 64-bit FNV-1a, good enough to tell passwords apart.
 */
#include "game/auth.h"
#include "proto/validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct auth {
    workpool *pool;
};

typedef struct fast_job {
    workpool_job base;
    int verify, ok;
    auth_hash_cb hash_cb;
    auth_verify_cb verify_cb;
    auth_upgrade_cb upgrade_cb; /* verify_upgrade: there is never anything to upgrade here */
    void *user;
    size_t password_len;
    char hash[AUTH_HASH_MAX];
    char password[VALIDATE_PASSWORD_MAX + 1];
} fast_job;

static void fnv_hex(const char *p, size_t n, char out[32])
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 1099511628211ull;
    }
    snprintf(out, 32, "$fuzz$%016llx", (unsigned long long)h);
}

static void job_work(workpool_job *base)
{
    fast_job *j = (fast_job *)base;
    char h[32];
    fnv_hex(j->password, j->password_len, h);
    if (j->verify)
        j->ok = j->hash[0] && strcmp(h, j->hash) == 0;
    else {
        strcpy(j->hash, h);
        j->ok = 1;
    }
    memset(j->password, 0, sizeof j->password);
}

static void job_done(workpool_job *base)
{
    fast_job *j = (fast_job *)base;
    if (j->upgrade_cb)
        j->upgrade_cb(j->user, j->ok, NULL);
    else if (j->verify)
        j->verify_cb(j->user, j->ok);
    else
        j->hash_cb(j->user, j->ok ? j->hash : NULL);
    free(j);
}

auth *auth_create(workpool *pool)
{
    if (!pool) return NULL;
    auth *a = calloc(1, sizeof *a);
    if (!a) {
        workpool_destroy(pool);
        return NULL;
    }
    a->pool = pool;
    return a;
}

static fast_job *job_new(const char *password, size_t len)
{
    if (len > VALIDATE_PASSWORD_MAX) return NULL;
    fast_job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->base.work = job_work;
    j->base.done = job_done;
    memcpy(j->password, password, len);
    j->password_len = len;
    return j;
}

int auth_hash(auth *a, const char *password, size_t len, auth_hash_cb cb, void *user)
{
    fast_job *j = job_new(password, len);
    if (!j) return -1;
    j->hash_cb = cb;
    j->user = user;
    if (workpool_submit(a->pool, &j->base) != 0) {
        free(j);
        return -1;
    }
    return 0;
}

static int verify(auth *a, const char *hash, const char *password, size_t len, auth_verify_cb cb,
                  auth_upgrade_cb upgrade_cb, void *user)
{
    fast_job *j = job_new(password, len);
    if (!j) return -1;
    j->verify = 1;
    j->verify_cb = cb;
    j->upgrade_cb = upgrade_cb;
    j->user = user;
    if (hash && strlen(hash) < sizeof j->hash) strcpy(j->hash, hash);
    if (workpool_submit(a->pool, &j->base) != 0) {
        free(j);
        return -1;
    }
    return 0;
}

int auth_verify(auth *a, const char *hash, const char *password, size_t len, auth_verify_cb cb,
                void *user)
{
    return verify(a, hash, password, len, cb, NULL, user);
}

int auth_verify_upgrade(auth *a, const char *hash, const char *password, size_t len,
                        auth_upgrade_cb cb, void *user)
{
    return verify(a, hash, password, len, NULL, cb, user);
}

size_t auth_pending(const auth *a)
{
    return workpool_pending(a->pool);
}

void auth_destroy(auth *a)
{
    if (!a) return;
    workpool_destroy(a->pool);
    free(a);
}
