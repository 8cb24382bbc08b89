/*
 * admin_users: account operations on the SQLite database (see admin_users.h).
 */
#include "admin_users.h"

#include "core/log.h"
#include "game/auth.h"
#include "proto/validate.h"
#include "store/store.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <uv.h>

/* How long to wait for the server's write lock (it holds it for milliseconds). */
#define ADMIN_USERS_BUSY_MS 5000

static int fail(char *why, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, ADMIN_USERS_WHY_MAX, fmt, ap);
    va_end(ap);
    return code;
}

/* Opens an existing database read-write. */
static sqlite3 *db_open(const char *path, char *why)
{
    sqlite3 *db = NULL;
    if (access(path, F_OK) != 0) {
        fail(why, 0, "no database at %s (start the server once, or create a user, to make it)",
             path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fail(why, 0, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, ADMIN_USERS_BUSY_MS);
    sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    return db;
}

static int db_failed(sqlite3 *db, char *why, const char *what)
{
    return fail(why, ADMIN_USERS_ERROR, "%s failed: %s", what, sqlite3_errmsg(db));
}

/* Register's rules, with the reserved name the session layer adds. */
static int check_credentials(const char *name, const char *password, size_t len, char *why)
{
    const char *deny = validate_credentials(name, strlen(name), password, len);
    if (deny) return fail(why, ADMIN_USERS_INVALID, "%s", deny);
    /* Server announcements speak as "Server": nobody may register that name. */
    if (strcasecmp(name, "Server") == 0)
        return fail(why, ADMIN_USERS_INVALID, "This username is reserved");
    return ADMIN_USERS_OK;
}

static int hash_password(const char *password, size_t len, char out[AUTH_HASH_MAX], char *why)
{
    if (sodium_init() < 0) return fail(why, ADMIN_USERS_ERROR, "libsodium could not start");
    if (crypto_pwhash_str(out, password, len, AUTH_OPSLIMIT, AUTH_MEMLIMIT) != 0)
        return fail(why, ADMIN_USERS_ERROR, "hashing failed (out of memory)");
    return ADMIN_USERS_OK;
}

/* ---------------------------------------------------------------- list */

int admin_users_list(const char *db_path, FILE *out, char *why)
{
    sqlite3 *db = db_open(db_path, why);
    if (!db) return ADMIN_USERS_ERROR;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT u.id, u.username, a.avatar_id, i.x, i.y, "
                                "strftime('%Y-%m-%dT%H:%M:%SZ', u.created_at, 'unixepoch') "
                                "FROM user u LEFT JOIN actor a ON a.user_id = u.id "
                                "LEFT JOIN instanced_entity i ON i.id = a.instanced_entity_id "
                                "ORDER BY u.username COLLATE NOCASE",
                                -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = db_failed(db, why, "listing users");
        sqlite3_close(db);
        return rc;
    }
    fprintf(out, "%-6s %-20s %-6s %-8s %-8s %s\n", "id", "name", "avatar", "x", "y", "created");
    size_t count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *created = (const char *)sqlite3_column_text(st, 5);
        fprintf(out, "%-6lld %-20s %-6d %-8.1f %-8.1f %s\n", sqlite3_column_int64(st, 0),
                (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
                sqlite3_column_double(st, 3), sqlite3_column_double(st, 4),
                created ? created : "-");
        count++;
    }
    int result = ADMIN_USERS_OK;
    if (rc != SQLITE_DONE)
        result = db_failed(db, why, "listing users");
    else
        fprintf(out, "%zu user%s\n", count, count == 1 ? "" : "s");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return result;
}

/* ---------------------------------------------------------------- create */

typedef struct create_wait {
    int done, result;
    int64_t actor_id;
} create_wait;

static void on_created(void *user, int result, const store_account *account)
{
    create_wait *w = user;
    w->done = 1;
    w->result = result;
    if (result == STORE_OK) w->actor_id = account->actor_id;
}

int admin_users_create(const char *db_url, const char *name, const char *password, size_t len,
                       int avatar, int64_t *actor_id_out, char *why)
{
    int rc = check_credentials(name, password, len, why);
    if (rc != ADMIN_USERS_OK) return rc;
    if (avatar < 0 || avatar > VALIDATE_AVATAR_MAX)
        return fail(why, ADMIN_USERS_INVALID, "%s", VALIDATE_DENY_AVATAR);
    char hash[AUTH_HASH_MAX];
    rc = hash_password(password, len, hash, why);
    if (rc != ADMIN_USERS_OK) return rc;

    /* The store runs requests on its own thread and answers on a loop: a private one here. */
    uv_loop_t loop;
    uv_loop_init(&loop);
    store *st = store_open(&loop, db_url);
    create_wait w = {0, STORE_ERROR, 0};
    if (!st) {
        rc = fail(why, ADMIN_USERS_ERROR, "cannot open the store %s", db_url);
    } else if (store_create_account(st, name, hash, avatar, on_created, &w) != 0) {
        rc = fail(why, ADMIN_USERS_ERROR, "the store refused the request");
    } else {
        while (!w.done && uv_run(&loop, UV_RUN_ONCE))
            ;
        if (w.result == STORE_OK) {
            *actor_id_out = w.actor_id;
            rc = ADMIN_USERS_OK;
        } else if (w.result == STORE_TAKEN) {
            rc = fail(why, ADMIN_USERS_TAKEN, "This username is already taken");
        } else {
            rc = fail(why, ADMIN_USERS_ERROR, "the database failed; nothing was created");
        }
    }
    if (st) store_close(st);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

/* ---------------------------------------------------------------- delete */

/* Runs sql with up to one int64 parameter (0 = none). Returns the sqlite3_step result. */
static int exec_id(sqlite3 *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return SQLITE_ERROR;
    if (id) sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc;
}

int admin_users_delete(const char *db_path, const char *name, char *name_out, char *why)
{
    sqlite3 *db = db_open(db_path, why);
    if (!db) return ADMIN_USERS_ERROR;
    /* IMMEDIATE: the write lock from the start, so the rows read are the rows deleted. */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        int r = db_failed(db, why, "starting the transaction");
        sqlite3_close(db);
        return r;
    }
    sqlite3_stmt *st = NULL;
    int result = ADMIN_USERS_ERROR;
    int64_t user_id = 0, actor_id = 0, instance_id = 0, entity_id = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT u.id, u.username, a.id, i.id, i.entity_id FROM user u "
                           "LEFT JOIN actor a ON a.user_id = u.id "
                           "LEFT JOIN instanced_entity i ON i.id = a.instanced_entity_id "
                           "WHERE u.username = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        result = db_failed(db, why, "finding the user");
        goto rollback;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        result = fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
        goto rollback;
    }
    if (rc != SQLITE_ROW) {
        result = db_failed(db, why, "finding the user");
        goto rollback;
    }
    user_id = sqlite3_column_int64(st, 0);
    snprintf(name_out, VALIDATE_USERNAME_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 1));
    actor_id = sqlite3_column_int64(st, 2);
    instance_id = sqlite3_column_int64(st, 3);
    entity_id = sqlite3_column_int64(st, 4);
    sqlite3_finalize(st);
    st = NULL;
    /* Children first: the foreign keys point from actor to instance to entity, and to user.
     * A half-made account (rows missing) is deleted as far as it exists. */
    if ((actor_id && exec_id(db, "DELETE FROM actor WHERE id = ?1", actor_id) != SQLITE_DONE) ||
        (instance_id &&
         exec_id(db, "DELETE FROM instanced_entity WHERE id = ?1", instance_id) != SQLITE_DONE) ||
        (entity_id && exec_id(db, "DELETE FROM entity WHERE id = ?1", entity_id) != SQLITE_DONE) ||
        exec_id(db, "DELETE FROM user WHERE id = ?1", user_id) != SQLITE_DONE) {
        result = db_failed(db, why, "deleting the user");
        goto rollback;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        result = db_failed(db, why, "committing");
        goto rollback;
    }
    sqlite3_close(db);
    return ADMIN_USERS_OK;
rollback:
    sqlite3_finalize(st);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    return result;
}

/* ---------------------------------------------------------------- reset password */

int admin_users_reset_password(const char *db_path, const char *name, const char *password,
                               size_t len, char *why)
{
    const char *deny = validate_credentials(name, strlen(name), password, len);
    if (deny) return fail(why, ADMIN_USERS_INVALID, "%s", deny);
    sqlite3 *db = db_open(db_path, why);
    if (!db) return ADMIN_USERS_ERROR;
    char hash[AUTH_HASH_MAX];
    int result = hash_password(password, len, hash, why);
    sqlite3_stmt *st = NULL;
    if (result == ADMIN_USERS_OK) {
        if (sqlite3_prepare_v2(db, "UPDATE user SET password_hash = ?1 WHERE username = ?2", -1,
                               &st, NULL) != SQLITE_OK) {
            result = db_failed(db, why, "updating the password");
        } else {
            sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                result = db_failed(db, why, "updating the password");
            else if (sqlite3_changes(db) == 0)
                result = fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
        }
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    sodium_memzero(hash, sizeof hash);
    return result;
}
