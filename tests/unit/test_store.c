/* Unit tests for store with a real libuv loop: accounts, case-insensitive names, positions,
 * submission order, persistence across reopen, bad URLs, and the administration requests
 * (listing, deleting, replacing a password hash).
 *
 * One suite, two backends: every shared case runs on SQLite (a temporary file) and, when
 * CMMO_TEST_PG_URL names a PostgreSQL server (tests/store/run.sh starts one), again on PostgreSQL
 * in a fresh database per case, as "pg: <case>". PostgreSQL-only cases (lost connections, a
 * 5,000-position batch in one statement, concurrent registration, migrations) are added then too.
 * Without CMMO_TEST_PG_URL the PostgreSQL cases are not registered at all, so they never count as
 * passed. With CMMO_TEST_PG_DIR (the directory of tests/support/pg.sh) the server-restart case is
 * added; it runs `${CMMO_TEST_PG_SH:-tests/support/pg.sh} halt|resume DIR`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store_loop.h"

#include <fcntl.h>
#include <ftw.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t loop;
static store *st;
static char tmp_dir[64];
static char url[1024];

/* PostgreSQL: the server's URL from the environment, a connection to it for creating and dropping
 * each case's database, and that database's name. */
static const char *pg_base_url;
static PGconn *pg_admin;
static char pg_db[64];
static int pg_db_count;

/* ---- callbacks that record what they were given ---- */

#define MAX_RESULTS 16
typedef struct result {
    int called;
    int code;
    store_account account;
} result;

static result results[MAX_RESULTS];
static int calls; /* callbacks run so far, in any result slot */

static void on_account(void *user, int code, const store_account *account)
{
    result *r = user;
    r->called++;
    r->code = code;
    if (account) r->account = *account;
    calls++;
}

static void on_done(void *user, int code)
{
    result *r = user;
    r->called++;
    r->code = code;
    calls++;
}

/* ---- running the loop ---- */

static int timed_out;
static void on_timeout(uv_timer_t *t)
{
    timed_out = 1;
}

