"""Reference defect 5: passwords never reach the log (even at --log-level debug) nor the database
in plaintext; the database holds argon2id hashes (docs/PROTOCOL.md section 3, Login)."""

import asyncio
import glob
import os
import unittest

from harness import ServerTestCase, async_test, pkt, unique_name

# Distinctive strings that cannot appear by accident in a log or a database.
SECRETS = {
    "register": "Pw-Register-7Qx9zK31",
    "login_wrong": "Pw-WrongGuess-4Lm2Vb8",
    "malformed_login": "Pw-MalformedLogin-9Hs3Tq",
    "denied_register": "Pw-DeniedRegister-2Nc7Wp",
    "too_long": "Pw-TooLong-6Rf1Yd" + "L" * 120,
    "login_in_play": "Pw-LoginInPlay-8Ke5Ua",
    "malformed_json": "Pw-BrokenJson-3Jv6Gs",
}


class PasswordsNeverStored(ServerTestCase):
    server_options = {"log_level": "debug"}

    def leaks(self, secrets):
        """[(where, secret)] for each secret found in stderr or the database files."""
        found = []
        stderr = self.server.stderr_text(all_runs=True)
        files = {"stderr": stderr.encode("utf-8", "replace")}
        for path in glob.glob(self.server.db_path + "*"):
            with open(path, "rb") as f:
                files[os.path.basename(path)] = f.read()
        for where, data in files.items():
            for s in secrets:
                if s.encode() in data:
                    found.append((where, s[:30]))
        return found

    @async_test
    async def test_password_is_absent_from_debug_log_and_database(self):
        name = unique_name("secret")
        c = await self.client()
        self.assertEqual(await c.register(name, SECRETS["register"], 1), {"a": "Ok"})
        self.assertEqual(await c.login(name, SECRETS["login_wrong"]),
                         {"a": "Deny", "p0": "Username or password incorrect"})
        # In LOGIN state, malformed packets carrying a password.
        await c.send(pkt("Login", name, SECRETS["malformed_login"], "extra"))
        await c.reply()
        await c.send_raw('{"a":"Login","p0":"%s","p1":"%s"' % (name, SECRETS["malformed_json"]))
        await c.reply()
        await c.send(pkt("Register", "bad name", SECRETS["denied_register"], 0))
        await c.reply()
        await c.send(pkt("Register", unique_name("long"), SECRETS["too_long"], 0))
        await c.reply()
        self.assertEqual(await c.login(name, SECRETS["register"]), {"a": "Ok"})
        # In PLAY, a Login is ignored (and logged at debug at most).
        await c.send(pkt("Login", name, SECRETS["login_in_play"]))
        await c.send(pkt("Chat", name, "flush"))
        await asyncio.sleep(0.5)
        await c.close()
        await asyncio.sleep(0.3)
        self.assertTrue(self.server.stderr_text(), "the debug log is empty")
        self.assertEqual(self.leaks(SECRETS.values()), [])

    @async_test
    async def test_database_holds_an_argon2id_hash(self):
        name = unique_name("hashed")
        c = await self.client()
        self.assertEqual(await c.register(name, "Pw-Hashed-5Tb8Mn", 0), {"a": "Ok"})
        data = b""
        for path in glob.glob(self.server.db_path + "*"):
            with open(path, "rb") as f:
                data += f.read()
        self.assertIn(b"$argon2id$", data)
        self.assertNotIn(b"Pw-Hashed-5Tb8Mn", data)

    @classmethod
    def tearDownClass(cls):
        # After shutdown (everything flushed), check once more over the whole log and database.
        try:
            if cls.server is not None and cls.server.proc is not None:
                cls.server.stop_and_check()
                found = cls.leaks(cls, list(SECRETS.values()) + ["Pw-Hashed-5Tb8Mn"])
                if found:
                    cls.server.problems.append("passwords found after shutdown: %r" % found)
        finally:
            super().tearDownClass()


if __name__ == "__main__":
    unittest.main()
