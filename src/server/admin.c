/*
 * admin: the operator channel (see admin.h for the commands and why the socket is enough
 * protection). Everything here runs on the server's loop thread, like the game it calls.
 *
 * Handles: one listener pipe, one sweep timer for idle connections, and one pipe per connection.
 * admin_stop closes them all; the struct is freed by the last close callback.
 */
#include "server/admin.h"

#include "core/log.h"
#include "core/utf8.h"
#include "proto/validate.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* How often idle connections are looked for; an idle one lives at most this much longer. */
#define ADMIN_SWEEP_MS 10000
/* The close reason a kicked player's client is shown (a WebSocket close reason: <= 123 bytes). */
#define ADMIN_KICK_REASON "Kicked by the server operator"

typedef struct admin_conn admin_conn;

struct admin {
    uv_loop_t *loop;
    game *game;
    uv_pipe_t listener;
    uv_timer_t sweep;
    char path[ADMIN_PATH_MAX];
    admin_conn *conns; /* doubly linked, open connections only */
    size_t conn_count;
    int open_handles; /* listener + sweep + connections not yet closed */
    int stopping;
};

struct admin_conn {
    admin *admin;
    uv_pipe_t pipe;
    admin_conn *prev, *next;
    uint64_t last_active_ms;
    size_t in_len;
    int paused;  /* reading stopped until replies drain */
    int closing; /* no more commands; closing after the last reply, or closed */
    char in[ADMIN_LINE_MAX];
};

/* A reply being built: grows as needed, handed to uv_write whole. */
typedef struct reply {
    uv_write_t req;
    char *data;
    size_t len, cap;
    int failed; /* out of memory: the reply is replaced by a short error */
} reply;

static void conn_process(admin_conn *c);

/* ---------------------------------------------------------------- lifetime */

/* Called by each of admin's handles as it finishes closing; the last one frees admin. */
static void admin_handle_closed(admin *a)
{
    assert(a->open_handles > 0);
    if (--a->open_handles == 0) free(a);
}

static void on_admin_handle_closed(uv_handle_t *h)
{
    admin_handle_closed(h->data);
}

static void on_conn_closed(uv_handle_t *h)
{
    admin_conn *c = h->data;
    admin *a = c->admin;
    free(c);
    admin_handle_closed(a);
}

/* Closes at once; pending replies are cancelled (their callbacks free them). Idempotent. */
static void conn_close_now(admin_conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->pipe)) return;
    admin *a = c->admin;
    c->closing = 1;
    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    a->conn_count--;
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    admin_conn *c = req->data;
    free(req);
    conn_close_now(c);
}

/* Closes after the replies already queued have been written (then EOF to the client). */
static void conn_close_after_replies(admin_conn *c)
{
    if (c->closing) return;
    c->closing = 1;
    uv_read_stop((uv_stream_t *)&c->pipe);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) != 0) {
        free(req);
        conn_close_now(c);
        return;
    }
    req->data = c;
}

/* ---------------------------------------------------------------- replies */

static void reply_append(reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply_append(reply *r, const char *fmt, ...)
{
    if (r->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(r->data + r->len, r->cap - r->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            r->failed = 1;
            return;
        }
        if ((size_t)n < r->cap - r->len) {
            r->len += (size_t)n;
            return;
        }
        size_t cap = r->cap * 2 > r->len + (size_t)n + 1 ? r->cap * 2 : r->len + (size_t)n + 1;
        char *d = realloc(r->data, cap);
        if (!d) {
            r->failed = 1;
            return;
        }
        r->data = d;
        r->cap = cap;
    }
}

static reply *reply_new(void)
{
    reply *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->cap = 256;
    r->data = malloc(r->cap);
    if (!r->data) {
        free(r);
        return NULL;
    }
    r->data[0] = 0;
    return r;
}

static void reply_free(reply *r)
{
    free(r->data);
    free(r);
}

static void on_reply_written(uv_write_t *req, int status)
{
    reply *r = req->data;
    admin_conn *c = r->req.handle->data;
    reply_free(r);
    if (status < 0 || c->closing) return;
    c->last_active_ms = uv_now(c->admin->loop); /* a client reading its replies is not idle */
    /* Caught up: handle the commands that arrived meanwhile, then read again. */
    if (c->paused &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) <= ADMIN_OUTPUT_MAX / 2) {
        c->paused = 0;
        conn_process(c);
    }
}

