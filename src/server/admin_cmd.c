/*
 * admin_cmd: the operator commands (see admin.h for the protocol and admin_cmd.h for the port).
 * Every argument is checked here, before it reaches the game or the log.
 */
#include "server/admin_cmd.h"

#include "core/error.h"
#include "core/log.h"
#include "core/utf8.h"
#include "proto/validate.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The first capacity of a reply: one status line, or a help text, fits. */
#define ADMIN_REPLY_FIRST 256

/* ---------------------------------------------------------------- replies */

int admin_reply_init(admin_reply *r)
{
    *r = (admin_reply){0};
    r->data = malloc(ADMIN_REPLY_FIRST);
    if (!r->data) return -ENOMEM;
    r->cap = ADMIN_REPLY_FIRST;
    r->data[0] = 0;
    return 0;
}

void admin_reply_free(admin_reply *r)
{
    free(r->data);
    *r = (admin_reply){0};
}

void admin_reply_append(admin_reply *r, const char *fmt, ...)
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

/* ---------------------------------------------------------------- commands */

typedef struct online_list {
    admin_reply *reply;
    size_t count;
} online_list;

static void each_player(void *user, const char *name, int64_t actor_id, double x, double y,
                        const char *peer)
{
    online_list *list = user;
    admin_reply_append(list->reply, "player %s %" PRId64 " %.1f %.1f %s\n", name, actor_id, x, y,
                       peer && *peer ? peer : "-");
    list->count++;
}

static void command_online(const admin_ops *ops, void *ctx, admin_reply *r)
{
    online_list list = {r, 0};
    ops->each_player(ctx, each_player, &list);
    admin_reply_append(r, "OK %zu online\n", list.count);
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

int admin_parse_duration(const char *text, int64_t *seconds)
{
    if (strcmp(text, "forever") == 0) {
        *seconds = 0;
        return 0;
    }
    int64_t n = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (*p - '0');
        if (n > ADMIN_DURATION_MAX) return CMMO_EINVALID;
    }
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
    if (p == text || p[0] == 0 || p[1] != 0 || n == 0) return CMMO_EINVALID;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (*p != units[i].unit) continue;
        if (n > ADMIN_DURATION_MAX / units[i].seconds) return CMMO_EINVALID;
        *seconds = n * units[i].seconds;
        return 0;
    }
    return CMMO_EINVALID;
}

static void command_kick(const admin_ops *ops, void *ctx, const char *actor, admin_reply *r,
                         const char *name)
{
    if (!valid_name(name)) {
        admin_reply_append(r, "ERR usage: kick NAME (1 to 20 letters, digits, _ or -)\n");
        return;
    }
    if (ops->kick(ctx, name) != 0) {
        log_info("admin_command", "command=kick result=not_online");
        admin_reply_append(r, "ERR not online: %s\n", name);
        return;
    }
    log_info("admin_command", "command=kick result=ok user=%s", name);
    ops->audit(ctx, actor, "kick", name, "");
    admin_reply_append(r, "OK kicked %s\n", name);
}

/* ban NAME DURATION [REASON...], mute likewise; unban NAME, unmute NAME. */
static void command_moderate(const admin_ops *ops, void *ctx, const char *actor, admin_reply *r,
                             int what, char *args)
{
    static const char *const words[] = {"ban", "unban", "mute", "unmute"};
    const char *word = words[what];
    int lifting = what == ADMIN_UNBAN || what == ADMIN_UNMUTE;
    char *name = args, *duration = NULL, *reason = "";
    char *sp = strchr(name, ' ');
    if (sp) {
        *sp = 0;
        duration = sp + 1;
        sp = strchr(duration, ' ');
        if (sp) {
            *sp = 0;
            reason = sp + 1;
        }
    }
    int64_t seconds = 0;
    if (!valid_name(name) || (lifting && duration) ||
        (!lifting && (!duration || admin_parse_duration(duration, &seconds) != 0))) {
        if (lifting)
            admin_reply_append(r, "ERR usage: %s NAME\n", word);
        else
            admin_reply_append(r,
                               "ERR usage: %s NAME DURATION [REASON] (DURATION: forever, or a "
                               "number and s, m, h, d or w)\n",
                               word);
        return;
    }
    int64_t ends_at = seconds ? (int64_t)time(NULL) + seconds : 0;
    if (ops->moderate(ctx, what, name, ends_at, seconds, reason) != 0) {
        admin_reply_append(r, "ERR not done: a reason is at most 200 bytes of text, without "
                              "control characters\n");
        return;
    }
    char detail[300] = "";
    if (!lifting)
        snprintf(detail, sizeof detail, "%s%s%s", duration, reason[0] ? "; " : "", reason);
    ops->audit(ctx, actor, word, name, detail);
    log_info("admin_command", "command=%s result=ok user=%s", word, name);
    char end[48] = "";
    if (ends_at) {
        time_t t = (time_t)ends_at;
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(end, sizeof end, " until %Y-%m-%d %H:%M UTC", &tm);
    } else if (!lifting) {
        snprintf(end, sizeof end, " for good");
    }
    admin_reply_append(r, "OK %s%s %s%s\n", word,
                       what == ADMIN_BAN || what == ADMIN_UNBAN ? "ned" : "d", name, end);
}

