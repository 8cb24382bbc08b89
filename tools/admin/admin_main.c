/*
 * cmmo-admin: the operator's tool. Accounts are managed through the server's store module, on
 * SQLite or PostgreSQL (running server or not); who is online, kick and broadcast go through the
 * running server's admin socket.
 * See `cmmo-admin --help`, man cmmo-admin(1) and docs/OPERATIONS.md.
 */
#include "admin_client.h"
#include "admin_import.h"
#include "admin_moderation.h"
#include "admin_store.h"
#include "admin_users.h"

#include "core/log.h"
#include "core/utf8.h"
#include "proto/validate.h"
#include "server/admin.h"
#include "store/store.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3 };

/* A password read from stdin: the longest accepted, plus "\r\n" and the terminator, plus one
 * byte to tell "too long" from "exactly the limit". */
#define PASSWORD_BUF (VALIDATE_PASSWORD_MAX + 4)
/* One broadcast line: the words joined by spaces, before the server cleans and cuts it. */
#define BROADCAST_MAX (ADMIN_LINE_MAX - sizeof "broadcast ")

static const char usage[] =
    "usage: cmmo-admin [options] COMMAND [ARGS]\n"
    "\n"
    "Administers a cmmo server. Account commands work on its database (SQLite or PostgreSQL)\n"
    "through the server's own store code, whether the server is running or not. Live commands\n"
    "talk to the running server through its admin socket, which only the server's own user (and\n"
    "root) may open.\n"
    "\n"
    "account commands (on the database):\n"
    "  list [--json]              every account: id, name, avatar, position, created (UTC);\n"
    "                             --json: a JSON array, for export\n"
    "  create NAME [--avatar N]   a new account (avatar 0..5, default 0); the password is read\n"
    "                             from stdin: prompted twice on a terminal, else the first line\n"
    "  delete NAME                the account, its actor and its entities; if NAME is online,\n"
    "                             they are kicked once the account is gone (through the\n"
    "                             admin socket, when there is one)\n"
    "  reset-password NAME        a new password, read like create's; a current session goes\n"
    "                             on, the next login needs the new password (browsers'\n"
    "                             resume tokens are revoked)\n"
    "  import-tutorial PATH [--dry-run]\n"
    "                             the players of the tutorial's Python server, from its Django\n"
    "                             database PATH (db.sqlite3, read only): accounts, avatars and\n"
    "                             last positions; plaintext (v1.0) passwords are hashed with\n"
    "                             argon2id, pbkdf2_sha256 (v1.1) hashes kept and upgraded at\n"
    "                             first login; every skipped name or hash is reported, nothing\n"
    "                             renamed; accounts already present are left alone, so a second\n"
    "                             run changes nothing; --dry-run only prints the report\n"
    "\n"
    "moderation (through the admin socket when the server answers there: recorded, and\n"
    "applied at once; else recorded in the database, in force from the player's next login):\n"
    "  ban NAME [--for DURATION] [--reason TEXT]\n"
    "                             NAME's logins are refused with TEXT and the ban's end; an\n"
    "                             online NAME is kicked at once. Without --for: for good\n"
    "  unban NAME                 lift the ban\n"
    "  mute NAME [--for DURATION] [--reason TEXT]\n"
    "                             NAME's chat goes to nobody (they are told so)\n"
    "  unmute NAME                lift the mute\n"
    "                             DURATION: a number and s, m, h, d or w (90s, 30m, 12h, 7d,\n"
    "                             2w; at most ten years) or forever. TEXT: at most 200 bytes\n"
    "  audit [--json]             the audit log, oldest first: every create, delete,\n"
    "                             reset-password, import, ban, unban, mute, unmute, kick and\n"
    "                             broadcast, with its time (UTC), actor (cli:UID for this\n"
    "                             tool on the database, socket:UID through the admin socket)\n"
    "                             and target\n"
    "\n"
    "live commands (through the admin socket):\n"
    "  online                     players in the world: name, actor id, x, y, address\n"
    "  kick NAME                  close NAME's connection (WebSocket close 1008)\n"
    "  broadcast TEXT...          a chat line from \"Server\" to every player (the words are\n"
    "                             joined by spaces; cleaned and cut to 256 characters like chat)\n"
    "\n"
    "options (each also read from the environment variable shown; a flag wins over the\n"
    "environment, which wins over the config file, as for the server):\n"
    "  --db URL             the database: sqlite:PATH     CMMO_DB            "
    "(sqlite:data/cmmo.db)\n"
    "                       or postgres://USER:PASSWORD@HOST:PORT/DB, as the server takes it\n"
    "  --admin-socket PATH  the server's admin socket     CMMO_ADMIN_SOCKET  (beside the "
    "database:\n"
    "                                                     sqlite:DIR/F.db -> DIR/cmmo-admin.sock;\n"
    "                                                     none for postgres://)\n"
    "  --config FILE        the server's config file;     CMMO_CONFIG        (none)\n"
    "                       its db and admin-socket settings are used\n"
    "  --avatar N           create's avatar, 0..5                            (0)\n"
    "  --for DURATION       ban's and mute's length                          (forever)\n"
    "  --reason TEXT        ban's and mute's reason, shown to the player     (none)\n"
    "  --json               list's and audit's output as JSON\n"
    "  --dry-run            import-tutorial's report without importing\n"
    "  --help               this text\n"
    "\n"
    "Names follow the game's rules: 1 to 20 letters, digits, _ or -, letter case ignored when\n"
    "looking up; \"Server\" is reserved. Passwords are 1 to 128 bytes, never taken from the\n"
    "command line and never printed or logged; they are hashed with argon2id like the server's.\n"
    "\n"
    "exit status: 0 done; 1 failed (no such user, name taken, not online, database error);\n"
    "2 usage error; 3 the server's admin socket did not answer (server stopped, or another\n"
    "socket path, or not the server's user).\n"
    "\n"
    "examples (an installed server, as docs/OPERATIONS.md sets it up):\n"
    "  sudo -u cmmo cmmo-admin --config /etc/cmmo/cmmo.conf create alice\n"
    "  sudo -u cmmo cmmo-admin --config /etc/cmmo/cmmo.conf online\n"
    "  sudo -u cmmo cmmo-admin --config /etc/cmmo/cmmo.conf broadcast Restart in 5 minutes\n"
    "  printf '%s\\n' \"$PASSWORD\" | cmmo-admin --db sqlite:data/cmmo.db reset-password alice\n"
    "  cmmo-admin --db postgres://cmmo@db.internal/cmmo --admin-socket /run/cmmo/admin.sock \\\n"
    "      delete mallory\n";

