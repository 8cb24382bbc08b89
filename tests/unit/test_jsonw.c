/* Unit tests for proto/jsonw: string escaping (ASCII-only output), doubles in the shortest
 * roundtrip form with a decimal point (the integer fast path against the printf/strtod one),
 * integers, and overflow detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "proto/jsonw.h"

#include <float.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes one JSON string from n bytes and returns the text (static buffer, NUL-terminated). */
static const char *string_json(const char *s, size_t n)
{
    static char out[1024];
    jsonw w;
    jsonw_init(&w, out, sizeof out - 1);
    jsonw_string(&w, s, n);
    long len = jsonw_finish(&w);
    assert_true(len > 0);
    out[len] = 0;
    return out;
}

static const char *double_json(double v)
{
    static char out[64];
    jsonw w;
    jsonw_init(&w, out, sizeof out - 1);
    jsonw_double(&w, v);
    long len = jsonw_finish(&w);
    assert_true(len > 0);
    out[len] = 0;
    return out;
}

static int is_ascii_printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7F) return 0;
    return 1;
}

/* Parses text as a JSON string with jansson and checks it decodes to want (n bytes). */
static void assert_json_string_decodes_to(const char *text, const char *want, size_t n)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v) fail_msg("jansson rejected %s: %s", text, err.text);
    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), want, n);
    json_decref(v);
}

static void test_jsonw_string_escapes_quote_and_backslash(void **state)
{
    const char *in = "a\"b\\c/d";
    assert_string_equal(string_json(in, strlen(in)), "\"a\\\"b\\\\c/d\"");
    assert_json_string_decodes_to(string_json(in, strlen(in)), in, strlen(in));
}

static void test_jsonw_string_escapes_every_control_character(void **state)
{
    char in[33];
    for (int i = 0; i < 32; i++)
        in[i] = (char)i;
    in[32] = 0x7F;
    const char *out = string_json(in, sizeof in);
    assert_true(is_ascii_printable(out));
    assert_json_string_decodes_to(out, in, sizeof in);
    /* Python's json.dumps writes \u00XX with lower-case hex, and \n for a newline. */
    assert_non_null(strstr(out, "\\u0000"));
    assert_non_null(strstr(out, "\\u001f"));
    assert_string_equal(string_json("\n", 1), "\"\\n\"");
    assert_string_equal(string_json("\x01", 1), "\"\\u0001\"");
}

static void test_jsonw_string_escapes_embedded_nul(void **state)
{
    assert_string_equal(string_json("a\0b", 3), "\"a\\u0000b\"");
}

static void test_jsonw_string_escapes_non_ascii_as_u_escapes(void **state)
{
    assert_string_equal(string_json("\xC3\xA9", 2), "\"\\u00e9\"");     /* é */
    assert_string_equal(string_json("\xE2\x82\xAC", 3), "\"\\u20ac\""); /* € */
    assert_string_equal(string_json("\xEF\xBC\xBB", 3), "\"\\uff3b\""); /* ［ */
    assert_string_equal(string_json("\xC2\x85", 2), "\"\\u0085\"");     /* C1 NEL */
    assert_string_equal(string_json("\xEF\xBF\xBF", 3), "\"\\uffff\"");
    const char *mixed = "caf\xC3\xA9 \xE2\x82\xAC"
                        "5";
    const char *out = string_json(mixed, strlen(mixed));
    assert_string_equal(out, "\"caf\\u00e9 \\u20ac5\"");
    assert_json_string_decodes_to(out, mixed, strlen(mixed));
}

static void test_jsonw_string_writes_surrogate_pairs_above_ffff(void **state)
{
    assert_string_equal(string_json("\xF0\x9F\x98\x80", 4), "\"\\ud83d\\ude00\""); /* U+1F600 */
    assert_string_equal(string_json("\xF0\x90\x80\x80", 4), "\"\\ud800\\udc00\""); /* U+10000 */
    assert_string_equal(string_json("\xF4\x8F\xBF\xBF", 4), "\"\\udbff\\udfff\""); /* U+10FFFF */
    assert_json_string_decodes_to(string_json("x\xF0\x9F\x98\x80y", 6), "x\xF0\x9F\x98\x80y", 6);
}

