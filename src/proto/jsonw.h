/*
 * jsonw: a minimal JSON writer into a fixed, caller-provided buffer, for the server's own packets.
 * Hot-path encoders (movement deltas) use it instead of building jansson trees.
 *
 * Output is compact and ASCII-only: every non-ASCII code point is escaped as \uXXXX (surrogate
 * pairs above U+FFFF), as the original server did. If the buffer is too small, `overflow` is set
 * and later writes do nothing; callers check jsonw_finish.
 */
#ifndef CMMO_JSONW_H
#define CMMO_JSONW_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct jsonw {
    char *out;
    size_t cap;
    size_t len;
    int overflow;
} jsonw;

void jsonw_init(jsonw *w, char *out, size_t cap);
/* Appends raw bytes (already valid JSON syntax). */
void jsonw_raw(jsonw *w, const char *s);
/* Appends a quoted, escaped string from len bytes of valid UTF-8 (invalid bytes become U+FFFD). */
void jsonw_string(jsonw *w, const char *s, size_t len);
void jsonw_int(jsonw *w, int64_t v);
/* Appends a finite double in the shortest form that reads back to the same value, always with a
 * decimal point or exponent ("3.0", not "3"), like Python's float repr. Non-finite becomes 0.0. */
void jsonw_double(jsonw *w, double v);
/* Appends a finite double rounded to hundredths, without trailing zeros ("12", "12.5",
 * "12.25"): compact positions (cmmo.v2). Non-finite becomes 0; beyond +-1e12 it prints as
 * jsonw_double. */
void jsonw_hundredths(jsonw *w, double v);
/* Returns the length written, or CMMO_ETOO_LONG if the buffer overflowed. */
long jsonw_finish(const jsonw *w);

#endif
