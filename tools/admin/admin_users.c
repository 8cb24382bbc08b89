/*
 * admin_users: account operations through the store interface (see admin_users.h).
 */
#include "admin_users.h"
#include "admin_store.h"

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

#define fail admin_fail

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

typedef struct list_state {
    admin_store *a;
    FILE *out;
    int json;
    size_t count, page;
    char last[STORE_NAME_MAX + 1]; /* the cursor: the last name printed */
} list_state;

static void on_page(void *user, int result, const store_account_entry *entries, size_t n)
{
    list_state *l = user;
    for (size_t i = 0; i < n; i++) {
        const store_account_entry *e = &entries[i];
        char created[32];
        admin_time_text(e->created_at, created);
        if (l->json) {
            fprintf(l->out, "%s\n  {\"id\":%lld,\"name\":", l->count + i ? "," : "",
                    (long long)e->user_id);
            admin_json_string(l->out, e->name);
            /* %.17g reads back as the same double; positions are finite (the world clamps). */
            fprintf(l->out, ",\"avatar\":%d,\"x\":%.17g,\"y\":%.17g,\"created\":\"%s\"}",
                    e->avatar_id, e->x, e->y, created);
            continue;
        }
        fprintf(l->out, "%-6lld %-20s %-6d %-8.1f %-8.1f %s\n", (long long)e->user_id, e->name,
                e->avatar_id, e->x, e->y, created);
    }
    if (n) snprintf(l->last, sizeof l->last, "%s", entries[n - 1].name);
    l->count += n;
    l->page = n;
    l->a->result = result;
    l->a->done = 1;
}

void admin_time_text(int64_t seconds, char *out)
{
    time_t t = (time_t)seconds;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) strcpy(out, "-");
}

void admin_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

int admin_users_list(const char *db_url, int json, FILE *out, char *why)
{
    admin_store a;
    int rc = ADMIN_USERS_OK;
    if (admin_store_open(&a, db_url, 1, why) != 0) return ADMIN_USERS_ERROR;
    list_state l = {.a = &a, .out = out, .json = json};
    if (json)
        fputc('[', out);
    else
        fprintf(out, "%-6s %-20s %-6s %-8s %-8s %s\n", "id", "name", "avatar", "x", "y", "created");
    do {
        admin_store_begin(&a);
        if (store_list_accounts(a.store, l.last, STORE_LIST_MAX, on_page, &l) != 0) break;
        admin_store_wait(&a);
    } while (a.done && a.result == STORE_OK && l.page == STORE_LIST_MAX);
    if (a.done && a.result == STORE_OK && json)
        fprintf(out, "%s]\n", l.count ? "\n" : "");
    else if (a.done && a.result == STORE_OK)
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
    rc = admin_store_open(&a, db_url, 0, why) == 0 ? ADMIN_USERS_OK : ADMIN_USERS_ERROR;
    if (rc == ADMIN_USERS_OK) {
        account_wait w = {.a = &a};
        admin_store_begin(&a);
        if (store_create_account(a.store, name, hash, avatar, on_account, &w) == 0)
            admin_store_wait(&a);
        if (a.result == STORE_OK) {
            *actor_id_out = w.account.actor_id;
            char detail[32];
            snprintf(detail, sizeof detail, "avatar %d", avatar);
            admin_store_audit(&a, "create", name, detail);
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
    int rc = ADMIN_USERS_OK;
    if (admin_store_open(&a, db_url, 1, why) != 0) return ADMIN_USERS_ERROR;
    account_wait w = {.a = &a};
    admin_store_begin(&a);
    if (store_delete_account(a.store, name, on_account, &w) == 0) admin_store_wait(&a);
    if (a.result == STORE_OK) {
        snprintf(name_out, VALIDATE_USERNAME_MAX + 1, "%s", w.account.name);
        admin_store_audit(&a, "delete", w.account.name, "");
    } else if (a.result == STORE_NOT_FOUND)
        rc = fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
    else
        rc = fail(why, ADMIN_USERS_ERROR, "deleting the user failed; nothing was deleted");
    sodium_memzero(&w.account, sizeof w.account);
    admin_store_close(&a);
    return rc;
}

/* ---------------------------------------------------------------- reset password */

int admin_users_reset_password(const char *db_url, const char *name, const char *password,
                               size_t len, char *why)
{
    const char *deny = validate_credentials(name, strlen(name), password, len);
    if (deny) return fail(why, ADMIN_USERS_INVALID, "%s", deny);
    admin_store a;
    int rc = ADMIN_USERS_OK;
    if (admin_store_open(&a, db_url, 1, why) != 0) return ADMIN_USERS_ERROR;
    char hash[AUTH_HASH_MAX];
    rc = hash_password(password, len, hash, why);
    if (rc == ADMIN_USERS_OK) {
        admin_store_begin(&a);
        if (store_set_password_hash(a.store, name, hash, admin_store_done, &a) == 0)
            admin_store_wait(&a);
        if (a.result == STORE_NOT_FOUND)
            rc = fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
        else if (a.result != STORE_OK)
            rc = fail(why, ADMIN_USERS_ERROR, "updating the password failed; nothing changed");
        else
            admin_store_audit(&a, "reset-password", name, "");
    }
    admin_store_close(&a);
    sodium_memzero(hash, sizeof hash);
    return rc;
}
