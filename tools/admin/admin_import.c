/*
 * admin_import: the tutorial's players into cmmo (see admin_import.h).
 */
#include "admin_import.h"
#include "admin_store.h"
#include "admin_users.h"

#include "game/auth.h"
#include "proto/validate.h"

#include <math.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Bytes of a tutorial name shown in the report; longer ones (already refused) are cut. */
#define SHOWN_NAME_MAX 40

/* One user as the tutorial database has it. */
typedef struct tutorial_user {
    long long user_id, actor_id, first_id; /* first_id: lowest user id of this name (any case) */
    const char *name, *password;           /* NULL when the column is NULL */
    int has_actor, avatar;
    double x, y;
    int position_null;
} tutorial_user;

typedef struct import_run {
    sqlite3 *db;
    admin_store store;
    int have_store; /* dry run on a SQLite file that does not exist yet: nothing to look up */
    int v11;        /* auth_user (Django hashes), else server_user (plaintext) */
    int dry_run;
    FILE *out;
    admin_import_totals *totals;
} import_run;

/* Writes s for the report: printable ASCII as is, anything else as \xNN, cut to
 * SHOWN_NAME_MAX bytes. A name is never trusted to be safe for a terminal. */
static void shown(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    if (!s) s = "(null)";
    for (size_t i = 0; s[i] && i < SHOWN_NAME_MAX && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
    }
    out[o] = 0;
}

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
                           &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int column_exists(sqlite3 *db, const char *table, const char *column)
{
    sqlite3_stmt *st;
    int found = 0;
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
    while (!found && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 1);
        found = name && strcmp((const char *)name, column) == 0;
    }
    sqlite3_finalize(st);
    return found;
}

/* ---------------------------------------------------------------- the cmmo side */

typedef struct account_answer {
    admin_store *a;
    store_account account;
} account_answer;

static void on_account(void *user, int result, const store_account *account)
{
    account_answer *w = user;
    if (result == STORE_OK) w->account = *account;
    w->a->result = result;
    w->a->done = 1;
}

/* STORE_OK if cmmo has an account of that name (any case), STORE_NOT_FOUND, or STORE_ERROR. */
static int cmmo_has(import_run *r, const char *name)
{
    if (!r->have_store) return STORE_NOT_FOUND;
    account_answer w = {.a = &r->store};
    admin_store_begin(&r->store);
    if (store_find_account(r->store.store, name, on_account, &w) == 0) admin_store_wait(&r->store);
    sodium_memzero(&w.account, sizeof w.account);
    return r->store.result;
}

/* Creates the account with its hash, avatar and position. Returns STORE_OK (actor id in *actor),
 * STORE_TAKEN (made meanwhile: present) or STORE_ERROR. */
static int cmmo_create(import_run *r, const char *name, const char *hash, int avatar, double x,
                       double y, long long *actor)
{
    account_answer w = {.a = &r->store};
    admin_store_begin(&r->store);
    if (store_create_account(r->store.store, name, hash, avatar, on_account, &w) == 0)
        admin_store_wait(&r->store);
    int result = r->store.result;
    if (result != STORE_OK) return result;
    *actor = (long long)w.account.actor_id;
    if (x != 0 || y != 0) {
        /* A second request: an import cut between the two leaves the player at (0,0), and the
         * next run reports the account present. */
        store_position p = {.instanced_entity_id = w.account.instanced_entity_id,
                            .x = x,
                            .y = y,
                            .actor_id = w.account.actor_id};
        admin_store_begin(&r->store);
        if (store_save_positions(r->store.store, &p, 1, admin_store_done, &r->store) == 0)
            admin_store_wait(&r->store);
        result = r->store.result;
    }
    sodium_memzero(&w.account, sizeof w.account);
    return result;
}

/* ---------------------------------------------------------------- one user */

static void skip(import_run *r, const char *name, const char *fmt, const char *detail)
{
    char n[SHOWN_NAME_MAX * 4 + 8];
    shown(name, n, sizeof n);
    fprintf(r->out, "skipped %s: ", n);
    fprintf(r->out, fmt, detail);
    fputc('\n', r->out);
    r->totals->skipped++;
}

/* The algorithm name of a Django hash ("bcrypt_sha256", "argon2", "!" for unusable), shown. */
static void hash_algorithm(const char *hash, char *out, size_t cap)
{
    char algo[32];
    size_t n = strcspn(hash, "$");
    if (n >= sizeof algo) n = sizeof algo - 1;
    memcpy(algo, hash, n);
    algo[n] = 0;
    if (hash[0] == '!') snprintf(algo, sizeof algo, "!");
    shown(algo, out, cap);
}

