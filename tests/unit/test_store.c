/* Unit tests for store (SQLite backend) on a temporary file with a real libuv loop: accounts,
 * case-insensitive names, positions, submission order, persistence across reopen, bad URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

static uv_loop_t loop;
static store *st;
static char tmp_dir[64];
static char url[128];

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

static int setup(void **state)
{
    strcpy(tmp_dir, "/tmp/cmmo-store-XXXXXX");
    if (!mkdtemp(tmp_dir)) return -1;
    snprintf(url, sizeof url, "sqlite:%s/test.db", tmp_dir);
    if (uv_loop_init(&loop) != 0) return -1;
    memset(results, 0, sizeof results);
    calls = 0;
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
    store_position p[2] = {{results[0].account.instanced_entity_id, 3.1304951684997055, 100.5},
                           {results[1].account.instanced_entity_id, 1344.0, 832.0}};
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
    store_position first = {ie, 10, 20}, second = {ie, 30, 40};
    assert_int_equal(store_save_positions(st, &first, 1, NULL, NULL), 0);
    assert_int_equal(store_save_positions(st, &second, 1, on_done, &results[2]), 0);
    assert_int_equal(store_find_account(st, "carol", on_account, &results[3]), 0);
    run_until_calls(4);
    assert_true(results[3].account.x == 30.0 && results[3].account.y == 40.0);
}

static void test_store_data_survives_close_and_reopen(void **state)
{
    create(0, "alice", 2);
    store_position p = {results[0].account.instanced_entity_id, 123.25, 456.5};
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
    /* Either refused at once (and the callback never runs) or answered as not found. */
    const char *long_name = "abcdefghijklmnopqrstuvwxyz";
    int rc = store_find_account(st, long_name, on_account, &results[0]);
    if (rc == 0) {
        run_until_calls(1);
        assert_int_equal(results[0].code, STORE_NOT_FOUND);
    } else {
        uv_run(&loop, UV_RUN_NOWAIT);
        assert_int_equal(results[0].called, 0);
    }
    rc = store_create_account(st, long_name, hash_of("x"), 1, on_account, &results[1]);
    if (rc != 0) {
        uv_run(&loop, UV_RUN_NOWAIT);
        assert_int_equal(results[1].called, 0);
    } else {
        run_until_calls(calls + 1);
    }
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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_create_account_returns_new_ids_at_the_origin),
        T(test_store_second_account_gets_different_ids),
        T(test_store_duplicate_name_in_another_case_is_taken),
        T(test_store_find_ignores_letter_case_and_keeps_the_registered_name),
        T(test_store_find_of_unknown_name_is_not_found),
        T(test_store_names_are_data_not_sql),
        T(test_store_saved_positions_are_found),
        T(test_store_requests_run_in_submission_order),
        T(test_store_data_survives_close_and_reopen),
        T(test_store_close_finishes_queued_requests),
        T(test_store_pending_counts_unfinished_requests),
        T(test_store_too_long_name_never_calls_back),
        T(test_store_open_refuses_bad_urls),
        T(test_store_open_refuses_a_file_that_is_not_a_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
