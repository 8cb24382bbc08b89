/*
 * store: persistence of accounts, positions, bans and mutes, and the audit log of operator
 * actions, behind one small asynchronous interface.
 *
 * Every request runs on the store's own thread, in submission order (so a position saved when a
 * player leaves is what their next login reads), and its callback runs later on the loop thread.
 * The tick never waits for the database. A backend is chosen by URL: `sqlite:PATH` (the default,
 * created with its schema on first start) or `postgres://USER:PASSWORD@HOST:PORT/DB` (also
 * `postgresql://`, any URL libpq accepts; schema created and migrated at open). Others plug in
 * beside them (store_backend.h). A URL may hold a password: log store_url_redact's copy of it.
 *
 * Ownership: request inputs are copied; results passed to a callback are valid during the call.
 * A request function returns 0 (its callback will run once) or a negative code (core/error.h:
 * CMMO_ETOO_LONG for a name or hash over its bound, CMMO_EINVALID for an argument out of range,
 * -ENOMEM, CMMO_ESTOPPED once the store is closing) and then never calls its callback.
 *
 * Asynchronous only, on purpose: there is no synchronous mode. A program without a game loop
 * (cmmo-admin) gives store_open a private uv loop and runs it until the callback has fired
 * (admin_store_wait in tools/admin/admin_users.c). A blocking variant of each call would be a
 * second path through store.c to keep correct, and one call to it from the server would stall
 * the tick.
 *
 * This header is the store as its users see it, and it is free of libuv: the game calls it
 * without knowing what runs the callbacks. Opening a store binds it to an event loop, so
 * store_open lives in store/store_loop.h, included by the wiring (server, cmmo-admin, tests) only.
 */
#ifndef CMMO_STORE_H
#define CMMO_STORE_H

#include "core/error.h"
#include "core/limits.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* Results passed to callbacks: the store's names for codes of the one error table
 * (core/error.h), so a result can be logged with cmmo_strerror like any other. */
enum {
    STORE_OK = CMMO_OK,
    STORE_NOT_FOUND = CMMO_ENOTFOUND, /* find, delete, set password: no such account */
    STORE_TAKEN = CMMO_ETAKEN,        /* create: the username exists (ignoring letter case) */
    STORE_ERROR = CMMO_ESTORE,        /* the database failed; nothing was changed */
};

/* Column sizes, from the one definition of each bound (core/limits.h). */
#define STORE_NAME_MAX LIMITS_USERNAME_MAX
#define STORE_HASH_MAX LIMITS_HASH_MAX
/* Bytes of a ban's or mute's reason: a sentence for the player, shown in a Deny or a chat line. */
#define STORE_REASON_MAX 200

/* The kinds of sanction an operator puts on an account: one of each at most. */
enum { STORE_BAN = 0, STORE_MUTE = 1 };

/* A ban or a mute as the account was read. The store compares the end with the wall clock when
 * it reads (the game has none, game.h): an expired sanction reads as not active. */
typedef struct store_sanction {
    int active;                        /* in force when read */
    int64_t ends_at;                   /* seconds since 1970-01-01 UTC; 0: never ends */
    int64_t seconds_left;              /* when read; 0 if it never ends */
    char reason[STORE_REASON_MAX + 1]; /* may be "" */
} store_sanction;

typedef struct store_account {
    int64_t user_id, entity_id, instanced_entity_id, actor_id;
    char name[STORE_NAME_MAX + 1]; /* as registered */
    char password_hash[STORE_HASH_MAX];
    int avatar_id;
    double x, y;
    store_sanction ban, mute; /* find only (create and delete leave them empty) */
} store_account;

/* One account as listed. An account without an actor (made before creation was one transaction)
 * is listed with avatar 0 at 0,0. */
typedef struct store_account_entry {
    int64_t user_id;
    char name[STORE_NAME_MAX + 1]; /* as registered */
    int avatar_id;
    double x, y;
    int64_t created_at; /* seconds since 1970-01-01 UTC */
} store_account_entry;

/* The most accounts one list request returns: a page of ~50 KiB, so listing a large database
 * holds neither a huge buffer nor the database for long. */
#define STORE_LIST_MAX 1000

typedef struct store_position {
    int64_t instanced_entity_id;
    double x, y;
    int64_t actor_id; /* not written: lets the caller tell whose position a failed write held */
} store_position;

typedef void (*store_account_cb)(void *user, int result, const store_account *account);
typedef void (*store_done_cb)(void *user, int result);
/* entries[0..n-1] are valid during the call; n is 0 unless result is STORE_OK. */
typedef void (*store_list_cb)(void *user, int result, const store_account_entry *entries, size_t n);

/* True if store_open understands url's form (`sqlite:` with a path, or a postgres:// or
 * postgresql:// URL libpq can parse). Opens nothing; for checking configuration. */
