#include "game/auth.h"

#include "core/log.h"
#include "core/workpool.h"
#include "proto/validate.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
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
    int upgraded; /* verify_upgrade: upgrade holds an argon2id hash of the password */
    auth_hash_cb hash_cb;
    auth_verify_cb verify_cb;
    auth_upgrade_cb upgrade_cb;
    void *user;
    size_t password_len;
    char hash[crypto_pwhash_STRBYTES];
    char upgrade[crypto_pwhash_STRBYTES];
    char password[VALIDATE_PASSWORD_MAX + 1];
} auth_job;

/* ---------------------------------------------------------------- PBKDF2 (imported hashes) */

#define PBKDF2_PREFIX "pbkdf2_sha256$"
#define PBKDF2_DIGEST 32 /* SHA-256's output, Django's dklen */

typedef struct pbkdf2_hash {
    long iterations;
    const char *salt;
    size_t salt_len;
    unsigned char digest[PBKDF2_DIGEST];
} pbkdf2_hash;

/* Splits a Django PBKDF2-SHA256 hash into its parts. Returns 0, or -1 if it is not one of the
 * form auth_hash_kind accepts. */
static int pbkdf2_parse(const char *hash, pbkdf2_hash *out)
{
    size_t prefix = sizeof PBKDF2_PREFIX - 1;
    if (!hash || strncmp(hash, PBKDF2_PREFIX, prefix) != 0) return -1;
    const char *p = hash + prefix;
    long iterations = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        iterations = iterations * 10 + (*p - '0');
        if (iterations > AUTH_PBKDF2_ITERATIONS_MAX) return -1;
    }
    if (digits == 0 || iterations < 1 || *p++ != '$') return -1;
    const char *salt = p;
    while (*p && *p != '$') {
        if (!isgraph((unsigned char)*p)) return -1;
        p++;
    }
    size_t salt_len = (size_t)(p - salt);
    if (*p++ != '$' || salt_len == 0 || salt_len > AUTH_PBKDF2_SALT_MAX) return -1;
    size_t digest_len = 0;
    const char *end = NULL;
    /* Standard base64 with padding: 44 characters for 32 bytes, nothing after them. */
    if (strlen(p) != 44 ||
        sodium_base642bin(out->digest, sizeof out->digest, p, 44, NULL, &digest_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        digest_len != PBKDF2_DIGEST || *end)
        return -1;
    out->iterations = iterations;
    out->salt = salt;
    out->salt_len = salt_len;
    return 0;
}

int auth_hash_kind(const char *hash)
{
    pbkdf2_hash parsed;
    if (!hash) return AUTH_KIND_UNKNOWN;
    if (strncmp(hash, "$argon2id$", 10) == 0) return AUTH_KIND_ARGON2ID;
    if (pbkdf2_parse(hash, &parsed) == 0) return AUTH_KIND_PBKDF2_SHA256;
    return AUTH_KIND_UNKNOWN;
}

/* 1 if password (len bytes, Django's UTF-8) derives the hash's digest, else 0. */
static int pbkdf2_verify(const char *hash, const char *password, size_t len)
{
    pbkdf2_hash h;
    if (pbkdf2_parse(hash, &h) != 0) return 0;
    unsigned char derived[PBKDF2_DIGEST];
    int ok = PKCS5_PBKDF2_HMAC(password, (int)len, (const unsigned char *)h.salt, (int)h.salt_len,
                               (int)h.iterations, EVP_sha256(), sizeof derived, derived) == 1 &&
             CRYPTO_memcmp(derived, h.digest, sizeof derived) == 0;
    OPENSSL_cleanse(derived, sizeof derived);
    return ok;
}

/* ---------------------------------------------------------------- jobs */

static void job_work(workpool_job *base)
{
    auth_job *j = (auth_job *)base;
    if (j->verify) {
        if (auth_hash_kind(j->hash) == AUTH_KIND_PBKDF2_SHA256) {
            j->ok = pbkdf2_verify(j->hash, j->password, j->password_len);
            /* Replaced while the plaintext is still here: it is never kept past this job. */
            if (j->ok && j->upgrade_cb)
                j->upgraded = crypto_pwhash_str(j->upgrade, j->password, j->password_len,
                                                AUTH_OPSLIMIT, AUTH_MEMLIMIT) == 0;
        } else {
            j->ok = crypto_pwhash_str_verify(j->hash, j->password, j->password_len) == 0;
        }
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
    if (j->upgrade_cb)
        j->upgrade_cb(j->user, j->ok, j->ok && j->upgraded ? j->upgrade : NULL);
    else if (j->verify)
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

/* A verify job for hash (the dummy for NULL or a hash too long to be one of ours) in *out: 0,
 * or an error as job_new. */
static int verify_job_new(auth *a, const char *hash, const char *password, size_t len,
                          auth_job **out)
{
    auth_job *j;
    int rc = job_new(password, len, &j);
    if (rc != 0) return rc;
    j->verify = 1;
    const char *h = hash ? hash : a->dummy_hash;
    if (strlen(h) >= sizeof j->hash) h = a->dummy_hash;
    strcpy(j->hash, h);
    *out = j;
    return 0;
}

int auth_verify(auth *a, const char *hash, const char *password, size_t len, auth_verify_cb cb,
                void *user)
{
    auth_job *j;
    int rc = verify_job_new(a, hash, password, len, &j);
    if (rc != 0) return rc;
    j->verify_cb = cb;
    j->user = user;
    return submit(a, j);
}

int auth_verify_upgrade(auth *a, const char *hash, const char *password, size_t len,
                        auth_upgrade_cb cb, void *user)
{
    auth_job *j;
    int rc = verify_job_new(a, hash, password, len, &j);
    if (rc != 0) return rc;
    j->upgrade_cb = cb;
    j->user = user;
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
