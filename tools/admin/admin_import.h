/*
 * admin_import: `cmmo-admin import-tutorial PATH`, bringing the players of the tutorial's Python
 * server over from its Django SQLite database (db.sqlite3) into cmmo's store, on either backend.
 *
 * What is read (read-only, with SQLite's C API; the tutorial database is never written): each
 * user with its actor (server_actor: user_id, instanced_entity_id, avatar_id if the column
 * exists), the actor's last position (server_instancedentity: x, y). An actor's id need not
 * equal its user's id; a user without an actor is imported at (0,0) with avatar 0. The account
 * table is Django's auth_user when it exists (tutorial v1.1), else server_user (v1.0).
 *
 * Passwords: v1.0 stored them in plaintext; each is hashed with argon2id here (the server's
 * parameters). v1.1 stored Django hashes; `pbkdf2_sha256$ITER$SALT$B64` is kept as it is and
 * upgraded to argon2id at the player's first login (game/auth.h). Any other form (other Django
 * hashers, an unusable "!" password) cannot be checked by cmmo: the account is reported and
 * skipped.
 *
 * Names cmmo would refuse are reported and skipped, never renamed: not 1 to 20 of [A-Za-z0-9_-],
 * "Server" (any case), or the same as an earlier user's ignoring letter case (the lowest user
 * id is imported). A name that is already a cmmo account is left alone ("present"), so a second
 * run changes nothing. A position that is not a finite number becomes (0,0), and an avatar
 * outside 0..5 becomes 0; both reported.
 *
 * The report goes to out, one line per user, then a summary line. Nothing in it is a password
 * or a hash. With dry_run nothing is written anywhere: the report says what would be done.
 */
#ifndef CMMO_ADMIN_IMPORT_H
#define CMMO_ADMIN_IMPORT_H

#include <stddef.h>
#include <stdio.h>

typedef struct admin_import_totals {
    size_t imported; /* created (or, dry run, would be) */
    size_t present;  /* already a cmmo account: left alone */
    size_t skipped;  /* refused: name, password form, duplicate */
} admin_import_totals;

/* Imports the tutorial database at path into db_url. Returns ADMIN_USERS_OK (whatever was
 * skipped) or ADMIN_USERS_ERROR with why filled (not a tutorial database, unreadable, the store
 * failed; accounts created before a store failure stay, and a second run goes on from there). */
int admin_import_tutorial(const char *db_url, const char *path, int dry_run, FILE *out,
                          admin_import_totals *totals, char *why);

#endif
