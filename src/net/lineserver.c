/*
 * lineserver: a line-oriented Unix socket server (see lineserver.h for the bounds and the
 * protection). Everything here runs on the loop's thread.
 *
 * Handles: one listener pipe, one sweep timer for idle connections, and one pipe per connection.
 * lineserver_stop closes them all; the struct is freed by the last close callback.
 */
#include "net/lineserver.h"

#include "core/error.h"
#include "core/list.h"
#include "core/log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Longest log_name kept; the event names add at most 20 bytes to it. */
#define LINESERVER_NAME_MAX 32

struct lineserver {
    uv_loop_t *loop;
    lineserver_config config; /* the strings below point into this struct or the caller's */
    uv_pipe_t listener;
    uv_timer_t sweep;
    char path[LINESERVER_PATH_MAX];
    char log_name[LINESERVER_NAME_MAX];
    lineserver_conn *conns; /* open connections only (core/list) */
    size_t conn_count;
    int open_handles; /* listener + sweep + connections not yet closed */
    int stopping;
};

struct lineserver_conn {
    lineserver *server;
    uv_pipe_t pipe;
    lineserver_conn *prev, *next;
    uint64_t last_active_ms;
    size_t in_len;
    int paused;  /* reading stopped until output drains */
    int closing; /* no more lines; closing after the last output, or closed */
    unsigned peer_uid;
    char in[]; /* config.line_max bytes */
};

/* One queued write: the request and the block it owns. */
typedef struct output {
    uv_write_t req;
    char *data;
} output;

static void conn_process(lineserver_conn *c);
static void read_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Logs event NAME_suffix (NAME is config.log_name) at level. */
#define server_log(s, level, suffix, ...)                                                          \
    do {                                                                                           \
        char event_[LINESERVER_NAME_MAX + 24];                                                     \
        snprintf(event_, sizeof event_, "%s_%s", (s)->log_name, suffix);                           \
        log_event(level, event_, __VA_ARGS__);                                                     \
    } while (0)

/* ---------------------------------------------------------------- lifetime */

/* Called by each of the server's handles as it finishes closing; the last one frees it. */
static void server_handle_closed(lineserver *s)
{
    assert(s->open_handles > 0);
    if (--s->open_handles == 0) free(s);
}

static void on_server_handle_closed(uv_handle_t *h)
{
    server_handle_closed(h->data);
}

static void on_conn_closed(uv_handle_t *h)
{
    lineserver_conn *c = h->data;
    lineserver *s = c->server;
    free(c);
    server_handle_closed(s);
}

void lineserver_close_now(lineserver_conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->pipe)) return;
    lineserver *s = c->server;
    c->closing = 1;
    assert(s->conn_count > 0);
    list_unlink(&s->conns, c);
    s->conn_count--;
    /* Pending writes are cancelled; their callbacks free them. */
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    lineserver_conn *c = req->data;
    free(req);
    lineserver_close_now(c);
}

void lineserver_close_after_output(lineserver_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    uv_read_stop((uv_stream_t *)&c->pipe);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) != 0) {
        free(req);
        lineserver_close_now(c);
        return;
    }
    req->data = c;
}

/* ---------------------------------------------------------------- output */

static void on_written(uv_write_t *req, int status)
{
    output *o = req->data;
    lineserver_conn *c = req->handle->data;
    free(o->data);
    free(o);
    if (status < 0 || c->closing) return;
    c->last_active_ms = uv_now(c->server->loop); /* a client reading its output is not idle */
    /* Caught up: handle the lines that arrived meanwhile, then read again. */
    if (c->paused && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) <=
                         c->server->config.output_max / 2) {
        c->paused = 0;
        conn_process(c);
    }
}

int lineserver_send(lineserver_conn *c, char *data, size_t len)
{
    output *o = c->closing ? NULL : malloc(sizeof *o);
    if (!o) {
        free(data);
        int was_closing = c->closing;
        lineserver_close_now(c);
        return was_closing ? CMMO_ECLOSED : -ENOMEM;
    }
    o->data = data;
    o->req.data = o;
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    int rc = uv_write(&o->req, (uv_stream_t *)&c->pipe, &b, 1, on_written);
    if (rc != 0) {
        free(data);
        free(o);
        lineserver_close_now(c);
        return rc;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > c->server->config.output_max)
        c->paused = 1;
    return 0;
}

