#include "store/store_loop.h"

#include "core/error.h"
#include "core/log.h"
#include "core/workpool_loop.h"
#include "store/store_backend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct store {
    store_backend backend;
    workpool *pool; /* one thread: requests run in submission order */
};

enum job_kind {
    JOB_FIND,
    JOB_CREATE,
    JOB_SAVE,
    JOB_LIST,
    JOB_DELETE,
    JOB_SET_PASSWORD,
    JOB_SET_SANCTION,
    JOB_CLEAR_SANCTION,
    JOB_AUDIT_ADD,
    JOB_AUDIT_LIST,
    JOB_KV_LOAD,
    JOB_KV_SAVE,
    JOB_TOKEN_ISSUE,
    JOB_TOKEN_RESUME,
    JOB_TOKEN_REVOKE,
    JOB_TOKEN_REVOKE_ACCOUNT,
};

typedef struct store_job {
    workpool_job base;
    store *store;
    enum job_kind kind;
    int result;
    void *user;
    store_account_cb account_cb;
    store_done_cb done_cb;
    store_list_cb list_cb;
    store_kv_cb kv_cb;
    store_kv *kv; /* kv load: what was read; kv save: the copies to write (count of them) */
    char username[STORE_NAME_MAX + 1];
    char hash[STORE_HASH_MAX];
    int avatar;
    store_account account;
    store_account_entry *entries; /* list: limit entries, count of them filled */
    size_t limit;
    size_t count;
    int sanction;    /* set/clear sanction: STORE_BAN or STORE_MUTE */
    int64_t ends_at; /* set sanction */
    char reason[STORE_REASON_MAX + 1];
    store_audit_entry audit;          /* audit add: the texts */
    store_audit_entry *audit_entries; /* audit list: limit entries, count filled */
    store_audit_cb audit_cb;
    int64_t after_id;
    char token_hex[STORE_TOKEN_HASH_HEX + 1]; /* tokens: the hash, never the token */
    int64_t now_s, expires_s;                 /* tokens: wall clock at submission, expiry */
    store_position positions[];
} store_job;

static void job_work(workpool_job *base)
{
    store_job *j = (store_job *)base;
    store_backend *b = &j->store->backend;
    switch (j->kind) {
    case JOB_FIND:
        j->result = b->find(b->db, j->username, &j->account);
        break;
    case JOB_CREATE:
        j->result = b->create(b->db, j->username, j->hash, j->avatar, &j->account);
        break;
    case JOB_SAVE:
        j->result = b->save(b->db, j->positions, j->count);
        break;
    case JOB_LIST:
        j->result = b->list(b->db, j->username, j->limit, j->entries, &j->count);
        if (j->result != STORE_OK) j->count = 0;
        break;
    case JOB_DELETE:
        j->result = b->remove(b->db, j->username, &j->account);
        break;
    case JOB_SET_PASSWORD:
        j->result = b->set_password(b->db, j->username, j->hash);
        break;
    case JOB_SET_SANCTION:
        j->result = b->set_sanction(b->db, j->username, j->sanction, j->ends_at, j->reason);
        break;
    case JOB_CLEAR_SANCTION:
        j->result = b->clear_sanction(b->db, j->username, j->sanction);
        break;
    case JOB_AUDIT_ADD:
        j->result =
            b->audit_add(b->db, j->audit.actor, j->audit.action, j->audit.target, j->audit.detail);
        break;
    case JOB_AUDIT_LIST:
        j->result = b->audit_list(b->db, j->after_id, j->limit, j->audit_entries, &j->count);
        if (j->result != STORE_OK) j->count = 0;
        break;
    case JOB_KV_LOAD:
        j->result = b->kv_load(b->db, &j->kv, &j->count);
        break;
    case JOB_KV_SAVE:
        j->result = b->kv_save(b->db, j->kv, j->count);
        break;
    case JOB_TOKEN_ISSUE:
        j->result = b->token_issue(b->db, j->account.user_id, j->token_hex, j->now_s, j->expires_s);
        break;
    case JOB_TOKEN_RESUME: {
        char owner[STORE_NAME_MAX + 1];
        j->result = b->token_owner(b->db, j->token_hex, j->now_s, owner);
        /* Another account's token is no token at all for this name. */
        if (j->result == STORE_OK && strcasecmp(owner, j->username) != 0)
            j->result = STORE_NOT_FOUND;
        if (j->result == STORE_OK) j->result = b->find(b->db, owner, &j->account);
        if (j->result != STORE_OK) memset(&j->account, 0, sizeof j->account);
        break;
    }
    case JOB_TOKEN_REVOKE:
        j->result = b->token_revoke(b->db, j->token_hex);
        break;
    case JOB_TOKEN_REVOKE_ACCOUNT:
        j->result = b->token_revoke_account(b->db, j->username);
        break;
    }
}