static void test_jsonw_string_replaces_invalid_bytes_with_fffd(void **state)
{
    const char *out = string_json("a\xFF"
                                  "b",
                                  3);
    assert_string_equal(out, "\"a\\ufffdb\"");
    /* Whatever the input, the output is JSON that jansson accepts. */
    const char bad[] = "\xC0\x80\xED\xA0\x80\xF4\x90\x80\x80\xE2\x82";
    out = string_json(bad, sizeof bad - 1);
    assert_true(is_ascii_printable(out));
    json_t *v = json_loads(out, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    json_decref(v);
}

static void test_jsonw_string_empty(void **state)
{
    assert_string_equal(string_json("", 0), "\"\"");
}

static void test_jsonw_double_always_has_a_decimal_point_or_exponent(void **state)
{
    assert_string_equal(double_json(3.0), "3.0");
    assert_string_equal(double_json(0.0), "0.0");
    assert_string_equal(double_json(-2.0), "-2.0");
    assert_string_equal(double_json(1344.0), "1344.0");
    assert_string_equal(double_json(123456789.0), "123456789.0");
    const char *big = double_json(1e22);
    assert_non_null(strpbrk(big, ".eE"));
    assert_true(strtod(big, NULL) == 1e22);
}

static void test_jsonw_double_writes_the_shortest_roundtrip_form(void **state)
{
    /* Python's repr of each value. */
    assert_string_equal(double_json(0.1), "0.1");
    assert_string_equal(double_json(3.5), "3.5");
    assert_string_equal(double_json(-0.25), "-0.25");
    assert_string_equal(double_json(3.1304951684997055), "3.1304951684997055");
    assert_string_equal(double_json(1.5652475842498528), "1.5652475842498528");
    assert_string_equal(double_json(0.1 + 0.2), "0.30000000000000004");
}

static void test_jsonw_double_uses_16_digits_when_16_are_enough(void **state)
{
    /* Values whose shortest roundtrip form has exactly 16 significant digits: a writer that
     * jumps from 15 to 17 digits prints 0.66666666666666663, which is not the shortest. */
    assert_string_equal(double_json(2.0 / 3.0), "0.6666666666666666");
    assert_string_equal(double_json(0.1 + 0.7), "0.7999999999999999");
}

static void test_jsonw_double_reads_back_equal(void **state)
{
    const double values[] = {3.1304951684997055,
                             1.5652475842498528,
                             0.1,
                             1.0 / 3.0,
                             2.0 / 3.0,
                             1e-7,
                             123.456,
                             1344.0 - 1e-9,
                             5e-324,
                             1.7976931348623157e308,
                             -0.5,
                             1e16,
                             12345678901234567.0};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        const char *out = double_json(values[i]);
        assert_non_null(strpbrk(out, ".eE"));
        if (strtod(out, NULL) != values[i]) fail_msg("%.17g written as %s", values[i], out);
        json_t *v = json_loads(out, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_true(json_is_real(v));
        assert_true(json_real_value(v) == values[i]);
        json_decref(v);
    }
    /* Pseudo-random doubles across magnitudes. */
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double d = (double)(x >> 11) / (double)(1ull << 53) * pow(10.0, (double)(i % 40) - 20);
        const char *out = double_json(d);
        if (strtod(out, NULL) != d) fail_msg("%.17g written as %s", d, out);
    }
}

/* ---- jsonw_double against the general case -------------------------------------------------
 *
 * jsonw_double prints most doubles from exact integer arithmetic. The text must stay what the
 * printf/strtod version wrote, byte for byte (clients and tests compare strings), so these tests
 * keep a private copy of that version and compare the two on about a million and a half values
 * and their negatives: of each kind the server meets, and of every kind at the edges of the
 * integer path's range. */

