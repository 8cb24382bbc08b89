#include "core/log.h"

#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* The only process-wide setting outside the server context: written once at start-up, before
 * any thread exists, and read-only afterwards. */
static enum log_level min_level = LOG_INFO;
static int json_lines = 0;
/* Where lines go. Replaced with dup2 on reopen, which is atomic for threads writing to it. */
static int log_fd = 2;
static char log_path[4096];
static int errors_to_stderr = 1;

void log_set_errors_to_stderr(int on)
{
    errors_to_stderr = on;
}

void log_set_json(int json)
{
    json_lines = json;
}

int log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return -errno;
    snprintf(log_path, sizeof log_path, "%s", path);
    log_fd = fd;
    return 0;
}

int log_reopen(void)
{
    if (!log_path[0]) return 0;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) return -errno;
    dup2(fd, log_fd);
    close(fd);
    return 0;
}

/* Appends `"key":value` pairs for the key=value text (values quoted with "..." may hold
 * spaces). Numbers stay numbers; everything else becomes a JSON string. */
static size_t kv_to_json(const char *kv, char *out, size_t cap)
{
    size_t n = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (n + 1 < cap) out[n++] = (ch);                                                          \
    } while (0)
    const char *p = kv;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p) break;
        const char *key = p;
        while (*p && *p != '=' && *p != ' ')
            p++;
        size_t klen = (size_t)(p - key);
        if (*p != '=') continue;
        p++;
        const char *val = p;
        size_t vlen;
        int quoted = *p == '"';
        if (quoted) {
            val = ++p;
            while (*p && *p != '"')
                p++;
            vlen = (size_t)(p - val);
            if (*p) p++;
        } else {
            while (*p && *p != ' ')
                p++;
            vlen = (size_t)(p - val);
        }
        char *end;
        char tmp[64];
        int number = 0;
        if (!quoted && vlen > 0 && vlen < sizeof tmp) {
            memcpy(tmp, val, vlen);
            tmp[vlen] = 0;
            strtod(tmp, &end);
            number = *end == 0 && (tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9'));
        }
        PUT(',');
        PUT('"');
        for (size_t i = 0; i < klen; i++)
            PUT(key[i]);
        PUT('"');
        PUT(':');
        if (!number) PUT('"');
        for (size_t i = 0; i < vlen; i++) {
            char ch = val[i];
            if (ch == '"' || ch == '\\') PUT('\\');
            if ((unsigned char)ch < 0x20) ch = ' ';
            PUT(ch);
        }
        if (!number) PUT('"');
    }
#undef PUT
    out[n] = 0;
    return n;
}

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum log_level log_get_level(void)
{
    return min_level;
}

int log_level_parse(const char *text, enum log_level *out)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return CMMO_EINVALID;
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
    static const char *tags[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if (level < min_level) return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char stamp[64];
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));
    char kv[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(kv, sizeof kv, fmt, ap);
    va_end(ap);
    char line[2600];
    int n;
    if (json_lines) {
        static const char *names[] = {"debug", "info", "warn", "error"};
        char fields[1500];
        kv_to_json(kv, fields, sizeof fields);
        n = snprintf(line, sizeof line, "{\"time\":\"%s\",\"level\":\"%s\",\"event\":\"%s\"%s}\n",
                     stamp, names[level], event, fields);
    } else {
        n = snprintf(line, sizeof line, "%s %s %s %s\n", stamp, tags[level], event, kv);
    }
    if (n < 0) return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    /* One write per line so lines from worker threads never interleave mid-line. */
    ssize_t w = write(log_fd, line, len);
    if (level == LOG_ERROR && errors_to_stderr && log_fd != 2) w = write(2, line, len);
    (void)w;
}