/* Sends one of the server's own messages and closes after it. */
static void conn_refuse(lineserver_conn *c, const char *message)
{
    char *copy = strdup(message);
    if (!copy) {
        lineserver_close_now(c);
        return;
    }
    if (lineserver_send(c, copy, strlen(copy)) == 0) lineserver_close_after_output(c);
}

/* ---------------------------------------------------------------- input */

/* Delivers every complete line in the input buffer, unless paused or closing. */
static void conn_process(lineserver_conn *c)
{
    lineserver *s = c->server;
    size_t start = 0;
    while (!c->paused && !c->closing) {
        char *nl = memchr(c->in + start, '\n', c->in_len - start);
        if (!nl) break;
        char *line = c->in + start;
        size_t len = (size_t)(nl - line);
        start += len + 1;
        line[len] = 0;
        if (len > 0 && line[len - 1] == '\r') line[--len] = 0;
        s->config.on_line(s->config.user, c, line, len);
    }
    if (c->closing) return;
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len == s->config.line_max) {
        server_log(s, LOG_WARN, "line_too_long", "bytes=%zu", c->in_len);
        conn_refuse(c, s->config.too_long_message);
        return;
    }
    if (!c->paused) uv_read_start((uv_stream_t *)&c->pipe, read_alloc, on_read);
}

static void read_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    lineserver_conn *c = h->data;
    /* Never full here: conn_process closes a connection whose buffer fills without a line. */
    assert(c->in_len < c->server->config.line_max);
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->server->config.line_max - c->in_len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    lineserver_conn *c = st->data;
    if (n == 0) return;
    if (n < 0) {
        /* EOF: the output already queued still goes out (a client may half-close after its
         * line, as `printf 'online\n' | socat` does). */
        if (n == UV_EOF)
            lineserver_close_after_output(c);
        else
            lineserver_close_now(c);
        return;
    }
    c->in_len += (size_t)n;
    c->last_active_ms = uv_now(c->server->loop);
    if (c->paused || c->closing) return;
    uv_read_stop(st);
    conn_process(c);
}

/* ---------------------------------------------------------------- accept */

/* Whether the peer runs as this process's user or as root (its uid kept in c). */
static int peer_allowed(lineserver *s, lineserver_conn *c, uv_pipe_t *p)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)p, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return 0;
    c->peer_uid = (unsigned)cred.uid;
    if (cred.uid == geteuid() || cred.uid == 0) return 1;
    server_log(s, LOG_WARN, "refused", "reason=uid peer_uid=%u", (unsigned)cred.uid);
    return 0;
}

static void on_connection(uv_stream_t *listener, int status)
{
    lineserver *s = listener->data;
    if (status < 0 || s->stopping) return;
    lineserver_conn *c = calloc(1, sizeof *c + s->config.line_max);
    if (!c) return;
    c->server = s;
    uv_pipe_init(s->loop, &c->pipe, 0);
    c->pipe.data = c;
    s->open_handles++;
    list_push_front(&s->conns, c);
    s->conn_count++;
    c->last_active_ms = uv_now(s->loop);
    if (uv_accept(listener, (uv_stream_t *)&c->pipe) != 0 || !peer_allowed(s, c, &c->pipe)) {
        lineserver_close_now(c);
        return;
    }
    if (s->conn_count > s->config.conn_max) {
        server_log(s, LOG_WARN, "refused", "reason=too_many_connections max=%zu",
                   s->config.conn_max);
        conn_refuse(c, s->config.too_many_message);
        return;
    }
    server_log(s, LOG_DEBUG, "connected", "connections=%zu", s->conn_count);
    uv_read_start((uv_stream_t *)&c->pipe, read_alloc, on_read);
}

static void on_sweep(uv_timer_t *t)
{
    lineserver *s = t->data;
    uint64_t now = uv_now(s->loop);
    for (lineserver_conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (now - c->last_active_ms < s->config.idle_ms) continue;
        if (c->closing) {
            /* Still waiting, one sweep later, for a client that does not read its output. */
            lineserver_close_now(c);
            continue;
        }
        conn_refuse(c, s->config.idle_message);
    }
}

/* ---------------------------------------------------------------- start / stop */