/* jsonw_double before the exact path, kept verbatim apart from writing into out: whole
 * thousandths from an integer, everything else the shortest of printf's 15, 16 or 17 significant
 * digits that strtod reads back. */
static int reference_millis(char *out, double v)
{
    if (!(fabs(v) < 1e12)) return 0;
    double m = nearbyint(v * 1000.0);
    if (m / 1000.0 != v) return 0;
    long long q = (long long)m;
    char num[40];
    char *p = num + sizeof num;
    int negative = q < 0;
    unsigned long long u = negative ? (unsigned long long)(-q) : (unsigned long long)q;
    unsigned frac = (unsigned)(u % 1000);
    u /= 1000;
    if (frac == 0) {
        *--p = '0';
    } else {
        int digits = 3;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        for (int i = 0; i < digits; i++) {
            *--p = (char)('0' + frac % 10);
            frac /= 10;
        }
    }
    *--p = '.';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (negative) *--p = '-';
    size_t n = (size_t)(num + sizeof num - p);
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

static void reference_double(char out[64], double v)
{
    char num[40];
    if (!isfinite(v)) v = 0.0;
    if (reference_millis(out, v)) return;
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(num, sizeof num, "%.*g", digits, v);
        if (strtod(num, NULL) == v) break;
    }
    if (!strpbrk(num, ".eEn")) {
        num[n++] = '.';
        num[n++] = '0';
        num[n] = 0;
    }
    memcpy(out, num, (size_t)n + 1);
}

/* Checks that jsonw_double writes v as the reference does and that the text reads back exactly;
 * likewise -v, whose text is "-" and that of v (printf and strtod are symmetric), asked of the
 * reference itself for one value in 16 and for zeros and non-finite values. */
static void assert_double_matches_reference(double v)
{
    char want[64], want_negative[66];
    reference_double(want, v);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    if (v == 0 || !isfinite(v) || bits % 16 == 0) {
        reference_double(want_negative, -v);
    } else if (want[0] == '-') {
        strcpy(want_negative, want + 1);
    } else {
        want_negative[0] = '-';
        strcpy(want_negative + 1, want);
    }
    for (int sign = 0; sign < 2; sign++, v = -v) {
        const char *wanted = sign ? want_negative : want;
        const char *got = double_json(v);
        if (strcmp(got, wanted) != 0)
            fail_msg("%a (%.17g): wrote %s, the general case writes %s", v, v, got, wanted);
        if (isfinite(v) && strtod(got, NULL) != v) fail_msg("%a written as %s", v, got);
    }
}

/* How many values the comparisons try, as a multiple of the default (a few seconds under ASan,
 * about a million and a half doubles and their negatives): JSONW_DIFF_SCALE=50 for a longer run. */
static int diff_scale(void)
{
    const char *s = getenv("JSONW_DIFF_SCALE");
    int scale = s ? atoi(s) : 1;
    return scale < 1 ? 1 : scale > 10000 ? 10000 : scale;
}

/* splitmix64: a fixed seed, so a failure reproduces. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with all 53 bits random. */
static double random_unit(uint64_t *state)
{
    return (double)(next_random(state) >> 11) * 0x1p-53;
}

