#!/usr/bin/env python3
"""The layering rule of src/, checked on the #include lines (docs: CONVENTIONS, "The shape of the
house"; the Makefile's LINK_* lines are the same rule for the linker).

Each folder of src/ is a layer and may include only the layers listed for it below. `game` must
not reach libuv, neither directly nor through any header it includes, however deep: it gets
time from an injected clock and work back through core/workpool.h, and only the wiring (server,
tools, tests) includes the *_loop.h headers that name a loop.

Usage: check_layers.py [ROOT]   (ROOT: a checkout, by default this one)
Prints one line per rule, then "RESULT: P passed, F failed"; exits 1 if any rule is broken.
"""
import os
import re
import shutil
import sys
import tempfile

# Lowest first. What each layer may include besides itself.
RULES = {
    "core": [],
    "proto": ["core"],
    "net": ["core"],
    "store": ["core"],
    "game": ["core", "proto", "store"],
    "cluster": ["core", "game"],
    "script": ["core", "game", "store"],
    "server": ["core", "proto", "net", "store", "game", "cluster", "script"],
}
# Where a layer may use only the public headers of a layer below: the cluster knows the game
# through its port (game.h: remote actors, regions, the observer of local players) and the actor
# model, never the world itself.
PUBLIC_ONLY = {
    "cluster": {"game": ["game/game.h", "game/actor.h", "game/outbox.h"]},
    # A script reaches the game through game.h's public calls alone (the script port and the
    # player and NPC calls), and the store through store.h, never a loop.
    "script": {"game": ["game/game.h", "game/actor.h", "game/outbox.h"],
               "store": ["store/store.h"]},
}
# Layers that must not reach libuv (or hiredis' libuv adapter), however indirectly.
NO_LIBUV = ["game", "script"]
LIBUV_INCLUDE = re.compile(r"^\s*#\s*include\s*<(uv\.h|uv/[^>]*|hiredis/adapters/libuv\.h)>")
QUOTE_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def sources(root, layer):
    d = os.path.join(root, "src", layer)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith((".c", ".h")))


