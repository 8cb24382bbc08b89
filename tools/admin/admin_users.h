/*
 * admin_users: cmmo-admin's account operations, through the server's store module (store.h), so
 * each works on every backend the server does: `sqlite:PATH` and `postgres://...`.
 *
 * They are safe with the server running as well as stopped: each is one transaction of the
 * database's own (SQLite serializes writers across processes, each side waiting up to 5 s for the
 * other's lock; PostgreSQL isolates concurrent transactions), and the server keeps no copy of an
 * account between logins (each Login reads the row). Creating is the very request Register makes
 * (user, entity, instanced entity at 0,0 and actor, in one transaction), and a SQLite database
 * that does not exist yet is created with the server's schema; the other commands refuse a
 * missing SQLite file rather than create an empty one.
 *
 * The store is asynchronous; cmmo-admin is a one-shot CLI, so each function opens the store on a
 * private uv loop, submits one request and runs that loop until its callback has fired.
 *
 * Every function prints nothing but its listing; it returns an ADMIN_USERS_* code and, for errors,
 * fills why (a sentence for the operator, never containing a password, a hash or the password of
 * a database URL). Store failures are also logged to stderr by the store at error level.
 */
#ifndef CMMO_ADMIN_USERS_H
#define CMMO_ADMIN_USERS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
    ADMIN_USERS_OK = 0,
    ADMIN_USERS_NOT_FOUND = 1, /* no account with that name (letter case ignored) */
    ADMIN_USERS_TAKEN = 2,     /* create: the name exists */
    ADMIN_USERS_INVALID = 3,   /* bad name, password or avatar (why says which) */
    ADMIN_USERS_ERROR = -1,    /* the database failed or is missing; nothing changed */
};

#define ADMIN_USERS_WHY_MAX 256

/* Prints every account to out, one per line under a header, ordered by name ignoring case: id,
 * name, avatar, x, y, created (UTC); then "N users". With json, a JSON array of objects
 * {"id","name","avatar","x","y","created"} instead (created as "YYYY-MM-DDTHH:MM:SSZ"), for
 * export. Read page by page (STORE_LIST_MAX accounts
 * per request). db_url is a store URL (store_url_valid); a SQLite file must exist. */
int admin_users_list(const char *db_url, int json, FILE *out, char *why);

/* Writes s to out as a JSON string (quotes, backslashes and control characters escaped; other
 * bytes as they are: names are UTF-8). */
void admin_json_string(FILE *out, const char *s);
/* seconds since 1970 as "2026-12-04T23:00:00Z" into out (at least 32 bytes); "-" if it cannot be.
 */
void admin_time_text(int64_t seconds, char *out);

/* Every change below is recorded in the audit log as done by "cli:<uid>" (admin_store.h). */

/* Creates an account, hashing password (len bytes) with the server's argon2id parameters.
 * Validation is Register's: name 1-20 of [A-Za-z0-9_-], not "Server"; password 1-128 bytes;
 * avatar 0-5. Creates a SQLite database if missing. On success, *actor_id_out is the new actor
 * id. */
int admin_users_create(const char *db_url, const char *name, const char *password, size_t len,
                       int avatar, int64_t *actor_id_out, char *why);

/* Deletes the account and its actor, instanced entity and entity in one transaction. On
 * success, the name as registered is copied to name_out (at least 21 bytes). */
int admin_users_delete(const char *db_url, const char *name, char *name_out, char *why);

/* Replaces the account's password hash. The player's current session, if any, is unaffected;
 * the next Login needs the new password. */
int admin_users_reset_password(const char *db_url, const char *name, const char *password,
                               size_t len, char *why);

#endif
