/* bench_scan: partial packet reading (see bench_scan.h). */
#include "bench_scan.h"

#include <stdlib.h>
#include <string.h>

#define PREFIX(s) s, sizeof(s) - 1

static int has_prefix(const char *p, size_t len, const char *pre, size_t plen)
{
    return len >= plen && memcmp(p, pre, plen) == 0;
}

/* The exact start of every cmmo.v2 movement delta, {"a":"Move","p0":[id,x,y]}: the server writes
 * it with this key order and no spaces. */
static const char move_head[] = "{\"a\":\"Move\",\"p0\":[";

/* Kind 1: the kind byte, then 12-byte records (u32 id, x, y in hundredths); kind 2: the kind
 * byte, a scale byte s, then 8-byte records (u32 id, u16 x, y in 2^-s px). */
static size_t moves_header(const char *p, size_t len, size_t *record)
{
    if (len >= 1 && (uint8_t)p[0] == 1) {
        *record = 12;
        return 1;
    }
    if (len >= 2 && (uint8_t)p[0] == 2 && (uint8_t)p[1] <= BENCH_MOVE_SCALE_MAX) {
        *record = 8;
        return 2;
    }
    return 0;
}

long bench_scan_moves(const char *p, size_t len)
{
    size_t record, head = moves_header(p, len, &record);
    if (head == 0 || (len - head) % record != 0) return -1;
    return (long)((len - head) / record);
}