/* Returns 0, or -1 if the store failed (the import stops). */
static int import_user(import_run *r, const tutorial_user *u)
{
    const char *name = u->name;
    if (!name || validate_credentials(name, strlen(name), "x", 1)) {
        skip(r, name, "%s", "cmmo names are 1 to 20 letters, digits, _ or -");
        return 0;
    }
    if (strcasecmp(name, "Server") == 0) {
        skip(r, name, "%s", "the name Server is reserved for server announcements");
        return 0;
    }
    if (u->first_id != u->user_id) {
        char first[16];
        snprintf(first, sizeof first, "%lld", u->first_id);
        skip(r, name, "the same name as tutorial user %s, ignoring letter case (that one is kept)",
             first);
        return 0;
    }
    const char *pw = u->password ? u->password : "";
    size_t pw_len = strlen(pw);
    const char *kept = NULL;
    if (r->v11) {
        if (auth_hash_kind(pw) != AUTH_KIND_PBKDF2_SHA256) {
            char algo[160];
            hash_algorithm(pw, algo, sizeof algo);
            skip(r, name, "its password hash (%s) is not pbkdf2_sha256, which cmmo cannot check",
                 algo);
            return 0;
        }
        kept = pw;
    } else if (pw_len == 0 || pw_len > VALIDATE_PASSWORD_MAX) {
        skip(r, name, "%s",
             pw_len ? "its password is longer than 128 bytes" : "its password is empty");
        return 0;
    }
    int present = cmmo_has(r, name);
    if (present == STORE_ERROR) return -1;
    if (present == STORE_OK) {
        fprintf(r->out, "present %s: already a cmmo account, left as it is\n", name);
        r->totals->present++;
        return 0;
    }
    int avatar = u->has_actor ? u->avatar : 0;
    double x = u->x, y = u->y;
    char notes[160] = "";
    if (!u->has_actor) {
        snprintf(notes, sizeof notes, "; no actor: avatar 0 at 0,0");
    } else {
        if (avatar < 0 || avatar > VALIDATE_AVATAR_MAX) {
            snprintf(notes, sizeof notes, "; avatar %d out of 0..5, made 0", avatar);
            avatar = 0;
        }
        if (u->position_null || !isfinite(x) || !isfinite(y)) {
            size_t l = strlen(notes);
            snprintf(notes + l, sizeof notes - l, "; no valid position, placed at 0,0");
            x = y = 0;
        }
    }
    const char *how = kept ? "pbkdf2_sha256 kept, argon2id at first login" : "hashed with argon2id";
    if (r->dry_run) {
        fprintf(r->out, "would import %s at %g,%g avatar %d (password %s)%s\n", name, x, y, avatar,
                how, notes);
        r->totals->imported++;
        return 0;
    }
    char hash[AUTH_HASH_MAX];
    if (!kept) {
        if (crypto_pwhash_str(hash, pw, pw_len, AUTH_OPSLIMIT, AUTH_MEMLIMIT) != 0) return -1;
    } else if (strlen(kept) >= sizeof hash) {
        skip(r, name, "%s", "its password hash is too long to store");
        return 0;
    } else {
        snprintf(hash, sizeof hash, "%s", kept);
    }
    long long actor = 0;
    int rc = cmmo_create(r, name, hash, avatar, x, y, &actor);
    sodium_memzero(hash, sizeof hash);
    if (rc == STORE_TAKEN) {
        fprintf(r->out, "present %s: already a cmmo account, left as it is\n", name);
        r->totals->present++;
        return 0;
    }
    if (rc != STORE_OK) return -1;
    fprintf(r->out,
            "imported %s (tutorial user %lld) as actor %lld at %g,%g avatar %d "
            "(password %s)%s\n",
            name, u->user_id, actor, x, y, avatar, how, notes);
    r->totals->imported++;
    return 0;
}

/* ---------------------------------------------------------------- the tutorial side */