/* Runs the loop until `calls` reaches want (fails after 10 s). */
static void run_until_calls(int want)
{
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timed_out = 0;
    uv_timer_start(&timer, on_timeout, 10000, 0);
    while (calls < want && !timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    if (timed_out) fail_msg("store callbacks did not come: %d of %d", calls, want);
}

/* ---- fixtures ---- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup_common(void)
{
    strcpy(tmp_dir, "/tmp/cmmo-store-XXXXXX");
    if (!mkdtemp(tmp_dir)) return -1;
    if (uv_loop_init(&loop) != 0) return -1;
    memset(results, 0, sizeof results);
    calls = 0;
    pg_db[0] = '\0';
    return 0;
}

static int setup(void **state)
{
    if (setup_common() != 0) return -1;
    snprintf(url, sizeof url, "sqlite:%s/test.db", tmp_dir);
    st = store_open(&loop, url);
    return st ? 0 : -1;
}

/* Runs SQL on the admin connection, reconnecting it first if a server restart cut it. Returns the
 * result (caller clears) or NULL after printing the error. */
static PGresult *pg_admin_exec(const char *sql)
{
    if (PQstatus(pg_admin) != CONNECTION_OK) PQreset(pg_admin);
    PGresult *res = PQexec(pg_admin, sql);
    if (PQstatus(pg_admin) != CONNECTION_OK) { /* found cut only now: once more */
        PQclear(res);
        PQreset(pg_admin);
        res = PQexec(pg_admin, sql);
    }
    ExecStatusType rc = PQresultStatus(res);
    if (rc != PGRES_COMMAND_OK && rc != PGRES_TUPLES_OK) {
        print_error("admin SQL failed: %s: %s", sql, PQerrorMessage(pg_admin));
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Writes into out the server URL with its database replaced by db (the query part kept). */
static void pg_url_for(const char *db, char *out, size_t n)
{
    const char *authority = strstr(pg_base_url, "://") + 3;
    const char *query = strchr(authority, '?');
    const char *slash = strchr(authority, '/');
    if (slash && query && slash > query) slash = NULL;
    size_t keep = slash ? (size_t)(slash - pg_base_url)
                        : (size_t)((query ? query : authority + strlen(authority)) - pg_base_url);
    snprintf(out, n, "%.*s/%s%s", (int)keep, pg_base_url, db, query ? query : "");
}

static int setup_pg(void **state)
{
    if (setup_common() != 0) return -1;
    snprintf(pg_db, sizeof pg_db, "cmmo_test_%d_%d", (int)getpid(), ++pg_db_count);
    char sql[256];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
    PQclear(pg_admin_exec(sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_db);
    PGresult *res = pg_admin_exec(sql);
    if (!res) return -1;
    PQclear(res);
    pg_url_for(pg_db, url, sizeof url);
    st = store_open(&loop, url);
    return st ? 0 : -1;
}

static void close_loop(void)
{
    for (int i = 0; i < 100 && uv_loop_close(&loop) == UV_EBUSY; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
}

static int teardown(void **state)
{
    store_close(st);
    st = NULL;
    close_loop();
    nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (pg_db[0]) {
        char sql[256];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_db);
        PQclear(pg_admin_exec(sql));
        pg_db[0] = '\0';
    }
    return 0;
}

/* Closes and reopens the store on the same file. */
static void reopen(void)
{
    store_close(st);
    st = store_open(&loop, url);
    assert_non_null(st);
}

static const char *hash_of(const char *name)
{
    static char h[STORE_HASH_MAX];
    snprintf(h, sizeof h, "$argon2id$v=19$m=12288,t=3,p=1$c2FsdHNhbHQ$%s-hash", name);
    return h;
}

/* Creates an account and waits for the answer in results[slot]. */
static void create(int slot, const char *name, int avatar)
{
    int want = calls + 1;
    assert_int_equal(
        store_create_account(st, name, hash_of(name), avatar, on_account, &results[slot]), 0);
    run_until_calls(want);
}

static void find(int slot, const char *name)
{
    int want = calls + 1;
    assert_int_equal(store_find_account(st, name, on_account, &results[slot]), 0);
    run_until_calls(want);
}

/* Saves n positions and waits for the answer in results[slot]. */
static void save(int slot, const store_position *p, size_t n)
{
    int want = calls + 1;
    assert_int_equal(store_save_positions(st, p, n, on_done, &results[slot]), 0);
    run_until_calls(want);
}

/* ---- tests ---- */

static void test_store_create_account_returns_new_ids_at_the_origin(void **state)
{
    create(0, "alice", 2);
    result *r = &results[0];
    assert_int_equal(r->called, 1);
    assert_int_equal(r->code, STORE_OK);
    assert_true(r->account.user_id > 0);
    assert_true(r->account.entity_id > 0);
    assert_true(r->account.instanced_entity_id > 0);
    assert_true(r->account.actor_id > 0);
    assert_string_equal(r->account.name, "alice");
    assert_int_equal(r->account.avatar_id, 2);
    assert_true(r->account.x == 0.0 && r->account.y == 0.0);
}

static void test_store_second_account_gets_different_ids(void **state)
{
    create(0, "alice", 2);
    create(1, "bob", 5);
    assert_int_equal(results[1].code, STORE_OK);
    assert_true(results[1].account.user_id != results[0].account.user_id);
    assert_true(results[1].account.entity_id != results[0].account.entity_id);
    assert_true(results[1].account.instanced_entity_id != results[0].account.instanced_entity_id);
    assert_true(results[1].account.actor_id != results[0].account.actor_id);
    assert_int_equal(results[1].account.avatar_id, 5);
}

static void test_store_duplicate_name_in_another_case_is_taken(void **state)
{
    create(0, "Alice", 1);
    assert_int_equal(results[0].code, STORE_OK);
    create(1, "alice", 3);
    assert_int_equal(results[1].code, STORE_TAKEN);
    create(2, "ALICE", 3);
    assert_int_equal(results[2].code, STORE_TAKEN);
    create(3, "Alice", 3);
    assert_int_equal(results[3].code, STORE_TAKEN);
    /* Nothing was created: the one account is the first one. */
    find(4, "alice");
    assert_int_equal(results[4].code, STORE_OK);
    assert_string_equal(results[4].account.name, "Alice");
    assert_int_equal(results[4].account.avatar_id, 1);
    assert_int_equal(results[4].account.actor_id, results[0].account.actor_id);
}

static void test_store_find_ignores_letter_case_and_keeps_the_registered_name(void **state)
{
    create(0, "MixedCase_1", 4);
    find(1, "mixedcase_1");
    find(2, "MIXEDCASE_1");
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(results[i].code, STORE_OK);
        assert_string_equal(results[i].account.name, "MixedCase_1");
        assert_string_equal(results[i].account.password_hash, hash_of("MixedCase_1"));
        assert_int_equal(results[i].account.avatar_id, 4);
        assert_int_equal(results[i].account.user_id, results[0].account.user_id);
        assert_int_equal(results[i].account.entity_id, results[0].account.entity_id);
        assert_int_equal(results[i].account.instanced_entity_id,
                         results[0].account.instanced_entity_id);
        assert_int_equal(results[i].account.actor_id, results[0].account.actor_id);
    }
}

static void test_store_find_of_unknown_name_is_not_found(void **state)
{
    create(0, "alice", 0);
    find(1, "bob");
    assert_int_equal(results[1].called, 1);
    assert_int_equal(results[1].code, STORE_NOT_FOUND);
    find(2, "alic");
    assert_int_equal(results[2].code, STORE_NOT_FOUND);
    find(3, "alice%");
    assert_int_equal(results[3].code, STORE_NOT_FOUND);
}

static void test_store_names_are_data_not_sql(void **state)
{
    create(0, "a'b\"c;--", 1);
    assert_int_equal(results[0].code, STORE_OK);
    find(1, "A'B\"C;--");
    assert_int_equal(results[1].code, STORE_OK);
    assert_string_equal(results[1].account.name, "a'b\"c;--");
    find(2, "' OR 1=1 --");
    assert_int_equal(results[2].code, STORE_NOT_FOUND);
}

static void test_store_saved_positions_are_found(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    store_position p[2] = {{results[0].account.instanced_entity_id, 3.1304951684997055, 100.5, 0},
                           {results[1].account.instanced_entity_id, 1344.0, 832.0, 0}};
    int want = calls + 1;
    assert_int_equal(store_save_positions(st, p, 2, on_done, &results[2]), 0);
    run_until_calls(want);
    assert_int_equal(results[2].code, STORE_OK);
    find(3, "alice");
    assert_true(results[3].account.x == 3.1304951684997055);
    assert_true(results[3].account.y == 100.5);
    find(4, "bob");
    assert_true(results[4].account.x == 1344.0);
    assert_true(results[4].account.y == 832.0);
}

static void test_store_requests_run_in_submission_order(void **state)
{
    /* Submitted back to back without waiting: the find sees the create, and the second save
     * wins over the first. */
    assert_int_equal(
        store_create_account(st, "carol", hash_of("carol"), 3, on_account, &results[0]), 0);
    assert_int_equal(store_find_account(st, "carol", on_account, &results[1]), 0);
    run_until_calls(2);
    assert_int_equal(results[0].code, STORE_OK);
    assert_int_equal(results[1].code, STORE_OK);
    int64_t ie = results[0].account.instanced_entity_id;
    store_position first = {ie, 10, 20, 0}, second = {ie, 30, 40, 0};
    assert_int_equal(store_save_positions(st, &first, 1, NULL, NULL), 0);
    assert_int_equal(store_save_positions(st, &second, 1, on_done, &results[2]), 0);
    assert_int_equal(store_find_account(st, "carol", on_account, &results[3]), 0);
    run_until_calls(4);
    assert_true(results[3].account.x == 30.0 && results[3].account.y == 40.0);
}

static void test_store_data_survives_close_and_reopen(void **state)
{
    create(0, "alice", 2);
    store_position p = {results[0].account.instanced_entity_id, 123.25, 456.5, 0};
    int want = calls + 1;
    assert_int_equal(store_save_positions(st, &p, 1, on_done, &results[1]), 0);
    run_until_calls(want);
    reopen();
    find(2, "ALICE");
    assert_int_equal(results[2].code, STORE_OK);
    assert_string_equal(results[2].account.name, "alice");
    assert_string_equal(results[2].account.password_hash, hash_of("alice"));
    assert_int_equal(results[2].account.avatar_id, 2);
    assert_int_equal(results[2].account.actor_id, results[0].account.actor_id);
    assert_true(results[2].account.x == 123.25 && results[2].account.y == 456.5);
    /* The name is still taken, and new ids do not reuse old ones. */
    create(3, "Alice", 1);
    assert_int_equal(results[3].code, STORE_TAKEN);
    create(4, "bob", 1);
    assert_int_equal(results[4].code, STORE_OK);
    assert_true(results[4].account.actor_id != results[0].account.actor_id);
    assert_true(results[4].account.user_id != results[0].account.user_id);
}

static void test_store_close_finishes_queued_requests(void **state)
{
    assert_int_equal(store_create_account(st, "dave", hash_of("dave"), 1, on_account, &results[0]),
                     0);
    assert_int_equal(store_find_account(st, "dave", on_account, &results[1]), 0);
    assert_true(store_pending(st) <= 2);
    store_close(st); /* runs the callbacks before returning */
    st = NULL;
    assert_int_equal(results[0].called, 1);
    assert_int_equal(results[1].called, 1);
    assert_int_equal(results[0].code, STORE_OK);
    assert_int_equal(results[1].code, STORE_OK);
    st = store_open(&loop, url);
    assert_non_null(st);
    find(2, "dave");
    assert_int_equal(results[2].code, STORE_OK);
}

static void test_store_pending_counts_unfinished_requests(void **state)
{
    assert_int_equal(store_pending(st), 0);
    assert_int_equal(store_find_account(st, "x", on_account, &results[0]), 0);
    assert_int_equal(store_find_account(st, "y", on_account, &results[1]), 0);
    assert_true(store_pending(st) >= 1 && store_pending(st) <= 2);
    run_until_calls(2);
    assert_int_equal(store_pending(st), 0);
}

static void test_store_too_long_name_never_calls_back(void **state)
{
    /* Refused at once with the bound's code, and the callback never runs. */
    const char *long_name = "abcdefghijklmnopqrstuvwxyz";
    assert_int_equal(store_find_account(st, long_name, on_account, &results[0]), CMMO_ETOO_LONG);
    assert_int_equal(store_create_account(st, long_name, hash_of("x"), 1, on_account, &results[1]),
                     CMMO_ETOO_LONG);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(results[0].called, 0);
    assert_int_equal(results[1].called, 0);
    assert_int_equal(store_pending(st), 0);
}

static void test_store_open_refuses_bad_urls(void **state)
{
    uv_loop_t l;
    assert_int_equal(uv_loop_init(&l), 0);
    const char *bad[] = {"",           "sqlite:",     "mysql://localhost/cmmo",
                         "postgres:x", "SQLITE:x.db", "sqlite:/nonexistent-cmmo-dir/deeper/x.db"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store *s = store_open(&l, bad[i]);
        if (s) {
            store_close(s);
            fail_msg("store_open accepted '%s'", bad[i]);
        }
    }
    assert_int_equal(uv_loop_close(&l), 0);
}

static void test_store_open_refuses_a_file_that_is_not_a_database(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/garbage.db", tmp_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 512; i++)
        fputs("this is not an sqlite database ", f);
    fclose(f);
    char bad_url[300];
    snprintf(bad_url, sizeof bad_url, "sqlite:%s", path);
    store *s = store_open(&loop, bad_url);
    if (s) {
        store_close(s);
        fail_msg("store_open accepted a non-database file");
    }
}

static void test_store_batch_naming_an_entity_twice_keeps_the_later_position(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    int64_t a = results[0].account.instanced_entity_id, b = results[1].account.instanced_entity_id;
    store_position p[4] = {{a, 1, 1, 0}, {b, 7, 8, 0}, {a, 2, 2, 0}, {a, 3.5, -4.25, 0}};
    save(2, p, 4);
    assert_int_equal(results[2].code, STORE_OK);
    find(3, "alice");
    assert_true(results[3].account.x == 3.5 && results[3].account.y == -4.25);
    find(4, "bob");
    assert_true(results[4].account.x == 7.0 && results[4].account.y == 8.0);
}

static void
test_store_saving_nothing_or_an_unknown_entity_succeeds_and_changes_nothing(void **state)
{
    create(0, "alice", 0);
    save(1, NULL, 0);
    assert_int_equal(results[1].called, 1);
    assert_int_equal(results[1].code, STORE_OK);
    store_position p = {results[0].account.instanced_entity_id + 1000, 5, 5, 0};
    save(2, &p, 1);
    assert_int_equal(results[2].code, STORE_OK);
    find(3, "alice");
    assert_true(results[3].account.x == 0.0 && results[3].account.y == 0.0);
}

static void test_store_only_ascii_letters_fold_in_names(void **state)
{
    /* Like SQLite's NOCASE: "É" and "é" are different names, "E" and "e" are not. */
    create(0, "\xc3\x89mile", 1);
    assert_int_equal(results[0].code, STORE_OK);
    create(1, "\xc3\xa9mile", 2);
    assert_int_equal(results[1].code, STORE_OK);
    create(2, "\xc3\x89MILE", 3);
    assert_int_equal(results[2].code, STORE_TAKEN);
    find(3, "\xc3\xa9MiLe");
    assert_int_equal(results[3].code, STORE_OK);
    assert_int_equal(results[3].account.actor_id, results[1].account.actor_id);
    assert_string_equal(results[3].account.name, "\xc3\xa9mile");
}

static void test_store_find_of_a_name_that_is_not_utf8_is_not_found(void **state)
{
    create(0, "alice", 1);
    find(1, "al\xffice");
    assert_int_equal(results[1].code, STORE_NOT_FOUND);
    find(2, "\xc3");
    assert_int_equal(results[2].code, STORE_NOT_FOUND);
    find(3, "alice"); /* the store still works after the refused parameter */
    assert_int_equal(results[3].code, STORE_OK);
}

static void test_store_url_valid_accepts_what_store_open_understands(void **state)
{
    const char *good[] = {"sqlite:x.db", "sqlite:/tmp/a b.db", "postgres://u@127.0.0.1:5432/db",
                          "postgresql://u:p@localhost/db?sslmode=disable", "postgres:///db"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!store_url_valid(good[i])) fail_msg("store_url_valid refused '%s'", good[i]);
    const char *bad[] = {"",
                         "sqlite:",
                         "SQLITE:x.db",
                         "mysql://localhost/cmmo",
                         "postgres:x",
                         "postgres//h/db",
                         "postgres://h/db?nonsense_option=1",
                         "postgresql://[::1/db"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (store_url_valid(bad[i])) fail_msg("store_url_valid accepted '%s'", bad[i]);
    assert_false(store_url_valid(NULL));
}

static void test_store_url_redact_hides_passwords_only(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"sqlite:data/cmmo.db", "sqlite:data/cmmo.db"},
        {"postgres://cmmo@127.0.0.1:5432/cmmo", "postgres://cmmo@127.0.0.1:5432/cmmo"},
        {"postgres://cmmo:hunter2@db:5432/cmmo", "postgres://cmmo:***@db:5432/cmmo"},
        {"postgresql://u:p%40ss@h/d?sslmode=require", "postgresql://u:***@h/d?sslmode=require"},
        {"postgres://u:pa@ss/w@h/d", "postgres://u:***@h/d"},
        {"postgres://h/d?user=u&password=hunter2&sslmode=disable",
         "postgres://h/d?user=u&password=***&sslmode=disable"},
        {"postgres://u:a@h/d?password=b", "postgres://u:***@h/d?password=***"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        store_url_redact(cases[i].in, out, sizeof out);
        assert_string_equal(out, cases[i].out);
    }
    /* Truncation keeps the string terminated and never shows more than the redacted form. */
    store_url_redact("postgres://cmmo:hunter2@db/cmmo", out, 20);
    assert_string_equal(out, "postgres://cmmo:***");
}

/* ---- PostgreSQL only ---- */

/* Runs fn with stderr (where log lines go) sent to a file, and returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
    char path[128];
    snprintf(path, sizeof path, "%s/stderr.txt", tmp_dir);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Writes u (scheme://user@host...) into out with ":password" after the user. */
static void with_password(const char *u, const char *password, char *out, size_t n)
{
    const char *at = strchr(u, '@');
    assert_non_null(at);
    snprintf(out, n, "%.*s:%s%s", (int)(at - u), u, password, at);
}

static void open_with_passwords(void)
{
    char u[1100], missing[1100];
    /* Unreachable server, a password in the user info and in the query. */
    store *s = store_open(&loop, "postgres://cmmo:Sekrit-one@127.0.0.1:1/x?connect_timeout=2");
    if (s) store_close(s);
    s = store_open(&loop, "postgres://127.0.0.1:1/x?user=cmmo&password=Sekrit-two");
    if (s) store_close(s);
    /* The real server (trust authentication ignores the password), a database that is not. */
    pg_url_for("cmmo_no_such_database", missing, sizeof missing);
    with_password(missing, "Sekrit-three", u, sizeof u);
    s = store_open(&loop, u);
    if (s) store_close(s);
    /* The real server and database: success is logged too. */
    with_password(url, "Sekrit-four", u, sizeof u);
    s = store_open(&loop, u);
    assert_non_null(s);
    store_close(s);
}

static void test_pg_logs_never_show_the_password(void **state)
{
    const char *log = capture_stderr(open_with_passwords);
    fputs(log, stderr); /* shown, so a reader can see what was checked */
    if (strstr(log, "Sekrit-one") || strstr(log, "Sekrit-two") || strstr(log, "Sekrit-three") ||
        strstr(log, "Sekrit-four"))
        fail_msg("a password reached the log:\n%s", log);
    /* ...while the failures were logged at all. */
    assert_non_null(strstr(log, "store_open_failed"));
    assert_non_null(strstr(log, "pg_connected"));
}

static void test_pg_open_refuses_unreachable_servers_and_missing_databases(void **state)
{
    char missing[1100];
    pg_url_for("cmmo_no_such_database", missing, sizeof missing);
    const char *bad[] = {"postgres://cmmo@127.0.0.1:1/cmmo?connect_timeout=2", missing,
                         "postgresql://[::1/db", "postgres://h/db?nonsense_option=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store *s = store_open(&loop, bad[i]);
        if (s) {
            store_close(s);
            fail_msg("store_open accepted '%s'", bad[i]);
        }
    }
}

/* Ends the store's server sessions (as a server restart or an idle kill would) and waits until
 * the server has really let them go. */
static void cut_store_connections(void)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'", pg_db);
    PGresult *res = pg_admin_exec(sql);
    assert_non_null(res);
    assert_true(PQntuples(res) >= 1);
    PQclear(res);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'", pg_db);
    for (int i = 0; i < 200; i++) {
        res = pg_admin_exec(sql);
        assert_non_null(res);
        int left = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (left == 0) return;
        usleep(10000);
    }
    fail_msg("the store's sessions did not end");
}

static void test_pg_request_on_a_cut_connection_fails_and_the_next_one_reconnects(void **state)
{
    create(0, "alice", 2);
    assert_int_equal(results[0].code, STORE_OK);
    cut_store_connections();
    find(1, "alice");
    assert_int_equal(results[1].code, STORE_ERROR);
    find(2, "alice");
    assert_int_equal(results[2].code, STORE_OK);
    assert_int_equal(results[2].account.actor_id, results[0].account.actor_id);
    /* Every kind of request works again on the new connection (statements prepared anew). */
    store_position p = {results[0].account.instanced_entity_id, 9, 10, 0};
    save(3, &p, 1);
    assert_int_equal(results[3].code, STORE_OK);
    create(4, "bob", 1);
    assert_int_equal(results[4].code, STORE_OK);
    cut_store_connections();
    save(5, &p, 1);
    assert_int_equal(results[5].code, STORE_ERROR);
    find(6, "ALICE");
    assert_int_equal(results[6].code, STORE_OK);
    assert_true(results[6].account.x == 9.0 && results[6].account.y == 10.0);
}

static int pg_ctl(const char *action)
{
    const char *script = getenv("CMMO_TEST_PG_SH");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s '%s' >&2", script && *script ? script : "tests/support/pg.sh",
             action, getenv("CMMO_TEST_PG_DIR"));
    return system(cmd);
}

static void test_pg_requests_during_a_server_restart_fail_and_later_ones_succeed(void **state)
{
    create(0, "alice", 2);
    assert_int_equal(results[0].code, STORE_OK);
    assert_int_equal(pg_ctl("halt"), 0);
    find(1, "alice");
    store_position p = {results[0].account.instanced_entity_id, 11, 12, 0};
    save(2, &p, 1);
    create(3, "bob", 1);
    int resumed = pg_ctl("resume");
    assert_int_equal(resumed, 0);
    /* After a failed reconnect the store waits a second before trying again. */
    usleep(1100 * 1000);
    assert_int_equal(results[1].code, STORE_ERROR);
    assert_int_equal(results[2].code, STORE_ERROR);
    assert_int_equal(results[3].code, STORE_ERROR);
    find(4, "alice");
    assert_int_equal(results[4].code, STORE_OK);
    assert_true(results[4].account.x == 0.0); /* the save during the outage did not happen */
    save(5, &p, 1);
    assert_int_equal(results[5].code, STORE_OK);
    create(6, "bob", 1);
    assert_int_equal(results[6].code, STORE_OK); /* nor did the create */
    find(7, "alice");
    assert_true(results[7].account.x == 11.0 && results[7].account.y == 12.0);
}

/* Freezes (SIGSTOP) the server processes serving the store's connection to the case database, and
 * forks a child that thaws them after thaw_ms whatever happens (so a request with no deadline
 * hangs only that long). Returns the child's pid. */
static pid_t freeze_store_backends(int thaw_ms)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT pid FROM pg_stat_activity WHERE datname = '%s' AND application_name = 'cmmo'",
             pg_db);
    PGresult *res = pg_admin_exec(sql);
    assert_non_null(res);
    int n = PQntuples(res);
    assert_true(n >= 1);
    pid_t pids[16];
    for (int i = 0; i < n && i < 16; i++) {
        pids[i] = (pid_t)atoi(PQgetvalue(res, i, 0));
        assert_int_equal(kill(pids[i], SIGSTOP), 0);
    }
    PQclear(res);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        usleep((useconds_t)thaw_ms * 1000);
        for (int i = 0; i < n && i < 16; i++)
            kill(pids[i], SIGCONT);
        _exit(0);
    }
    return child;
}