typedef struct options {
    char db[4096];
    char socket[ADMIN_PATH_MAX];
    int avatar;
    int avatar_set;
    int dry_run;
    int json;
    const char *duration; /* --for, or NULL */
    const char *reason;   /* --reason, or NULL */
} options;

static int usage_error(const char *fmt, const char *arg)
{
    fputs("cmmo-admin: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (see --help)\n", stderr);
    return EXIT_USAGE;
}

/* ---------------------------------------------------------------- passwords */

/* Reads one line from stdin into buf without echo on a terminal. Returns its length, -1 at EOF
 * with nothing read, or -2 if longer than VALIDATE_PASSWORD_MAX bytes. */
static long read_line_secret(char *buf, size_t cap)
{
    size_t n = 0;
    int ch, too_long = 0;
    while ((ch = getchar()) != EOF && ch != '\n') {
        if (n + 1 < cap)
            buf[n++] = (char)ch;
        else
            too_long = 1;
    }
    buf[n] = 0;
    if (ch == EOF && n == 0 && !too_long) return -1;
    if (n > 0 && buf[n - 1] == '\r') buf[--n] = 0;
    if (too_long || n > VALIDATE_PASSWORD_MAX) return -2;
    return (long)n;
}

static long prompt_secret(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    int tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        fputs(prompt, stderr);
        fflush(stderr);
    }
    long n = read_line_secret(buf, cap);
    if (tty) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return n;
}

/* The new password for name: prompted twice on a terminal, else the first line of stdin.
 * Returns its length, or -1 after saying why. */
