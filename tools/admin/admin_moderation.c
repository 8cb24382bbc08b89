/*
 * admin_moderation: bans, mutes and the audit log on the database (see admin_moderation.h).
 */
#include "admin_moderation.h"
#include "admin_store.h"
#include "admin_users.h"

#include "server/admin_cmd.h"

#include <string.h>

typedef struct find_answer {
    admin_store *a;
    char name[STORE_NAME_MAX + 1];
} find_answer;

static void on_account(void *user, int result, const store_account *account)
{
    find_answer *w = user;
    if (result == STORE_OK) snprintf(w->name, sizeof w->name, "%s", account->name);
    w->a->result = result;
    w->a->done = 1;
}

int admin_moderation_find(const char *db_url, const char *name, char *registered, char *why)
{
    if (strlen(name) > STORE_NAME_MAX)
        return admin_fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
    admin_store a;
    if (admin_store_open(&a, db_url, 1, why) != 0) return ADMIN_USERS_ERROR;
    find_answer w = {.a = &a};
    admin_store_begin(&a);
    if (store_find_account(a.store, name, on_account, &w) == 0) admin_store_wait(&a);
    int rc = ADMIN_USERS_OK;
    if (a.result == STORE_OK)
        snprintf(registered, STORE_NAME_MAX + 1, "%s", w.name);
    else if (a.result == STORE_NOT_FOUND)
        rc = admin_fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
    else
        rc = admin_fail(why, ADMIN_USERS_ERROR, "the database failed");
    admin_store_close(&a);
    return rc;
}

int admin_moderation_record(const char *db_url, int what, const char *name, int64_t ends_at,
                            const char *reason, const char *detail, char *why)
{
    static const char *const actions[] = {"ban", "unban", "mute", "unmute"};
    int kind = what == ADMIN_BAN || what == ADMIN_UNBAN ? STORE_BAN : STORE_MUTE;
    int lifting = what == ADMIN_UNBAN || what == ADMIN_UNMUTE;
    admin_store a;
    if (admin_store_open(&a, db_url, 1, why) != 0) return ADMIN_USERS_ERROR;
    admin_store_begin(&a);
    int submitted =
        lifting ? store_clear_sanction(a.store, name, kind, admin_store_done, &a)
                : store_set_sanction(a.store, name, kind, ends_at, reason, admin_store_done, &a);
    if (submitted == 0) admin_store_wait(&a);
    int rc = ADMIN_USERS_OK;
    if (submitted != 0)
        rc = admin_fail(why, ADMIN_USERS_INVALID,
                        "a reason is at most %d bytes of text, without control characters",
                        STORE_REASON_MAX);
    else if (a.result == STORE_NOT_FOUND)
        rc = admin_fail(why, ADMIN_USERS_NOT_FOUND, "no user named %s", name);
    else if (a.result != STORE_OK)
        rc = admin_fail(why, ADMIN_USERS_ERROR, "the database failed; nothing changed");
    else
        admin_store_audit(&a, actions[what], name, detail);
    admin_store_close(&a);
    return rc;
}

/* ---------------------------------------------------------------- the audit log */

typedef struct audit_state {
    admin_store *a;
    FILE *out;
    int json;
    size_t count, page;
    int64_t last;
} audit_state;

static void on_audit_page(void *user, int result, const store_audit_entry *entries, size_t n)
{
    audit_state *l = user;
    for (size_t i = 0; i < n; i++) {
        const store_audit_entry *e = &entries[i];
        char at[32];
        admin_time_text(e->at, at);
        if (l->json) {
            fprintf(l->out, "%s\n  {\"id\":%lld,\"at\":\"%s\",\"actor\":", l->count + i ? "," : "",
                    (long long)e->id, at);
            admin_json_string(l->out, e->actor);
            fputs(",\"action\":", l->out);
            admin_json_string(l->out, e->action);
            fputs(",\"target\":", l->out);
            admin_json_string(l->out, e->target);
            fputs(",\"detail\":", l->out);
            admin_json_string(l->out, e->detail);
            fputc('}', l->out);
        } else {
            fprintf(l->out, "%s %-14s %-14s %-20s %s\n", at, e->actor, e->action,
                    e->target[0] ? e->target : "-", e->detail);
        }
    }
    if (n) l->last = entries[n - 1].id;
    l->count += n;
    l->page = n;
    l->a->result = result;
    l->a->done = 1;
}

int admin_audit_print(const char *db_url, int json, FILE *out, char *why)
{
    admin_store a;
    if (admin_store_open(&a, db_url, 1, why) != 0) return ADMIN_USERS_ERROR;
    audit_state l = {.a = &a, .out = out, .json = json};
    if (json)
        fputc('[', out);
    else
        fprintf(out, "%-20s %-14s %-14s %-20s %s\n", "time (UTC)", "actor", "action", "target",
                "detail");
    do {
        admin_store_begin(&a);
        if (store_audit_list(a.store, l.last, STORE_AUDIT_PAGE_MAX, on_audit_page, &l) != 0) break;
        admin_store_wait(&a);
    } while (a.done && a.result == STORE_OK && l.page == STORE_AUDIT_PAGE_MAX);
    int rc = ADMIN_USERS_OK;
    if (a.done && a.result == STORE_OK)
        fputs(json ? (l.count ? "\n]\n" : "]\n") : "", out);
    else
        rc = admin_fail(why, ADMIN_USERS_ERROR, "reading the audit log failed");
    admin_store_close(&a);
    return rc;
}
