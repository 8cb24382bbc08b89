"""Server-side Lua scripts (docs/SCRIPTING.md): every call of the API observed from real WebSocket
clients, the sandbox, the instruction budget, the memory cap, errors in every kind of hook,
reload on SIGHUP, and the configuration."""
import asyncio
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (SERVER_BIN, Server, ServerTestCase, async_test, is_at, is_chat,
                     is_disconnect, is_full_actor, is_full_model_of, is_model_delta, is_move_of,
                     pkt, position_of, unique_name)

_dir = tempfile.mkdtemp(prefix="cmmo-it-script-")


def script_file(name, text):
    path = os.path.join(_dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def is_chat_from(name, text=None):
    return lambda p: is_chat(text)(p) and p.get("p0") == name


def is_npc_named(name):
    return lambda p: is_model_delta(p) and is_full_actor(p["p0"]) and \
        p["p0"]["instanced_entity"]["entity"]["name"] == name


async def wait_log(server, pattern, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, server.stderr_text())
        if m:
            return m
        await asyncio.sleep(0.05)
    raise AssertionError("no log line matching %r; log tail:\n%s"
                         % (pattern, server.stderr_text()[-3000:]))


API = script_file("api.lua", r'''
cmmo.on("login", function(p) p:tell("welcome " .. p.name .. " id=" .. p.id) end)
cmmo.on("logout", function(p) cmmo.say("bye " .. p.name) end)
local ticks = 0
cmmo.on("tick", function(dt) ticks = ticks + 1; assert(dt >= 0) end)
local npc
cmmo.on("chat", function(p, text)
  if text == "drop me" then return false end
  if text:find("darn") then return (text:gsub("darn", "****")) end
  local cmd, rest = text:match("^/(%w+)%s*(.*)$")
  if not cmd then return nil end
  if cmd == "pos" then local x, y = p:position(); p:tell(("pos %d %d"):format(x, y))
  elseif cmd == "tp" then p:teleport(300, 200)
  elseif cmd == "move" then p:move_to(60, 50)
  elseif cmd == "kick" then p:kick("kicked by script")
  elseif cmd == "players" then
    local names = {}
    for _, q in ipairs(cmmo.players()) do names[#names + 1] = q.name end
    table.sort(names)
    p:tell("players " .. #names .. " " .. table.concat(names, ","))
  elseif cmd == "ticks" then p:tell("ticks>0 " .. tostring(ticks > 0))
  elseif cmd == "after" then cmmo.after(0.2, function() p:tell("after fired") end)
  elseif cmd == "every" then
    local n = 0
    local h
    h = cmmo.every(0.1, function() n = n + 1; p:tell("every " .. n); if n == 3 then h:cancel() end end)
  elseif cmd == "cancel" then
    local h = cmmo.after(0.2, function() p:tell("cancelled timer fired") end)
    h:cancel()
    cmmo.after(0.4, function() p:tell("second timer fired") end)
  elseif cmd == "say" then cmmo.say("announce " .. rest)
  elseif cmd == "npc" then
    npc = cmmo.spawn_npc{name = "Guide Ann", avatar = 2, x = 100, y = 100}
    p:tell("npc id " .. npc.id .. " " .. npc.name)
  elseif cmd == "npcwalk" then npc:walk_to(135, 100)
  elseif cmd == "npcsay" then npc:say("hello from the npc")
  elseif cmd == "npcpos" then local x, y = npc:position(); p:tell(("npcpos %d %d"):format(x, y))
  elseif cmd == "npcrm" then npc:remove()
  elseif cmd == "badnpc" then
    local ok, err = pcall(cmmo.spawn_npc, {name = "Alice", x = 1, y = 1})
    p:tell("account-like npc name refused " .. tostring(not ok))
  elseif cmd == "set" then local k, v = rest:match("(%S+)%s+(.*)"); cmmo.store.set(k, v)
  elseif cmd == "setn" then cmmo.store.set(rest, 42.5)
  elseif cmd == "get" then p:tell("got " .. tostring(cmmo.store.get(rest)))
  elseif cmd == "find" then
    local q = cmmo.player(rest)
    p:tell("found " .. tostring(q and q.name))
  end
  return false
end)
cmmo.on("target", function(p, x, y)
  if x > 1000 then return false end
  if x < 10 then return 20, 30 end
end)
cmmo.log("info", "api script ready")
''')


class ScriptApi(ServerTestCase):
    server_options = {"extra_args": ["--script", API]}

    async def cmd(self, c, text, expect=None, prefix=None):
        """Sends a command; returns the Server line that answers it (expect, or one that starts
        with prefix)."""
        await c.chat(text)
        if prefix is not None:
            return await c.wait_for(lambda p: is_chat_from("Server")(p) and
                                    p["p1"].startswith(prefix), what="Server: %s..." % prefix)
        return await c.wait_for(is_chat_from("Server", expect), what="Server: %s" % expect)

    @async_test
    async def test_login_hook_tells_the_player_its_name_and_id(self):
        a = await self.player("login")
        await a.wait_for(is_chat_from("Server", "welcome %s id=%d" % (a.name, a.aid)))

    @async_test
    async def test_chat_hook_replaces_drops_and_passes_lines(self):
        a, b = await self.players(2, "chat")
        await a.chat("drop me")
        await a.chat("what a darn day")
        await b.wait_for(is_chat_from(a.name, "what a **** day"))
        await a.chat("plain words")
        await b.wait_for(is_chat_from(a.name, "plain words"))
        self.assertEqual(b.since(0, is_chat("drop me")), [])

    @async_test
    async def test_commands_are_not_relayed_and_answer_only_the_sender(self):
        a, b = await self.players(2, "cmds")
        got = await self.cmd(a, "/players", prefix="players ")
        names = got["p1"].split(" ")[2].split(",")
        self.assertIn(a.name, names)
        self.assertIn(b.name, names)
        await self.assert_no_packet(b, is_chat(got["p1"]), 0.3)
        await self.cmd(a, "/ticks", "ticks>0 true")
        await self.cmd(a, "/find " + b.name.upper(), "found " + b.name)
        await self.cmd(a, "/find nobody_here", "found nil")

    @async_test
    async def test_position_teleport_and_move_to(self):
        a, b = await self.players(2, "tp")
        # b must see a before the jump to see it as a move (a chat command runs when read, and b
        # may otherwise first see a, already there, in a full model).
        await b.wait_for(is_full_model_of(a.aid), what="a seen from b")
        await self.cmd(a, "/pos", "pos 0 0")
        await a.chat("/tp")
        await b.wait_for(is_at(a.aid, 300, 200), what="the teleported position")
        await self.cmd(a, "/pos", "pos 300 200")
        await a.chat("/move")
        await b.wait_for(is_at(a.aid, 60, 50), timeout=10, what="the walk's end")

    @async_test
    async def test_target_hook_refuses_and_redirects(self):
        a, b = await self.players(2, "tgt")
        await a.send(pkt("Target", 1200, 100))
        await self.assert_no_packet(b, is_move_of(a.aid), 0.4)
        await a.send(pkt("Target", 5, 5))
        await b.wait_for(is_at(a.aid, 20, 30), timeout=10, what="the redirected walk's end")

    @async_test
    async def test_say_reaches_everyone_from_server(self):
        a, b = await self.players(2, "say")
        await a.chat("/say hi all")
        await a.wait_for(is_chat_from("Server", "announce hi all"))
        await b.wait_for(is_chat_from("Server", "announce hi all"))

    @async_test
    async def test_after_every_and_cancel(self):
        a = await self.player("timer")
        await a.chat("/after")
        await a.wait_for(is_chat_from("Server", "after fired"))
        await a.chat("/every")
        for n in (1, 2, 3):
            await a.wait_for(is_chat_from("Server", "every %d" % n))
        await self.assert_no_packet(a, is_chat("every 4"), 0.4)
        await a.chat("/cancel")
        await a.wait_for(is_chat_from("Server", "second timer fired"))
        self.assertEqual(a.since(0, is_chat("cancelled timer fired")), [])

    @async_test
    async def test_logout_hook_says_goodbye(self):
        a, b = await self.players(2, "bye")
        await a.close()
        await b.wait_for(is_chat_from("Server", "bye " + a.name))

    @async_test
    async def test_kick_tells_the_reason_and_closes(self):
        a = await self.player("kick")
        await a.chat("/kick")
        await a.wait_for(is_chat_from("Server", "kicked by script"))
        await a.wait_closed()

    @async_test
    async def test_npc_is_an_actor_that_walks_says_and_leaves(self):
        a, b = await self.players(2, "npc")
        got = await self.cmd(a, "/npc", prefix="npc id ")
        npc_id = int(got["p1"].split(" ")[2])
        self.assertEqual(got["p1"], "npc id %d Guide Ann" % npc_id)
        for c in (a, b):
            full = await c.wait_for(is_npc_named("Guide Ann"), what="the NPC's full model")
            self.assertEqual(full["p0"]["id"], npc_id)
            self.assertEqual(full["p0"]["avatar_id"], 2)
            self.assertEqual(position_of(full), (100, 100))
        await a.chat("/npcwalk")
        await b.wait_for(is_at(npc_id, 135, 100), timeout=10, what="the NPC's walk's end")
        await self.cmd(a, "/npcpos", "npcpos 135 100")
        await a.chat("/npcsay")
        await b.wait_for(is_chat_from("Guide Ann", "hello from the npc"))
        # A newcomer sees the NPC where it stands.
        c = await self.player("npclate")
        full = await c.wait_for(is_npc_named("Guide Ann"))
        self.assertEqual(position_of(full), (135, 100))
        await a.chat("/npcrm")
        for x in (a, b, c):
            await x.wait_for(is_disconnect(npc_id), what="the NPC's Disconnect")
        await self.cmd(a, "/badnpc", "account-like npc name refused true")

    @async_test
    async def test_store_values_are_read_back(self):
        a = await self.player("kv")
        await a.chat("/set color deep blue")
        await self.cmd(a, "/get color", "got deep blue")
        await a.chat("/setn answer")
        await self.cmd(a, "/get answer", "got 42.5")
        await self.cmd(a, "/get missing", "got nil")


class ScriptStorePersists(ServerTestCase):
    server_options = {"extra_args": ["--script", API]}

    @async_test
    async def test_store_values_survive_a_restart(self):
        a = await self.player("kvp")
        await a.chat("/set level 7")
        await a.chat("/get level")
        await a.wait_for(is_chat_from("Server", "got 7"))
        await a.close()
        self.server.stop_and_check()
        self.server.start()
        b = await self.player("kvp2")
        await b.chat("/get level")
        await b.wait_for(is_chat_from("Server", "got 7"))


SANDBOX = script_file("sandbox.lua", r'''
local report = {}
local function check(name, value) report[#report + 1] = name .. "=" .. tostring(value) end
check("io", io)
check("os.execute", os.execute)
check("os.exit", os.exit)
check("os.getenv", os.getenv)
check("os.remove", os.remove)
check("debug", debug)
check("require", require)
check("package", package)
check("dofile", dofile)
check("loadfile", loadfile)
check("collectgarbage", collectgarbage)
check("string.dump", string.dump)
check("coroutine", coroutine)
check("os.time", type(os.time))
local f, err = load("\27Lua\84\0\25\147\13\10\26\10")
check("binary", f == nil and err:find("binary") ~= nil and "refused" or "loaded")
local g = load("return 1 + 1")
check("text", g and g())
cmmo.log("info", "sandbox " .. table.concat(report, " "))
''')


class ScriptSandbox(ServerTestCase):
    server_options = {"extra_args": ["--script", SANDBOX]}

    @async_test
    async def test_a_script_reaches_none_of_the_dangerous_libraries(self):
        m = await wait_log(self.server, r'sandbox ([^"]*)"')
        got = dict(kv.split("=", 1) for kv in m.group(1).split(" "))
        for name in ("io", "os.execute", "os.exit", "os.getenv", "os.remove", "debug", "require",
                     "package", "dofile", "loadfile", "collectgarbage", "string.dump",
                     "coroutine"):
            self.assertEqual(got[name], "nil", name)
        self.assertEqual(got["os.time"], "function")
        self.assertEqual(got["binary"], "refused")
        self.assertEqual(got["text"], "2")


LIMITS = script_file("limits.lua", r'''
cmmo.on("chat", function(p, text)
  if text == "/loop" then while true do end end
  if text == "/pcallloop" then
    while true do pcall(function() while true do end end) end
  end
  if text == "/hog" then
    local t = {}
    for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end
  end
  if text == "/hoard" then
    -- Big pieces, then a list of tiny ones: the state ends full to the last few bytes.
    hoard, crumbs = {}, false
    pcall(function() for i = 1, 1e9 do hoard[i] = string.rep("y", 4096) .. i end end)
    pcall(function() while true do crumbs = {crumbs} end end)
    error("hoarded")
  end
  if text == "/free" then hoard, crumbs = nil, nil end
  if text == "/after" then p:tell("still scripting") return false end
end)
''')


class ScriptLimits(ServerTestCase):
    server_options = {"extra_args": ["--script", LIMITS]}

    async def still_alive(self, a, b):
        await a.chat("after the storm")
        await b.wait_for(is_chat_from(a.name, "after the storm"))
        await a.chat("/after")
        await a.wait_for(is_chat_from("Server", "still scripting"))
        await a.send(pkt("Target", 40, 0))
        await b.wait_for(is_at(a.aid, 40, 0), timeout=10)
        await a.send(pkt("Target", 0, 0))
        await b.wait_for(is_at(a.aid, 0, 0), timeout=10)

    @async_test
    async def test_a_runaway_loop_is_cut_by_the_budget(self):
        a, b = await self.players(2, "loop")
        await a.chat("/loop")
        await wait_log(self.server, r"script_error call=chat error=\"[^\"]*limits\.lua:3: "
                                    r"instruction budget of 1000000 exceeded")
        # The abandoned hook passes the line on, as any failed hook does.
        await b.wait_for(is_chat_from(a.name, "/loop"))
        await self.still_alive(a, b)

    @async_test
    async def test_pcall_cannot_catch_the_budget(self):
        a, b = await self.players(2, "pcall")
        await a.chat("/pcallloop")
        await wait_log(self.server, r"limits\.lua:5: instruction budget")
        await self.still_alive(a, b)

    @async_test
    async def test_a_greedy_script_hits_the_memory_cap(self):
        a, b = await self.players(2, "hog")
        await a.chat("/hog")
        await wait_log(self.server, r"script_memory_exceeded script=\"[^\"]*limits\.lua\" "
                                    r"call=chat cap_bytes=33554432", timeout=30)
        await self.still_alive(a, b)


ERRORS = script_file("errors.lua", r'''
cmmo.on("login", function(p) error("login boom") end)
cmmo.on("logout", function(p) error("logout boom") end)
cmmo.on("chat", function(p, t) if t == "/timer" then cmmo.after(0.05, function() error("timer boom") end) end; error("chat boom") end)
cmmo.on("target", function(p, x, y) error("target boom") end)
local once = false
cmmo.on("tick", function(dt) if not once then once = true; error("tick boom") end end)
''')


class ScriptHoard(ServerTestCase):
    server_options = {"extra_args": ["--script", LIMITS]}

    @async_test
    async def test_a_script_that_keeps_its_memory_full_does_not_take_the_server_down(self):
        a, b = await self.players(2, "hoard")
        await a.chat("/hoard")
        # Even the error's message may not fit any more: either line will do.
        await wait_log(self.server, r"limits\.lua:\d+: hoarded|script_memory_exceeded",
                       timeout=30)
        # The state is full and stays full: the runtime still hands it each line, and the
        # script's own allocations fail, not the server.
        for i in range(3):
            await a.chat("line %d" % i)
            await b.wait_for(is_chat_from(a.name, "line %d" % i))
        await a.chat("/free")
        await a.chat("/after")
        await a.wait_for(is_chat_from("Server", "still scripting"), timeout=10)


class ScriptErrors(ServerTestCase):
    server_options = {"extra_args": ["--script", ERRORS]}

    @async_test
    async def test_an_error_in_every_kind_of_hook_is_logged_with_file_and_line(self):
        a, b = await self.players(2, "err")
        await a.chat("/timer")
        await b.wait_for(is_chat_from(a.name, "/timer"))
        await a.send(pkt("Target", 30, 0))
        await b.wait_for(is_at(a.aid, 30, 0), timeout=10)
        await a.close()
        for call, line, what in (("login", 2, "login"), ("logout", 3, "logout"),
                                 ("chat", 4, "chat"), ("target", 5, "target"),
                                 ("tick", 7, "tick"), ("timer", 4, "timer")):
            await wait_log(self.server, r"script_error call=%s error=\"[^\"]*errors\.lua:%d: %s boom"
                           % (call, line, what))


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


RELOAD = os.path.join(_dir, "reload.lua")
RELOAD_V1 = r'''
cmmo.on("login", function(p) p:tell("v1") end)
cmmo.spawn_npc{name = "Old Guide*", x = 50, y = 50}
cmmo.every(0.05, function() end)
'''
RELOAD_V2 = r'''
cmmo.on("login", function(p) p:tell("v2") end)
cmmo.spawn_npc{name = "New Guide*", x = 70, y = 70}
'''
write(RELOAD, RELOAD_V1)


class ScriptReload(ServerTestCase):
    server_options = {"extra_args": ["--script", RELOAD]}

    @async_test
    async def test_sighup_keeps_the_old_script_on_failure_swaps_npcs_on_success_and_skips_same(self):
        a = await self.player("rl")
        await a.wait_for(is_chat_from("Server", "v1"))
        old = await a.wait_for(is_npc_named("Old Guide*"))
        write(RELOAD, "cmmo.on('login', function(p) p:tell('broken') end\n")  # syntax error
        self.server.proc.send_signal(signal.SIGHUP)
        await wait_log(self.server, r"script_load_failed script=\"[^\"]*reload\.lua\" "
                                    r"error=\"[^\"]*reload\.lua:\d+:")
        await wait_log(self.server, r"reloaded .*script=failed")
        b = await self.player("rl2")
        await b.wait_for(is_chat_from("Server", "v1"))
        await b.wait_for(is_npc_named("Old Guide*"))
        write(RELOAD, RELOAD_V2)
        self.server.proc.send_signal(signal.SIGHUP)
        await wait_log(self.server, r"reloaded .*script=ok")
        for c in (a, b):
            await c.wait_for(is_disconnect(old["p0"]["id"]), what="the old NPC's Disconnect")
            await c.wait_for(is_npc_named("New Guide*"))
        c = await self.player("rl3")
        await c.wait_for(is_chat_from("Server", "v2"))
        self.assertEqual(c.since(0, is_npc_named("Old Guide*")), [])
        new = await c.wait_for(is_npc_named("New Guide*"))
        # A SIGHUP with the file unchanged (logrotate's nightly one) leaves the script alone.
        self.server.proc.send_signal(signal.SIGHUP)
        await wait_log(self.server, r"script_unchanged script=\"[^\"]*reload\.lua\"")
        await self.assert_no_packet(c, is_disconnect(new["p0"]["id"]), 0.5)
        write(RELOAD, RELOAD_V1)


class ScriptConfig(unittest.TestCase):
    def print_config(self, args=(), env=None, config_text=None):
        e = dict(os.environ)
        e.pop("CMMO_SCRIPT", None)
        e.update(env or {})
        cmd = [SERVER_BIN, "--print-config"] + list(args)
        if config_text is not None:
            path = script_file("server.conf", config_text)
            cmd += ["--config", path]
        out = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [l for l in out.stdout.splitlines() if l.startswith("script ")][0]

    def test_script_comes_from_flag_environment_or_config_file(self):
        self.assertIn("script = %s" % API, self.print_config(["--script", API]))
        self.assertIn("CMMO_SCRIPT", self.print_config(env={"CMMO_SCRIPT": API}))
        line = self.print_config(config_text="script = %s\n" % API)
        self.assertIn(API, line)

    def test_a_script_that_fails_to_load_stops_the_start(self):
        bad = script_file("bad.lua", "error('no good')\n")
        srv = Server(extra_args=["--script", bad])
        with self.assertRaises(RuntimeError) as e:
            srv.start()
        self.assertIn("startup_failed stage=script", str(e.exception))
        self.assertIn("bad.lua:1: no good", str(e.exception))
        srv.cleanup_files()


if __name__ == "__main__":
    unittest.main()