static void kv_free(store_kv *kv, size_t n)
{
    for (size_t i = 0; kv && i < n; i++) {
        free((char *)kv[i].key);
        free((char *)kv[i].value);
    }
    free(kv);
}

static void job_done(workpool_job *base)
{
    store_job *j = (store_job *)base;
    if (j->result == STORE_ERROR) log_error("store_failed", "request=%d", (int)j->kind);
    if (j->account_cb) j->account_cb(j->user, j->result, &j->account);
    if (j->done_cb) j->done_cb(j->user, j->result);
    if (j->list_cb) j->list_cb(j->user, j->result, j->entries, j->count);
    if (j->audit_cb) j->audit_cb(j->user, j->result, j->audit_entries, j->count);
    free(j->entries);
    free(j->audit_entries);
    if (j->kv_cb) j->kv_cb(j->user, j->result, j->kv, j->result == STORE_OK ? j->count : 0);
    kv_free(j->kv, j->count);
    free(j);
}

static store_job *job_new(store *s, enum job_kind kind, size_t positions)
{
    store_job *j = calloc(1, sizeof *j + positions * sizeof(store_position));
    if (!j) return NULL;
    j->base.work = job_work;
    j->base.done = job_done;
    j->store = s;
    j->kind = kind;
    return j;
}

static int job_submit(store *s, store_job *j)
{
    int rc = workpool_submit(s->pool, &j->base);
    if (rc != 0) {
        free(j->entries);
        free(j->audit_entries);
        kv_free(j->kv, j->count);
        free(j);
    }
    return rc;
}

static bool is_sqlite_url(const char *url)
{
    return strncmp(url, "sqlite:", 7) == 0 && url[7];
}

static bool is_pg_scheme(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

bool store_url_valid(const char *url)
{
    return url && (is_sqlite_url(url) || store_pg_url_valid(url));
}

void store_url_redact(const char *url, char *out, size_t n)
{
    if (n == 0) return;
    out[0] = '\0';
    if (!url) return;
    size_t o = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (o + 1 < n) out[o++] = (c);                                                             \
    } while (0)
#define PUTS(str)                                                                                  \
    for (const char *q_ = (str); *q_; q_++)                                                        \
    PUT(*q_)
    const char *p = url;
    const char *authority = strstr(url, "://");
    if (authority) {
        authority += 3;
        /* The user info ends at the last '@' before the query: a password with an unencoded
         * '@' or '/' is then masked whole rather than partly shown. */
        const char *query = strchr(authority, '?');
        const char *end = query ? query : authority + strlen(authority);
        const char *at = NULL;
        for (const char *q = authority; q < end; q++)
            if (*q == '@') at = q;
        const char *colon = at ? memchr(authority, ':', (size_t)(at - authority)) : NULL;
        if (colon) {
            for (; p <= colon; p++)
                PUT(*p);
            PUTS("***");
            p = at;
        }
    }
    const char *query = strchr(p, '?');
    for (; *p && p != query; p++)
        PUT(*p);
    /* Query parameters: password=VALUE up to the next '&'. */
    while (*p) {
        int is_password = strncmp(p + 1, "password=", 9) == 0;
        PUT(*p++); /* '?' or '&' */
        if (is_password) {
            PUTS("password=***");
            while (*p && *p != '&')
                p++;
        } else {
            while (*p && *p != '&')
                PUT(*p++);
        }
    }
    out[o] = '\0';
#undef PUTS
#undef PUT
}