static uint32_t u32le(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static uint32_t u16le(const char *p)
{
    const uint8_t *u = (const uint8_t *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8;
}

void bench_scan_move_record(const char *p, size_t i, int64_t *id, double *x, double *y)
{
    if ((uint8_t)p[0] == 1) {
        const char *r = p + 1 + i * 12;
        *id = u32le(r);
        *x = u32le(r + 4) / 100.0;
        *y = u32le(r + 8) / 100.0;
        return;
    }
    const char *r = p + 2 + i * 8;
    double unit = 1.0 / (double)(1u << (uint8_t)p[1]);
    *id = u32le(r);
    *x = u16le(r + 4) * unit;
    *y = u16le(r + 6) * unit;
}

enum bench_packet bench_scan_classify(const char *p, size_t len)
{
    if (bench_scan_moves(p, len) >= 0) return BENCH_PKT_MOVES;
    if (has_prefix(p, len, PREFIX("{\"a\":\"ModelDelta\""))) return BENCH_PKT_DELTA;
    if (has_prefix(p, len, PREFIX(move_head))) return BENCH_PKT_DELTA;
    if (has_prefix(p, len, PREFIX("{\"a\":\"Chat\""))) return BENCH_PKT_CHAT;
    if (has_prefix(p, len, PREFIX("{\"a\":\"Ok\"}"))) return BENCH_PKT_OK;
    if (has_prefix(p, len, PREFIX("{\"a\":\"Deny\""))) return BENCH_PKT_DENY;
    if (has_prefix(p, len, PREFIX("{\"a\":\"Disconnect\""))) return BENCH_PKT_DISCONNECT;
    return BENCH_PKT_OTHER;
}

/* Copies the number starting at p (at most 40 chars) into a NUL-terminated scratch so strtod/
 * strtoll never read past the frame. */
static int copy_number(const char *p, const char *end, char out[48])
{
    size_t n = 0;
    while (p + n < end && n < 47 && strchr("+-.0123456789eE", p[n]) && p[n] != '\0')
        n++;
    if (n == 0) return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

static int parse_int(const char *p, const char *end, int64_t *v)
{
    char tmp[48];
    char *stop;
    if (copy_number(p, end, tmp) != 0) return -1;
    long long x = strtoll(tmp, &stop, 10);
    if (stop == tmp) return -1;
    /* The Godot-compatible server may print integral ids as floats ("3.0"): accept that. */
    if (*stop == '.') {
        double d = strtod(tmp, &stop);
        x = (long long)d;
    }
    *v = x;
    return 0;
}

/* Reads the number at p; returns the char after it, or NULL if there is none. */
static const char *read_double(const char *p, const char *end, double *v)
{
    char tmp[48];
    char *stop;
    if (copy_number(p, end, tmp) != 0) return NULL;
    *v = strtod(tmp, &stop);
    return stop == tmp ? NULL : p + (stop - tmp);
}

static int parse_double(const char *p, const char *end, double *v)
{
    return read_double(p, end, v) ? 0 : -1;
}

/* The actor id of a Move (p starts with move_head): the integer right after "[", which a comma
 * must follow. Returns the char after that comma, or NULL. */
static const char *move_id(const char *p, const char *end, int64_t *id)
{
    const char *d = p + sizeof(move_head) - 1, *start = d;
    int64_t v = 0;
    while (d < end && *d >= '0' && *d <= '9' && d - start < 18)
        v = v * 10 + (*d++ - '0');
    if (d == start || d >= end || *d != ',') return NULL;
    *id = v;
    return d + 1;
}

/* x and y of a Move: "<id>,<x>,<y>]". */
static int move_xy(const char *p, const char *end, double *x, double *y)
{
    int64_t id;
    const char *s = move_id(p, end, &id);
    if (!s || !(s = read_double(s, end, x)) || s >= end || *s != ',') return -1;
    if (!(s = read_double(s + 1, end, y)) || s >= end || *s != ']') return -1;
    return 0;
}

/* Skips a JSON string starting at the opening quote; returns the char after the closing one. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return end;
}

/* The exact start of every movement delta the server writes: checked first because this
 * function runs for every delta every client receives (millions per second at 500 players). */
static const char delta_head[] = "{\"a\":\"ModelDelta\",\"p0\":{\"id\":";

int bench_scan_delta_id(const char *p, size_t len, int64_t *id)
{
    const char *end = p + len;
    if (len > sizeof(delta_head) && memcmp(p, delta_head, sizeof(delta_head) - 1) == 0) {
        const char *d = p + sizeof(delta_head) - 1;
        int64_t v = 0;
        const char *start = d;
        while (d < end && *d >= '0' && *d <= '9' && d - start < 18)
            v = v * 10 + (*d++ - '0');
        if (d > start && d < end && (*d == ',' || *d == '}')) {
            *id = v;
            return 0;
        }
    }
    if (has_prefix(p, len, PREFIX(move_head))) return move_id(p, end, id) ? 0 : -1;
    const char *s = memmem(p, len, "\"p0\":{", 6);
    if (!s) return -1;
    s += 6;
    /* Fast path: the server writes "id" first in every dict. */
    if (end - s > 5 && memcmp(s, "\"id\":", 5) == 0) return parse_int(s + 5, end, id);
    int depth = 1;
    while (s < end && depth > 0) {
        char c = *s;
        if (c == '"') {
            const char *after = skip_string(s, end);
            if (depth == 1 && after - s == 4 && memcmp(s, "\"id\"", 4) == 0 && after < end &&
                *after == ':')
                return parse_int(after + 1, end, id);
            s = after;
            continue;
        }
        if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        s++;
    }
    return -1;
}

int bench_scan_delta_xy(const char *p, size_t len, double *x, double *y)
{
    const char *end = p + len;
    if (has_prefix(p, len, PREFIX(move_head))) return move_xy(p, end, x, y);
    /* Names are [A-Za-z0-9_-] only, so "x": can only be the key. */
    const char *sx = memmem(p, len, "\"x\":", 4);
    const char *sy = memmem(p, len, "\"y\":", 4);
    if (!sx || !sy) return -1;
    if (parse_double(sx + 4, end, x) != 0 || parse_double(sy + 4, end, y) != 0) return -1;
    return 0;
}

/* Reads "<key>=<unsigned>" at *s, advancing past it and one following space. */
static int read_field(const char **s, const char *end, char key, uint64_t *v)
{
    const char *q = *s;
    if (end - q < 3 || q[0] != key || q[1] != '=') return -1;
    q += 2;
    uint64_t x = 0;
    const char *start = q;
    while (q < end && *q >= '0' && *q <= '9' && q - start < 20)
        x = x * 10 + (uint64_t)(*q++ - '0');
    if (q == start) return -1;
    if (q < end && *q == ' ') q++;
    *v = x;
    *s = q;
    return 0;
}

int bench_scan_chat(const char *p, size_t len, struct bench_chat_fields *out)
{
    const char *end = p + len;
    const char *n = memmem(p, len, "\"p0\":\"", 6);
    if (!n) return -1;
    n += 6;
    const char *ne = skip_string(n - 1, end);
    if (ne >= end) return -1;
    out->name = n;
    out->name_len = (size_t)(ne - 1 - n);
    const char *t = memmem(ne, (size_t)(end - ne), "\"p1\":\"", 6);
    if (!t) return -1;
    t += 6;
    uint64_t ts, sender, seq;
    if (read_field(&t, end, 't', &ts) != 0 || read_field(&t, end, 's', &sender) != 0 ||
        read_field(&t, end, 'n', &seq) != 0)
        return -1;
    out->sent_ns = ts;
    out->sender = (uint32_t)sender;
    out->seq = (uint32_t)seq;
    return 0;
}

int bench_scan_disconnect(const char *p, size_t len, int64_t *id)
{
    const char *s = memmem(p, len, "\"p0\":", 5);
    if (!s) return -1;
    return parse_int(s + 5, p + len, id);
}

int bench_scan_deny(const char *p, size_t len, const char **reason, size_t *reason_len)
{
    const char *end = p + len;
    const char *s = memmem(p, len, "\"p0\":\"", 6);
    if (!s) return -1;
    s += 6;
    if (s >= end) return -1;
    const char *e = skip_string(s - 1, end);
    *reason = s;
    *reason_len = (size_t)(e - 1 - s);
    return 0;
}