static long read_password(const char *name, char *buf, size_t cap)
{
    char prompt[96];
    snprintf(prompt, sizeof prompt, "New password for %s: ", name);
    long n = prompt_secret(prompt, buf, cap);
    if (n == -1) {
        fputs("cmmo-admin: no password on stdin\n", stderr);
        return -1;
    }
    if (n == -2) {
        fprintf(stderr, "cmmo-admin: %s\n", VALIDATE_DENY_PASSWORD);
        return -1;
    }
    if (isatty(STDIN_FILENO)) {
        char again[PASSWORD_BUF];
        long m = prompt_secret("Again: ", again, sizeof again);
        int same = m == n && sodium_memcmp(buf, again, (size_t)n) == 0;
        sodium_memzero(again, sizeof again);
        if (!same) {
            fputs("cmmo-admin: the passwords differ; nothing changed\n", stderr);
            return -1;
        }
    }
    return n;
}

/* ---------------------------------------------------------------- live commands */

static void print_player(void *user, const char *line)
{
    char name[64], peer[128];
    long long actor;
    double x, y;
    int *count = user;
    if (sscanf(line, "player %63s %lld %lf %lf %127s", name, &actor, &x, &y, peer) == 5) {
        if ((*count)++ == 0)
            printf("%-20s %-8s %-8s %-8s %s\n", "name", "actor", "x", "y", "address");
        printf("%-20s %-8lld %-8.1f %-8.1f %s\n", name, actor, x, y, peer);
    }
}

/* Runs a live command. Returns the exit code; prints the outcome. */
static int live(const options *o, const char *command, const char *done_fmt)
{
    char status[512];
    int count = 0;
    if (!o->socket[0])
        return usage_error("%s", "no admin socket to reach the server: with a postgres:// "
                                 "database, give --admin-socket (or admin-socket in --config)");
    int rc = admin_client_request(o->socket, command, print_player, &count, status, sizeof status);
    if (rc == ADMIN_CLIENT_OK) {
        printf(done_fmt, status);
        return EXIT_OK;
    }
    fprintf(stderr, "cmmo-admin: %s\n", status);
    return rc == ADMIN_CLIENT_REFUSED ? EXIT_FAILED : EXIT_UNREACHABLE;
}

/* ---------------------------------------------------------------- account commands */

static int report(int rc, const char *why)
{
    if (rc == ADMIN_USERS_OK) return EXIT_OK;
    fprintf(stderr, "cmmo-admin: %s\n", why);
    return EXIT_FAILED;
}

static int command_create(const options *o, const char *name)
{
    char password[PASSWORD_BUF], why[ADMIN_USERS_WHY_MAX];
    long n = read_password(name, password, sizeof password);
    if (n < 0) return EXIT_FAILED;
    int64_t actor = 0;
    int rc = admin_users_create(o->db, name, password, (size_t)n, o->avatar, &actor, why);
    sodium_memzero(password, sizeof password);
    if (rc == ADMIN_USERS_OK) printf("created %s (actor %" PRId64 ")\n", name, actor);
    return report(rc, why);
}

static int command_reset(const options *o, const char *name)
{
    char password[PASSWORD_BUF], why[ADMIN_USERS_WHY_MAX];
    long n = read_password(name, password, sizeof password);
    if (n < 0) return EXIT_FAILED;
    int rc = admin_users_reset_password(o->db, name, password, (size_t)n, why);
    sodium_memzero(password, sizeof password);
    if (rc == ADMIN_USERS_OK) printf("password of %s reset\n", name);
    return report(rc, why);
}

static int command_delete(const options *o, const char *name)
{
    char why[ADMIN_USERS_WHY_MAX], registered[VALIDATE_USERNAME_MAX + 1];
    int rc = admin_users_delete(o->db, name, registered, why);
    if (rc != ADMIN_USERS_OK) return report(rc, why);
    /* Gone from the database first, so a kicked player cannot log straight back in. The
     * position their session saves on the way out updates no row. Without a socket (a
     * postgres:// database and no --admin-socket) there is no server to ask. */
    char command[64], status[512];
    snprintf(command, sizeof command, "kick %s", registered);
    int kicked = o->socket[0]
                     ? admin_client_request(o->socket, command, NULL, NULL, status, sizeof status)
                     : ADMIN_CLIENT_UNREACHABLE;
    printf("deleted %s%s\n", registered, kicked == ADMIN_CLIENT_OK ? " (was online: kicked)" : "");
    return EXIT_OK;
}

