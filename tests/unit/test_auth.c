/* Unit tests for game/auth: argon2id hashing and checking on worker threads, answers delivered on
 * the loop thread (the loop is run until the callbacks come). Each hash costs tens of ms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/workpool_loop.h"
#include "game/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t loop;
static auth *au;
static pthread_t loop_thread;

typedef struct answer {
    int called;
    int match;                /* verify */
    int hash_ok;              /* hash: non-NULL */
    char hash[AUTH_HASH_MAX]; /* hash: a copy */
    int on_loop_thread;
} answer;

static int calls;

static void on_hash(void *user, const char *hash)
{
    answer *a = user;
    a->called++;
    a->hash_ok = hash != NULL;
    if (hash) snprintf(a->hash, sizeof a->hash, "%s", hash);
    a->on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    calls++;
}

static void on_verify(void *user, int match)
{
    answer *a = user;
    a->called++;
    a->match = match;
    a->on_loop_thread = pthread_equal(pthread_self(), loop_thread);
    calls++;
}

static int timed_out;
static void on_timeout(uv_timer_t *t)
{
    timed_out = 1;
}

static void run_until_calls(int want)
{
    uv_timer_t timer;
    uv_timer_init(&loop, &timer);
    timed_out = 0;
    uv_timer_start(&timer, on_timeout, 20000, 0);
    while (calls < want && !timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    uv_timer_stop(&timer);
    uv_close((uv_handle_t *)&timer, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    if (timed_out) fail_msg("auth callbacks did not come: %d of %d", calls, want);
}

static int setup(void **state)
{
    if (uv_loop_init(&loop) != 0) return -1;
    loop_thread = pthread_self();
    calls = 0;
    au = auth_create(workpool_create(&loop, 2, 1, "auth"));
    return au ? 0 : -1;
}

static int teardown(void **state)
{
    if (au) auth_destroy(au);
    au = NULL;
    for (int i = 0; i < 100 && uv_loop_close(&loop) == UV_EBUSY; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    return 0;
}

static void hash_now(const char *pw, size_t len, answer *out)
{
    memset(out, 0, sizeof *out);
    int want = calls + 1;
    assert_int_equal(auth_hash(au, pw, len, on_hash, out), 0);
    run_until_calls(want);
    assert_int_equal(out->called, 1);
    assert_true(out->hash_ok);
}

static int verify_now(const char *hash, const char *pw, size_t len)
{
    answer a;
    memset(&a, 0, sizeof a);
    a.match = -1;
    int want = calls + 1;
    assert_int_equal(auth_verify(au, hash, pw, len, on_verify, &a), 0);
    run_until_calls(want);
    assert_int_equal(a.called, 1);
    assert_true(a.on_loop_thread);
    return a.match;
}

static void test_auth_hash_is_argon2id_and_never_the_password(void **state)
{
    answer h;
    hash_now("pw-alice", 8, &h);
    assert_true(h.on_loop_thread);
    assert_int_equal(strncmp(h.hash, "$argon2id$", 10), 0);
    assert_null(strstr(h.hash, "pw-alice"));
    assert_true(strlen(h.hash) < AUTH_HASH_MAX);
    /* The cost is the documented one, stored in the string. */
    char params[64];
    snprintf(params, sizeof params, "$m=%u,t=%d,", AUTH_MEMLIMIT / 1024, AUTH_OPSLIMIT);
    assert_non_null(strstr(h.hash, params));
}

static void test_auth_verify_of_the_right_password_matches(void **state)
{
    answer h;
    hash_now("pw-alice", 8, &h);
    assert_int_equal(verify_now(h.hash, "pw-alice", 8), 1);
}

static void test_auth_verify_of_a_wrong_password_does_not_match(void **state)
{
    answer h;
    hash_now("pw-alice", 8, &h);
    assert_int_equal(verify_now(h.hash, "pw-alicf", 8), 0);
    assert_int_equal(verify_now(h.hash, "pw-alic", 7), 0);
    assert_int_equal(verify_now(h.hash, "PW-ALICE", 8), 0);
}

static void test_auth_verify_with_null_hash_never_matches(void **state)
{
    assert_int_equal(verify_now(NULL, "pw-alice", 8), 0);
    assert_int_equal(verify_now(NULL, "", 0), 0);
}

static void test_auth_verify_against_garbage_hash_does_not_match(void **state)
{
    assert_int_equal(verify_now("not a hash", "pw", 2), 0);
    assert_int_equal(verify_now("", "pw", 2), 0);
}

static void test_auth_password_length_is_in_bytes_including_nul(void **state)
{
    /* The password is len bytes, not a C string: "a\0b" is not "a". */
    answer h;
    hash_now("a\0b", 3, &h);
    assert_int_equal(verify_now(h.hash, "a\0b", 3), 1);
    assert_int_equal(verify_now(h.hash, "a", 1), 0);
    assert_int_equal(verify_now(h.hash, "a\0c", 3), 0);
}

static void test_auth_two_hashes_of_one_password_differ(void **state)
{
    /* Salted: equal passwords do not give equal hashes. */
    answer h1, h2;
    hash_now("same", 4, &h1);
    hash_now("same", 4, &h2);
    assert_string_not_equal(h1.hash, h2.hash);
}

static void test_auth_pending_counts_jobs_and_destroy_runs_their_callbacks(void **state)
{
    assert_int_equal(auth_pending(au), 0);
    answer a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    assert_int_equal(auth_verify(au, NULL, "x", 1, on_verify, &a), 0);
    assert_int_equal(auth_verify(au, NULL, "y", 1, on_verify, &b), 0);
    assert_true(auth_pending(au) >= 1 && auth_pending(au) <= 2);
    auth_destroy(au);
    au = NULL;
    assert_int_equal(a.called, 1);
    assert_int_equal(b.called, 1);
    assert_int_equal(a.match, 0);
    assert_int_equal(b.match, 0);
}

static void test_auth_unknown_user_takes_as_long_as_a_real_one(void **state)
{
    /* verify(NULL) does an argon2id check of its own, so that the answer's timing does not tell
     * an attacker which usernames exist. Loose bound: at least a quarter of a real check. */
    answer h;
    hash_now("pw-alice", 8, &h);
    uint64_t real = 0, unknown = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t t0 = uv_hrtime();
        verify_now(h.hash, "wrong", 5);
        uint64_t t1 = uv_hrtime();
        verify_now(NULL, "wrong", 5);
        uint64_t t2 = uv_hrtime();
        real += t1 - t0;
        unknown += t2 - t1;
    }
    if (unknown * 4 < real)
        fail_msg("unknown user answered in %llu ns, a real one in %llu ns",
                 (unsigned long long)unknown, (unsigned long long)real);
}

static void test_auth_refused_request_never_calls_back(void **state)
{
    /* A password far over the protocol's bound is refused at once and never called back. */
    char big[4096];
    memset(big, 'p', sizeof big);
    answer a;
    memset(&a, 0, sizeof a);
    assert_int_equal(auth_verify(au, NULL, big, sizeof big, on_verify, &a), CMMO_ETOO_LONG);
    assert_int_equal(auth_hash(au, big, sizeof big, on_hash, &a), CMMO_ETOO_LONG);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(a.called, 0);
    assert_int_equal(auth_pending(au), 0);
}

/* Django's own published vector (tests/auth_tests/test_hashers.py, Django 1.8): make_password(
 * "lètmein", "seasalt", "pbkdf2_sha256") at 20,000 iterations. */
static const char django_vector[] =
    "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=";
static const char django_password[] = "l\xc3\xa8tmein"; /* "lètmein" in UTF-8 */

typedef struct upgrade_answer {
    int called, match;
    char upgraded[AUTH_HASH_MAX]; /* "" when NULL */
} upgrade_answer;

static void on_upgrade(void *user, int match, const char *upgraded)
{
    upgrade_answer *a = user;
    a->called++;
    a->match = match;
    snprintf(a->upgraded, sizeof a->upgraded, "%s", upgraded ? upgraded : "");
    calls++;
}

static upgrade_answer verify_upgrade_now(const char *hash, const char *pw, size_t len)
{
    upgrade_answer a;
    memset(&a, 0, sizeof a);
    a.match = -1;
    int want = calls + 1;
    assert_int_equal(auth_verify_upgrade(au, hash, pw, len, on_upgrade, &a), 0);
    run_until_calls(want);
    assert_int_equal(a.called, 1);
    return a;
}

static void test_auth_verify_matches_djangos_published_pbkdf2_vector(void **state)
{
    size_t len = strlen(django_password);
    assert_int_equal(auth_hash_kind(django_vector), AUTH_KIND_PBKDF2_SHA256);
    assert_int_equal(verify_now(django_vector, django_password, len), 1);
    assert_int_equal(verify_now(django_vector, "letmein", 7), 0);
    assert_int_equal(verify_now(django_vector, django_password, len - 1), 0);
    /* One bit of the digest changed: no match. */
    char altered[sizeof django_vector];
    memcpy(altered, django_vector, sizeof altered);
    altered[sizeof altered - 3] = altered[sizeof altered - 3] == 'A' ? 'B' : 'A';
    assert_int_equal(verify_now(altered, django_password, len), 0);
}

static void test_auth_verify_upgrade_hands_back_argon2id_only_for_a_matching_pbkdf2(void **state)
{
    size_t len = strlen(django_password);
    upgrade_answer a = verify_upgrade_now(django_vector, django_password, len);
    assert_int_equal(a.match, 1);
    assert_int_equal(auth_hash_kind(a.upgraded), AUTH_KIND_ARGON2ID);
    assert_int_equal(verify_now(a.upgraded, django_password, len), 1);
    /* A wrong password: no upgrade. */
    a = verify_upgrade_now(django_vector, "wrong", 5);
    assert_int_equal(a.match, 0);
    assert_string_equal(a.upgraded, "");
    /* Already argon2id: matches, nothing to replace. */
    answer h;
    hash_now("pw", 2, &h);
    a = verify_upgrade_now(h.hash, "pw", 2);
    assert_int_equal(a.match, 1);
    assert_string_equal(a.upgraded, "");
}

static void test_auth_hash_kind_refuses_every_other_form(void **state)
{
    static const char *const others[] = {
        NULL,
        "",
        "letmein",
        "pbkdf2_sha1$10000$wz5B6WkasRoF$atJmJ1o+XfJxKq1+Nu1f1i57Z5I=",
        "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu",
        "argon2$argon2id$v=19$m=102400,t=2,p=8$x$y",
        "pbkdf2_sha256$0$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=",
        "pbkdf2_sha256$99999999999$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=",
        "pbkdf2_sha256$20000$$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=",
        "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0",
        "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=x",
        "pbkdf2_sha256$20000$seasalt$c2hvcnQ=",
        "pbkdf2_sha256$x$seasalt$c2hvcnQ=",
        "pbkdf2_sha256$20000$sea salt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0=",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_int_equal(auth_hash_kind(others[i]), AUTH_KIND_UNKNOWN);
    assert_int_equal(auth_hash_kind("$argon2id$v=19$m=12288,t=3,p=1$x$y"), AUTH_KIND_ARGON2ID);
    /* An unknown form never matches, whatever the password. */
    assert_int_equal(verify_now(others[3], "not a password", 14), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_auth_hash_is_argon2id_and_never_the_password),
        T(test_auth_verify_of_the_right_password_matches),
        T(test_auth_verify_of_a_wrong_password_does_not_match),
        T(test_auth_verify_with_null_hash_never_matches),
        T(test_auth_verify_against_garbage_hash_does_not_match),
        T(test_auth_password_length_is_in_bytes_including_nul),
        T(test_auth_two_hashes_of_one_password_differ),
        T(test_auth_pending_counts_jobs_and_destroy_runs_their_callbacks),
        T(test_auth_unknown_user_takes_as_long_as_a_real_one),
        T(test_auth_refused_request_never_calls_back),
        T(test_auth_verify_matches_djangos_published_pbkdf2_vector),
        T(test_auth_verify_upgrade_hands_back_argon2id_only_for_a_matching_pbkdf2),
        T(test_auth_hash_kind_refuses_every_other_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