/* Every statement, the sanction, audit and script-value ones too, is bounded by the store's
 * request deadline: against a frozen server they fail in about a second, never wait for the thaw.
 */
static void test_pg_requests_to_a_frozen_server_fail_within_the_deadline(void **state)
{
    create(0, "alice", 2);
    assert_int_equal(results[0].code, STORE_OK);
    pid_t thaw = freeze_store_backends(8000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int want = calls + 4;
    assert_int_equal(store_set_sanction(st, "alice", STORE_BAN, 0, "", on_done, &results[1]), 0);
    assert_int_equal(store_audit_add(st, "cli:0", "ban", "alice", "", on_done, &results[2]), 0);
    store_kv kv = {"k", "s1"};
    assert_int_equal(store_kv_save(st, &kv, 1, on_done, &results[3]), 0);
    assert_int_equal(store_clear_sanction(st, "alice", STORE_MUTE, on_done, &results[4]), 0);
    run_until_calls(want);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(results[i].code, STORE_ERROR);
    int status;
    waitpid(thaw, &status, 0);
    /* The first request waits out the deadline (1 s) and abandons the connection; the others
     * fail at once. Without deadlines they would all wait for the thaw, 8 s later. */
    if (waited > 5.0) fail_msg("requests to a frozen server took %.1f s", waited);
}

/* Opens a connection of the test's own to the case's database. */
static PGconn *pg_connect_case_db(void)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) fail_msg("connect: %s", PQerrorMessage(c));
    return c;
}

