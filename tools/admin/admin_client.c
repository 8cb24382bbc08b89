/*
 * admin_client: one request on the server's admin socket (see admin_client.h).
 */
#include "admin_client.h"

#include "server/admin.h"

#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int admin_client_request(const char *socket_path, const char *command, admin_client_line_fn fn,
                         void *user, char *status, size_t cap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof sa.sun_path) {
        snprintf(status, cap, "socket path over %zu bytes", sizeof sa.sun_path - 1);
        return ADMIN_CLIENT_UNREACHABLE;
    }
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int err = errno;
        if (err == ENOENT || err == ECONNREFUSED)
            snprintf(status, cap, "no server answers on %s (%s)", socket_path, strerror(err));
        else if (err == EACCES || err == EPERM)
            snprintf(status, cap, "%s: %s (run as the server's user)", socket_path, strerror(err));
        else
            snprintf(status, cap, "%s: %s", socket_path, strerror(err));
        if (fd >= 0) close(fd);
        return ADMIN_CLIENT_UNREACHABLE;
    }
    int result = ADMIN_CLIENT_FAILED;
    size_t cmd_len = strlen(command);
    char *line = malloc(cmd_len + 2);
    /* A reply line is at most a player line or an echoed command; longer ones are cut. */
    char in[ADMIN_LINE_MAX + 256];
    size_t in_len = 0;
    if (!line) {
        snprintf(status, cap, "out of memory");
        goto out;
    }
    memcpy(line, command, cmd_len);
    memcpy(line + cmd_len, "\n", 2);
    if (write_all(fd, line, cmd_len + 1) != 0) {
        snprintf(status, cap, "sending failed: %s", strerror(errno));
        goto out;
    }
    shutdown(fd, SHUT_WR); /* one command: the server answers, then sees EOF and closes */
    int64_t deadline = now_ms() + ADMIN_CLIENT_TIMEOUT_MS;
    for (;;) {
        char *nl;
        while ((nl = memchr(in, '\n', in_len)) != NULL) {
            *nl = 0;
            if (nl > in && nl[-1] == '\r') nl[-1] = 0;
            if (strncmp(in, "OK", 2) == 0 && (in[2] == 0 || in[2] == ' ')) {
                snprintf(status, cap, "%s", in[2] ? in + 3 : "");
                result = ADMIN_CLIENT_OK;
                goto out;
            }
            if (strncmp(in, "ERR", 3) == 0 && (in[3] == 0 || in[3] == ' ')) {
                snprintf(status, cap, "%s", in[3] ? in + 4 : "");
                result = ADMIN_CLIENT_REFUSED;
                goto out;
            }
            if (fn) fn(user, in);
            size_t used = (size_t)(nl - in) + 1;
            memmove(in, in + used, in_len - used);
            in_len -= used;
        }
        if (in_len == sizeof in) in_len = 0; /* an over-long data line: dropped */
        int64_t left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) {
            snprintf(status, cap, "no answer within %d s", ADMIN_CLIENT_TIMEOUT_MS / 1000);
            goto out;
        }
        ssize_t n = recv(fd, in + in_len, sizeof in - in_len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(status, cap, "the server closed the connection without an answer");
            goto out;
        }
        in_len += (size_t)n;
    }
out:
    free(line);
    close(fd);
    return result;
}