store *store_open(uv_loop_t *loop, const char *url)
{
    store *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    int rc = STORE_ERROR;
    if (is_sqlite_url(url)) {
        rc = store_sqlite_open(url + 7, &s->backend);
    } else if (is_pg_scheme(url)) {
        rc = store_pg_open(url, &s->backend);
    } else {
        char shown[512];
        store_url_redact(url, shown, sizeof shown);
        log_error("store_open_failed", "url=%s reason=unsupported_scheme", shown);
    }
    if (rc == 0) s->pool = workpool_create(loop, 1, 0, "store");
    if (rc != 0 || !s->pool) {
        if (rc == 0) s->backend.close(s->backend.db);
        free(s);
        return NULL;
    }
    return s;
}

int store_find_account(store *s, const char *username, store_account_cb cb, void *user)
{
    if (strlen(username) > STORE_NAME_MAX) return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_FIND, 0);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    j->account_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_create_account(store *s, const char *username, const char *password_hash, int avatar_id,
                         store_account_cb cb, void *user)
{
    if (strlen(username) > STORE_NAME_MAX || strlen(password_hash) >= STORE_HASH_MAX)
        return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_CREATE, 0);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    strcpy(j->hash, password_hash);
    j->avatar = avatar_id;
    j->account_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_save_positions(store *s, const store_position *positions, size_t n, store_done_cb cb,
                         void *user)
{
    store_job *j = job_new(s, JOB_SAVE, n);
    if (!j) return -ENOMEM;
    if (n) memcpy(j->positions, positions, n * sizeof *positions); /* positions may be NULL */
    j->count = n;
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_list_accounts(store *s, const char *after, size_t limit, store_list_cb cb, void *user)
{
    if (limit == 0 || limit > STORE_LIST_MAX) return CMMO_EINVALID;
    if (strlen(after) > STORE_NAME_MAX) return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_LIST, 0);
    if (!j) return -ENOMEM;
    j->entries = calloc(limit, sizeof *j->entries);
    if (!j->entries) {
        free(j);
        return -ENOMEM;
    }
    strcpy(j->username, after);
    j->limit = limit;
    j->list_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_delete_account(store *s, const char *username, store_account_cb cb, void *user)
{
    if (strlen(username) > STORE_NAME_MAX) return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_DELETE, 0);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    j->account_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_set_password_hash(store *s, const char *username, const char *password_hash,
                            store_done_cb cb, void *user)
{
    if (strlen(username) > STORE_NAME_MAX || strlen(password_hash) >= STORE_HASH_MAX)
        return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_SET_PASSWORD, 0);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    strcpy(j->hash, password_hash);
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_set_sanction(store *s, const char *username, int kind, int64_t ends_at,
                       const char *reason, store_done_cb cb, void *user)
{
    if ((kind != STORE_BAN && kind != STORE_MUTE) || ends_at < 0) return CMMO_EINVALID;
    if (strlen(username) > STORE_NAME_MAX || strlen(reason) > STORE_REASON_MAX)
        return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_SET_SANCTION, 0);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    strcpy(j->reason, reason);
    j->sanction = kind;
    j->ends_at = ends_at;
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

/* ---------------------------------------------------------------- resume tokens */

static void token_hex(const uint8_t hash[STORE_TOKEN_HASH_BYTES],
                      char out[STORE_TOKEN_HASH_HEX + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < STORE_TOKEN_HASH_BYTES; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[STORE_TOKEN_HASH_HEX] = '\0';
}

/* A token job: its hash and the wall clock now (the store's time, not the game's: expiry must
 * hold across restarts and between servers sharing a database). */
static store_job *token_job(store *s, enum job_kind kind, const uint8_t *hash)
{
    store_job *j = job_new(s, kind, 0);
    if (!j) return NULL;
    if (hash) token_hex(hash, j->token_hex);
    j->now_s = (int64_t)time(NULL);
    return j;
}

int store_token_issue(store *s, int64_t user_id, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
                      int64_t ttl_s, store_done_cb cb, void *user)
{
    if (ttl_s < 0) return CMMO_EINVALID;
    store_job *j = token_job(s, JOB_TOKEN_ISSUE, hash);
    if (!j) return -ENOMEM;
    j->account.user_id = user_id;
    j->expires_s = j->now_s + ttl_s;
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_token_resume(store *s, const char *username, const uint8_t hash[STORE_TOKEN_HASH_BYTES],
                       store_account_cb cb, void *user)
{
    if (strlen(username) > STORE_NAME_MAX) return CMMO_ETOO_LONG;
    store_job *j = token_job(s, JOB_TOKEN_RESUME, hash);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    j->account_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_token_revoke(store *s, const uint8_t hash[STORE_TOKEN_HASH_BYTES], store_done_cb cb,
                       void *user)
{
    store_job *j = token_job(s, JOB_TOKEN_REVOKE, hash);
    if (!j) return -ENOMEM;
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_kv_load(store *s, store_kv_cb cb, void *user)
{
    store_job *j = job_new(s, JOB_KV_LOAD, 0);
    if (!j) return -ENOMEM;
    j->kv_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_clear_sanction(store *s, const char *username, int kind, store_done_cb cb, void *user)
{
    if (kind != STORE_BAN && kind != STORE_MUTE) return CMMO_EINVALID;
    if (strlen(username) > STORE_NAME_MAX) return CMMO_ETOO_LONG;
    store_job *j = job_new(s, JOB_CLEAR_SANCTION, 0);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    j->sanction = kind;
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

/* Copies at most cap - 1 bytes of text (the audit log's bounds cut, never refuse), not cutting
 * a UTF-8 character in two (PostgreSQL refuses a broken one). */
static void copy_cut(char *out, size_t cap, const char *text)
{
    size_t n = strnlen(text, cap - 1);
    if (text[n])
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
            n--;
    memcpy(out, text, n);
    out[n] = 0;
}

int store_audit_add(store *s, const char *actor, const char *action, const char *target,
                    const char *detail, store_done_cb cb, void *user)
{
    if (!actor || !action || !target || !detail) return CMMO_EINVALID;
    store_job *j = job_new(s, JOB_AUDIT_ADD, 0);
    if (!j) return -ENOMEM;
    copy_cut(j->audit.actor, sizeof j->audit.actor, actor);
    copy_cut(j->audit.action, sizeof j->audit.action, action);
    copy_cut(j->audit.target, sizeof j->audit.target, target);
    copy_cut(j->audit.detail, sizeof j->audit.detail, detail);
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_audit_list(store *s, int64_t after_id, size_t limit, store_audit_cb cb, void *user)
{
    if (limit == 0 || limit > STORE_AUDIT_PAGE_MAX) return CMMO_EINVALID;
    store_job *j = job_new(s, JOB_AUDIT_LIST, 0);
    if (!j) return -ENOMEM;
    j->audit_entries = calloc(limit, sizeof *j->audit_entries);
    if (!j->audit_entries) {
        free(j);
        return -ENOMEM;
    }
    j->after_id = after_id;
    j->limit = limit;
    j->audit_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_kv_save(store *s, const store_kv *entries, size_t n, store_done_cb cb, void *user)
{
    for (size_t i = 0; i < n; i++)
        if (!entries[i].key || !entries[i].key[0] || strlen(entries[i].key) > STORE_KV_KEY_MAX ||
            (entries[i].value && strlen(entries[i].value) > STORE_KV_VALUE_MAX))
            return CMMO_EINVALID;
    store_job *j = job_new(s, JOB_KV_SAVE, 0);
    if (!j) return -ENOMEM;
    j->kv = calloc(n ? n : 1, sizeof *j->kv);
    if (!j->kv) {
        free(j);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        j->kv[i].key = strdup(entries[i].key);
        j->kv[i].value = entries[i].value ? strdup(entries[i].value) : NULL;
        j->count = i + 1;
        if (!j->kv[i].key || (entries[i].value && !j->kv[i].value)) {
            kv_free(j->kv, j->count);
            free(j);
            return -ENOMEM;
        }
    }
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

int store_token_revoke_account(store *s, const char *username, store_done_cb cb, void *user)
{
    if (strlen(username) > STORE_NAME_MAX) return CMMO_ETOO_LONG;
    store_job *j = token_job(s, JOB_TOKEN_REVOKE_ACCOUNT, NULL);
    if (!j) return -ENOMEM;
    strcpy(j->username, username);
    j->done_cb = cb;
    j->user = user;
    return job_submit(s, j);
}

size_t store_pending(const store *s)
{
    return workpool_pending(s->pool);
}

void store_close(store *s)
{
    if (!s) return;
    workpool_destroy(s->pool);
    s->backend.close(s->backend.db);
    free(s);
}
