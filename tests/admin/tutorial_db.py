"""Databases of the tutorial's Python server (the "Godot Python MMO"), made the way its own code
paths make them, for testing `cmmo-admin import-tutorial`.

The tables are Django's for the tutorial's models (server/models.py: User, Entity,
InstancedEntity, Actor) with Django's SQLite DDL: v1.0 keeps its own `server_user` with plaintext
passwords (its protocol compared them as is); v1.1 moved to Django's `auth_user`, whose password
column holds `pbkdf2_sha256$<iterations>$<salt>$<base64>` (Django's make_password: base64 of
PBKDF2-HMAC-SHA256(password, salt, iterations, 32 bytes)). A player is registered as the
tutorial's protocol.py does it: user, entity named after the user, instanced entity at (0,0), actor
with the chosen avatar; then the position is what the tick last saved.
"""

import base64
import hashlib
import sqlite3

# Django's published vector (tests/auth_tests/test_hashers.py, Django 1.8): make_password(
# "lètmein", "seasalt", "pbkdf2_sha256") with the 20,000 iterations of that release.
DJANGO_VECTOR_PASSWORD = "l\u00e8tmein"
DJANGO_VECTOR = "pbkdf2_sha256$20000$seasalt$oBSd886ysm3AqYun62DOdin8YcfbU1z9cksZSuLP9r0="


def django_pbkdf2(password, salt, iterations):
    """Django's PBKDF2PasswordHasher.encode."""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt,
                                       base64.b64encode(digest).decode("ascii").strip())


assert django_pbkdf2(DJANGO_VECTOR_PASSWORD, "seasalt", 20000) == DJANGO_VECTOR

_ID = '"id" integer NOT NULL PRIMARY KEY AUTOINCREMENT'

V10_USER = ('CREATE TABLE "server_user" (%s, "username" varchar(20) NOT NULL UNIQUE, '
            '"password" varchar(99) NOT NULL)' % _ID)
V11_USER = ('CREATE TABLE "auth_user" (%s, "password" varchar(128) NOT NULL, '
            '"last_login" datetime NULL, "is_superuser" bool NOT NULL, '
            '"username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, '
            '"email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, '
            '"date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)' % _ID)
MODELS = [
    'CREATE TABLE "server_entity" (%s, "name" varchar(100) NOT NULL)' % _ID,
    'CREATE TABLE "server_instancedentity" (%s, "x" real NOT NULL, "y" real NOT NULL, '
    '"entity_id" bigint NOT NULL REFERENCES "server_entity" ("id") DEFERRABLE INITIALLY DEFERRED)'
    % _ID,
    'CREATE TABLE "server_actor" (%s, "avatar_id" integer NOT NULL, '
    '"instanced_entity_id" bigint NOT NULL UNIQUE REFERENCES "server_instancedentity" ("id") '
    'DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL UNIQUE REFERENCES "%s" ("id") '
    'DEFERRABLE INITIALLY DEFERRED)',
]


class TutorialDb:
    """A tutorial database at path: version "1.0" (plaintext) or "1.1" (Django hashes)."""

    def __init__(self, path, version):
        self.version = version
        self.users = "server_user" if version == "1.0" else "auth_user"
        self.con = sqlite3.connect(path)
        self.con.execute(V10_USER if version == "1.0" else V11_USER)
        self.con.execute(MODELS[0])
        self.con.execute(MODELS[1])
        self.con.execute(MODELS[2] % (_ID, self.users))
        # Other Django apps' rows came first in a real database: the ids of the tables differ,
        # so an actor's id is not its user's id.
        self.con.execute('INSERT INTO server_entity(name) VALUES ("Tree"), ("Rock")')
        self.con.execute("INSERT INTO server_instancedentity(x, y, entity_id) VALUES (1, 1, 1)")
        self.con.commit()

    def add_user(self, name, password):
        """The user row alone; password: plaintext (1.0) or the stored hash (1.1)."""
        if self.version == "1.0":
            cur = self.con.execute("INSERT INTO server_user(username, password) VALUES (?, ?)",
                                   (name, password))
        else:
            cur = self.con.execute(
                "INSERT INTO auth_user(password, is_superuser, username, last_name, email, "
                "is_staff, is_active, date_joined, first_name) "
                "VALUES (?, 0, ?, '', '', 0, 1, '2023-01-01 00:00:00', '')", (password, name))
        self.con.commit()
        return cur.lastrowid

    def add_actor(self, user_id, name, avatar, x, y):
        """Register's rows for a user, then the position the tick saved last."""
        e = self.con.execute("INSERT INTO server_entity(name) VALUES (?)", (name,)).lastrowid
        i = self.con.execute("INSERT INTO server_instancedentity(x, y, entity_id) "
                             "VALUES (0, 0, ?)", (e,)).lastrowid
        a = self.con.execute("INSERT INTO server_actor(avatar_id, instanced_entity_id, user_id) "
                             "VALUES (?, ?, ?)", (avatar, i, user_id)).lastrowid
        self.con.execute("UPDATE server_instancedentity SET x = ?, y = ? WHERE id = ?", (x, y, i))
        self.con.commit()
        return a

    def close(self):
        self.con.close()