static double from_bits(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static void test_jsonw_double_matches_general_case_on_world_coordinates(void **state)
{
    uint64_t rng = 1;
    int scale = diff_scale();
    for (int i = 0; i < 250000 * scale; i++)
        assert_double_matches_reference(random_unit(&rng) * 16000.0);
    /* Positions of walkers as world.c's actor_step moves them, 3.5 units a tick toward a target,
     * arriving exactly on it; targets are whole or arbitrary, like clicks on the map. */
    for (int walk = 0; walk < 2000 * scale; walk++) {
        double x = random_unit(&rng) * 16000.0, y = random_unit(&rng) * 16000.0;
        if (walk % 4 == 0) {
            x = floor(x);
            y = floor(y);
        }
        double tx = random_unit(&rng) * 16000.0, ty = random_unit(&rng) * 16000.0;
        if (walk % 3 == 0) {
            tx = floor(tx);
            ty = floor(ty);
        }
        for (int step = 0; step < 100; step++) {
            double dx = tx - x, dy = ty - y;
            double dist = hypot(dx, dy);
            if (dist <= 3.5) {
                x = tx;
                y = ty;
            } else {
                x += dx / dist * 3.5;
                y += dy / dist * 3.5;
            }
            assert_double_matches_reference(x);
            assert_double_matches_reference(y);
        }
    }
    /* The decimals a client or config may send, and the doubles a few ulps either side. */
    for (int i = 0; i < 40000 * scale; i++) {
        int places = (int)(next_random(&rng) % 7);
        double per_unit = pow(10.0, places);
        double v = (double)(next_random(&rng) % (uint64_t)(16000 * per_unit)) / per_unit;
        assert_double_matches_reference(v);
        assert_double_matches_reference(nextafter(v, INFINITY));
        assert_double_matches_reference(nextafter(v, -INFINITY));
        assert_double_matches_reference(nextafter(nextafter(v, INFINITY), INFINITY));
        assert_double_matches_reference(nextafter(nextafter(v, 0.0), 0.0));
    }
}

static void test_jsonw_double_matches_general_case_on_every_kind_of_double(void **state)
{
    uint64_t rng = 2;
    int scale = diff_scale();
    /* Any bit pattern: every exponent, subnormals, zeros, infinities and NaNs. */
    for (int i = 0; i < 100000 * scale; i++)
        assert_double_matches_reference(from_bits(next_random(&rng)));
    /* Uniform over the exponents around the integer path's range [2^-10, 2^53). */
    for (int i = 0; i < 150000 * scale; i++) {
        int e = (int)(next_random(&rng) % 80) - 20;
        assert_double_matches_reference(ldexp(1.0 + random_unit(&rng), e));
    }
    /* Powers of two (the gap below is half the gap above) and their neighbours. */
    for (int e = -1074; e <= 1023; e++) {
        double v = ldexp(1.0, e);
        assert_double_matches_reference(v);
        double up = v, down = v;
        for (int i = 0; i < 3; i++) {
            up = nextafter(up, INFINITY);
            down = nextafter(down, 0.0);
            assert_double_matches_reference(up);
            assert_double_matches_reference(down);
        }
    }
    /* Integers, and dyadic fractions: few exact digits, so %g's rounding meets exact ties. */
    for (int i = 0; i < 50000 * scale; i++) {
        uint64_t n = next_random(&rng) >> (next_random(&rng) % 64);
        assert_double_matches_reference((double)n);
        assert_double_matches_reference((double)(n >> 11) / (double)(1ull << (i % 63)));
        assert_double_matches_reference((double)(n >> 11 >> (i % 40)) * ldexp(1.0, -(i % 63)));
    }
    /* Decimals of 1 to 17 significant digits: shortest forms of every length, and the 9s that
     * carry into a new leading digit when rounded. */
    for (int i = 0; i < 100000 * scale; i++) {
        int digits = 1 + (int)(next_random(&rng) % 17);
        uint64_t mantissa = next_random(&rng) % 100000000000000000ull;
        if (i % 8 == 0) mantissa = 99999999999999999ull - next_random(&rng) % 1000;
        for (int drop = digits; drop < 17; drop++)
            mantissa /= 10;
        char text[64];
        snprintf(text, sizeof text, "%" PRIu64 "e%d", mantissa, (int)(next_random(&rng) % 40) - 24);
        assert_double_matches_reference(strtod(text, NULL));
    }
    /* The edges: of the integer path's range, of %g's notation, of the thousandths path. */
    const double edges[] = {0x1p-10, 0x1p53,  1e-4,    1e-3,   1e12,   1e15,  1e16,
                            1e17,    1e21,    1e22,    1e23,   9e15,   1e308, DBL_MAX,
                            5e-324,  DBL_MIN, 0x1p-11, 0x1p52, 0x1p50, 1e-5,  0.1,
                            1.0,     10.0,    16000.0, 0.0,    2.5e-4};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        double up = edges[i], down = edges[i];
        assert_double_matches_reference(edges[i]);
        for (int j = 0; j < 64; j++) {
            up = nextafter(up, INFINITY);
            down = nextafter(down, -INFINITY);
            assert_double_matches_reference(up);
            assert_double_matches_reference(down);
        }
    }
}