static long long pg_value(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        print_error("%s: %s", sql, PQerrorMessage(c));
        PQclear(res);
        fail();
    }
    long long v = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return v;
}

static void pg_run(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        print_error("%s: %s", sql, PQerrorMessage(c));
        PQclear(res);
        fail();
    }
    PQclear(res);
}

#define BIG_BATCH 5000

static void test_pg_batch_of_5000_positions_is_one_statement(void **state)
{
    /* 5,000 instanced entities made directly (accounts are not needed to move them), and a
     * statement-level trigger that counts the UPDATE statements run on the table. */
    PGconn *c = pg_connect_case_db();
    pg_run(c, "INSERT INTO entity(name) SELECT 'e' || g FROM generate_series(1, 5000) g");
    pg_run(c, "INSERT INTO instanced_entity(entity_id) SELECT id FROM entity ORDER BY id");
    pg_run(c, "CREATE TABLE update_statements (n integer NOT NULL);"
              "INSERT INTO update_statements VALUES (0);"
              "CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS "
              "$$ BEGIN UPDATE update_statements SET n = n + 1; RETURN NULL; END $$;"
              "CREATE TRIGGER count_update AFTER UPDATE ON instanced_entity "
              "FOR EACH STATEMENT EXECUTE FUNCTION count_update()");
    long long first = pg_value(c, "SELECT min(id) FROM instanced_entity");
    assert_int_equal(pg_value(c, "SELECT count(*) FROM instanced_entity"), BIG_BATCH);
    static store_position p[BIG_BATCH];
    for (int i = 0; i < BIG_BATCH; i++) {
        /* Values that are exact in binary, so SQL below can compute the same doubles, plus a
         * fraction that is not, checked by find in the shared cases. */
        p[i] = (store_position){first + i, i + 0.25, -2.0 * i - 0.5, 0};
    }
    save(0, p, BIG_BATCH);
    assert_int_equal(results[0].code, STORE_OK);
    assert_int_equal(pg_value(c, "SELECT n FROM update_statements"), 1);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM instanced_entity WHERE x = (id - %lld) + 0.25 "
             "AND y = -2.0 * (id - %lld) - 0.5",
             first, first);
    assert_int_equal(pg_value(c, sql), BIG_BATCH);
    /* A second batch is a second statement, not a continuation of the first. */
    save(1, p, 10);
    assert_int_equal(pg_value(c, "SELECT n FROM update_statements"), 2);
    PQfinish(c);
}

static void test_pg_two_stores_registering_one_name_at_once_give_exactly_one_ok(void **state)
{
    store *other = store_open(&loop, url);
    assert_non_null(other);
    enum { ROUNDS = 25 };
    for (int round = 0; round < ROUNDS; round++) {
        char lower[32], upper[32];
        snprintf(lower, sizeof lower, "racer%d", round);
        snprintf(upper, sizeof upper, "RACER%d", round);
        memset(results, 0, 3 * sizeof results[0]);
        int want = calls + 2;
        assert_int_equal(
            store_create_account(st, lower, hash_of(lower), 1, on_account, &results[0]), 0);
        assert_int_equal(
            store_create_account(other, upper, hash_of(upper), 2, on_account, &results[1]), 0);
        run_until_calls(want);
        int ok = (results[0].code == STORE_OK) + (results[1].code == STORE_OK);
        int taken = (results[0].code == STORE_TAKEN) + (results[1].code == STORE_TAKEN);
        if (ok != 1 || taken != 1)
            fail_msg("round %d: results %d and %d", round, results[0].code, results[1].code);
        const result *winner = results[0].code == STORE_OK ? &results[0] : &results[1];
        find(2, lower);
        assert_int_equal(results[2].code, STORE_OK);
        assert_int_equal(results[2].account.actor_id, winner->account.actor_id);
        assert_string_equal(results[2].account.name, winner->account.name);
    }
    store_close(other);
    /* No half-made account was left by a loser: one user row per actor. */
    PGconn *c = pg_connect_case_db();
    assert_int_equal(pg_value(c, "SELECT count(*) FROM \"user\""), ROUNDS);
    assert_int_equal(pg_value(c, "SELECT count(*) FROM actor"), ROUNDS);
    assert_int_equal(pg_value(c, "SELECT count(*) FROM entity"), ROUNDS);
    assert_int_equal(pg_value(c, "SELECT count(*) FROM instanced_entity"), ROUNDS);
    PQfinish(c);
}

/* Migrations in store_pg.c's list: 1 the tutorial's tables, 2 sanctions and the audit log,
 * 3 script_store, 4 resume tokens. */
#define PG_MIGRATIONS 4

static void test_pg_schema_is_versioned_and_reopening_migrates_nothing(void **state)
{
    PGconn *c = pg_connect_case_db();
    assert_int_equal(pg_value(c, "SELECT max(version) FROM schema_version"), PG_MIGRATIONS);
    assert_int_equal(pg_value(c, "SELECT count(*) FROM schema_version"), PG_MIGRATIONS);
    reopen();
    reopen();
    assert_int_equal(pg_value(c, "SELECT count(*) FROM schema_version"), PG_MIGRATIONS);
    /* The name index is what makes names unique ignoring case. */
    assert_int_equal(pg_value(c, "SELECT count(*) FROM pg_indexes WHERE tablename = 'user' "
                                 "AND indexdef LIKE '%UNIQUE%lower(username)%'"),
                     1);
    PQfinish(c);
}

static void token_issue(int slot, int64_t user_id, int seed, int64_t ttl_s);
static void token_resume(int slot, const char *name, int seed);

/* A database of schema version 3 (before resume tokens) keeps its accounts and gains the table. */
static void test_pg_version_1_database_migrates_to_resume_tokens(void **state)
{
    create(0, "alice", 2);
    store_close(st);
    st = NULL;
    PGconn *c = pg_connect_case_db();
    pg_run(c, "DROP TABLE resume_token");
    pg_run(c, "DROP FUNCTION cmmo_revoke_resume_tokens CASCADE");
    pg_run(c, "DELETE FROM schema_version WHERE version = 4");
    st = store_open(&loop, url);
    assert_non_null(st);
    assert_int_equal(pg_value(c, "SELECT max(version) FROM schema_version"), PG_MIGRATIONS);
    PQfinish(c);
    token_issue(1, results[0].account.user_id, 1, 3600);
    token_resume(2, "alice", 1);
    assert_int_equal(results[2].code, STORE_OK);
    assert_int_equal(results[2].account.avatar_id, 2);
}