static void read_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Queues r on c (takes r). Pauses reading when too much is unsent. */
static void conn_send(admin_conn *c, reply *r)
{
    if (r->failed) {
        r->failed = 0;
        r->len = 0;
        reply_append(r, "ERR out of memory\n");
        if (r->failed) {
            reply_free(r);
            conn_close_now(c);
            return;
        }
    }
    uv_buf_t b = uv_buf_init(r->data, (unsigned)r->len);
    r->req.data = r;
    if (uv_write(&r->req, (uv_stream_t *)&c->pipe, &b, 1, on_reply_written) != 0) {
        reply_free(r);
        conn_close_now(c);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > ADMIN_OUTPUT_MAX) c->paused = 1;
}

static void conn_send_text(admin_conn *c, const char *text)
{
    reply *r = reply_new();
    if (!r) {
        conn_close_now(c);
        return;
    }
    reply_append(r, "%s", text);
    conn_send(c, r);
}

/* ---------------------------------------------------------------- commands */

typedef struct online_list {
    reply *reply;
    size_t count;
} online_list;

static void each_player(void *user, const char *name, int64_t actor_id, double x, double y,
                        const char *peer)
{
    online_list *list = user;
    reply_append(list->reply, "player %s %" PRId64 " %.1f %.1f %s\n", name, actor_id, x, y,
                 peer && *peer ? peer : "-");
    list->count++;
}

static void command_online(admin_conn *c, reply *r)
{
    online_list list = {r, 0};
    game_each_player(c->admin->game, each_player, &list);
    reply_append(r, "OK %zu online\n", list.count);
}

/* Names are checked against the registration rules before they reach the game or the log. */
static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > VALIDATE_USERNAME_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static void command_kick(admin_conn *c, reply *r, const char *name)
{
    if (!valid_name(name)) {
        reply_append(r, "ERR usage: kick NAME (1 to 20 letters, digits, _ or -)\n");
        return;
    }
    if (game_kick(c->admin->game, name, ADMIN_KICK_REASON) != 0) {
        log_info("admin_command", "command=kick result=not_online");
        reply_append(r, "ERR not online: %s\n", name);
        return;
    }
    log_info("admin_command", "command=kick result=ok user=%s", name);
    reply_append(r, "OK kicked %s\n", name);
}

static void command_broadcast(admin_conn *c, reply *r, const char *text)
{
    size_t len = strlen(text);
    char clean[VALIDATE_CHAT_BYTES + 1];
    if (!utf8_valid(text, len)) {
        reply_append(r, "ERR text must be UTF-8\n");
        return;
    }
    if (validate_chat(text, len, clean) == 0) {
        reply_append(r, "ERR nothing to say\n");
        return;
    }
    size_t reached = game_broadcast(c->admin->game, text);
    log_info("admin_command", "command=broadcast reached=%zu", reached);
    reply_append(r, "OK reached %zu\n", reached);
}

static void command_help(reply *r)
{
    reply_append(r, "commands:\n"
                    "  online           players in the world: player NAME ACTOR_ID X Y PEER\n"
                    "  kick NAME        close NAME's connection (1008)\n"
                    "  broadcast TEXT   a chat line from Server to every player\n"
                    "  help             this text\n"
                    "  quit             close this connection\n"
                    "OK\n");
}

/* Runs one command line (no newline, NUL-terminated) and queues its reply. */
static void conn_command(admin_conn *c, char *line)
{
    reply *r = reply_new();
    if (!r) {
        conn_close_now(c);
        return;
    }
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    else
        arg = line + strlen(line);
    int quit = 0;
    if (strcmp(line, "online") == 0 && !*arg)
        command_online(c, r);
    else if (strcmp(line, "kick") == 0)
        command_kick(c, r, arg);
    else if (strcmp(line, "broadcast") == 0)
        command_broadcast(c, r, arg);
    else if (strcmp(line, "help") == 0 && !*arg)
        command_help(r);
    else if (strcmp(line, "quit") == 0 && !*arg) {
        reply_append(r, "OK bye\n");
        quit = 1;
    } else if (!*line)
        reply_append(r, "ERR empty command (try help)\n");
    else
        reply_append(r, "ERR unknown command (try help)\n");
    conn_send(c, r);
    if (quit) conn_close_after_replies(c);
}

