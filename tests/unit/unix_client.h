/*
 * unix_client: the client side of the line-server tests. A plain socket on a Unix path in the
 * test's process; every wait turns the server's loop without blocking until the bytes it wants
 * have come, so the server and the client share one thread and each step is deterministic.
 */
#ifndef CMMO_TEST_UNIX_CLIENT_H
#define CMMO_TEST_UNIX_CLIENT_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* How long a wait may take before the test gives up: far above any step's need. */
#define UNIX_CLIENT_WAIT_MS 5000

typedef struct unix_client {
    int fd;
    int eof;        /* the server closed */
    char in[65536]; /* everything read so far, NUL-terminated */
    size_t in_len;
} unix_client;

static inline int64_t unix_client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connects to path; the connection is queued at the server until the loop accepts it.
 * Returns 0, or -1 (fd is then -1). */
static inline int unix_client_connect(unix_client *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strncpy(sa.sun_path, path, sizeof sa.sun_path - 1);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    return 0;
}

/* Writes all of len bytes (the socket buffer takes a few KiB at once). Returns 0 or -1. */
static inline int unix_client_send(unix_client *c, const char *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(c->fd, data + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) return -1;
        if (n > 0) off += (size_t)n;
    }
    return 0;
}

/* Reads what is there now into c->in; sets c->eof on close or reset. */
static inline void unix_client_read(unix_client *c)
{
    while (!c->eof && c->in_len < sizeof c->in - 1) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            c->in[c->in_len] = 0;
        } else if (n == 0 || errno != EAGAIN) {
            c->eof = 1;
        } else {
            return;
        }
    }
}

/* Turns loop and reads until c->in holds text (text NULL: until EOF). Returns 1 if it came
 * within UNIX_CLIENT_WAIT_MS, else 0. */
static inline int unix_client_wait(uv_loop_t *loop, unix_client *c, const char *text)
{
    int64_t deadline = unix_client_now_ms() + UNIX_CLIENT_WAIT_MS;
    for (;;) {
        uv_run(loop, UV_RUN_NOWAIT);
        unix_client_read(c);
        if (text ? strstr(c->in, text) != NULL : c->eof) return 1;
        if (unix_client_now_ms() > deadline) return 0;
        usleep(200);
    }
}

/* Turns loop for ms milliseconds (for "nothing happens" checks and timers). */
static inline void unix_client_spin(uv_loop_t *loop, unix_client *c, int ms)
{
    int64_t end = unix_client_now_ms() + ms;
    while (unix_client_now_ms() < end) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (c) unix_client_read(c);
        usleep(200);
    }
}

static inline void unix_client_close(unix_client *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

#endif
