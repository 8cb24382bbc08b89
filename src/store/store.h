/*
 * store: persistence of accounts and positions behind one small asynchronous interface.
 *
 * Every request runs on the store's own thread, in submission order (so a position saved when a
 * player leaves is what their next login reads), and its callback runs later on the loop thread.
 * The tick never waits for the database. A backend is chosen by URL: `sqlite:PATH` (the default,
 * created with its schema on first start) or `postgres://USER:PASSWORD@HOST:PORT/DB` (also
 * `postgresql://`, any URL libpq accepts; schema created and migrated at open). Others plug in
 * beside them (store_backend.h). A URL may hold a password: log store_url_redact's copy of it.
 *
 * Ownership: request inputs are copied; results passed to a callback are valid during the call.
 * A function that returns an error never calls its callback.
 */
#ifndef CMMO_STORE_H
#define CMMO_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct store store;

/* Result codes passed to callbacks. */
enum {
    STORE_OK = 0,
    STORE_NOT_FOUND = 1, /* find: no such account */
    STORE_TAKEN = 2,     /* create: the username exists (ignoring letter case) */
    STORE_ERROR = -1,    /* the database failed; nothing was changed */
};

#define STORE_NAME_MAX 20
#define STORE_HASH_MAX 128 /* crypto_pwhash_STRBYTES */

typedef struct store_account {
    int64_t user_id, entity_id, instanced_entity_id, actor_id;
    char name[STORE_NAME_MAX + 1]; /* as registered */
    char password_hash[STORE_HASH_MAX];
    int avatar_id;
    double x, y;
} store_account;

typedef struct store_position {
    int64_t instanced_entity_id;
    double x, y;
} store_position;

typedef void (*store_account_cb)(void *user, int result, const store_account *account);
typedef void (*store_done_cb)(void *user, int result);

/* Opens (creating if needed) the store named by url. Runs on the calling thread, before the
 * server starts (for PostgreSQL it connects and migrates, waiting up to the URL's connect_timeout,
 * 10 s by default). Returns NULL and logs why on failure (bad URL, unreadable file, unreachable
 * or refusing server, schema from a newer cmmo). */
store *store_open(uv_loop_t *loop, const char *url);

/* 1 if store_open understands url's form (`sqlite:` with a path, or a postgres:// or
 * postgresql:// URL libpq can parse), else 0. Opens nothing; for checking configuration. */
int store_url_valid(const char *url);

/* Writes url to out (n bytes, always terminated, truncated if short) with any password replaced
 * by "***" (`postgres://user:***@host/db`, `...?password=***`): the form to log or echo. */
void store_url_redact(const char *url, char *out, size_t n);

/* Looks an account up by username, ignoring letter case. */
int store_find_account(store *s, const char *username, store_account_cb cb, void *user);

/* Creates user, entity, instanced entity (at 0,0) and actor in one transaction, committed
 * before cb runs with STORE_OK and the new ids. */
int store_create_account(store *s, const char *username, const char *password_hash, int avatar_id,
                         store_account_cb cb, void *user);

/* Writes n positions in one transaction. cb may be NULL. */
int store_save_positions(store *s, const store_position *positions, size_t n, store_done_cb cb,
                         void *user);

/* Requests submitted and not finished. */
size_t store_pending(const store *s);

/* Finishes every queued request (running their callbacks), then closes. Loop thread only. */
void store_close(store *s);

#endif