static void test_jsonw_double_writes_non_finite_as_zero(void **state)
{
    assert_string_equal(double_json(NAN), "0.0");
    assert_string_equal(double_json(INFINITY), "0.0");
    assert_string_equal(double_json(-INFINITY), "0.0");
}

static void test_jsonw_int_writes_full_int64_range(void **state)
{
    char out[64];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_int(&w, 0);
    jsonw_raw(&w, ",");
    jsonw_int(&w, -1);
    jsonw_raw(&w, ",");
    jsonw_int(&w, INT64_MAX);
    jsonw_raw(&w, ",");
    jsonw_int(&w, INT64_MIN);
    long n = jsonw_finish(&w);
    const char *want = "0,-1,9223372036854775807,-9223372036854775808";
    assert_int_equal(n, (long)strlen(want));
    assert_memory_equal(out, want, (size_t)n);
}

static void test_jsonw_builds_an_object_from_parts(void **state)
{
    char out[128];
    jsonw w;
    jsonw_init(&w, out, sizeof out);
    jsonw_raw(&w, "{\"a\":");
    jsonw_string(&w, "Chat", 4);
    jsonw_raw(&w, ",\"x\":");
    jsonw_double(&w, 2.0);
    jsonw_raw(&w, ",\"id\":");
    jsonw_int(&w, 7);
    jsonw_raw(&w, "}");
    long n = jsonw_finish(&w);
    const char *want = "{\"a\":\"Chat\",\"x\":2.0,\"id\":7}";
    assert_int_equal(n, (long)strlen(want));
    assert_memory_equal(out, want, (size_t)n);
}

/* A buffer of cap bytes followed by guard bytes that must never be written. */
#define GUARD 32
static void assert_guard_intact(const char *buf, size_t cap)
{
    for (size_t i = cap; i < cap + GUARD; i++)
        if ((unsigned char)buf[i] != 0xA5) fail_msg("byte %zu past cap %zu was written", i, cap);
}

static void test_jsonw_overflow_is_reported_and_never_writes_past_cap(void **state)
{
    for (size_t cap = 0; cap < 40; cap++) {
        char buf[40 + GUARD];
        memset(buf, 0xA5, sizeof buf);
        jsonw w;
        jsonw_init(&w, buf, cap);
        jsonw_raw(&w, "{\"p\":");
        jsonw_string(&w, "\xC3\xA9\xF0\x9F\x98\x80\"x", 9); /* 6+12+2+1 = 21 bytes + quotes */
        jsonw_raw(&w, ",");
        jsonw_double(&w, 3.1304951684997055);
        jsonw_raw(&w, "}");
        /* 5 + 23 + 1 + 18 + 1 = 48 bytes: always too big for cap < 40. */
        assert_int_equal(jsonw_finish(&w), CMMO_ETOO_LONG);
        assert_true(w.overflow);
        assert_true(w.len <= cap);
        assert_guard_intact(buf, cap);
    }
}

static void test_jsonw_overflow_sticks_even_if_later_writes_would_fit(void **state)
{
    char buf[8 + GUARD];
    memset(buf, 0xA5, sizeof buf);
    jsonw w;
    jsonw_init(&w, buf, 8);
    jsonw_raw(&w, "0123456789");
    jsonw_raw(&w, "a");
    jsonw_int(&w, 1);
    assert_int_equal(jsonw_finish(&w), CMMO_ETOO_LONG);
    assert_guard_intact(buf, 8);
}