/* Runs every complete line in the input buffer, unless paused or closing. */
static void conn_process(admin_conn *c)
{
    size_t start = 0;
    while (!c->paused && !c->closing) {
        char *nl = memchr(c->in + start, '\n', c->in_len - start);
        if (!nl) break;
        char *line = c->in + start;
        size_t len = (size_t)(nl - line);
        start += len + 1;
        line[len] = 0;
        if (len > 0 && line[len - 1] == '\r') line[--len] = 0;
        if (strlen(line) != len) {
            /* An embedded NUL: not a text command. */
            conn_send_text(c, "ERR unknown command (try help)\n");
            continue;
        }
        conn_command(c, line);
    }
    if (c->closing) return;
    memmove(c->in, c->in + start, c->in_len - start);
    c->in_len -= start;
    if (c->in_len == sizeof c->in) {
        log_warn("admin_line_too_long", "bytes=%zu", c->in_len);
        conn_send_text(c, "ERR line too long\n");
        conn_close_after_replies(c);
        return;
    }
    if (!c->paused) uv_read_start((uv_stream_t *)&c->pipe, read_alloc, on_read);
}

static void read_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    admin_conn *c = h->data;
    /* Never full here: conn_process closes a connection whose buffer fills without a line. */
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(sizeof c->in - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    admin_conn *c = s->data;
    if (n == 0) return;
    if (n < 0) {
        /* EOF: the replies already queued still go out (a client may half-close after its
         * command, as `printf 'online\n' | socat` does). */
        if (n == UV_EOF)
            conn_close_after_replies(c);
        else
            conn_close_now(c);
        return;
    }
    c->in_len += (size_t)n;
    c->last_active_ms = uv_now(c->admin->loop);
    if (c->paused || c->closing) return;
    uv_read_stop(s);
    conn_process(c);
}

/* ---------------------------------------------------------------- accept */

/* Whether the peer runs as this process's user or as root. */
static int peer_allowed(uv_pipe_t *p)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)p, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return 0;
    if (cred.uid == geteuid() || cred.uid == 0) return 1;
    log_warn("admin_refused", "reason=uid peer_uid=%u", (unsigned)cred.uid);
    return 0;
}

static void on_connection(uv_stream_t *server, int status)
{
    admin *a = server->data;
    if (status < 0 || a->stopping) return;
    admin_conn *c = calloc(1, sizeof *c);
    if (!c) return;
    c->admin = a;
    uv_pipe_init(a->loop, &c->pipe, 0);
    c->pipe.data = c;
    a->open_handles++;
    c->next = a->conns;
    if (a->conns) a->conns->prev = c;
    a->conns = c;
    a->conn_count++;
    c->last_active_ms = uv_now(a->loop);
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        conn_close_now(c);
        return;
    }
    if (!peer_allowed(&c->pipe)) {
        conn_close_now(c);
        return;
    }
    if (a->conn_count > ADMIN_CONN_MAX) {
        log_warn("admin_refused", "reason=too_many_connections max=%d", ADMIN_CONN_MAX);
        conn_send_text(c, "ERR too many admin connections\n");
        conn_close_after_replies(c);
        return;
    }
    log_debug("admin_connected", "connections=%zu", a->conn_count);
    uv_read_start((uv_stream_t *)&c->pipe, read_alloc, on_read);
}

static void on_sweep(uv_timer_t *t)
{
    admin *a = t->data;
    uint64_t now = uv_now(a->loop);
    for (admin_conn *c = a->conns, *next; c; c = next) {
        next = c->next;
        if (now - c->last_active_ms < ADMIN_IDLE_MS) continue;
        if (c->closing) {
            /* Still waiting, one sweep later, for a client that does not read its replies. */
            conn_close_now(c);
            continue;
        }
        conn_send_text(c, "ERR idle too long\n");
        conn_close_after_replies(c);
    }
}

/* ---------------------------------------------------------------- start / stop */

