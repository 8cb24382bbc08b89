/*
 * admin_store: the store on a private event loop, for cmmo-admin's one-shot commands. The store
 * is asynchronous (store.h explains why there is no synchronous mode); a command opens it here,
 * submits one request at a time and waits for its callback with admin_store_wait.
 *
 * Shared by the account commands (admin_users), the import (admin_import) and moderation
 * (admin_moderation).
 */
#ifndef CMMO_ADMIN_STORE_H
#define CMMO_ADMIN_STORE_H

#include "store/store_loop.h"

#include <uv.h>

/* An operator-facing reason for a failure: a sentence, never a password, hash or URL password. */
#define ADMIN_WHY_MAX 256

typedef struct admin_store {
    uv_loop_t loop;
    store *store;
    int done;   /* set by the request's callback */
    int result; /* its STORE_* result; STORE_ERROR until it runs */
} admin_store;

/* Writes a printf-style sentence to why (ADMIN_WHY_MAX bytes) and returns code. */
int admin_fail(char *why, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Opens db_url. With must_exist, a sqlite: URL naming no file is an error (the store would
 * create it, and a read or a change of nothing should not leave an empty database behind).
 * Returns 0, or -1 with why filled. */
int admin_store_open(admin_store *a, const char *db_url, int must_exist, char *why);

/* Starts a request: resets the completion flag. */
void admin_store_begin(admin_store *a);

/* Runs the loop until the request's callback has set done (see admin_store_done). */
void admin_store_wait(admin_store *a);

/* A store_done_cb for requests whose only answer is a result: user is the admin_store. */
void admin_store_done(void *user, int result);

/* Closes the store (finishing anything queued) and the loop. */
void admin_store_close(admin_store *a);

/* "cli:<uid>": who the audit log says did what this process does. */
void admin_store_actor(char *out, size_t cap);

/* Records what this process did in the audit log (actor "cli:<uid>") and waits for it. Returns
 * 0, or -1 after a warning on stderr (the action itself stands: it is done already). */
int admin_store_audit(admin_store *a, const char *action, const char *target, const char *detail);

#endif
