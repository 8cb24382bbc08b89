/*
 * admin_moderation: cmmo-admin's ban, unban, mute and unmute on the database, and the audit log.
 *
 * With the server running, cmmo-admin sends these through the admin socket instead, and the
 * server records them (in the database and the audit log, as "socket:<uid>") and applies them at
 * once. These functions are the path when no server answers: the record alone (actor
 * "cli:<uid>"), which the server reads at the player's next login.
 */
#ifndef CMMO_ADMIN_MODERATION_H
#define CMMO_ADMIN_MODERATION_H

#include <stdint.h>
#include <stdio.h>

/* Whether the account named name (letter case ignored) exists: ADMIN_USERS_OK with the name as
 * registered copied to registered (at least 21 bytes), ADMIN_USERS_NOT_FOUND, or
 * ADMIN_USERS_ERROR (why filled). */
int admin_moderation_find(const char *db_url, const char *name, char *registered, char *why);

/* Records what (ADMIN_BAN, ADMIN_UNBAN, ADMIN_MUTE, ADMIN_UNMUTE from server/admin_cmd.h) on the
 * account in the database, until ends_at (0: for good) with reason, and then in the audit log
 * with detail. Returns ADMIN_USERS_OK, ADMIN_USERS_NOT_FOUND or ADMIN_USERS_ERROR (why). */
int admin_moderation_record(const char *db_url, int what, const char *name, int64_t ends_at,
                            const char *reason, const char *detail, char *why);

/* Prints the audit log, oldest first: with json a JSON array of objects {"id","at","actor",
 * "action","target","detail"}, else one line each: time (UTC), actor, action, target, detail.
 * Returns ADMIN_USERS_OK or ADMIN_USERS_ERROR (why). */
int admin_audit_print(const char *db_url, int json, FILE *out, char *why);

#endif