/* Makes path free to bind: absent, or a stale socket (removed). Returns 0, or -1 with why. */
static int path_claim(const char *path, const char **why)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) {
            *why = strerror(errno);
            return -1;
        }
        /* Absent. Its directory must exist: libuv reports a bind in a missing directory as
         * "permission denied", which sends an operator looking at the wrong thing. */
        char dir[ADMIN_PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash) return 0; /* the current directory */
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, len);
        dir[len] = 0;
        if (stat(dir, &st) != 0) {
            *why = errno == ENOENT ? "directory does not exist" : strerror(errno);
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            *why = "parent is not a directory";
            return -1;
        }
        return 0;
    }
    if (!S_ISSOCK(st.st_mode)) {
        *why = "exists and is not a socket";
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int err = errno;
    close(fd);
    if (rc == 0) {
        *why = "another server is answering on it";
        return -1;
    }
    if (err != ECONNREFUSED) {
        *why = strerror(err);
        return -1;
    }
    /* Left behind by a server that did not stop cleanly. */
    if (unlink(path) != 0) {
        *why = strerror(errno);
        return -1;
    }
    log_info("admin_stale_socket_removed", "path=%s", path);
    return 0;
}

admin *admin_start(uv_loop_t *loop, const char *path, game *g)
{
    const char *why = NULL;
    if (!path || !*path || strlen(path) >= ADMIN_PATH_MAX) {
        log_error("admin_start_failed", "path=%s reason=\"path empty or over %d bytes\"",
                  path ? path : "", ADMIN_PATH_MAX - 1);
        return NULL;
    }
    if (path_claim(path, &why) != 0) {
        log_error("admin_start_failed", "path=%s reason=\"%s\"", path, why);
        return NULL;
    }
    admin *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->loop = loop;
    a->game = g;
    memcpy(a->path, path, strlen(path) + 1);
    uv_pipe_init(loop, &a->listener, 0);
    a->listener.data = a;
    a->open_handles = 1;
    int rc = uv_pipe_bind(&a->listener, path);
    /* The file exists from bind on, but nobody can connect before listen: tighten it first. */
    if (rc == 0 && chmod(path, 0600) != 0) rc = uv_translate_sys_error(errno);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&a->listener, ADMIN_CONN_MAX, on_connection);
    if (rc != 0) {
        log_error("admin_start_failed", "path=%s reason=\"%s\"", path, uv_strerror(rc));
        a->stopping = 1;
        /* If bind succeeded, libuv removes the file when it closes the pipe. */
        uv_close((uv_handle_t *)&a->listener, on_admin_handle_closed);
        return NULL;
    }
    uv_timer_init(loop, &a->sweep);
    a->sweep.data = a;
    a->open_handles++;
    uv_timer_start(&a->sweep, on_sweep, ADMIN_SWEEP_MS, ADMIN_SWEEP_MS);
    log_info("admin_listening", "path=%s mode=0600", path);
    return a;
}

void admin_stop(admin *a)
{
    if (!a || a->stopping) return;
    a->stopping = 1;
    while (a->conns)
        conn_close_now(a->conns);
    uv_timer_stop(&a->sweep);
    uv_close((uv_handle_t *)&a->sweep, on_admin_handle_closed);
    /* Removed now rather than when libuv closes the pipe: a server started right after this
     * one stops must not find our socket file. */
    unlink(a->path);
    uv_close((uv_handle_t *)&a->listener, on_admin_handle_closed);
}

size_t admin_connection_count(const admin *a)
{
    return a ? a->conn_count : 0;
}

int admin_default_path(const char *db_url, char *out, size_t cap)
{
    static const char name[] = "cmmo-admin.sock";
    if (cap > 0) out[0] = 0;
    if (!db_url || strncmp(db_url, "sqlite:", 7) != 0 || !db_url[7]) return -1;
    const char *file = db_url + 7;
    const char *slash = strrchr(file, '/');
    size_t dir_len = slash ? (size_t)(slash - file) + 1 : 0; /* "/" kept */
    size_t total = dir_len + sizeof name;                    /* terminator included */
    if (total > cap || total > ADMIN_PATH_MAX) return -1;
    memcpy(out, file, dir_len);
    memcpy(out + dir_len, name, sizeof name);
    return 0;
}
