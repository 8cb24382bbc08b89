"""Bad input in LOGIN state (docs/PROTOCOL.md section 7): the documented Deny texts, or silence
for what is ignored; the connection stays usable, and the world keeps running for others."""

import json
import unittest

from harness import ServerTestCase, async_test, is_chat, pkt, unique_name

MALFORMED = "Malformed packet"
UNKNOWN = "Unknown action"
BAD_LOGIN = "Malformed Login"
BAD_REGISTER = "Malformed Register"
AVATAR = "Avatar must be an integer from 0 to 5"
USERNAME = "Username must be 1 to 20 letters, digits, _ or -"
INCORRECT = "Username or password incorrect"

# name -> (frames, acceptable Deny texts per frame; None = ignored, no reply).
# Where the spec allows either the generic or the field reason, both are listed.
LOGIN_CASES = {
    "not_json": (["not json", '{"a":"Login",', '{"a":Login}'], [MALFORMED] * 3),
    "empty_message": ([""], [MALFORMED]),
    "non_object": (["[]", '"Login"', "42", "null", "true"], [MALFORMED] * 5),
    "missing_action": (['{"p0":"x","p1":"y"}', "{}"], [MALFORMED] * 2),
    "non_string_action": (['{"a":5,"p0":"x"}', '{"a":null}', '{"a":["Login"]}'], [MALFORMED] * 3),
    "gap_in_payload_keys": (['{"a":"Login","p0":"x","p2":"y"}', '{"a":"Login","p1":"y"}'],
                            [MALFORMED] * 2),
    "extra_keys": (['{"a":"Login","p0":"x","p1":"y","z":1}',
                    '{"a":"Register","p0":"x","p1":"y","p2":1,"P3":1}'], [MALFORMED] * 2),
    "unknown_action": (['{"a":"Fly","p0":1}', '{"a":"Teleport","p0":"x","p1":"y"}', '{"a":""}'],
                       [UNKNOWN] * 3),
    "login_with_wrong_payload_count": (['{"a":"Login"}', '{"a":"Login","p0":"x"}',
                                        '{"a":"Login","p0":"x","p1":"y","p2":"z"}'],
                                       [BAD_LOGIN] * 3),
    "register_with_wrong_payload_count": (['{"a":"Register","p0":"x","p1":"y"}',
                                           '{"a":"Register","p0":"x","p1":"y","p2":1,"p3":1}',
                                           '{"a":"Register"}'], [BAD_REGISTER] * 3),
    "register_with_string_avatar": (['{"a":"Register","p0":"strav","p1":"pw","p2":"2"}'],
                                    [(AVATAR, BAD_REGISTER)]),
    "register_with_non_string_username": (['{"a":"Register","p0":12,"p1":"pw","p2":1}',
                                           '{"a":"Register","p0":null,"p1":"pw","p2":1}'],
                                          [(BAD_REGISTER, USERNAME)] * 2),
    "register_with_non_string_password": (['{"a":"Register","p0":"numpw","p1":12,"p2":1}'],
                                          [(BAD_REGISTER,)]),
    "login_with_non_string_fields": (['{"a":"Login","p0":12,"p1":"pw"}',
                                      '{"a":"Login","p0":"x","p1":["pw"]}'],
                                     [(BAD_LOGIN, INCORRECT)] * 2),
    "chat_and_target_in_login": (['{"a":"Chat","p0":"x","p1":"lobby chat"}',
                                  '{"a":"Target","p0":10,"p1":10}'], [None, None]),
    "chat_and_target_with_bad_payloads_in_login": (['{"a":"Chat","p0":"x"}',
                                                    '{"a":"Target","p0":"a","p1":1}'],
                                                   [None, None]),
    "client_sent_ok_deny_model_delta_disconnect": (
        ['{"a":"Ok"}', '{"a":"Deny","p0":"x"}', '{"a":"ModelDelta","p0":{"id":1}}',
         '{"a":"Disconnect","p0":1}'], [None] * 4),
    "deeply_nested_json": (["[" * 2000 + "]" * 2000], [MALFORMED]),
    "binary_frame_not_json": ([b"not json"], [MALFORMED]),
}


class LoginStateBadInput(ServerTestCase):

    async def check(self, case):
        frames, expected = LOGIN_CASES[case]
        c = await self.client(case)
        for f in frames:
            await c.send_raw(f)
        # A valid request after the bad ones: its Ok must come right after the expected Denies.
        name = unique_name("after")
        await c.send(pkt("Register", name, "pw-" + name, 1))
        for f, want in zip(frames, expected):
            if want is None:
                continue
            got = await c.reply()
            allowed = want if isinstance(want, tuple) else (want,)
            self.assertEqual(got.get("a"), "Deny", "reply to %r" % f)
            self.assertIn(got.get("p0"), allowed, "Deny text for %r" % f)
            self.assertEqual(set(got), {"a", "p0"})
        got = await c.reply()
        self.assertEqual(got, {"a": "Ok"},
                         "the Register after %s (ignored frames must get no reply)" % case)
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        self.assertFalse(c.closed)
        await self.assert_world_runs("after %s in LOGIN" % case)
        mover, observer = await self.world_pair()
        self.assertEqual(observer.since(0, is_chat("lobby chat")), [])


def _make_test(case):
    @async_test
    async def test(self):
        await self.check(case)
    return test


for _case, (_frames, _expected) in LOGIN_CASES.items():
    verb = "is_ignored" if all(e is None for e in _expected) else "is_denied"
    setattr(LoginStateBadInput, "test_login_state_%s_%s_and_world_keeps_running" % (_case, verb),
            _make_test(_case))


if __name__ == "__main__":
    unittest.main()