/* Makes path free to bind: absent, or a stale socket (removed). Returns 0, or -1 with why. */
static int path_claim(lineserver *s, const char *path, const char **why)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            *why = strerror(errno);
            return CMMO_EINVALID;
        }
        /* Absent. Its directory must exist: libuv reports a bind in a missing directory as
         * "permission denied", which sends an operator looking at the wrong thing. */
        char dir[LINESERVER_PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash) return 0; /* the current directory */
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, len);
        dir[len] = 0;
        if (stat(dir, &st) != 0) {
            *why = errno == ENOENT ? "directory does not exist" : strerror(errno);
            return CMMO_EINVALID;
        }
        if (!S_ISDIR(st.st_mode)) {
            *why = "parent is not a directory";
            return CMMO_EINVALID;
        }
        return 0;
    }
    if (!S_ISSOCK(st.st_mode)) {
        *why = "exists and is not a socket";
        return CMMO_EINVALID;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return CMMO_EINVALID;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int err = errno;
    close(fd);
    if (rc == 0) {
        *why = "another server is answering on it";
        return CMMO_EINVALID;
    }
    if (err != ECONNREFUSED) {
        *why = strerror(err);
        return CMMO_EINVALID;
    }
    /* Left behind by a server that did not stop cleanly. */
    if (unlink(path) != 0) {
        *why = strerror(errno);
        return CMMO_EINVALID;
    }
    server_log(s, LOG_INFO, "stale_socket_removed", "path=%s", path);
    return 0;
}

lineserver *lineserver_start(uv_loop_t *loop, const lineserver_config *config)
{
    assert(config->line_max > 1 && config->conn_max > 0 && config->on_line);
    assert(config->too_long_message && config->too_many_message && config->idle_message);
    lineserver *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->loop = loop;
    s->config = *config;
    snprintf(s->log_name, sizeof s->log_name, "%s", config->log_name ? config->log_name : "line");
    const char *path = config->path;
    const char *why = NULL;
    if (!path || !*path || strlen(path) >= LINESERVER_PATH_MAX) {
        server_log(s, LOG_ERROR, "start_failed", "path=%s reason=\"path empty or over %d bytes\"",
                   path ? path : "", LINESERVER_PATH_MAX - 1);
        free(s);
        return NULL;
    }
    if (path_claim(s, path, &why) != 0) {
        server_log(s, LOG_ERROR, "start_failed", "path=%s reason=\"%s\"", path, why);
        free(s);
        return NULL;
    }
    memcpy(s->path, path, strlen(path) + 1);
    s->config.path = s->path;
    uv_pipe_init(loop, &s->listener, 0);
    s->listener.data = s;
    s->open_handles = 1;
    int rc = uv_pipe_bind(&s->listener, path);
    /* The file exists from bind on, but nobody can connect before listen: tighten it first. */
    if (rc == 0 && chmod(path, 0600) != 0) rc = uv_translate_sys_error(errno);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&s->listener, (int)config->conn_max, on_connection);
    if (rc != 0) {
        server_log(s, LOG_ERROR, "start_failed", "path=%s reason=\"%s\"", path, uv_strerror(rc));
        s->stopping = 1;
        /* If bind succeeded, libuv removes the file when it closes the pipe. */
        uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
        return NULL;
    }
    uv_timer_init(loop, &s->sweep);
    s->sweep.data = s;
    s->open_handles++;
    uv_timer_start(&s->sweep, on_sweep, config->sweep_ms, config->sweep_ms);
    server_log(s, LOG_INFO, "listening", "path=%s mode=0600", path);
    return s;
}

void lineserver_stop(lineserver *s)
{
    if (!s || s->stopping) return;
    s->stopping = 1;
    while (s->conns)
        lineserver_close_now(s->conns);
    uv_timer_stop(&s->sweep);
    uv_close((uv_handle_t *)&s->sweep, on_server_handle_closed);
    /* Removed now rather than when libuv closes the pipe: a server started right after this
     * one stops must not find our socket file. */
    unlink(s->path);
    uv_close((uv_handle_t *)&s->listener, on_server_handle_closed);
}

size_t lineserver_connection_count(const lineserver *s)
{
    return s ? s->conn_count : 0;
}

unsigned lineserver_conn_peer_uid(const lineserver_conn *c)
{
    return c->peer_uid;
}