bool store_url_valid(const char *url);

/* Writes url to out (n bytes, always terminated, truncated if short) with any password replaced
 * by "***" (`postgres://user:***@host/db`, `...?password=***`): the form to log or echo. */
void store_url_redact(const char *url, char *out, size_t n);

/* Looks an account up by username, ignoring letter case. */
int store_find_account(store *s, const char *username, store_account_cb cb, void *user);

/* Creates user, entity, instanced entity (at 0,0) and actor in one transaction, committed
 * before cb runs with STORE_OK and the new ids. */
int store_create_account(store *s, const char *username, const char *password_hash, int avatar_id,
                         store_account_cb cb, void *user);

/* Lists up to limit accounts (1..STORE_LIST_MAX) whose names come after `after` ("" for the first
 * page), ordered by name ignoring letter case. A page shorter than limit is the last; the next
 * page starts after the last name of this one, so accounts made or deleted between pages neither
 * repeat nor shift others out. Returns CMMO_EINVALID (no callback) for a limit out of range,
 * CMMO_ETOO_LONG for an `after` longer than STORE_NAME_MAX. cb gets STORE_OK or STORE_ERROR. */
int store_list_accounts(store *s, const char *after, size_t limit, store_list_cb cb, void *user);

/* Deletes the account named username (letter case ignored): its actor, instanced entity, entity
 * and user rows, in one transaction; an account missing some of those rows is deleted as far as
 * it exists. cb gets STORE_OK with the account as it was (name as registered, ids; ids of missing
 * rows are 0), STORE_NOT_FOUND or STORE_ERROR. A session playing that account is not told: its
 * later position saves update no row. */
int store_delete_account(store *s, const char *username, store_account_cb cb, void *user);

/* Replaces the password hash of the account named username (letter case ignored). cb (may be
 * NULL: nobody waits for the answer) gets STORE_OK, STORE_NOT_FOUND or STORE_ERROR. Sessions
 * already logged in go on; the next Login compares with the new hash, and every resume token of
 * the account is deleted in the same transaction (a password reset logs every browser out). */
int store_set_password_hash(store *s, const char *username, const char *password_hash,
                            store_done_cb cb, void *user);

/* Bans or mutes (kind: STORE_BAN or STORE_MUTE) the account named username (letter case
 * ignored) until ends_at (seconds since 1970 UTC; 0: for good), replacing any earlier one of that
 * kind. reason may be "" and is at most STORE_REASON_MAX bytes. cb (may be NULL) gets STORE_OK,
 * STORE_NOT_FOUND (no such account) or STORE_ERROR. Returns CMMO_EINVALID (no callback) for a bad
 * kind or a negative ends_at, CMMO_ETOO_LONG for a name or reason too long, or -ENOMEM. Only the
 * next read of the account sees it: a running game is told separately (game.h's game_ban,
 * game_mute). */
int store_set_sanction(store *s, const char *username, int kind, int64_t ends_at,
                       const char *reason, store_done_cb cb, void *user);

/* Lifts the account's ban or mute (kind). cb (may be NULL) gets STORE_OK (whether or not there
 * was one), STORE_NOT_FOUND (no such account) or STORE_ERROR. Returns CMMO_EINVALID (no callback)
 * for a bad kind, CMMO_ETOO_LONG for a name too long, or -ENOMEM. */
int store_clear_sanction(store *s, const char *username, int kind, store_done_cb cb, void *user);

/* ---- The audit log: what operators did, in the database beside the accounts ---- */

#define STORE_AUDIT_ACTOR_MAX 64   /* "cli:UID", "socket:UID", "script" ... */
#define STORE_AUDIT_ACTION_MAX 32  /* "ban", "kick", "import" ... */
#define STORE_AUDIT_TARGET_MAX 256 /* an account name, a file path */
#define STORE_AUDIT_DETAIL_MAX 256 /* a reason, a count, a duration */
/* Entries one audit list request returns at most. */
#define STORE_AUDIT_PAGE_MAX 500

typedef struct store_audit_entry {
    int64_t id; /* increasing: the order the actions were recorded in */
    int64_t at; /* seconds since 1970-01-01 UTC */
    char actor[STORE_AUDIT_ACTOR_MAX + 1];
    char action[STORE_AUDIT_ACTION_MAX + 1];
    char target[STORE_AUDIT_TARGET_MAX + 1];
    char detail[STORE_AUDIT_DETAIL_MAX + 1];
} store_audit_entry;

/* entries[0..n-1] are valid during the call; n is 0 unless result is STORE_OK. */
typedef void (*store_audit_cb)(void *user, int result, const store_audit_entry *entries, size_t n);

