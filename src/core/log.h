/*
 * log: one event per line on stderr, `TIME LEVEL event key=value ...`.
 *
 * The level is set once at start-up by the server (it is configuration, not state the game
 * changes). Callers pass the event name and pre-formatted key=value pairs. Nothing secret is ever
 * passed here: passwords and hashes never reach a log call (tests grep the log for them).
 */
#ifndef CMMO_LOG_H
#define CMMO_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Sets the lowest level that is printed. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "debug", "info", "warn" or "error". Returns 0, or CMMO_EINVALID for anything else. */
int log_level_parse(const char *text, enum log_level *out);

/* Lines as JSON objects ({"time","level","event", then each key}) instead of key=value text. */
void log_set_json(int json);

/* Sends lines to path (appending) instead of stderr. Returns 0, or -errno if it cannot be
 * opened. */
int log_open_file(const char *path);
/* While on (the default), ERROR lines written to a log file are written to stderr as well: a
 * server that fails to start says why on the terminal or in the service manager's journal, not
 * only in a file the operator may not think of. The server turns it off once it is listening. */
void log_set_errors_to_stderr(int on);
/* Reopens the log file (after logrotate moved it; SIGHUP). No-op on stderr. Returns 0 or -errno. */
int log_reopen(void);

/* Prints one line if level is enabled: `2026-11-21T00:00:00.123Z INFO event k=v ...`. */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

#endif