static void test_jsonw_output_that_exactly_fits_is_not_overflow(void **state)
{
    char buf[5 + GUARD];
    memset(buf, 0xA5, sizeof buf);
    jsonw w;
    jsonw_init(&w, buf, 5);
    jsonw_string(&w, "abc", 3);
    assert_int_equal(jsonw_finish(&w), 5);
    assert_memory_equal(buf, "\"abc\"", 5);
    assert_guard_intact(buf, 5);
}

static const char *hundredths_json(double v)
{
    static char out[64];
    jsonw w;
    jsonw_init(&w, out, sizeof out - 1);
    jsonw_hundredths(&w, v);
    long len = jsonw_finish(&w);
    assert_true(len > 0);
    out[len] = 0;
    return out;
}

static void test_jsonw_hundredths_rounds_and_trims(void **state)
{
    assert_string_equal(hundredths_json(0), "0");
    assert_string_equal(hundredths_json(16000), "16000");
    assert_string_equal(hundredths_json(12.5), "12.5");
    assert_string_equal(hundredths_json(12.25), "12.25");
    assert_string_equal(hundredths_json(0.05), "0.05");
    assert_string_equal(hundredths_json(3.1304951684997055), "3.13");
    assert_string_equal(hundredths_json(1.5652475842498528), "1.57");
    assert_string_equal(hundredths_json(9.999), "10");
    assert_string_equal(hundredths_json(-1.5), "-1.5");
    assert_string_equal(hundredths_json(-0.004), "0"); /* no "-0" */
    assert_string_equal(hundredths_json(NAN), "0");
    assert_string_equal(hundredths_json(INFINITY), "0");
    assert_string_equal(hundredths_json(1e13), "10000000000000.0"); /* as jsonw_double */
    /* Every walk position reads back within half a hundredth. */
    for (int i = 0; i < 100000; i++) {
        double v = (double)rand() / RAND_MAX * 16000;
        double back = strtod(hundredths_json(v), NULL);
        assert_true(fabs(back - v) <= 0.005 + 1e-9);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw_string_escapes_quote_and_backslash),
        cmocka_unit_test(test_jsonw_string_escapes_every_control_character),
        cmocka_unit_test(test_jsonw_string_escapes_embedded_nul),
        cmocka_unit_test(test_jsonw_string_escapes_non_ascii_as_u_escapes),
        cmocka_unit_test(test_jsonw_string_writes_surrogate_pairs_above_ffff),
        cmocka_unit_test(test_jsonw_string_replaces_invalid_bytes_with_fffd),
        cmocka_unit_test(test_jsonw_string_empty),
        cmocka_unit_test(test_jsonw_double_always_has_a_decimal_point_or_exponent),
        cmocka_unit_test(test_jsonw_double_writes_the_shortest_roundtrip_form),
        cmocka_unit_test(test_jsonw_double_uses_16_digits_when_16_are_enough),
        cmocka_unit_test(test_jsonw_double_reads_back_equal),
        cmocka_unit_test(test_jsonw_double_writes_non_finite_as_zero),
        cmocka_unit_test(test_jsonw_double_matches_general_case_on_world_coordinates),
        cmocka_unit_test(test_jsonw_double_matches_general_case_on_every_kind_of_double),
        cmocka_unit_test(test_jsonw_int_writes_full_int64_range),
        cmocka_unit_test(test_jsonw_hundredths_rounds_and_trims),
        cmocka_unit_test(test_jsonw_builds_an_object_from_parts),
        cmocka_unit_test(test_jsonw_overflow_is_reported_and_never_writes_past_cap),
        cmocka_unit_test(test_jsonw_overflow_sticks_even_if_later_writes_would_fit),
        cmocka_unit_test(test_jsonw_output_that_exactly_fits_is_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