/* Records an action now. Texts longer than their column's bound are cut (at a byte: the log is
 * for reading, and a cut is never a reason to lose the record); target and detail may be "". cb
 * (may be NULL) gets STORE_OK or STORE_ERROR. Returns CMMO_EINVALID (no callback) only for NULL
 * texts, or -ENOMEM. */
int store_audit_add(store *s, const char *actor, const char *action, const char *target,
                    const char *detail, store_done_cb cb, void *user);

/* Lists up to limit (1..STORE_AUDIT_PAGE_MAX) entries with ids above after_id, oldest first.
 * cb gets STORE_OK or STORE_ERROR. Returns CMMO_EINVALID (no callback) for a limit out of
 * range, or -ENOMEM. */
int store_audit_list(store *s, int64_t after_id, size_t limit, store_audit_cb cb, void *user);

/* Writes n positions in one transaction. cb may be NULL. */
int store_save_positions(store *s, const store_position *positions, size_t n, store_done_cb cb,
                         void *user);

/* ---- Small keyed values of a game script (cmmo.store, src/script) ---- */

/* One key and its value (text the script runtime encodes; NULL in a save: delete the key). */
typedef struct store_kv {
    const char *key;
    const char *value;
} store_kv;

/* Bounds the store keeps to: a key's and a value's bytes, and the most keys a load returns. */
#define STORE_KV_KEY_MAX 255
#define STORE_KV_VALUE_MAX 4096
#define STORE_KV_LOAD_MAX 10000

/* entries[0..n-1] are valid during the call; n is 0 unless result is STORE_OK. */
typedef void (*store_kv_cb)(void *user, int result, const store_kv *entries, size_t n);

/* Reads every key (STORE_KV_LOAD_MAX at most, in key order). cb gets STORE_OK or STORE_ERROR. */
int store_kv_load(store *s, store_kv_cb cb, void *user);

/* Writes n keys in one transaction (values NULL delete theirs); copied. Returns CMMO_EINVALID
 * (no callback) for a key or value out of bounds, or -ENOMEM. cb may be NULL. */
int store_kv_save(store *s, const store_kv *entries, size_t n, store_done_cb cb, void *user);
/* ---- Resume tokens (docs/SECURITY.md, "Resume tokens") ----
 * A resume token lets cmmo's browser client log in again without its password. The store never
 * sees a token: only its SHA-256, STORE_TOKEN_HASH_BYTES bytes, kept as lowercase hex. A token row
 * belongs to one account and goes with it: deleting the account deletes its tokens, and so does
 * any change of its password hash (store_set_password_hash, in the same transaction). Times are
 * the store's wall clock (seconds since 1970), read when the request is submitted. */
#define STORE_TOKEN_HASH_BYTES 32
/* Live tokens kept per account: one per browser a player uses, with room to spare. Issuing one
 * more deletes the oldest, so a script that logs in in a loop cannot grow the table without
 * bound. */
#define STORE_TOKENS_PER_ACCOUNT 8

/* Records a token of the account user_id, valid for ttl_s seconds from now (ttl_s >= 0; 0 makes
 * one that is already expired, for tests). Also deletes every expired token (of any account) and
 * this account's oldest beyond STORE_TOKENS_PER_ACCOUNT. cb (may be NULL) gets STORE_OK or
 * STORE_ERROR (also when no account has that id). Returns CMMO_EINVALID (no callback) for a
 * negative ttl, or -ENOMEM. */
int store_token_issue(store *s, int64_t user_id, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
                      int64_t ttl_s, store_done_cb cb, void *user);

/* Looks up the account a token was issued to. cb gets STORE_OK with the account (as
 * store_find_account gives it) only if a token with this hash exists, has not expired, and
 * belongs to the account named username (letter case ignored); otherwise STORE_NOT_FOUND (the
 * caller cannot tell which: neither can a client guessing), or STORE_ERROR. Returns CMMO_ETOO_LONG
 * (no callback) for a name longer than STORE_NAME_MAX, or -ENOMEM. */
int store_token_resume(store *s, const char *username, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
                       store_account_cb cb, void *user);

/* Deletes one token (a logout). cb (may be NULL) gets STORE_OK, STORE_NOT_FOUND (no such token:
 * already revoked or purged) or STORE_ERROR. */
int store_token_revoke(store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES], store_done_cb cb,
                       void *user);

/* Deletes every token of the account named username (letter case ignored): what a ban or a
 * forced logout calls. cb (may be NULL) gets STORE_OK (also when it had none), STORE_NOT_FOUND
 * (no such account) or STORE_ERROR. Returns CMMO_ETOO_LONG (no callback) for a name too long, or
 * -ENOMEM. */
int store_token_revoke_account(store *s, const char *username, store_done_cb cb, void *user);

/* Requests submitted and not finished. */
size_t store_pending(const store *s);

/* Finishes every queued request (running their callbacks), then closes. Loop thread only. */
void store_close(store *s);

#endif
