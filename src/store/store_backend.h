/*
 * store_backend: what a database backend implements for store.c. Every function runs on the
 * store thread, synchronously, and is never called concurrently with another.
 *
 * The schema: each backend owns its dialect's DDL, in one place each (store_sqlite.c's `schema`,
 * store_pg.c's `migrations`), and nothing outside src/store names a table or a column: cmmo-admin
 * goes through store.h like the server. Not one description that both derive DDL from, because
 * the dialects differ in more than type names (AUTOINCREMENT and identity columns, NOCASE and a
 * unique index on lower(), the created_at default), and because PostgreSQL's migrations are
 * append-only history that databases in the field have run: DDL generated from a description
 * could not change without silently rewriting migration 1. tests/unit/test_store.c checks that
 * both backends have the same tables and columns.
 */
#ifndef CMMO_STORE_BACKEND_H
#define CMMO_STORE_BACKEND_H

#include "store/store.h"

/* A token hash as the backends keep it: lowercase hex of STORE_TOKEN_HASH_BYTES bytes. */
#define STORE_TOKEN_HASH_HEX (2 * STORE_TOKEN_HASH_BYTES)

typedef struct store_backend {
    void *db;
    /* Returns STORE_OK (filling *out), STORE_NOT_FOUND or STORE_ERROR. */
    int (*find)(void *db, const char *username, store_account *out);
    /* Returns STORE_OK (filling *out), STORE_TAKEN or STORE_ERROR; atomic. */
    int (*create)(void *db, const char *username, const char *hash, int avatar, store_account *out);
    /* Returns STORE_OK or STORE_ERROR; one transaction. */
    int (*save)(void *db, const store_position *positions, size_t n);
    /* Fills out[0..*n-1] with up to limit (1..STORE_LIST_MAX) accounts named after `after`, in
     * name order ignoring ASCII letter case. Returns STORE_OK or STORE_ERROR (then *n is 0). */
    int (*list)(void *db, const char *after, size_t limit, store_account_entry *out, size_t *n);
    /* Returns STORE_OK (filling *out as it was), STORE_NOT_FOUND or STORE_ERROR; one
     * transaction, nothing changed unless STORE_OK. */
    int (*remove)(void *db, const char *username, store_account *out);
    /* Returns STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
    int (*set_password)(void *db, const char *username, const char *hash);
    /* Upserts the account's sanction of kind (STORE_BAN, STORE_MUTE). Returns STORE_OK,
     * STORE_NOT_FOUND (no account) or STORE_ERROR. */
    int (*set_sanction)(void *db, const char *username, int kind, int64_t ends_at,
                        const char *reason);
    /* Deletes it. Returns STORE_OK, STORE_NOT_FOUND (no account) or STORE_ERROR. */
    int (*clear_sanction)(void *db, const char *username, int kind);
    /* Appends to the audit log (texts already within their bounds). STORE_OK or STORE_ERROR. */
    int (*audit_add)(void *db, const char *actor, const char *action, const char *target,
                     const char *detail);
    /* Fills out[0..*n-1] with up to limit entries after after_id, by id. STORE_OK or
     * STORE_ERROR (then *n is 0). */
    int (*audit_list)(void *db, int64_t after_id, size_t limit, store_audit_entry *out, size_t *n);
    /* Fills *out with up to STORE_KV_LOAD_MAX keys (an array of *n, each key and value its own
     * malloc; store.c frees them). Returns STORE_OK or STORE_ERROR (then nothing is kept). */
    int (*kv_load)(void *db, store_kv **out, size_t *n);
    /* Returns STORE_OK or STORE_ERROR; one transaction. */
    int (*kv_save)(void *db, const store_kv *entries, size_t n);
    /* Resume tokens (store.h). hash_hex: STORE_TOKEN_HASH_HEX characters. now_s: the wall clock
     * when the request was submitted. */
    /* Inserts a token expiring at expires_s, purging expired ones and the account's oldest past
     * STORE_TOKENS_PER_ACCOUNT, in one transaction. Returns STORE_OK or STORE_ERROR. */
    int (*token_issue)(void *db, int64_t user_id, const char *hash_hex, int64_t now_s,
                       int64_t expires_s);
    /* Finds the name of the account holding a live token: STORE_OK (filling name, at least
     * STORE_NAME_MAX + 1 bytes), STORE_NOT_FOUND or STORE_ERROR. store.c compares the name and
     * reads the account with find. */
    int (*token_owner)(void *db, const char *hash_hex, int64_t now_s, char *name);
    /* Returns STORE_OK (a row deleted), STORE_NOT_FOUND or STORE_ERROR. */
    int (*token_revoke)(void *db, const char *hash_hex);
    /* Returns STORE_OK (the account exists; its tokens, if any, deleted), STORE_NOT_FOUND or
     * STORE_ERROR. */
    int (*token_revoke_account)(void *db, const char *username);
    void (*close)(void *db);
} store_backend;

/* The name a sanction kind has in the sanction table's kind column: "ban" or "mute". */
static inline const char *store_sanction_kind_name(int kind)
{
    return kind == STORE_BAN ? "ban" : "mute";
}

/* Fills a sanction read from a row (present: the row exists) against now (seconds since 1970). */
static inline void store_sanction_read(store_sanction *out, int present, int64_t ends_at,
                                       const char *reason, int64_t now)
{
    out->active = present && (ends_at == 0 || ends_at > now);
    out->ends_at = present ? ends_at : 0;
    out->seconds_left = out->active && ends_at ? ends_at - now : 0;
    size_t n = 0;
    if (present && reason)
        for (; reason[n] && n < STORE_REASON_MAX; n++)
            out->reason[n] = reason[n];
    out->reason[n] = 0;
}

/* Opens a SQLite database file with its schema (store_sqlite.c). Returns 0 or STORE_ERROR,
 * logged. */
int store_sqlite_open(const char *path, store_backend *out);

/* Connects to PostgreSQL (a postgres:// or postgresql:// URL, as libpq reads it), creating or
 * migrating the schema (store_pg.c). Blocks the calling thread while connecting. Returns 0 or
 * STORE_ERROR, logged without the URL's password. */
int store_pg_open(const char *url, store_backend *out);

/* True if url is a postgres:// or postgresql:// URL that libpq can parse. No network. */
bool store_pg_url_valid(const char *url);

#endif