static int command_import(const options *o, const char *path)
{
    char why[ADMIN_WHY_MAX];
    admin_import_totals totals;
    int rc = admin_import_tutorial(o->db, path, o->dry_run, stdout, &totals, why);
    return report(rc, why);
}

/* ban, unban, mute, unmute NAME: through the admin socket when the server answers there (it
 * records, audits as socket:UID and applies at once), else on the database (audited as
 * cli:UID). The account is looked up first either way, so a typo is an error, not a no-op. */
static int command_moderate(const options *o, const char *cmd, const char *name)
{
    int what = strcmp(cmd, "ban") == 0     ? ADMIN_BAN
               : strcmp(cmd, "unban") == 0 ? ADMIN_UNBAN
               : strcmp(cmd, "mute") == 0  ? ADMIN_MUTE
                                           : ADMIN_UNMUTE;
    int lifting = what == ADMIN_UNBAN || what == ADMIN_UNMUTE;
    const char *duration = o->duration ? o->duration : "forever";
    const char *reason = o->reason ? o->reason : "";
    int64_t seconds = 0;
    if (!lifting && admin_parse_duration(duration, &seconds) != 0)
        return usage_error("--for: expected forever, or a number and s, m, h, d or w (at most "
                           "ten years), got '%s'",
                           duration);
    int reason_ok = strlen(reason) <= STORE_REASON_MAX && utf8_valid(reason, strlen(reason));
    for (const char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) reason_ok = 0;
    if (!reason_ok)
        return usage_error("%s", "--reason: at most 200 bytes of UTF-8 text on one line, "
                                 "without control characters");
    char why[ADMIN_WHY_MAX], registered[STORE_NAME_MAX + 1];
    int rc = admin_moderation_find(o->db, name, registered, why);
    if (rc != ADMIN_USERS_OK) return report(rc, why);
    char command[ADMIN_LINE_MAX], status[512];
    if (lifting)
        snprintf(command, sizeof command, "%s %s", cmd, registered);
    else
        snprintf(command, sizeof command, "%s %s %s%s%s", cmd, registered, duration,
                 reason[0] ? " " : "", reason);
    int live = o->socket[0]
                   ? admin_client_request(o->socket, command, NULL, NULL, status, sizeof status)
                   : ADMIN_CLIENT_UNREACHABLE;
    if (live == ADMIN_CLIENT_OK) {
        printf("%s%s\n", status, what == ADMIN_BAN ? " (kicked if online)" : "");
        return EXIT_OK;
    }
    if (live == ADMIN_CLIENT_REFUSED) {
        fprintf(stderr, "cmmo-admin: %s\n", status);
        return EXIT_FAILED;
    }
    /* No server on the socket: the record alone, read at the player's next login. */
    int64_t ends_at = seconds ? (int64_t)time(NULL) + seconds : 0;
    char detail[STORE_REASON_MAX + 64] = "";
    if (!lifting)
        snprintf(detail, sizeof detail, "%s%s%s", duration, reason[0] ? "; " : "", reason);
    rc = admin_moderation_record(o->db, what, registered, ends_at, reason, detail, why);
    if (rc != ADMIN_USERS_OK) return report(rc, why);
    char end[48] = "";
    time_t t = (time_t)ends_at;
    struct tm tm;
    if (ends_at && gmtime_r(&t, &tm))
        strftime(end, sizeof end, " until %Y-%m-%d %H:%M UTC", &tm);
    else if (!lifting)
        snprintf(end, sizeof end, " for good");
    static const char *const done[] = {"banned", "unbanned", "muted", "unmuted"};
    printf("%s %s%s (recorded; the server was not reached)\n", done[what], registered, end);
    return EXIT_OK;
}

/* ---------------------------------------------------------------- main */

static int take_value(int argc, char **argv, int *a, const char *flag, const char **value)
{
    size_t fl = strlen(flag);
    const char *arg = argv[*a];
    if (strncmp(arg, flag, fl) != 0) return 0;
    if (arg[fl] == '=') {
        *value = arg + fl + 1;
        return 1;
    }
    if (arg[fl] != 0) return 0;
    if (*a + 1 >= argc) return -1;
    *value = argv[++*a];
    return 1;
}

/* Reads `db` and `admin-socket` from the server's config file (`name = value` lines, # comments,
 * the server's own rules); other settings are the server's business and are skipped. Values
 * already set (from a flag or the environment) win. Returns 0, or -1 after saying why. */