def quote_includes(path):
    """(line number, included path) for each #include "..." of a file."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = QUOTE_INCLUDE.match(line)
            if m:
                out.append((n, m.group(1)))
    return out


def layer_violations(root, layer):
    """Includes of another layer that the rule does not allow, as 'file:line includes x'."""
    allowed = set(RULES[layer]) | {layer}
    bad = []
    for path in sources(root, layer):
        for n, inc in quote_includes(path):
            other = inc.split("/")[0] if "/" in inc else layer
            if other not in allowed:
                bad.append(f"{os.path.relpath(path, root)}:{n} includes {inc}")
            elif inc not in PUBLIC_ONLY.get(layer, {}).get(other, [inc]):
                bad.append(f"{os.path.relpath(path, root)}:{n} includes {inc}, not a public header of {other}")
    return bad


def libuv_chains(root, layer):
    """Every way a file of the layer reaches libuv, as 'a -> b -> <uv.h>' chains (one per file)."""
    bad = []

    def walk(path, chain, seen):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = LIBUV_INCLUDE.match(line)
                if m:
                    return chain + [f"<{m.group(1)}>"]
        for _, inc in quote_includes(path):
            target = os.path.join(root, "src", inc)
            if target in seen or not os.path.isfile(target):
                continue
            seen.add(target)
            found = walk(target, chain + [inc], seen)
            if found:
                return found
        return None

    for path in sources(root, layer):
        found = walk(path, [os.path.relpath(path, root)], {path})
        if found:
            bad.append(" -> ".join(found))
    return bad


BARE_MINUS_ONE = re.compile(r"(?i)\b(returns?|or|gives?)\s+-1\b")


def bare_error_returns(root):
    """Headers that promise a bare -1: every failure is 0 or a negative code of core/error.h's
    one table (or a system error), so a caller can log it with cmmo_strerror."""
    bad = []
    for layer in RULES:
        for path in sources(root, layer):
            if not path.endswith(".h"):
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    if BARE_MINUS_ONE.search(line):
                        bad.append(f"{os.path.relpath(path, root)}:{n}: {line.strip()}")
    return bad


def closure(layer):
    out, todo = set(), [layer]
    while todo:
        l = todo.pop()
        if l not in out:
            out.add(l)
            todo.extend(RULES[l])
    return out


def link_problems(root):
    """The Makefile's LINK_<layer> lines must be the rule: the layer and all it uses, each layer
    before the layers it uses (a static link resolves only towards the right)."""
    path = os.path.join(root, "Makefile")
    link = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^LINK_(\w+)\s*:=\s*(.*)$", line)
            if m:
                link[m.group(1)] = m.group(2).split()
    bad = []
    for layer in RULES:
        got = link.get(layer)
        if got is None:
            bad.append(f"no LINK_{layer} in the Makefile")
            continue
        if got[:1] != [layer] or set(got) != closure(layer) or len(got) != len(set(got)):
            bad.append(f"LINK_{layer} is {' '.join(got)}; wants {layer} then {sorted(closure(layer) - {layer})}")
        for i, l in enumerate(got):
            for used in RULES.get(l, []):
                if used in got and got.index(used) < i:
                    bad.append(f"LINK_{layer}: {used} comes before {l}, which uses it")
    return bad


def checks(root):
    """(name, list of problems) for every rule."""
    out = []
    for layer, allowed in RULES.items():
        may = ", ".join(allowed) if allowed else "nothing else"
        for other, headers in PUBLIC_ONLY.get(layer, {}).items():
            may += f" (of {other} only {', '.join(headers)})"
        out.append((f"{layer} includes only itself and {may}", layer_violations(root, layer)))
    for layer in NO_LIBUV:
        out.append((f"{layer} reaches no libuv header, directly or through its includes",
                    libuv_chains(root, layer)))
    out.append(("the Makefile's link lines list each layer before the layers it uses",
                link_problems(root)))
    out.append(("no header promises a bare -1: errors are codes of core/error.h",
                bare_error_returns(root)))
    return out


# ---- self-test: the checks above fail on a tree that breaks them ----

def self_test():
    """Builds a small tree with one violation per rule and expects each check to see it."""
    problems = []
    tmp = tempfile.mkdtemp(prefix="cmmo-layers-")
    try:
        def write(rel, text):
            p = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        write("src/proto/bad.c", '#include "game/session.h"\n')
        write("src/core/pool.h", "#include <uv.h>\n")
        write("src/store/store.h", '#include "core/pool.h"\n')
        write("src/game/world.c", '#include "store/store.h"\n')
        write("src/cluster/bad.c", '#include "game/game.h"\n#include "game/world.h"\n')
        write("src/script/bad.c", '#include "store/store.h"\n#include "store/store_loop.h"\n'
                                  '#include "net/net.h"\n')
        write("Makefile", "LINK_core := core\nLINK_proto := core proto\n")
        write("src/net/old.h", "/* Sends it. Returns 0 or -1. */\nint old_send(void);\n")
        found = dict(checks(tmp))
        want = {
            "proto includes only itself and core": "src/proto/bad.c:1 includes game/session.h",
            "cluster includes only itself and core, game (of game only game/game.h, game/actor.h, "
            "game/outbox.h)": "src/cluster/bad.c:2 includes game/world.h, not a public header of game",
            "script includes only itself and core, game, store (of game only game/game.h, "
            "game/actor.h, game/outbox.h) (of store only store/store.h)":
                "src/script/bad.c:2 includes store/store_loop.h, not a public header of store",
            "game reaches no libuv header, directly or through its includes":
                "src/game/world.c -> store/store.h -> core/pool.h -> <uv.h>",
        }
        for name, problem in want.items():
            if problem not in found.get(name, []):
                problems.append(f"missed: {problem} (got {found.get(name)})")
        if not any("src/net/old.h:1" in p for p in
                   found["no header promises a bare -1: errors are codes of core/error.h"]):
            problems.append("missed: a header promising -1")
        if not any("LINK_proto" in p for p in found["the Makefile's link lines list each layer before the layers it uses"]):
            problems.append("missed: LINK_proto in the wrong order")
        clean = [n for n, p in found.items() if n.startswith(("core ", "net ", "store ")) and p]
        if clean:
            problems.append(f"false alarm on {clean}")
    finally:
        shutil.rmtree(tmp)
    return problems


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    results = checks(root) + [("the checks fail on a tree that breaks each rule", self_test())]
    passed = failed = 0
    for name, problems in results:
        if problems:
            failed += 1
            print(f"FAIL: {name}")
            for p in problems:
                print(f"    {p}")
        else:
            passed += 1
            print(f"ok:   {name}")
    print(f"RESULT: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
