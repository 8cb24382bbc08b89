/*
 * admin_users: cmmo-admin's account operations, straight on the SQLite database.
 *
 * They are safe with the server running as well as stopped: SQLite serializes writers across
 * processes (the server waits up to 5 s for our lock, we wait as long for its), every change is
 * one transaction, and the server keeps no copy of an account between logins (each Login reads
 * the row). Creating goes through the server's own store module, so an account made here is
 * exactly what Register makes (user, entity, instanced entity at 0,0 and actor, in one
 * transaction) and a database that does not exist yet is created with the server's schema.
 *
 * Every function prints nothing; it returns an ADMIN_USERS_* code and, for errors, fills why
 * (a sentence for the operator, never containing a password or hash).
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

/* Prints every account to out, one per line under a header: id, name, avatar, x, y, created
 * (UTC). The database must exist. */
int admin_users_list(const char *db_path, FILE *out, char *why);

/* Creates an account, hashing password (len bytes) with the server's argon2id parameters.
 * Validation is Register's: name 1-20 of [A-Za-z0-9_-], not "Server"; password 1-128 bytes;
 * avatar 0-5. Creates the database if missing. On success, *actor_id_out is the new actor id. */
int admin_users_create(const char *db_url, const char *name, const char *password, size_t len,
                       int avatar, int64_t *actor_id_out, char *why);

/* Deletes the account and its actor, instanced entity and entity in one transaction. On
 * success, the name as registered is copied to name_out (at least 21 bytes). */
int admin_users_delete(const char *db_path, const char *name, char *name_out, char *why);

/* Replaces the account's password hash. The player's current session, if any, is unaffected;
 * the next Login needs the new password. */
int admin_users_reset_password(const char *db_path, const char *name, const char *password,
                               size_t len, char *why);

#endif