/* Reads every user in id order and imports each. Returns 0 or -1 (why filled). */
static int import_all(import_run *r, char *why)
{
    const char *users = r->v11 ? "auth_user" : "server_user";
    int has_actor =
        table_exists(r->db, "server_actor") && table_exists(r->db, "server_instancedentity");
    int has_avatar = has_actor && column_exists(r->db, "server_actor", "avatar_id");
    char sql[1024];
    /* min() OVER: the lowest id among the names equal ignoring ASCII letter case (SQLite's
     * lower() folds ASCII only, as cmmo's unique names do). */
    if (has_actor)
        snprintf(sql, sizeof sql,
                 "SELECT u.id, u.username, u.password, a.id, %s, i.x, i.y, "
                 "min(u.id) OVER (PARTITION BY lower(u.username)) "
                 "FROM %s u LEFT JOIN server_actor a ON a.user_id = u.id "
                 "LEFT JOIN server_instancedentity i ON i.id = a.instanced_entity_id "
                 "ORDER BY u.id, a.id",
                 has_avatar ? "a.avatar_id" : "0", users);
    else
        snprintf(sql, sizeof sql,
                 "SELECT u.id, u.username, u.password, NULL, 0, NULL, NULL, "
                 "min(u.id) OVER (PARTITION BY lower(u.username)) FROM %s u ORDER BY u.id",
                 users);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK)
        return admin_fail(why, -1, "cannot read the tutorial database: %s", sqlite3_errmsg(r->db));
    int rc, failed = 0;
    long long last_user = 0;
    int any = 0;
    while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        tutorial_user u = {0};
        u.user_id = sqlite3_column_int64(st, 0);
        if (any && u.user_id == last_user) continue; /* a second actor of one user: the first */
        any = 1;
        last_user = u.user_id;
        u.name = (const char *)sqlite3_column_text(st, 1);
        u.password = (const char *)sqlite3_column_text(st, 2);
        u.has_actor = sqlite3_column_type(st, 3) != SQLITE_NULL;
        u.actor_id = sqlite3_column_int64(st, 3);
        u.avatar = sqlite3_column_int(st, 4);
        u.position_null =
            sqlite3_column_type(st, 5) == SQLITE_NULL || sqlite3_column_type(st, 6) == SQLITE_NULL;
        u.x = sqlite3_column_double(st, 5);
        u.y = sqlite3_column_double(st, 6);
        u.first_id = sqlite3_column_int64(st, 7);
        if (import_user(r, &u) != 0) {
            admin_fail(why, -1,
                       "the cmmo database failed; accounts imported so far stay (run "
                       "again to go on)");
            failed = 1;
        }
    }
    if (!failed && rc != SQLITE_DONE)
        failed = admin_fail(why, -1, "reading the tutorial database failed: %s",
                            sqlite3_errmsg(r->db)) != 0;
    sqlite3_finalize(st);
    return failed ? -1 : 0;
}

int admin_import_tutorial(const char *db_url, const char *path, int dry_run, FILE *out,
                          admin_import_totals *totals, char *why)
{
    import_run r = {.dry_run = dry_run, .out = out, .totals = totals};
    memset(totals, 0, sizeof *totals);
    if (sodium_init() < 0) return admin_fail(why, ADMIN_USERS_ERROR, "libsodium could not start");
    if (sqlite3_open_v2(path, &r.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        admin_fail(why, ADMIN_USERS_ERROR, "cannot open the tutorial database %s: %s", path,
                   r.db ? sqlite3_errmsg(r.db) : "out of memory");
        sqlite3_close(r.db);
        return ADMIN_USERS_ERROR;
    }
    int rc = ADMIN_USERS_OK;
    r.v11 = table_exists(r.db, "auth_user");
    if (!r.v11 && !table_exists(r.db, "server_user")) {
        rc = admin_fail(why, ADMIN_USERS_ERROR,
                        "%s is not a tutorial server's database (no auth_user or server_user "
                        "table)",
                        path);
    } else {
        int missing_file = strncmp(db_url, "sqlite:", 7) == 0 && access(db_url + 7, F_OK) != 0;
        r.have_store = !(dry_run && missing_file);
        if (r.have_store && admin_store_open(&r.store, db_url, 0, why) != 0) {
            rc = ADMIN_USERS_ERROR;
        } else {
            fprintf(out, "reading %s (tutorial %s: %s)\n", path, r.v11 ? "v1.1" : "v1.0",
                    r.v11 ? "auth_user, Django password hashes"
                          : "server_user, plaintext "
                            "passwords");
            if (import_all(&r, why) != 0) rc = ADMIN_USERS_ERROR;
            if (dry_run)
                fprintf(out,
                        "dry run, nothing written: %zu to import, %zu already present, %zu "
                        "to skip\n",
                        totals->imported, totals->present, totals->skipped);
            else
                fprintf(out, "%zu imported, %zu already present, %zu skipped\n", totals->imported,
                        totals->present, totals->skipped);
            if (!dry_run && totals->imported) { /* a run that changed nothing records nothing */
                char detail[96];
                snprintf(detail, sizeof detail, "%zu imported, %zu already present, %zu skipped",
                         totals->imported, totals->present, totals->skipped);
                admin_store_audit(&r.store, "import", path, detail);
            }
            if (r.have_store) admin_store_close(&r.store);
        }
    }
    sqlite3_close(r.db);
    return rc;
}