static int read_config_file(const char *path, char *db, size_t db_cap, int db_set, char *sock,
                            size_t sock_cap, int sock_set)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cmmo-admin: cannot read the config file '%s': %s\n", path,
                strerror(errno));
        return -1;
    }
    char line[4096 + 256];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *t = line;
        while (isspace((unsigned char)*t))
            t++;
        char *e = t + strlen(t);
        while (e > t && isspace((unsigned char)e[-1]))
            *--e = 0;
        size_t nlen = strcspn(t, " \t=");
        char *value = t + nlen;
        while (*value == ' ' || *value == '\t' || *value == '=')
            value++;
        if (nlen == 2 && strncmp(t, "db", 2) == 0 && !db_set) snprintf(db, db_cap, "%s", value);
        if (nlen == 12 && strncmp(t, "admin-socket", 12) == 0 && !sock_set)
            snprintf(sock, sock_cap, "%s", value);
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    options o = {.avatar = 0};
    const char *env_db = getenv("CMMO_DB"), *env_socket = getenv("CMMO_ADMIN_SOCKET");
    const char *env_config = getenv("CMMO_CONFIG");
    const char *db = env_db && *env_db ? env_db : NULL;
    const char *socket_path = env_socket && *env_socket ? env_socket : NULL;
    const char *config_file = env_config && *env_config ? env_config : NULL;
    char file_db[4096] = "", file_socket[4096] = "";
    const char *words[64];
    int nwords = 0;
    log_set_level(LOG_WARN); /* the store's start-up chatter is for the server's log */

    for (int a = 1; a < argc; a++) {
        const char *v = NULL;
        int r;
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0 ||
            (nwords == 0 && strcmp(argv[a], "help") == 0)) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        if ((r = take_value(argc, argv, &a, "--db", &v)) != 0) {
            if (r < 0) return usage_error("%s needs a value", "--db");
            db = v;
        } else if ((r = take_value(argc, argv, &a, "--admin-socket", &v)) != 0) {
            if (r < 0) return usage_error("%s needs a value", "--admin-socket");
            socket_path = v;
        } else if ((r = take_value(argc, argv, &a, "--config", &v)) != 0) {
            if (r < 0) return usage_error("%s needs a value", "--config");
            config_file = v;
        } else if ((r = take_value(argc, argv, &a, "--avatar", &v)) != 0) {
            char *end;
            if (r < 0) return usage_error("%s needs a value", "--avatar");
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 0 || n > VALIDATE_AVATAR_MAX)
                return usage_error("--avatar: expected an integer from 0 to 5, got '%s'", v);
            o.avatar = (int)n;
            o.avatar_set = 1;
        } else if (strcmp(argv[a], "--dry-run") == 0) {
            o.dry_run = 1;
        } else if (strcmp(argv[a], "--json") == 0) {
            o.json = 1;
        } else if ((r = take_value(argc, argv, &a, "--for", &v)) != 0) {
            if (r < 0) return usage_error("%s needs a value", "--for");
            o.duration = v;
        } else if ((r = take_value(argc, argv, &a, "--reason", &v)) != 0) {
            if (r < 0) return usage_error("%s needs a value", "--reason");
            o.reason = v;
        } else if (strcmp(argv[a], "--") == 0) {
            while (++a < argc && nwords < 64)
                words[nwords++] = argv[a];
        } else if (argv[a][0] == '-' && argv[a][1] && nwords == 0) {
            return usage_error("unknown option '%s'", argv[a]);
        } else if (nwords < 64) {
            words[nwords++] = argv[a];
        } else {
            return usage_error("%s", "too many arguments");
        }
    }
    if (nwords == 0) return usage_error("%s", "no command");
    if (config_file) {
        if (read_config_file(config_file, file_db, sizeof file_db, db != NULL, file_socket,
                             sizeof file_socket, socket_path != NULL) != 0)
            return EXIT_USAGE;
        if (!db && file_db[0]) db = file_db;
        if (!socket_path && file_socket[0]) socket_path = file_socket;
    }
    if (!db) db = "sqlite:data/cmmo.db";
    if (!store_url_valid(db) || strlen(db) >= sizeof o.db) {
        char shown[512];
        store_url_redact(db, shown, sizeof shown);
        return usage_error("--db: expected sqlite:PATH or postgres://..., got '%s'", shown);
    }
    snprintf(o.db, sizeof o.db, "%s", db);
    if (socket_path) {
        if (!*socket_path || strlen(socket_path) >= sizeof o.socket)
            return usage_error("--admin-socket: expected a path under 108 bytes, got '%s'",
                               socket_path);
        snprintf(o.socket, sizeof o.socket, "%s", socket_path);
    } else if (strncmp(o.db, "sqlite:", 7) != 0) {
        o.socket[0] = 0; /* a postgres:// database has no file to put the socket beside */
    } else if (admin_default_path(o.db, o.socket, sizeof o.socket) != 0) {
        return usage_error("%s", "the default admin socket beside the database is too long a "
                                 "path; give --admin-socket");
    }
    const char *cmd = words[0];
    const char *name = nwords > 1 ? words[1] : NULL;

    if (o.avatar_set && strcmp(cmd, "create") != 0)
        return usage_error("%s", "--avatar is for create only");
    if (o.dry_run && strcmp(cmd, "import-tutorial") != 0)
        return usage_error("%s", "--dry-run is for import-tutorial only");
    if (o.json && strcmp(cmd, "list") != 0 && strcmp(cmd, "audit") != 0)
        return usage_error("%s", "--json is for list and audit only");
    int sanctioning = strcmp(cmd, "ban") == 0 || strcmp(cmd, "mute") == 0;
    if ((o.duration || o.reason) && !sanctioning)
        return usage_error("%s", "--for and --reason are for ban and mute only");
    if (sanctioning || strcmp(cmd, "unban") == 0 || strcmp(cmd, "unmute") == 0) {
        if (nwords != 2) return usage_error("%s takes one NAME", cmd);
        return command_moderate(&o, cmd, name);
    }
    if (strcmp(cmd, "audit") == 0) {
        if (nwords != 1) return usage_error("%s takes no arguments", cmd);
        char why[ADMIN_WHY_MAX];
        return report(admin_audit_print(o.db, o.json, stdout, why), why);
    }
    if (strcmp(cmd, "import-tutorial") == 0) {
        if (nwords != 2) return usage_error("%s", "import-tutorial takes one PATH");
        return command_import(&o, name);
    }
    if (strcmp(cmd, "list") == 0 || strcmp(cmd, "online") == 0) {
        if (nwords != 1) return usage_error("%s takes no arguments", cmd);
        if (cmd[0] == 'o') return live(&o, "online", "%s\n");
        char why[ADMIN_USERS_WHY_MAX];
        return report(admin_users_list(o.db, o.json, stdout, why), why);
    }
    if (strcmp(cmd, "create") == 0 || strcmp(cmd, "delete") == 0 ||
        strcmp(cmd, "reset-password") == 0 || strcmp(cmd, "kick") == 0) {
        if (nwords != 2) return usage_error("%s takes one NAME", cmd);
        if (cmd[0] == 'c') return command_create(&o, name);
        if (cmd[0] == 'd') return command_delete(&o, name);
        if (cmd[0] == 'r') return command_reset(&o, name);
        if (strlen(name) > VALIDATE_USERNAME_MAX) {
            fprintf(stderr, "cmmo-admin: %s\n", VALIDATE_DENY_USERNAME);
            return EXIT_FAILED;
        }
        char command[64];
        snprintf(command, sizeof command, "kick %s", name);
        return live(&o, command, "%s\n");
    }
    if (strcmp(cmd, "broadcast") == 0) {
        if (nwords < 2) return usage_error("%s", "broadcast needs TEXT");
        char text[BROADCAST_MAX + sizeof "broadcast "];
        size_t len = (size_t)snprintf(text, sizeof text, "broadcast");
        for (int i = 1; i < nwords; i++) {
            size_t w = strlen(words[i]);
            if (strchr(words[i], '\n') || len + 1 + w >= sizeof text) {
                fputs("cmmo-admin: broadcast TEXT must be one line under 2 KiB\n", stderr);
                return EXIT_USAGE;
            }
            text[len++] = ' ';
            memcpy(text + len, words[i], w + 1);
            len += w;
        }
        return live(&o, text, "%s\n");
    }
    return usage_error("unknown command '%s'", cmd);
}
