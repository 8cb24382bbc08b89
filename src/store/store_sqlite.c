/*
 * The SQLite backend. The schema mirrors the tutorial's Django models (user, entity,
 * instanced_entity, actor), each with its own id sequence, so the ids a client sees behave the
 * same. WAL with synchronous=NORMAL: a commit is durable against a process crash at once and
 * against power loss from the next checkpoint, at a fraction of FULL's cost.
 */
#include "core/log.h"
#include "store/store_backend.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sqlite_store {
    sqlite3 *db;
    sqlite3_stmt *find, *insert_user, *insert_entity, *insert_instance, *insert_actor, *save;
    sqlite3_stmt *list, *find_rows, *delete_actor, *delete_instance, *delete_entity, *delete_user;
    sqlite3_stmt *set_password;
    sqlite3_stmt *set_sanction, *user_id, *clear_sanction, *audit_add, *audit_list,
        *delete_sanctions;
    sqlite3_stmt *kv_load, *kv_set, *kv_delete;
    sqlite3_stmt *token_purge, *token_insert, *token_cap, *token_owner, *token_revoke;
    sqlite3_stmt *token_revoke_account, *find_user_id;
} sqlite_store;

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS user ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    "  password_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE IF NOT EXISTS entity ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS instanced_entity ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  entity_id INTEGER NOT NULL REFERENCES entity(id),"
    "  x REAL NOT NULL DEFAULT 0,"
    "  y REAL NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS actor ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_id INTEGER NOT NULL UNIQUE REFERENCES user(id),"
    "  instanced_entity_id INTEGER NOT NULL REFERENCES instanced_entity(id),"
    "  avatar_id INTEGER NOT NULL);"
    /* Bans and mutes, one of each per account at most. No foreign key: user ids are never
     * reused (AUTOINCREMENT), and deleting an account deletes its rows. */
    "CREATE TABLE IF NOT EXISTS sanction ("
    "  user_id INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  ends_at INTEGER NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    "  PRIMARY KEY (user_id, kind));"
    /* What operators did. Append only; names are copied, not referenced: the record of a
     * deleted account's ban stays readable. */
    "CREATE TABLE IF NOT EXISTS audit_log ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  target TEXT NOT NULL,"
    "  detail TEXT NOT NULL);"
    /* cmmo.store of a game script (src/script): encoded values, the runtime's own format. */
    "CREATE TABLE IF NOT EXISTS script_store ("
    "  key TEXT NOT NULL PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    /* Resume tokens (store.h): only their SHA-256, as hex. They go with their account (the
     * cascade) and with its password (the trigger: a reset logs every browser out, whatever
     * statement changed the hash). */
    "CREATE TABLE IF NOT EXISTS resume_token ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS resume_token_user ON resume_token(user_id);"
    "CREATE INDEX IF NOT EXISTS resume_token_expiry ON resume_token(expires_at);"
    "CREATE TRIGGER IF NOT EXISTS resume_token_password_changed "
    "  AFTER UPDATE OF password_hash ON user WHEN OLD.password_hash IS NOT NEW.password_hash "
    "  BEGIN DELETE FROM resume_token WHERE user_id = NEW.id; END;";

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) != SQLITE_OK) {
        log_error("sqlite_prepare_failed", "error=\"%s\"", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        log_error("sqlite_failed", "sql=\"%.40s\" error=\"%s\"", sql, err ? err : "?");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

/* The account row that the find and find_rows statements both select, in their column order:
 * user id, name, hash, actor id, avatar, instanced entity id, x, y, entity id; find then adds
 * the ban's end and reason and the mute's (NULL when there is none). */
static void read_account(sqlite3_stmt *st, store_account *out)
{
    memset(out, 0, sizeof *out);
    out->user_id = sqlite3_column_int64(st, 0);
    snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
    snprintf(out->password_hash, sizeof out->password_hash, "%s",
             (const char *)sqlite3_column_text(st, 2));
    out->actor_id = sqlite3_column_int64(st, 3);
    out->avatar_id = sqlite3_column_int(st, 4);
    out->instanced_entity_id = sqlite3_column_int64(st, 5);
    out->x = sqlite3_column_double(st, 6);
    out->y = sqlite3_column_double(st, 7);
    out->entity_id = sqlite3_column_int64(st, 8);
    if (sqlite3_column_count(st) < 13) return; /* find_rows: no sanctions */
    int64_t now = (int64_t)time(NULL);
    store_sanction_read(&out->ban, sqlite3_column_type(st, 9) != SQLITE_NULL,
                        sqlite3_column_int64(st, 9), (const char *)sqlite3_column_text(st, 10),
                        now);
    store_sanction_read(&out->mute, sqlite3_column_type(st, 11) != SQLITE_NULL,
                        sqlite3_column_int64(st, 11), (const char *)sqlite3_column_text(st, 12),
                        now);
}

static int sq_find(void *p, const char *username, store_account *out)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->find;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int result = STORE_ERROR;
    if (rc == SQLITE_ROW) {
        read_account(st, out);
        result = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND;
    } else {
        log_error("sqlite_find_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

static int64_t step_insert(sqlite_store *s, sqlite3_stmt *st, int *rc_out)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    *rc_out = rc;
    return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(s->db) : -1;
}

static int sq_create(void *p, const char *username, const char *hash, int avatar,
                     store_account *out)
{
    sqlite_store *s = p;
    int rc;
    if (exec(s->db, "BEGIN IMMEDIATE") != 0) return STORE_ERROR;
    memset(out, 0, sizeof *out);
    sqlite3_bind_text(s->insert_user, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->insert_user, 2, hash, -1, SQLITE_STATIC);
    out->user_id = step_insert(s, s->insert_user, &rc);
    if (out->user_id < 0) {
        exec(s->db, "ROLLBACK");
        return rc == SQLITE_CONSTRAINT ? STORE_TAKEN : STORE_ERROR;
    }
    sqlite3_bind_text(s->insert_entity, 1, username, -1, SQLITE_STATIC);
    out->entity_id = step_insert(s, s->insert_entity, &rc);
    if (out->entity_id >= 0) {
        sqlite3_bind_int64(s->insert_instance, 1, out->entity_id);
        out->instanced_entity_id = step_insert(s, s->insert_instance, &rc);
    }
    if (out->entity_id >= 0 && out->instanced_entity_id >= 0) {
        sqlite3_bind_int64(s->insert_actor, 1, out->user_id);
        sqlite3_bind_int64(s->insert_actor, 2, out->instanced_entity_id);
        sqlite3_bind_int(s->insert_actor, 3, avatar);
        out->actor_id = step_insert(s, s->insert_actor, &rc);
    }
    /* All four rows or none: a half-made account could never log in (original defect 7). */
    if (out->entity_id < 0 || out->instanced_entity_id < 0 || out->actor_id < 0 ||
        exec(s->db, "COMMIT") != 0) {
        log_error("sqlite_create_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        exec(s->db, "ROLLBACK");
        return STORE_ERROR;
    }
    snprintf(out->name, sizeof out->name, "%s", username);
    out->avatar_id = avatar;
    return STORE_OK;
}

static int sq_save(void *p, const store_position *pos, size_t n)
{
    sqlite_store *s = p;
    if (n == 0) return STORE_OK;
    if (exec(s->db, "BEGIN IMMEDIATE") != 0) return STORE_ERROR;
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_double(s->save, 1, pos[i].x);
        sqlite3_bind_double(s->save, 2, pos[i].y);
        sqlite3_bind_int64(s->save, 3, pos[i].instanced_entity_id);
        int rc = sqlite3_step(s->save);
        sqlite3_reset(s->save);
        if (rc != SQLITE_DONE) {
            log_error("sqlite_save_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
            exec(s->db, "ROLLBACK");
            return STORE_ERROR;
        }
    }
    return exec(s->db, "COMMIT") == 0 ? STORE_OK : STORE_ERROR;
}

/* The username column is COLLATE NOCASE, so `>` and ORDER BY on it ignore ASCII letter case. */
static int sq_list(void *p, const char *after, size_t limit, store_account_entry *out, size_t *n)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->list;
    *n = 0;
    sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int rc = SQLITE_DONE; /* stays so when the page fills: the loop then stops stepping */
    while (*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_account_entry *e = &out[*n];
        memset(e, 0, sizeof *e);
        e->user_id = sqlite3_column_int64(st, 0);
        snprintf(e->name, sizeof e->name, "%s", (const char *)sqlite3_column_text(st, 1));
        e->avatar_id = sqlite3_column_int(st, 2);
        e->x = sqlite3_column_double(st, 3);
        e->y = sqlite3_column_double(st, 4);
        e->created_at = sqlite3_column_int64(st, 5);
        (*n)++;
    }
    int result = STORE_OK;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("sqlite_list_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        *n = 0;
        result = STORE_ERROR;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

/* Runs a prepared statement binding one id as ?1. Returns 0 or -1. */
static int delete_by_id(sqlite3_stmt *st, int64_t id)
{
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int sq_remove(void *p, const char *username, store_account *out)
{
    sqlite_store *s = p;
    /* IMMEDIATE: the write lock from the start, so the rows read are the rows deleted. */
    if (exec(s->db, "BEGIN IMMEDIATE") != 0) return STORE_ERROR;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = s->find_rows;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_account(st, out);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW) {
        exec(s->db, "ROLLBACK");
        if (rc == SQLITE_DONE) return STORE_NOT_FOUND;
        log_error("sqlite_delete_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        return STORE_ERROR;
    }
    /* Children first: the foreign keys point from actor to instance to entity, and to user.
     * A missing row (id 0) is skipped. */
    if ((out->actor_id && delete_by_id(s->delete_actor, out->actor_id) != 0) ||
        (out->instanced_entity_id &&
         delete_by_id(s->delete_instance, out->instanced_entity_id) != 0) ||
        (out->entity_id && delete_by_id(s->delete_entity, out->entity_id) != 0) ||
        delete_by_id(s->delete_user, out->user_id) != 0 ||
        delete_by_id(s->delete_sanctions, out->user_id) != 0 || exec(s->db, "COMMIT") != 0) {
        log_error("sqlite_delete_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        exec(s->db, "ROLLBACK");
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int sq_set_password(void *p, const char *username, const char *hash)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->set_password;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int result = STORE_ERROR;
    if (rc == SQLITE_DONE)
        result = sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOT_FOUND;
    else
        log_error("sqlite_set_password_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

/* Runs st (already bound) to its end. Returns SQLITE_DONE or the error code; resets st. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

static int sq_set_sanction(void *p, const char *username, int kind, int64_t ends_at,
                           const char *reason)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->set_sanction;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, store_sanction_kind_name(kind), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, ends_at);
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
    if (step_done(st) != SQLITE_DONE) {
        log_error("sqlite_sanction_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        return STORE_ERROR;
    }
    return sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOT_FOUND;
}

static int sq_clear_sanction(void *p, const char *username, int kind)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->user_id;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE) return STORE_NOT_FOUND;
    if (rc == SQLITE_ROW) {
        sqlite3_bind_int64(s->clear_sanction, 1, id);
        sqlite3_bind_text(s->clear_sanction, 2, store_sanction_kind_name(kind), -1, SQLITE_STATIC);
        if (step_done(s->clear_sanction) == SQLITE_DONE) return STORE_OK;
    }
    log_error("sqlite_sanction_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
    return STORE_ERROR;
}

static int sq_audit_add(void *p, const char *actor, const char *action, const char *target,
                        const char *detail)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->audit_add;
    sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
    if (step_done(st) == SQLITE_DONE) return STORE_OK;
    log_error("sqlite_audit_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
    return STORE_ERROR;
}

static void column_copy(sqlite3_stmt *st, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static int sq_audit_list(void *p, int64_t after_id, size_t limit, store_audit_entry *out, size_t *n)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->audit_list;
    *n = 0;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    int rc = SQLITE_DONE;
    while (*n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_audit_entry *e = &out[(*n)++];
        e->id = sqlite3_column_int64(st, 0);
        e->at = sqlite3_column_int64(st, 1);
        column_copy(st, 2, e->actor, sizeof e->actor);
        column_copy(st, 3, e->action, sizeof e->action);
        column_copy(st, 4, e->target, sizeof e->target);
        column_copy(st, 5, e->detail, sizeof e->detail);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        log_error("sqlite_audit_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        *n = 0;
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int sq_kv_load(void *p, store_kv **out, size_t *n)
{
    sqlite_store *s = p;
    size_t cap = 64, len = 0;
    store_kv *kv = malloc(cap * sizeof *kv);
    int rc = SQLITE_ROW;
    sqlite3_bind_int(s->kv_load, 1, STORE_KV_LOAD_MAX);
    while (kv && (rc = sqlite3_step(s->kv_load)) == SQLITE_ROW) {
        if (len == cap) {
            store_kv *grown = realloc(kv, (cap *= 2) * sizeof *kv);
            if (!grown) break;
            kv = grown;
        }
        const char *k = (const char *)sqlite3_column_text(s->kv_load, 0);
        const char *v = (const char *)sqlite3_column_text(s->kv_load, 1);
        kv[len].key = strdup(k ? k : "");
        kv[len].value = strdup(v ? v : "");
        len++;
        if (!kv[len - 1].key || !kv[len - 1].value) break;
    }
    sqlite3_reset(s->kv_load);
    if (!kv || rc != SQLITE_DONE) {
        log_error("sqlite_kv_load_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        for (size_t i = 0; kv && i < len; i++) {
            free((char *)kv[i].key);
            free((char *)kv[i].value);
        }
        free(kv);
        return STORE_ERROR;
    }
    *out = kv;
    *n = len;
    return STORE_OK;
}

static int sq_kv_save(void *p, const store_kv *kv, size_t n)
{
    sqlite_store *s = p;
    if (n == 0) return STORE_OK;
    if (exec(s->db, "BEGIN IMMEDIATE") != 0) return STORE_ERROR;
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *st = kv[i].value ? s->kv_set : s->kv_delete;
        sqlite3_bind_text(st, 1, kv[i].key, -1, SQLITE_STATIC);
        if (kv[i].value) sqlite3_bind_text(st, 2, kv[i].value, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (rc != SQLITE_DONE) {
            log_error("sqlite_kv_save_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
            exec(s->db, "ROLLBACK");
            return STORE_ERROR;
        }
    }
    return exec(s->db, "COMMIT") == 0 ? STORE_OK : STORE_ERROR;
}

static int sq_token_issue(void *p, int64_t user_id, const char *hash_hex, int64_t now_s,
                          int64_t expires_s)
{
    sqlite_store *s = p;
    if (exec(s->db, "BEGIN IMMEDIATE") != 0) return STORE_ERROR;
    sqlite3_bind_int64(s->token_purge, 1, now_s);
    int ok = step_done(s->token_purge) == SQLITE_DONE;
    if (ok) {
        sqlite3_bind_text(s->token_insert, 1, hash_hex, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s->token_insert, 2, user_id);
        sqlite3_bind_int64(s->token_insert, 3, now_s);
        sqlite3_bind_int64(s->token_insert, 4, expires_s);
        ok = step_done(s->token_insert) == SQLITE_DONE;
    }
    if (ok) {
        sqlite3_bind_int64(s->token_cap, 1, user_id);
        sqlite3_bind_int(s->token_cap, 2, STORE_TOKENS_PER_ACCOUNT);
        ok = step_done(s->token_cap) == SQLITE_DONE;
    }
    if (!ok || exec(s->db, "COMMIT") != 0) {
        log_error("sqlite_token_issue_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        exec(s->db, "ROLLBACK");
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int sq_token_owner(void *p, const char *hash_hex, int64_t now_s, char *name)
{
    sqlite_store *s = p;
    sqlite3_stmt *st = s->token_owner;
    sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_s);
    int rc = sqlite3_step(st);
    int result = STORE_ERROR;
    if (rc == SQLITE_ROW) {
        snprintf(name, STORE_NAME_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
        result = STORE_OK;
    } else if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND;
    } else {
        log_error("sqlite_token_find_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return result;
}

static int sq_token_revoke(void *p, const char *hash_hex)
{
    sqlite_store *s = p;
    sqlite3_bind_text(s->token_revoke, 1, hash_hex, -1, SQLITE_STATIC);
    if (step_done(s->token_revoke) != SQLITE_DONE) {
        log_error("sqlite_token_revoke_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
        return STORE_ERROR;
    }
    return sqlite3_changes(s->db) > 0 ? STORE_OK : STORE_NOT_FOUND;
}

static int sq_token_revoke_account(void *p, const char *username)
{
    sqlite_store *s = p;
    if (exec(s->db, "BEGIN IMMEDIATE") != 0) return STORE_ERROR;
    sqlite3_stmt *st = s->find_user_id;
    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t user_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    int result = STORE_ERROR;
    if (rc == SQLITE_DONE) {
        result = STORE_NOT_FOUND;
    } else if (rc == SQLITE_ROW) {
        sqlite3_bind_int64(s->token_revoke_account, 1, user_id);
        if (step_done(s->token_revoke_account) == SQLITE_DONE) result = STORE_OK;
    }
    if (result == STORE_ERROR)
        log_error("sqlite_token_revoke_failed", "error=\"%s\"", sqlite3_errmsg(s->db));
    if (result != STORE_OK || exec(s->db, "COMMIT") != 0) {
        exec(s->db, "ROLLBACK");
        return result == STORE_OK ? STORE_ERROR : result;
    }
    return STORE_OK;
}

static void sq_close(void *p)
{
    sqlite_store *s = p;
    sqlite3_stmt *statements[] = {s->find,
                                  s->insert_user,
                                  s->insert_entity,
                                  s->insert_instance,
                                  s->insert_actor,
                                  s->save,
                                  s->list,
                                  s->find_rows,
                                  s->delete_actor,
                                  s->delete_instance,
                                  s->delete_entity,
                                  s->delete_user,
                                  s->set_password,
                                  s->set_sanction,
                                  s->user_id,
                                  s->clear_sanction,
                                  s->audit_add,
                                  s->audit_list,
                                  s->delete_sanctions,
                                  s->kv_load,
                                  s->kv_set,
                                  s->kv_delete,
                                  s->token_purge,
                                  s->token_insert,
                                  s->token_cap,
                                  s->token_owner,
                                  s->token_revoke,
                                  s->token_revoke_account,
                                  s->find_user_id};
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++)
        sqlite3_finalize(statements[i]);
    sqlite3_close(s->db);
    free(s);
}

int store_sqlite_open(const char *path, store_backend *out)
{
    sqlite_store *s = calloc(1, sizeof *s);
    if (!s) return STORE_ERROR;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        log_error("store_open_failed", "path=%s error=\"%s\"", path,
                  s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return STORE_ERROR;
    }
    /* Another process (cmmo-admin) may hold the write lock briefly. */
    sqlite3_busy_timeout(s->db, 5000);
    if (exec(s->db, schema) != 0 ||
        prepare(s->db,
                "SELECT u.id, u.username, u.password_hash, a.id, a.avatar_id, i.id, i.x, i.y, "
                "i.entity_id, b.ends_at, b.reason, m.ends_at, m.reason "
                "FROM user u JOIN actor a ON a.user_id = u.id "
                "JOIN instanced_entity i ON i.id = a.instanced_entity_id "
                "LEFT JOIN sanction b ON b.user_id = u.id AND b.kind = 'ban' "
                "LEFT JOIN sanction m ON m.user_id = u.id AND m.kind = 'mute' "
                "WHERE u.username = ?1",
                &s->find) ||
        prepare(s->db, "INSERT INTO user(username, password_hash) VALUES (?1, ?2)",
                &s->insert_user) ||
        prepare(s->db, "INSERT INTO entity(name) VALUES (?1)", &s->insert_entity) ||
        prepare(s->db, "INSERT INTO instanced_entity(entity_id, x, y) VALUES (?1, 0, 0)",
                &s->insert_instance) ||
        prepare(s->db,
                "INSERT INTO actor(user_id, instanced_entity_id, avatar_id) VALUES (?1, ?2, ?3)",
                &s->insert_actor) ||
        prepare(s->db, "UPDATE instanced_entity SET x = ?1, y = ?2 WHERE id = ?3", &s->save) ||
        prepare(s->db,
                "SELECT u.id, u.username, coalesce(a.avatar_id, 0), coalesce(i.x, 0), "
                "coalesce(i.y, 0), u.created_at FROM user u "
                "LEFT JOIN actor a ON a.user_id = u.id "
                "LEFT JOIN instanced_entity i ON i.id = a.instanced_entity_id "
                "WHERE u.username > ?1 ORDER BY u.username LIMIT ?2",
                &s->list) ||
        /* find's columns, but a row even when the actor or instance is missing (ids 0). */
        prepare(s->db,
                "SELECT u.id, u.username, u.password_hash, coalesce(a.id, 0), "
                "coalesce(a.avatar_id, 0), coalesce(i.id, 0), coalesce(i.x, 0), "
                "coalesce(i.y, 0), coalesce(i.entity_id, 0) FROM user u "
                "LEFT JOIN actor a ON a.user_id = u.id "
                "LEFT JOIN instanced_entity i ON i.id = a.instanced_entity_id "
                "WHERE u.username = ?1",
                &s->find_rows) ||
        prepare(s->db, "DELETE FROM actor WHERE id = ?1", &s->delete_actor) ||
        prepare(s->db, "DELETE FROM instanced_entity WHERE id = ?1", &s->delete_instance) ||
        prepare(s->db, "DELETE FROM entity WHERE id = ?1", &s->delete_entity) ||
        prepare(s->db, "DELETE FROM user WHERE id = ?1", &s->delete_user) ||
        prepare(s->db, "UPDATE user SET password_hash = ?1 WHERE username = ?2",
                &s->set_password) ||
        prepare(s->db,
                "INSERT INTO sanction(user_id, kind, ends_at, reason) "
                "SELECT id, ?2, ?3, ?4 FROM user WHERE username = ?1 "
                "ON CONFLICT(user_id, kind) DO UPDATE SET ends_at = excluded.ends_at, "
                "reason = excluded.reason, created_at = strftime('%s','now')",
                &s->set_sanction) ||
        prepare(s->db, "SELECT id FROM user WHERE username = ?1", &s->user_id) ||
        prepare(s->db, "DELETE FROM sanction WHERE user_id = ?1 AND kind = ?2",
                &s->clear_sanction) ||
        prepare(s->db, "DELETE FROM sanction WHERE user_id = ?1", &s->delete_sanctions) ||
        prepare(s->db,
                "INSERT INTO audit_log(actor, action, target, detail) VALUES (?1, ?2, ?3, ?4)",
                &s->audit_add) ||
        prepare(s->db,
                "SELECT id, at, actor, action, target, detail FROM audit_log WHERE id > ?1 "
                "ORDER BY id LIMIT ?2",
                &s->audit_list) ||
        prepare(s->db, "SELECT key, value FROM script_store ORDER BY key LIMIT ?1", &s->kv_load) ||
        prepare(s->db,
                "INSERT INTO script_store(key, value) VALUES (?1, ?2) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                &s->kv_set) ||
        prepare(s->db, "DELETE FROM script_store WHERE key = ?1", &s->kv_delete) ||
        prepare(s->db, "DELETE FROM resume_token WHERE expires_at <= ?1", &s->token_purge) ||
        prepare(s->db,
                "INSERT INTO resume_token(token_hash, user_id, created_at, expires_at) "
                "VALUES (?1, ?2, ?3, ?4)",
                &s->token_insert) ||
        prepare(s->db,
                "DELETE FROM resume_token WHERE user_id = ?1 AND id NOT IN (SELECT id FROM "
                "resume_token WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)",
                &s->token_cap) ||
        prepare(s->db,
                "SELECT u.username FROM resume_token t JOIN user u ON u.id = t.user_id "
                "WHERE t.token_hash = ?1 AND t.expires_at > ?2",
                &s->token_owner) ||
        prepare(s->db, "DELETE FROM resume_token WHERE token_hash = ?1", &s->token_revoke) ||
        prepare(s->db, "DELETE FROM resume_token WHERE user_id = ?1", &s->token_revoke_account) ||
        prepare(s->db, "SELECT id FROM user WHERE username = ?1", &s->find_user_id)) {
        sq_close(s);
        return STORE_ERROR;
    }
    out->db = s;
    out->find = sq_find;
    out->create = sq_create;
    out->save = sq_save;
    out->list = sq_list;
    out->remove = sq_remove;
    out->set_password = sq_set_password;
    out->set_sanction = sq_set_sanction;
    out->clear_sanction = sq_clear_sanction;
    out->audit_add = sq_audit_add;
    out->audit_list = sq_audit_list;
    out->kv_load = sq_kv_load;
    out->kv_save = sq_kv_save;
    out->token_issue = sq_token_issue;
    out->token_owner = sq_token_owner;
    out->token_revoke = sq_token_revoke;
    out->token_revoke_account = sq_token_revoke_account;
    out->close = sq_close;
    return 0;
}