static void command_broadcast(const admin_ops *ops, void *ctx, const char *actor, admin_reply *r,
                              const char *text)
{
    size_t len = strlen(text);
    char clean[VALIDATE_CHAT_BYTES + 1];
    if (!utf8_valid(text, len)) {
        admin_reply_append(r, "ERR text must be UTF-8\n");
        return;
    }
    if (validate_chat(text, len, clean) == 0) {
        admin_reply_append(r, "ERR nothing to say\n");
        return;
    }
    size_t reached = ops->broadcast(ctx, text);
    log_info("admin_command", "command=broadcast reached=%zu", reached);
    char detail[32];
    snprintf(detail, sizeof detail, "reached %zu", reached);
    ops->audit(ctx, actor, "broadcast", "", detail); /* the text is not kept, as in the log */
    admin_reply_append(r, "OK reached %zu\n", reached);
}

static void command_help(admin_reply *r)
{
    admin_reply_append(r, "commands:\n"
                          "  online           players in the world: player NAME ACTOR_ID X Y PEER\n"
                          "  kick NAME        close NAME's connection (1008)\n"
                          "  broadcast TEXT   a chat line from Server to every player\n"
                          "  ban NAME DURATION [REASON]   record a ban and kick NAME if online\n"
                          "  unban NAME       lift NAME's ban\n"
                          "  mute NAME DURATION [REASON]  record a mute, in force at once\n"
                          "  unmute NAME      lift NAME's mute\n"
                          "                   DURATION: forever, or N and s, m, h, d or w\n"
                          "  help             this text\n"
                          "  quit             close this connection\n"
                          "OK\n");
}

/* Runs a text command (no NUL inside) and appends its reply. Returns ADMIN_CMD_*. */
static int dispatch(const admin_ops *ops, void *ctx, const char *actor, char *line, admin_reply *r)
{
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = 0;
    else
        arg = line + strlen(line);
    if (strcmp(line, "online") == 0 && !*arg)
        command_online(ops, ctx, r);
    else if (strcmp(line, "kick") == 0)
        command_kick(ops, ctx, actor, r, arg);
    else if (strcmp(line, "broadcast") == 0)
        command_broadcast(ops, ctx, actor, r, arg);
    else if (strcmp(line, "ban") == 0)
        command_moderate(ops, ctx, actor, r, ADMIN_BAN, arg);
    else if (strcmp(line, "unban") == 0)
        command_moderate(ops, ctx, actor, r, ADMIN_UNBAN, arg);
    else if (strcmp(line, "mute") == 0)
        command_moderate(ops, ctx, actor, r, ADMIN_MUTE, arg);
    else if (strcmp(line, "unmute") == 0)
        command_moderate(ops, ctx, actor, r, ADMIN_UNMUTE, arg);
    else if (strcmp(line, "help") == 0 && !*arg)
        command_help(r);
    else if (strcmp(line, "quit") == 0 && !*arg) {
        admin_reply_append(r, "OK bye\n");
        return ADMIN_CMD_QUIT;
    } else if (!*line)
        admin_reply_append(r, "ERR empty command (try help)\n");
    else
        admin_reply_append(r, "ERR unknown command (try help)\n");
    return ADMIN_CMD_CONTINUE;
}

int admin_command(const admin_ops *ops, void *ctx, const char *actor, char *line, size_t len,
                  admin_reply *r)
{
    int result = ADMIN_CMD_CONTINUE;
    if (strlen(line) != len) /* An embedded NUL: not a text command. */
        admin_reply_append(r, "ERR unknown command (try help)\n");
    else
        result = dispatch(ops, ctx, actor, line, r);
    if (r->failed) {
        r->failed = 0;
        r->len = 0;
        r->data[0] = 0;
        admin_reply_append(r, "ERR out of memory\n");
    }
    return result;
}
