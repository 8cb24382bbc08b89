#include "proto/jsonw.h"

#include "core/utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(jsonw *w, char *out, size_t cap)
{
    w->out = out;
    w->cap = cap;
    w->len = 0;
    w->overflow = 0;
}

static void put(jsonw *w, const char *s, size_t n)
{
    if (w->overflow) return;
    if (w->cap - w->len < n) {
        w->overflow = 1;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

void jsonw_raw(jsonw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_u16(jsonw *w, unsigned v)
{
    char esc[8];
    snprintf(esc, sizeof esc, "\\u%04x", v & 0xFFFFu);
    put(w, esc, 6);
}

void jsonw_string(jsonw *w, const char *s, size_t len)
{
    put(w, "\"", 1);
    size_t pos = 0;
    while (pos < len) {
        uint32_t cp;
        if (utf8_next(s, len, &pos, &cp) != 0) {
            cp = 0xFFFD;
            pos++;
        }
        if (cp == '"') {
            put(w, "\\\"", 2);
        } else if (cp == '\\') {
            put(w, "\\\\", 2);
        } else if (cp == '\n') {
            put(w, "\\n", 2);
        } else if (cp < 0x20 || cp == 0x7F) {
            put_u16(w, cp);
        } else if (cp < 0x80) {
            char c = (char)cp;
            put(w, &c, 1);
        } else if (cp < 0x10000) {
            put_u16(w, cp);
        } else {
            cp -= 0x10000;
            put_u16(w, 0xD800 + (cp >> 10));
            put_u16(w, 0xDC00 + (cp & 0x3FF));
        }
    }
    put(w, "\"", 1);
}

void jsonw_int(jsonw *w, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    put(w, num, (size_t)n);
}

/* Writes q / 10^decimals (decimals 1..3) with the fraction's trailing zeros left out; a whole
 * number is written with ".0" if `point` is set, with no fraction otherwise. */
static void put_scaled(jsonw *w, long long q, int decimals, int point)
{
    char num[40];
    char *p = num + sizeof num;
    int negative = q < 0;
    unsigned long long u = negative ? (unsigned long long)(-q) : (unsigned long long)q;
    unsigned scale = decimals == 1 ? 10 : decimals == 2 ? 100 : 1000;
    unsigned frac = (unsigned)(u % scale);
    u /= scale;
    if (frac) {
        while (frac % 10 == 0) {
            frac /= 10;
            decimals--;
        }
        for (int i = 0; i < decimals; i++) {
            *--p = (char)('0' + frac % 10);
            frac /= 10;
        }
        *--p = '.';
    } else if (point) {
        *--p = '0';
        *--p = '.';
    }
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (negative) *--p = '-'; /* q < 0: it does not round to zero */
    put(w, p, (size_t)(num + sizeof num - p));
}

void jsonw_hundredths(jsonw *w, double v)
{
    if (!isfinite(v)) v = 0.0;
    if (!(fabs(v) < 1e12)) {
        jsonw_double(w, v);
        return;
    }
    put_scaled(w, llround(v * 100.0), 2, 0);
}

/* Values that are whole thousandths (integers, halves: every position of a walk along an axis,
 * every arrival on an integer target) print from an integer, without the printf and strtod
 * round trips of the general case, which perf showed as the largest single cost of encoding
 * deltas (about 14 % of the server at 2,000 walking players). The result is the same text. */
static int put_millis(jsonw *w, double v)
{
    if (!(fabs(v) < 1e12)) return 0;
    double m = nearbyint(v * 1000.0);
    if (m / 1000.0 != v) return 0;
    put_scaled(w, (long long)m, 3, 1);
    return 1;
}

/* ---- Exact shortest digits for doubles in [2^-10, 2^53) ----------------------------------------
 *
 * The general case in jsonw_double asks printf for 15, 16 and 17 significant digits and strtod
 * whether each reads back, about a microsecond per value; walking players' positions are
 * arbitrary doubles in 0..16000 and take it every time (perf: ~12 % of the server under load).
 * For v in [2^-10, 2^53) the same text comes from integer arithmetic alone:
 *   - v = m / 2^s exactly (m < 2^53, 0 <= s <= 62), so x = m * 10^p is v * 10^p * 2^s: with
 *     p = 16 - floor(log10 v), x >> s holds the 17 leading decimal digits of v and the low s bits
 *     of x the exact remainder (x < 2^53 * 10^20 < 2^120);
 *   - %.{d}g rounds the exact value to d digits, half to even (glibc), done here on those digits
 *     and that remainder;
 *   - strtod reads the text D back as v exactly when |D - v| is below half the gap to the next
 *     double on that side; the gap below a power of two is half the gap above. At exactly half a
 *     gap strtod breaks the tie, and the general case is left to decide. (Neither case arises in
 *     this range: its powers of two have at most 11 significant digits and print exactly, and a
 *     point halfway between two of its doubles has more than 17. The checks stay so that the
 *     code is right without that argument.);
 *   - the text is laid out as %g lays it out for precision d: fixed notation unless the decimal
 *     exponent is below -4 or at least d, trailing zeros of the fraction dropped.
 * Returns 0, having written nothing, for any value it does not handle; the caller then takes the
 * general case. The unit tests compare the two on millions of values. */

__extension__ typedef unsigned __int128 jsonw_u128;

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* 10^p for 0 <= p <= 20 (10^20 needs more than 64 bits). */
static jsonw_u128 pow10_wide(int p)
{
    return p < 20 ? (jsonw_u128)pow10_u64[p] : (jsonw_u128)pow10_u64[19] * 10u;
}

/* Writes what printf("%.*g", precision, v) writes when its rounded digits are q (precision of
 * them, so q is in [10^(precision-1), 10^precision)) and its decimal exponent is exp10, then ".0"
 * if that text has no '.' and no exponent, as jsonw_double does. */
static void put_g(jsonw *w, int negative, uint64_t q, int precision, int exp10)
{
    static const char two_digits[201] = "00010203040506070809101112131415161718192021222324"
                                        "25262728293031323334353637383940414243444546474849"
                                        "50515253545556575859606162636465666768697071727374"
                                        "75767778798081828384858687888990919293949596979899";
    char digits[20];
    int left = precision;
    for (; left >= 2; left -= 2) { /* two digits at a time, from the last */
        memcpy(digits + left - 2, two_digits + 2 * (q % 100), 2);
        q /= 100;
    }
    if (left == 1) digits[0] = (char)('0' + q);
    int n = precision;
    while (n > 1 && digits[n - 1] == '0')
        n--; /* significant digits left once %g drops trailing zeros */
    char num[48];
    char *p = num;
    if (negative) *p++ = '-';
    if (exp10 < -4 || exp10 >= precision) {
        *p++ = digits[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)(n - 1));
            p += n - 1;
        }
        *p++ = 'e';
        *p++ = exp10 < 0 ? '-' : '+';
        unsigned e = (unsigned)(exp10 < 0 ? -exp10 : exp10);
        if (e >= 100) *p++ = (char)('0' + e / 100);
        *p++ = (char)('0' + e / 10 % 10);
        *p++ = (char)('0' + e % 10);
    } else if (exp10 < 0) {
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > exp10; i--)
            *p++ = '0';
        memcpy(p, digits, (size_t)n);
        p += n;
    } else {
        int whole = exp10 + 1; /* digits before the point, at most precision */
        if (n <= whole) {
            memcpy(p, digits, (size_t)n);
            p += n;
            for (int i = n; i < whole; i++)
                *p++ = '0';
            *p++ = '.';
            *p++ = '0';
        } else {
            memcpy(p, digits, (size_t)whole);
            p += whole;
            *p++ = '.';
            memcpy(p, digits + whole, (size_t)(n - whole));
            p += n - whole;
        }
    }
    put(w, num, (size_t)(p - num));
}

