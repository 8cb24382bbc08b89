/* bench_http: blocking GET of /stats (see bench_http.h). */
#include "bench_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

/* Waits for fd to be ready for events, within the time left until deadline_ms. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
    uint64_t now = uv_hrtime() / 1000000u;
    if (now >= deadline_ms) return -1;
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, (int)(deadline_ms - now));
    return r == 1 ? 0 : -1;
}

json_t *bench_http_get_json(const char *host, int port, const char *path)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) return NULL;
    uint64_t deadline = uv_hrtime() / 1000000u + BENCH_HTTP_TIMEOUT_MS;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return NULL;
    json_t *result = NULL;
    char req[512];
    char resp[BENCH_HTTP_MAX_RESPONSE];
    size_t got = 0;
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
                 path, host, port);
    if (n < 0 || (size_t)n >= sizeof(req)) goto out;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 && errno != EINPROGRESS) goto out;
    if (wait_fd(fd, POLLOUT, deadline) != 0) goto out;
    for (size_t sent = 0; sent < (size_t)n;) {
        ssize_t w = send(fd, req + sent, (size_t)n - sent, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN) goto out;
        if (w < 0 && wait_fd(fd, POLLOUT, deadline) != 0) goto out;
        if (w > 0) sent += (size_t)w;
    }
    /* Read until the server closes (Connection: close) or the declared body is complete. */
    for (;;) {
        if (got >= sizeof(resp) - 1) goto out;
        ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
        if (r == 0) break;
        if (r < 0) {
            if (errno != EAGAIN || wait_fd(fd, POLLIN, deadline) != 0) goto out;
            continue;
        }
        got += (size_t)r;
        resp[got] = '\0';
        char *body = strstr(resp, "\r\n\r\n");
        char *cl = strcasestr(resp, "\r\ncontent-length:");
        if (body && strstr(body, "\r\n0\r\n\r\n")) break; /* end of a chunked body */
        if (body && cl && cl < body) {
            long want = strtol(cl + 17, NULL, 10);
            if (want >= 0 && (size_t)(resp + got - (body + 4)) >= (size_t)want) break;
        }
    }
    resp[got] = '\0';
    if (got < 12 || strncmp(resp, "HTTP/1.1 200", 12) != 0) goto out;
    char *body = strstr(resp, "\r\n\r\n");
    if (!body) goto out;
    body += 4;
    /* A chunked answer: skip the first chunk-size line; the stats object is one small chunk. */
    char *te = strcasestr(resp, "\r\ntransfer-encoding: chunked");
    if (te && te < body) {
        char *eol = strstr(body, "\r\n");
        if (!eol) goto out;
        body = eol + 2;
    }
    result = json_loads(body, JSON_DISABLE_EOF_CHECK, NULL);
out:
    close(fd);
    return result;
}

static void http_work(uv_work_t *w)
{
    struct bench_http_request *req = w->data;
    req->result = bench_http_get_json(req->host, req->port, req->path);
}

static void http_after(uv_work_t *w, int status)
{
    struct bench_http_request *req = w->data;
    if (status != 0) {
        json_decref(req->result);
        req->result = NULL;
    }
    req->done(req);
}

int bench_http_get_json_async(uv_loop_t *loop, struct bench_http_request *req, const char *host,
                              int port, const char *path,
                              void (*done)(struct bench_http_request *req), void *user)
{
    memset(req, 0, sizeof(*req));
    snprintf(req->host, sizeof(req->host), "%s", host);
    snprintf(req->path, sizeof(req->path), "%s", path);
    req->port = port;
    req->done = done;
    req->user = user;
    req->work.data = req;
    return uv_queue_work(loop, &req->work, http_work, http_after);
}