typedef struct opener {
    pthread_t thread;
    const char *url;
    int opened;
} opener;

static void *open_on_own_loop(void *arg)
{
    opener *o = arg;
    uv_loop_t l;
    if (uv_loop_init(&l) != 0) return NULL;
    store *s = store_open(&l, o->url);
    o->opened = s != NULL;
    store_close(s);
    uv_run(&l, UV_RUN_NOWAIT);
    uv_loop_close(&l);
    return NULL;
}

static void test_pg_servers_starting_together_on_an_empty_database_all_open(void **state)
{
    /* The fixture's store already made the schema here; this case wants a database that is
     * still empty when several servers start on it at once. */
    char sql[256], fresh_db[80], fresh_url[1100];
    snprintf(fresh_db, sizeof fresh_db, "%s_empty", pg_db);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", fresh_db);
    PGresult *res = pg_admin_exec(sql);
    assert_non_null(res);
    PQclear(res);
    pg_url_for(fresh_db, fresh_url, sizeof fresh_url);
    enum { OPENERS = 6 };
    opener o[OPENERS];
    for (int i = 0; i < OPENERS; i++) {
        o[i] = (opener){.url = fresh_url};
        assert_int_equal(pthread_create(&o[i].thread, NULL, open_on_own_loop, &o[i]), 0);
    }
    int opened = 0;
    for (int i = 0; i < OPENERS; i++) {
        pthread_join(o[i].thread, NULL);
        opened += o[i].opened;
    }
    PGconn *c = PQconnectdb(fresh_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    long long versions = pg_value(c, "SELECT count(*) FROM schema_version");
    PQfinish(c);
    snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", fresh_db);
    PQclear(pg_admin_exec(sql));
    assert_int_equal(opened, OPENERS);
    assert_int_equal(versions, PG_MIGRATIONS); /* each migration applied once */
    assert_int_equal(versions, PG_MIGRATIONS);
}

static void test_pg_open_refuses_a_database_from_a_newer_schema(void **state)
{
    create(0, "alice", 1);
    store_close(st);
    st = NULL;
    PGconn *c = pg_connect_case_db();
    pg_run(c, "INSERT INTO schema_version(version) VALUES (999)");
    store *s = store_open(&loop, url);
    if (s) {
        store_close(s);
        fail_msg("store_open accepted a schema it does not know");
    }
    /* Nothing was changed by the refused open. */
    assert_int_equal(pg_value(c, "SELECT max(version) FROM schema_version"), 999);
    assert_int_equal(pg_value(c, "SELECT count(*) FROM \"user\""), 1);
    PQfinish(c);
}

/* ---- account administration: list, delete, set password (both backends) ---- */

/* The test's own connection to the case's database, for what the store interface does not show
 * (rows per table). SQL here must read the same in both dialects. */
static long long raw_value(const char *sql)
{
    if (strncmp(url, "sqlite:", 7) != 0) {
        PGconn *c = pg_connect_case_db();
        long long v = pg_value(c, sql);
        PQfinish(c);
        return v;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open(url + 7, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    long long v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void raw_run(const char *sql)
{
    if (strncmp(url, "sqlite:", 7) != 0) {
        PGconn *c = pg_connect_case_db();
        pg_run(c, sql);
        PQfinish(c);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(url + 7, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* Rows in each of the four tables, as one number per table: user*1000 + entity*100 + ... */
static long long rows_per_table(void)
{
    return raw_value("SELECT count(*) FROM \"user\"") * 1000 +
           raw_value("SELECT count(*) FROM entity") * 100 +
           raw_value("SELECT count(*) FROM instanced_entity") * 10 +
           raw_value("SELECT count(*) FROM actor");
}

#define LIST_PAGE_MAX 8
static store_account_entry listed[LIST_PAGE_MAX];
static size_t listed_n;
static int listed_code;

static void on_list(void *user, int code, const store_account_entry *entries, size_t n)
{
    listed_code = code;
    listed_n = n;
    assert_true(n <= LIST_PAGE_MAX);
    memcpy(listed, entries, n * sizeof *entries);
    calls++;
}

/* Lists one page (limit <= LIST_PAGE_MAX) into listed[]. */
static void list_page(const char *after, size_t limit)
{
    int want = calls + 1;
    listed_n = 99;
    assert_int_equal(store_list_accounts(st, after, limit, on_list, NULL), 0);
    run_until_calls(want);
}

static void delete_account(int slot, const char *name)
{
    int want = calls + 1;
    assert_int_equal(store_delete_account(st, name, on_account, &results[slot]), 0);
    run_until_calls(want);
}

static void set_password(int slot, const char *name, const char *hash)
{
    int want = calls + 1;
    assert_int_equal(store_set_password_hash(st, name, hash, on_done, &results[slot]), 0);
    run_until_calls(want);
}

static void test_store_list_pages_accounts_by_name_ignoring_letter_case(void **state)
{
    time_t before = time(NULL);
    /* In order ignoring case: A-b ('-' 0x2d), a_b ('_' 0x5f), ab, bob, Carol. */
    const char *names[] = {"bob", "Carol", "ab", "a_b", "A-b"};
    for (int i = 0; i < 5; i++)
        create(i, names[i], i);
    store_position p = {results[0].account.instanced_entity_id, 12.5, -3.25, 0};
    save(5, &p, 1);

    list_page("", 2);
    assert_int_equal(listed_code, STORE_OK);
    assert_int_equal(listed_n, 2);
    assert_string_equal(listed[0].name, "A-b");
    assert_string_equal(listed[1].name, "a_b");
    assert_int_equal(listed[1].avatar_id, 3);
    assert_int_equal(listed[1].user_id, results[3].account.user_id);
    assert_true(listed[1].created_at >= before - 1 && listed[1].created_at <= time(NULL) + 1);

    list_page("A_B", 2); /* the cursor ignores case too */
    assert_int_equal(listed_n, 2);
    assert_string_equal(listed[0].name, "ab");
    assert_string_equal(listed[1].name, "bob");
    assert_true(listed[1].x == 12.5 && listed[1].y == -3.25);

    list_page("bob", 2);
    assert_int_equal(listed_n, 1); /* short: the last page */
    assert_string_equal(listed[0].name, "Carol");
    assert_int_equal(listed[0].avatar_id, 1);

    list_page("Carol", 2);
    assert_int_equal(listed_code, STORE_OK);
    assert_int_equal(listed_n, 0);
}

static void test_store_list_of_an_empty_store_is_ok_and_empty(void **state)
{
    list_page("", LIST_PAGE_MAX);
    assert_int_equal(listed_code, STORE_OK);
    assert_int_equal(listed_n, 0);
}

static void test_store_list_refuses_a_bad_limit_or_cursor_without_calling_back(void **state)
{
    char long_name[STORE_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(store_list_accounts(st, "", 0, on_list, NULL), CMMO_EINVALID);
    assert_int_equal(store_list_accounts(st, "", STORE_LIST_MAX + 1, on_list, NULL), CMMO_EINVALID);
    assert_int_equal(store_list_accounts(st, long_name, 1, on_list, NULL), CMMO_ETOO_LONG);
    assert_int_equal(store_pending(st), 0);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(calls, 0);
}

static void test_store_delete_removes_every_row_of_the_account_and_frees_the_name(void **state)
{
    create(0, "Alice", 2);
    create(1, "bob", 3);
    assert_int_equal(rows_per_table(), 2222);
    delete_account(2, "ALICE");
    assert_int_equal(results[2].code, STORE_OK);
    assert_string_equal(results[2].account.name, "Alice"); /* as registered */
    assert_int_equal(results[2].account.user_id, results[0].account.user_id);
    assert_int_equal(results[2].account.actor_id, results[0].account.actor_id);
    assert_int_equal(results[2].account.instanced_entity_id,
                     results[0].account.instanced_entity_id);
    assert_int_equal(results[2].account.entity_id, results[0].account.entity_id);
    assert_int_equal(rows_per_table(), 1111); /* bob's rows only */
    find(3, "alice");
    assert_int_equal(results[3].code, STORE_NOT_FOUND);
    find(4, "bob");
    assert_int_equal(results[4].code, STORE_OK);
    assert_int_equal(results[4].account.actor_id, results[1].account.actor_id);
    create(5, "alice", 4); /* the name is free again */
    assert_int_equal(results[5].code, STORE_OK);
    delete_account(6, "alice");
    delete_account(7, "alice");
    assert_int_equal(results[7].code, STORE_NOT_FOUND);
    delete_account(8, "\xff\xfe"); /* not UTF-8: PostgreSQL refuses it, no name can match */
    assert_int_equal(results[8].code, STORE_NOT_FOUND);
    assert_int_equal(rows_per_table(), 1111);
}

static void test_store_delete_of_a_half_made_account_removes_what_exists(void **state)
{
    /* Before creation was one transaction, a failure could leave a user without an actor. */
    raw_run("INSERT INTO \"user\"(username, password_hash) VALUES ('half', 'h')");
    create(0, "whole", 1);
    list_page("", LIST_PAGE_MAX);
    assert_int_equal(listed_n, 2);
    assert_string_equal(listed[0].name, "half");
    assert_int_equal(listed[0].avatar_id, 0);
    delete_account(1, "Half");
    assert_int_equal(results[1].code, STORE_OK);
    assert_string_equal(results[1].account.name, "half");
    assert_true(results[1].account.user_id > 0);
    assert_int_equal(results[1].account.actor_id, 0);
    assert_int_equal(results[1].account.entity_id, 0);
    assert_int_equal(rows_per_table(), 1111);
}

static void test_store_set_password_hash_changes_that_account_only(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    set_password(2, "ALICE", "$argon2id$new");
    assert_int_equal(results[2].code, STORE_OK);
    find(3, "alice");
    assert_string_equal(results[3].account.password_hash, "$argon2id$new");
    assert_int_equal(results[3].account.actor_id, results[0].account.actor_id);
    find(4, "bob");
    assert_string_equal(results[4].account.password_hash, hash_of("bob"));
    set_password(5, "carol", "$argon2id$x");
    assert_int_equal(results[5].code, STORE_NOT_FOUND);
    set_password(6, "\xff\xfe", "$argon2id$x");
    assert_int_equal(results[6].code, STORE_NOT_FOUND);
}

static void test_store_set_password_refuses_a_too_long_name_or_hash(void **state)
{
    char long_hash[STORE_HASH_MAX + 1];
    memset(long_hash, 'h', sizeof long_hash - 1);
    long_hash[sizeof long_hash - 1] = '\0';
    create(0, "alice", 0);
    assert_int_equal(store_set_password_hash(st, "alice", long_hash, on_done, &results[1]),
                     CMMO_ETOO_LONG);
    assert_int_equal(
        store_set_password_hash(st, "a23456789012345678901", "$h", on_done, &results[1]),
        CMMO_ETOO_LONG);
    assert_int_equal(store_delete_account(st, "a23456789012345678901", on_account, &results[1]),
                     CMMO_ETOO_LONG);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(results[1].called, 0);
}

static void sanction(int slot, const char *name, int kind, int64_t ends_at, const char *reason)
{
    int want = calls + 1;
    assert_int_equal(store_set_sanction(st, name, kind, ends_at, reason, on_done, &results[slot]),
                     0);
    run_until_calls(want);
}

static void unsanction(int slot, const char *name, int kind)
{
    int want = calls + 1;
    assert_int_equal(store_clear_sanction(st, name, kind, on_done, &results[slot]), 0);
    run_until_calls(want);
}

static void test_store_bans_and_mutes_are_read_with_the_account_until_they_end(void **state)
{
    int64_t now = (int64_t)time(NULL);
    create(0, "alice", 0);
    create(1, "bob", 0);
    find(2, "alice");
    assert_false(results[2].account.ban.active);
    assert_false(results[2].account.mute.active);
    sanction(3, "ALICE", STORE_BAN, 0, "spam");
    assert_int_equal(results[3].code, STORE_OK);
    sanction(3, "alice", STORE_MUTE, now + 100, "");
    assert_int_equal(results[3].code, STORE_OK);
    find(4, "alice");
    const store_account *a = &results[4].account;
    assert_true(a->ban.active);
    assert_int_equal(a->ban.ends_at, 0);
    assert_int_equal(a->ban.seconds_left, 0);
    assert_string_equal(a->ban.reason, "spam");
    assert_true(a->mute.active);
    assert_true(a->mute.seconds_left > 90 && a->mute.seconds_left <= 100);
    find(5, "bob"); /* only that account */
    assert_false(results[5].account.ban.active || results[5].account.mute.active);
    /* Replaced, not added: a ban that ended reads as none. */
    sanction(6, "alice", STORE_BAN, now - 10, "old");
    unsanction(7, "alice", STORE_MUTE);
    assert_int_equal(results[7].code, STORE_OK);
    find(8, "alice");
    assert_false(results[8].account.ban.active);
    assert_false(results[8].account.mute.active);
    sanction(9, "carol", STORE_BAN, 0, "x");
    assert_int_equal(results[9].code, STORE_NOT_FOUND);
    unsanction(10, "carol", STORE_BAN);
    assert_int_equal(results[10].code, STORE_NOT_FOUND);
    /* Deleting the account deletes its sanctions: the name registered again is clean. */
    sanction(11, "bob", STORE_BAN, 0, "gone");
    int want = calls + 1;
    assert_int_equal(store_delete_account(st, "bob", on_account, &results[12]), 0);
    run_until_calls(want);
    create(13, "bob", 0);
    find(14, "bob");
    assert_false(results[14].account.ban.active);
    /* Refused without a callback. */
    char long_reason[STORE_REASON_MAX + 2];
    memset(long_reason, 'r', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = 0;
    assert_int_equal(store_set_sanction(st, "alice", STORE_BAN, 0, long_reason, NULL, NULL),
                     CMMO_ETOO_LONG);
    assert_int_equal(store_set_sanction(st, "alice", 7, 0, "", NULL, NULL), CMMO_EINVALID);
    assert_int_equal(store_set_sanction(st, "alice", STORE_BAN, -1, "", NULL, NULL), CMMO_EINVALID);
    assert_int_equal(store_clear_sanction(st, "alice", -1, NULL, NULL), CMMO_EINVALID);
}

static store_audit_entry audit_seen[8];
static size_t audit_seen_n;

static void on_audit(void *user, int code, const store_audit_entry *entries, size_t n)
{
    result *r = user;
    r->called++;
    r->code = code;
    audit_seen_n = n < 8 ? n : 8;
    memcpy(audit_seen, entries, audit_seen_n * sizeof *entries);
    calls++;
}

static void test_store_audit_log_lists_entries_in_order_by_page(void **state)
{
    int64_t before = (int64_t)time(NULL);
    char long_target[STORE_AUDIT_TARGET_MAX + 50];
    memset(long_target, 't', sizeof long_target - 1);
    long_target[sizeof long_target - 1] = 0;
    assert_int_equal(store_audit_add(st, "cli:1000", "ban", "alice", "for 1h: spam", NULL, NULL),
                     0);
    assert_int_equal(store_audit_add(st, "socket:1000", "kick", "bob", "", NULL, NULL), 0);
    int want = calls + 1;
    assert_int_equal(
        store_audit_add(st, "cli:0", "import", long_target, "3 imported", on_done, &results[0]), 0);
    run_until_calls(want);
    assert_int_equal(results[0].code, STORE_OK);
    want = calls + 1;
    assert_int_equal(store_audit_list(st, 0, 2, on_audit, &results[1]), 0);
    run_until_calls(want);
    assert_int_equal(results[1].code, STORE_OK);
    assert_int_equal(audit_seen_n, 2);
    assert_string_equal(audit_seen[0].actor, "cli:1000");
    assert_string_equal(audit_seen[0].action, "ban");
    assert_string_equal(audit_seen[0].target, "alice");
    assert_string_equal(audit_seen[0].detail, "for 1h: spam");
    assert_true(audit_seen[0].at >= before && audit_seen[0].at <= before + 60);
    assert_string_equal(audit_seen[1].action, "kick");
    assert_true(audit_seen[1].id > audit_seen[0].id);
    int64_t last = audit_seen[1].id;
    want = calls + 1;
    assert_int_equal(store_audit_list(st, last, 2, on_audit, &results[2]), 0);
    run_until_calls(want);
    assert_int_equal(audit_seen_n, 1);
    assert_string_equal(audit_seen[0].action, "import");
    assert_int_equal(strlen(audit_seen[0].target), STORE_AUDIT_TARGET_MAX); /* cut, kept */
    assert_int_equal(store_audit_list(st, 0, 0, on_audit, &results[3]), CMMO_EINVALID);
    assert_int_equal(store_audit_list(st, 0, STORE_AUDIT_PAGE_MAX + 1, on_audit, &results[3]),
                     CMMO_EINVALID);
}

/* ---- resume tokens ---- */

/* A token's hash for the store: any 32 bytes; seed makes them distinct. */
static const uint8_t *token_hash(int seed)
{
    static uint8_t h[STORE_TOKEN_HASH_BYTES];
    for (size_t i = 0; i < sizeof h; i++)
        h[i] = (uint8_t)(seed * 31 + (int)i * 7);
    return h;
}

static void token_issue(int slot, int64_t user_id, int seed, int64_t ttl_s)
{
    int want = calls + 1;
    assert_int_equal(
        store_token_issue(st, user_id, token_hash(seed), ttl_s, on_done, &results[slot]), 0);
    run_until_calls(want);
}

static void token_resume(int slot, const char *name, int seed)
{
    int want = calls + 1;
    memset(&results[slot], 0, sizeof results[slot]);
    assert_int_equal(store_token_resume(st, name, token_hash(seed), on_account, &results[slot]), 0);
    run_until_calls(want);
}

static void token_revoke(int slot, int seed)
{
    int want = calls + 1;
    assert_int_equal(store_token_revoke(st, token_hash(seed), on_done, &results[slot]), 0);
    run_until_calls(want);
}

static void token_revoke_account(int slot, const char *name)
{
    int want = calls + 1;
    assert_int_equal(store_token_revoke_account(st, name, on_done, &results[slot]), 0);
    run_until_calls(want);
}

static void test_store_token_resumes_its_account_in_any_letter_case_until_revoked(void **state)
{
    create(0, "alice", 3);
    token_issue(1, results[0].account.user_id, 1, 3600);
    assert_int_equal(results[1].code, STORE_OK);
    token_resume(2, "ALICE", 1);
    assert_int_equal(results[2].code, STORE_OK);
    assert_string_equal(results[2].account.name, "alice");
    assert_int_equal(results[2].account.actor_id, results[0].account.actor_id);
    assert_int_equal(results[2].account.avatar_id, 3);
    token_revoke(3, 1);
    assert_int_equal(results[3].code, STORE_OK);
    token_resume(4, "alice", 1);
    assert_int_equal(results[4].code, STORE_NOT_FOUND);
    token_revoke(5, 1);
    assert_int_equal(results[5].code, STORE_NOT_FOUND);
}

static void test_store_token_of_another_account_or_unknown_is_not_found(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    token_issue(2, results[0].account.user_id, 1, 3600);
    token_resume(3, "bob", 1); /* alice's token, bob's name */
    assert_int_equal(results[3].code, STORE_NOT_FOUND);
    assert_int_equal(results[3].account.user_id, 0);
    token_resume(4, "alice", 2); /* a token never issued */
    assert_int_equal(results[4].code, STORE_NOT_FOUND);
    token_resume(5, "carol", 1); /* no such account */
    assert_int_equal(results[5].code, STORE_NOT_FOUND);
    token_resume(6, "alice", 1); /* and alice's own still works */
    assert_int_equal(results[6].code, STORE_OK);
}

static void test_store_expired_token_is_not_found_and_purged(void **state)
{
    create(0, "alice", 0);
    token_issue(1, results[0].account.user_id, 1, 0); /* expires now */
    assert_int_equal(results[1].code, STORE_OK);
    token_resume(2, "alice", 1);
    assert_int_equal(results[2].code, STORE_NOT_FOUND);
    token_issue(3, results[0].account.user_id, 2, 3600); /* purges the expired one */
    token_revoke(4, 1);
    assert_int_equal(results[4].code, STORE_NOT_FOUND);
    token_resume(5, "alice", 2);
    assert_int_equal(results[5].code, STORE_OK);
}

static void test_store_tokens_survive_close_and_reopen(void **state)
{
    create(0, "alice", 0);
    token_issue(1, results[0].account.user_id, 1, 3600);
    reopen();
    token_resume(2, "alice", 1);
    assert_int_equal(results[2].code, STORE_OK);
}

static void test_store_password_change_revokes_that_accounts_tokens_only(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    token_issue(2, results[0].account.user_id, 1, 3600);
    token_issue(3, results[1].account.user_id, 2, 3600);
    set_password(4, "Alice", "$argon2id$new");
    assert_int_equal(results[4].code, STORE_OK);
    token_resume(5, "alice", 1);
    assert_int_equal(results[5].code, STORE_NOT_FOUND);
    token_resume(6, "bob", 2);
    assert_int_equal(results[6].code, STORE_OK);
}

static void test_store_revoke_account_deletes_every_token_of_that_account_only(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    token_issue(2, results[0].account.user_id, 1, 3600);
    token_issue(3, results[0].account.user_id, 2, 3600);
    token_issue(4, results[1].account.user_id, 3, 3600);
    token_revoke_account(5, "ALICE");
    assert_int_equal(results[5].code, STORE_OK);
    token_resume(6, "alice", 1);
    assert_int_equal(results[6].code, STORE_NOT_FOUND);
    token_resume(7, "alice", 2);
    assert_int_equal(results[7].code, STORE_NOT_FOUND);
    token_resume(8, "bob", 3);
    assert_int_equal(results[8].code, STORE_OK);
    token_revoke_account(9, "alice"); /* none left: still OK */
    assert_int_equal(results[9].code, STORE_OK);
    token_revoke_account(10, "carol");
    assert_int_equal(results[10].code, STORE_NOT_FOUND);
}

static void test_store_deleting_an_account_deletes_its_tokens(void **state)
{
    create(0, "alice", 0);
    token_issue(1, results[0].account.user_id, 1, 3600);
    delete_account(2, "alice");
    assert_int_equal(results[2].code, STORE_OK);
    create(3, "alice", 0); /* a new account of the same name is not the old one */
    token_resume(4, "alice", 1);
    assert_int_equal(results[4].code, STORE_NOT_FOUND);
}

static void test_store_tokens_per_account_are_capped_oldest_first(void **state)
{
    create(0, "alice", 0);
    create(1, "bob", 0);
    token_issue(2, results[1].account.user_id, 100, 3600);
    for (int i = 0; i <= STORE_TOKENS_PER_ACCOUNT; i++) {
        token_issue(3, results[0].account.user_id, i, 3600);
        assert_int_equal(results[3].code, STORE_OK);
    }
    token_resume(4, "alice", 0); /* the oldest of cap + 1 */
    assert_int_equal(results[4].code, STORE_NOT_FOUND);
    for (int i = 1; i <= STORE_TOKENS_PER_ACCOUNT; i++) {
        token_resume(5, "alice", i);
        assert_int_equal(results[5].code, STORE_OK);
    }
    token_resume(6, "bob", 100); /* another account's are not counted */
    assert_int_equal(results[6].code, STORE_OK);
}

static void test_store_token_requests_refuse_bad_input_without_calling_back(void **state)
{
    assert_int_equal(store_token_issue(st, 1, token_hash(1), -1, on_done, &results[0]),
                     CMMO_EINVALID);
    assert_int_equal(
        store_token_resume(st, "a23456789012345678901", token_hash(1), on_account, &results[0]),
        CMMO_ETOO_LONG);
    assert_int_equal(store_token_revoke_account(st, "a23456789012345678901", on_done, &results[0]),
                     CMMO_ETOO_LONG);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(results[0].called, 0);
}

/* The two dialects' DDL live in two files (store_backend.h says why): this keeps them one schema.
 * Column names per table must match those of a fresh SQLite store. */
/* ---- cmmo.store's keyed values (both backends) ---- */

/* What the last kv load returned, as "key=value;" in key order. */
static char kv_seen[1024];
static int kv_code;

static void on_kv(void *user, int code, const store_kv *entries, size_t n)
{
    kv_code = code;
    kv_seen[0] = 0;
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(kv_seen);
        snprintf(kv_seen + used, sizeof kv_seen - used, "%s=%s;", entries[i].key, entries[i].value);
    }
    calls++;
}

static const char *kv_load_all(void)
{
    int want = calls + 1;
    assert_int_equal(store_kv_load(st, on_kv, NULL), 0);
    run_until_calls(want);
    assert_int_equal(kv_code, STORE_OK);
    return kv_seen;
}

static void kv_save(int slot, const store_kv *kv, size_t n)
{
    int want = calls + 1;
    assert_int_equal(store_kv_save(st, kv, n, on_done, &results[slot]), 0);
    run_until_calls(want);
    assert_int_equal(results[slot].code, STORE_OK);
}

static void test_store_kv_values_are_written_replaced_deleted_and_read_back(void **state)
{
    assert_string_equal(kv_load_all(), "");
    store_kv first[] = {{"b:key", "s'quoted\" value"}, {"a:key", "n1"}, {"c:key", "b1"}};
    kv_save(0, first, 3);
    assert_string_equal(kv_load_all(), "a:key=n1;b:key=s'quoted\" value;c:key=b1;");
    /* One batch: a replaced value, a deleted key, a key deleted that never was. */
    store_kv second[] = {{"a:key", "n2"}, {"b:key", NULL}, {"never", NULL}};
    kv_save(1, second, 3);
    assert_string_equal(kv_load_all(), "a:key=n2;c:key=b1;");
    reopen();
    assert_string_equal(kv_load_all(), "a:key=n2;c:key=b1;");
}

static void test_store_kv_refuses_keys_and_values_out_of_bounds_without_calling_back(void **state)
{
    char long_key[STORE_KV_KEY_MAX + 2], long_value[STORE_KV_VALUE_MAX + 2];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = 0;
    memset(long_value, 'v', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = 0;
    store_kv bad_key = {long_key, "s"}, bad_value = {"k", long_value}, empty = {"", "s"};
    int before = calls;
    assert_int_equal(store_kv_save(st, &bad_key, 1, on_done, &results[0]), CMMO_EINVALID);
    assert_int_equal(store_kv_save(st, &bad_value, 1, on_done, &results[0]), CMMO_EINVALID);
    assert_int_equal(store_kv_save(st, &empty, 1, on_done, &results[0]), CMMO_EINVALID);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(calls, before);
    assert_string_equal(kv_load_all(), "");
}

static void test_pg_schema_has_the_tables_and_columns_of_sqlite(void **state)
{
    char sqlite_url[128];
    snprintf(sqlite_url, sizeof sqlite_url, "sqlite:%s/schema.db", tmp_dir);
    store *s = store_open(&loop, sqlite_url);
    assert_non_null(s);
    store_close(s);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(sqlite_url + 7, &db), SQLITE_OK);
    PGconn *c = pg_connect_case_db();
    const char *tables[] = {"user",     "entity",    "instanced_entity", "actor",
                            "sanction", "audit_log", "script_store",     "resume_token"};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        char sql[256], sqlite_cols[512] = "", pg_cols[512] = "";
        snprintf(sql, sizeof sql,
                 "SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_table_info('%s') "
                 "ORDER BY name)",
                 tables[t]);
        sqlite3_stmt *q = NULL;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(q), SQLITE_ROW);
        snprintf(sqlite_cols, sizeof sqlite_cols, "%s", (const char *)sqlite3_column_text(q, 0));
        sqlite3_finalize(q);
        snprintf(sql, sizeof sql,
                 "SELECT string_agg(column_name, ',' ORDER BY column_name COLLATE \"C\") FROM "
                 "information_schema.columns WHERE table_schema = 'public' AND table_name = '%s'",
                 tables[t]);
        PGresult *res = PQexec(c, sql);
        assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
        snprintf(pg_cols, sizeof pg_cols, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (strcmp(sqlite_cols, pg_cols) != 0)
            fail_msg("table %s: SQLite has (%s), PostgreSQL (%s)", tables[t], sqlite_cols, pg_cols);
    }
    PQfinish(c);
    sqlite3_close(db);
}

/* The cases that pin behaviour every backend shares. */
#define SHARED_CASES(X)                                                                            \
    X(test_store_create_account_returns_new_ids_at_the_origin)                                     \
    X(test_store_second_account_gets_different_ids)                                                \
    X(test_store_duplicate_name_in_another_case_is_taken)                                          \
    X(test_store_find_ignores_letter_case_and_keeps_the_registered_name)                           \
    X(test_store_find_of_unknown_name_is_not_found)                                                \
    X(test_store_names_are_data_not_sql)                                                           \
    X(test_store_only_ascii_letters_fold_in_names)                                                 \
    X(test_store_find_of_a_name_that_is_not_utf8_is_not_found)                                     \
    X(test_store_saved_positions_are_found)                                                        \
    X(test_store_batch_naming_an_entity_twice_keeps_the_later_position)                            \
    X(test_store_saving_nothing_or_an_unknown_entity_succeeds_and_changes_nothing)                 \
    X(test_store_requests_run_in_submission_order)                                                 \
    X(test_store_data_survives_close_and_reopen)                                                   \
    X(test_store_close_finishes_queued_requests)                                                   \
    X(test_store_pending_counts_unfinished_requests)                                               \
    X(test_store_too_long_name_never_calls_back)                                                   \
    X(test_store_list_pages_accounts_by_name_ignoring_letter_case)                                 \
    X(test_store_list_of_an_empty_store_is_ok_and_empty)                                           \
    X(test_store_list_refuses_a_bad_limit_or_cursor_without_calling_back)                          \
    X(test_store_delete_removes_every_row_of_the_account_and_frees_the_name)                       \
    X(test_store_delete_of_a_half_made_account_removes_what_exists)                                \
    X(test_store_set_password_hash_changes_that_account_only)                                      \
    X(test_store_set_password_refuses_a_too_long_name_or_hash)                                     \
    X(test_store_bans_and_mutes_are_read_with_the_account_until_they_end)                          \
    X(test_store_audit_log_lists_entries_in_order_by_page)                                         \
    X(test_store_kv_values_are_written_replaced_deleted_and_read_back)                             \
    X(test_store_kv_refuses_keys_and_values_out_of_bounds_without_calling_back)                    \
    X(test_store_token_resumes_its_account_in_any_letter_case_until_revoked)                       \
    X(test_store_token_of_another_account_or_unknown_is_not_found)                                 \
    X(test_store_expired_token_is_not_found_and_purged)                                            \
    X(test_store_tokens_survive_close_and_reopen)                                                  \
    X(test_store_password_change_revokes_that_accounts_tokens_only)                                \
    X(test_store_revoke_account_deletes_every_token_of_that_account_only)                          \
    X(test_store_deleting_an_account_deletes_its_tokens)                                           \
    X(test_store_tokens_per_account_are_capped_oldest_first)                                       \
    X(test_store_token_requests_refuse_bad_input_without_calling_back)

#define MAX_CASES 96

int main(void)
{
    static struct CMUnitTest tests[MAX_CASES];
    size_t n = 0;
#define ADD(name_, fn, set_up)                                                                     \
    do {                                                                                           \
        if (n == MAX_CASES) return 1;                                                              \
        tests[n++] = (struct CMUnitTest){name_, fn, set_up, teardown, NULL};                       \
    } while (0)
#define SQLITE_CASE(fn) ADD(#fn, fn, setup);
#define PG_CASE(fn) ADD("pg: " #fn, fn, setup_pg);
    SHARED_CASES(SQLITE_CASE)
    SQLITE_CASE(test_store_open_refuses_bad_urls)
    SQLITE_CASE(test_store_open_refuses_a_file_that_is_not_a_database)
    SQLITE_CASE(test_store_url_valid_accepts_what_store_open_understands)
    SQLITE_CASE(test_store_url_redact_hides_passwords_only)

    pg_base_url = getenv("CMMO_TEST_PG_URL");
    if (pg_base_url && *pg_base_url) {
        if (strncmp(pg_base_url, "postgres", 8) != 0 || !strstr(pg_base_url, "://")) {
            fprintf(stderr, "CMMO_TEST_PG_URL is not a postgres:// URL\n");
            return 1;
        }
        /* The server must be there: a PostgreSQL run that cannot connect fails, not skips. */
        pg_admin = PQconnectdb(pg_base_url);
        PQclear(PQexec(pg_admin, "SET client_min_messages = warning"));
        if (PQstatus(pg_admin) != CONNECTION_OK) {
            fprintf(stderr, "CMMO_TEST_PG_URL: cannot connect: %s", PQerrorMessage(pg_admin));
            PQfinish(pg_admin);
            return 1;
        }
        SHARED_CASES(PG_CASE)
        PG_CASE(test_pg_logs_never_show_the_password)
        PG_CASE(test_pg_open_refuses_unreachable_servers_and_missing_databases)
        PG_CASE(test_pg_request_on_a_cut_connection_fails_and_the_next_one_reconnects)
        PG_CASE(test_pg_batch_of_5000_positions_is_one_statement)
        PG_CASE(test_pg_two_stores_registering_one_name_at_once_give_exactly_one_ok)
        PG_CASE(test_pg_schema_is_versioned_and_reopening_migrates_nothing)
        PG_CASE(test_pg_servers_starting_together_on_an_empty_database_all_open)
        PG_CASE(test_pg_open_refuses_a_database_from_a_newer_schema)
        PG_CASE(test_pg_schema_has_the_tables_and_columns_of_sqlite)
        PG_CASE(test_pg_version_1_database_migrates_to_resume_tokens)
        const char *dir = getenv("CMMO_TEST_PG_DIR");
        if (dir && *dir) {
            PG_CASE(test_pg_requests_during_a_server_restart_fail_and_later_ones_succeed)
            PG_CASE(test_pg_requests_to_a_frozen_server_fail_within_the_deadline)
        } else {
            fprintf(stderr, "test_store: server-restart case not registered "
                            "(CMMO_TEST_PG_DIR unset)\n");
        }
    } else {
        fprintf(stderr, "test_store: PostgreSQL cases not registered (CMMO_TEST_PG_URL unset)\n");
    }
    int failed = _cmocka_run_group_tests("store", tests, n, NULL, NULL);
    if (pg_admin) PQfinish(pg_admin);
    return failed;
}
