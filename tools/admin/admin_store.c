/*
 * admin_store: the store on a private loop (see admin_store.h).
 */
#include "admin_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int admin_fail(char *why, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, ADMIN_WHY_MAX, fmt, ap);
    va_end(ap);
    return code;
}

int admin_store_open(admin_store *a, const char *db_url, int must_exist, char *why)
{
    memset(a, 0, sizeof *a);
    if (must_exist && strncmp(db_url, "sqlite:", 7) == 0 && access(db_url + 7, F_OK) != 0)
        return admin_fail(why, -1,
                          "no database at %s (start the server once, or create a user, to make "
                          "it)",
                          db_url + 7);
    if (uv_loop_init(&a->loop) != 0) return admin_fail(why, -1, "no event loop");
    a->store = store_open(&a->loop, db_url);
    if (!a->store) {
        char shown[512];
        store_url_redact(db_url, shown, sizeof shown);
        uv_loop_close(&a->loop);
        return admin_fail(why, -1, "cannot open the store %s (see the error above)", shown);
    }
    return 0;
}

void admin_store_begin(admin_store *a)
{
    a->done = 0;
    a->result = STORE_ERROR;
}

/* The store's worker keeps the loop alive while a request is queued, so uv_run returns 0 only
 * if there is nothing to wait for. */
void admin_store_wait(admin_store *a)
{
    while (!a->done && uv_run(&a->loop, UV_RUN_ONCE))
        ;
}

void admin_store_done(void *user, int result)
{
    admin_store *a = user;
    a->result = result;
    a->done = 1;
}

void admin_store_close(admin_store *a)
{
    store_close(a->store);
    uv_run(&a->loop, UV_RUN_DEFAULT); /* the store's handles' close callbacks */
    uv_loop_close(&a->loop);
}

void admin_store_actor(char *out, size_t cap)
{
    snprintf(out, cap, "cli:%u", (unsigned)getuid());
}

int admin_store_audit(admin_store *a, const char *action, const char *target, const char *detail)
{
    char actor[32];
    admin_store_actor(actor, sizeof actor);
    admin_store_begin(a);
    if (store_audit_add(a->store, actor, action, target, detail, admin_store_done, a) == 0)
        admin_store_wait(a);
    if (a->result == STORE_OK) return 0;
    fprintf(stderr, "cmmo-admin: warning: %s %s was done but not recorded in the audit log\n",
            action, target);
    return -1;
}