/* Writes v as jsonw_double's general case would and returns 1, or writes nothing and returns 0
 * if v is outside [2^-10, 2^53) in magnitude or on a tie (see above). */
static int put_shortest_exact(jsonw *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int negative = (int)(bits >> 63);
    int e2 = (int)((bits >> 52) & 0x7FF) - 1023; /* |v| in [2^e2, 2^(e2 + 1)) */
    if (e2 < -10 || e2 > 52) return 0;           /* also zero, subnormals, inf and NaN */
    uint64_t fraction = bits & ((1ull << 52) - 1);
    uint64_t m = fraction | (1ull << 52);
    int s = 52 - e2; /* |v| = m / 2^s */

    /* k = floor(log10 |v|), first guessed as floor(e2 * log10(2)), which is k or k - 1; the
     * offset keeps the shifted value non-negative (e2 >= -10). */
    int k = ((e2 * 1233 + 4 * 4096) >> 12) - 4;
    jsonw_u128 x = (jsonw_u128)m * pow10_wide(16 - k);
    if ((x >> s) >= pow10_u64[17]) {
        k++;
        x = (jsonw_u128)m * pow10_wide(16 - k);
    }
    uint64_t top = (uint64_t)(x >> s); /* the 17 leading digits, truncated */
    if (top < pow10_u64[16] || top >= pow10_u64[17]) return 0; /* not reached */
    jsonw_u128 below_top = x & (((jsonw_u128)1 << s) - 1);
    /* In the units of x (v * 10^p * 2^s), the gap from v to the next double up, 2^-s, is 10^p. */
    jsonw_u128 gap = pow10_wide(16 - k);

    const uint64_t truncated[3] = {top / 100, top / 10, top}; /* to 15, 16, 17 digits */
    for (int precision = 15; precision <= 17; precision++) {
        uint64_t unit_digits = pow10_u64[17 - precision];
        uint64_t q = truncated[precision - 15];
        jsonw_u128 unit = (jsonw_u128)unit_digits << s; /* one unit in the last kept digit */
        jsonw_u128 low = ((jsonw_u128)(top - q * unit_digits) << s) + below_top; /* x - q*unit */
        jsonw_u128 distance;
        int above = 2 * low > unit || (2 * low == unit && (q & 1));
        if (above) {
            q++;
            distance = unit - low;
        } else {
            distance = low;
        }
        /* Reads back iff distance < gap / 2, or gap / 4 below a power of two. */
        jsonw_u128 scaled = !above && fraction == 0 ? 4 * distance : 2 * distance;
        if (scaled == gap) return 0; /* a tie that strtod breaks: left to the general case */
        if (scaled > gap) continue;
        int exp10 = k;
        if (q == pow10_u64[precision]) { /* 9.99.. carried to 10 (such a D never reads back here) */
            q /= 10;
            exp10++;
        }
        put_g(w, negative, q, precision, exp10);
        return 1;
    }
    return 0; /* 17 digits always read back; not reached */
}

void jsonw_double(jsonw *w, double v)
{
    char num[40];
    if (!isfinite(v)) v = 0.0;
    if (put_millis(w, v)) return;
    if (put_shortest_exact(w, v)) return;
    /* The shortest of 15, 16 or 17 significant digits that reads back exactly. */
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
    put(w, num, (size_t)n);
}

long jsonw_finish(const jsonw *w)
{
    return w->overflow ? CMMO_ETOO_LONG : (long)w->len;
}
