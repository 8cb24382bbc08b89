/*
 * admin_users: account operations through the store interface (see admin_users.h).
 */
#include "admin_users.h"

#include "game/auth.h"
#include "proto/validate.h"
#include "store/store_loop.h"

#include <sodium.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static int fail(char *why, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, ADMIN_USERS_WHY_MAX, fmt, ap);
    va_end(ap);
    return code;
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

/* ---------------------------------------------------------------- the store, synchronously */

/* The store on a private loop. One request at a time: submit, then store_wait. */
typedef struct admin_store {
    uv_loop_t loop;
    store *store;
    int done;   /* set by the request's callback */
    int result; /* its STORE_* result; STORE_ERROR until it runs */
} admin_store;

/* Opens db_url. With must_exist, a sqlite: URL naming no file is an error (the store would
 * create it, and a read or a change of nothing should not leave an empty database behind). */
static int admin_store_open(admin_store *a, const char *db_url, int must_exist, char *why)
{
    memset(a, 0, sizeof *a);
    if (must_exist && strncmp(db_url, "sqlite:", 7) == 0 && access(db_url + 7, F_OK) != 0)
        return fail(why, ADMIN_USERS_ERROR,
                    "no database at %s (start the server once, or create a user, to make it)",
                    db_url + 7);
    if (uv_loop_init(&a->loop) != 0) return fail(why, ADMIN_USERS_ERROR, "no event loop");
    a->store = store_open(&a->loop, db_url);
    if (!a->store) {
        char shown[512];
        store_url_redact(db_url, shown, sizeof shown);
        uv_loop_close(&a->loop);
        return fail(why, ADMIN_USERS_ERROR, "cannot open the store %s (see the error above)",
                    shown);
    }
    return ADMIN_USERS_OK;
}

/* Starts a request: resets the completion flag. */
static void admin_store_begin(admin_store *a)
{
    a->done = 0;
    a->result = STORE_ERROR;
}

/* Runs the loop until the request's callback has set done. The store's worker keeps the loop
 * alive while a request is queued, so uv_run returns 0 only if there is nothing to wait for. */
static void admin_store_wait(admin_store *a)
{
    while (!a->done && uv_run(&a->loop, UV_RUN_ONCE))
        ;
}

/* Closes the store (finishing anything queued) and the loop. */
static void admin_store_close(admin_store *a)
{
    store_close(a->store);
    uv_run(&a->loop, UV_RUN_DEFAULT); /* the store's handles' close callbacks */
    uv_loop_close(&a->loop);
}

/* ---------------------------------------------------------------- list */

typedef struct list_state {
    admin_store *a;
    FILE *out;
    size_t count, page;
    char last[STORE_NAME_MAX + 1]; /* the cursor: the last name printed */
} list_state;

static void on_page(void *user, int result, const store_account_entry *entries, size_t n)
{
    list_state *l = user;
    for (size_t i = 0; i < n; i++) {
        const store_account_entry *e = &entries[i];
        char created[32] = "-";
        time_t t = (time_t)e->created_at;
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(l->out, "%-6lld %-20s %-6d %-8.1f %-8.1f %s\n", (long long)e->user_id, e->name,
                e->avatar_id, e->x, e->y, created);
    }
    if (n) snprintf(l->last, sizeof l->last, "%s", entries[n - 1].name);
    l->count += n;
    l->page = n;
    l->a->result = result;
    l->a->done = 1;
}

int admin_users_list(const char *db_url, FILE *out, char *why)
{
    admin_store a;
    int rc = admin_store_open(&a, db_url, 1, why);
    if (rc != ADMIN_USERS_OK) return rc;
    list_state l = {.a = &a, .out = out};
    fprintf(out, "%-6s %-20s %-6s %-8s %-8s %s\n", "id", "name", "avatar", "x", "y", "created");
    do {
        admin_store_begin(&a);
        if (store_list_accounts(a.store, l.last, STORE_LIST_MAX, on_page, &l) != 0) break;
        admin_store_wait(&a);
    } while (a.done && a.result == STORE_OK && l.page == STORE_LIST_MAX);
    if (a.done && a.result == STORE_OK)
        fprintf(out, "%zu user%s\n", l.count, l.count == 1 ? "" : "s");
    else
        rc = fail(why, ADMIN_USERS_ERROR, "listing users failed: the database failed");
    admin_store_close(&a);
    return rc;
}

/* ---------------------------------------------------------------- create, delete */

typedef struct account_wait {
    admin_store *a;
    store_account account;
} account_wait;

static void on_account(void *user, int result, const store_account *account)
{
    account_wait *w = user;
    if (result == STORE_OK) w->account = *account;
    w->a->result = result;
    w->a->done = 1;
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
    admin_store a;
    rc = admin_store_open(&a, db_url, 0, why);
    if (rc == ADMIN_USERS_OK) {
        account_wait w = {.a = &a};
        admin_store_begin(&a);
        if (store_create_account(a.store, name, hash, avatar, on_account, &w) == 0)
            admin_store_wait(&a);
        if (a.result == STORE_OK) {
            *actor_id_out = w.account.actor_id;
        } else if (a.result == STORE_TAKEN) {
            rc = fail(why, ADMIN_USERS_TAKEN, "This username is already taken");
        } else {
            rc = fail(why, ADMIN_USERS_ERROR, "the database failed; nothing was created");
        }
        sodium_memzero(&w.account, sizeof w.account);
        admin_store_close(&a);
    }
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int admin_users_delete(const char *db_url, const char *name, char *name_out, char *why)
{
    /* A name longer than any account's names no account; the store would refuse it. */
    if (strlen(name) > STORE_NAME_MAX)
        return fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
    admin_store a;
    int rc = admin_store_open(&a, db_url, 1, why);
    if (rc != ADMIN_USERS_OK) return rc;
    account_wait w = {.a = &a};
    admin_store_begin(&a);
    if (store_delete_account(a.store, name, on_account, &w) == 0) admin_store_wait(&a);
    if (a.result == STORE_OK)
        snprintf(name_out, VALIDATE_USERNAME_MAX + 1, "%s", w.account.name);
    else if (a.result == STORE_NOT_FOUND)
        rc = fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
    else
        rc = fail(why, ADMIN_USERS_ERROR, "deleting the user failed; nothing was deleted");
    sodium_memzero(&w.account, sizeof w.account);
    admin_store_close(&a);
    return rc;
}

/* ---------------------------------------------------------------- reset password */

static void on_done(void *user, int result)
{
    admin_store *a = user;
    a->result = result;
    a->done = 1;
}

int admin_users_reset_password(const char *db_url, const char *name, const char *password,
                               size_t len, char *why)
{
    const char *deny = validate_credentials(name, strlen(name), password, len);
    if (deny) return fail(why, ADMIN_USERS_INVALID, "%s", deny);
    admin_store a;
    int rc = admin_store_open(&a, db_url, 1, why);
    if (rc != ADMIN_USERS_OK) return rc;
    char hash[AUTH_HASH_MAX];
    rc = hash_password(password, len, hash, why);
    if (rc == ADMIN_USERS_OK) {
        admin_store_begin(&a);
        if (store_set_password_hash(a.store, name, hash, on_done, &a) == 0) admin_store_wait(&a);
        if (a.result == STORE_NOT_FOUND)
            rc = fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
        else if (a.result != STORE_OK)
            rc = fail(why, ADMIN_USERS_ERROR, "updating the password failed; nothing changed");
    }
    admin_store_close(&a);
    sodium_memzero(hash, sizeof hash);
    return rc;
}
