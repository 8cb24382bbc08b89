#include "game/auth.h"

#include "core/log.h"
#include "core/workpool.h"
#include "proto/validate.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(AUTH_HASH_MAX == crypto_pwhash_STRBYTES, "an encoded hash fits AUTH_HASH_MAX");

struct auth {
    workpool *pool;
    char dummy_hash[crypto_pwhash_STRBYTES];
};

typedef struct auth_job {
    workpool_job base;
    int verify;
    int ok;
    auth_hash_cb hash_cb;
    auth_verify_cb verify_cb;
    void *user;
    size_t password_len;
    char hash[crypto_pwhash_STRBYTES];
    char password[VALIDATE_PASSWORD_MAX + 1];
} auth_job;

static void job_work(workpool_job *base)
{
    auth_job *j = (auth_job *)base;
    if (j->verify) {
        j->ok = crypto_pwhash_str_verify(j->hash, j->password, j->password_len) == 0;
    } else {
        j->ok = crypto_pwhash_str(j->hash, j->password, j->password_len, AUTH_OPSLIMIT,
                                  AUTH_MEMLIMIT) == 0;
    }
    /* The plaintext is not needed any more: do not leave it in freed memory. */
    sodium_memzero(j->password, sizeof j->password);
}

static void job_done(workpool_job *base)
{
    auth_job *j = (auth_job *)base;
    if (j->verify)
        j->verify_cb(j->user, j->ok);
    else
        j->hash_cb(j->user, j->ok ? j->hash : NULL);
    free(j);
}

auth *auth_create(workpool *pool)
{
    if (!pool) return NULL;
    auth *a = sodium_init() < 0 ? NULL : calloc(1, sizeof *a);
    if (!a) {
        workpool_destroy(pool);
        return NULL;
    }
    /* A hash of random bytes: nothing a client sends can match it. */
    unsigned char secret[32];
    randombytes_buf(secret, sizeof secret);
    if (crypto_pwhash_str(a->dummy_hash, (const char *)secret, sizeof secret, AUTH_OPSLIMIT,
                          AUTH_MEMLIMIT) != 0) {
        workpool_destroy(pool);
        free(a);
        return NULL;
    }
    a->pool = pool;
    return a;
}

/* A job for password (len bytes) in *out: 0, CMMO_ETOO_LONG or -ENOMEM. */
static int job_new(const char *password, size_t len, auth_job **out)
{
    if (len > VALIDATE_PASSWORD_MAX) return CMMO_ETOO_LONG;
    auth_job *j = calloc(1, sizeof *j);
    if (!j) return -ENOMEM;
    j->base.work = job_work;
    j->base.done = job_done;
    memcpy(j->password, password, len);
    j->password_len = len;
    *out = j;
    return 0;
}

static int submit(auth *a, auth_job *j)
{
    int rc = workpool_submit(a->pool, &j->base);
    if (rc != 0) {
        sodium_memzero(j->password, sizeof j->password);
        free(j);
    }
    return rc;
}

int auth_hash(auth *a, const char *password, size_t len, auth_hash_cb cb, void *user)
{
    auth_job *j;
    int rc = job_new(password, len, &j);
    if (rc != 0) return rc;
    j->hash_cb = cb;
    j->user = user;
    return submit(a, j);
}

int auth_verify(auth *a, const char *hash, const char *password, size_t len, auth_verify_cb cb,
                void *user)
{
    auth_job *j;
    int rc = job_new(password, len, &j);
    if (rc != 0) return rc;
    j->verify = 1;
    j->verify_cb = cb;
    j->user = user;
    const char *h = hash ? hash : a->dummy_hash;
    if (strlen(h) >= sizeof j->hash) h = a->dummy_hash;
    strcpy(j->hash, h);
    return submit(a, j);
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
