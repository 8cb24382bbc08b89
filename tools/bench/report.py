#!/usr/bin/env python3
"""Turns cmmo-bench results into BENCHMARKS.md and an SVG chart.

    report.py machine                      prints the machine description (JSON) for run.sh
    report.py report --results bench/results --markdown BENCHMARKS.md --chart bench/chart.svg

Numbers come only from the result files written by tools/bench/run.sh (one cmmo-bench JSON per
run, with the exact commands added). When a data point was run several times, every figure shown
is the median over those runs, and the tables say how many there were. Standard library only.
"""
import argparse
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
from datetime import datetime, timezone

# The goals for the crowded map at 500 players.
GOAL_PLAYERS = 500
GOAL_CHAT_P99_MS = 100.0
GOAL_TICK_P99_MS = 25.0
STORM_LIMIT_S = 30


def machine():
    """CPU model, core count, memory, kernel: enough to compare two BENCHMARKS.md files."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_mb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass

    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "cpu_model": model,
        "nproc": run(["nproc"]),
        "memory_mb": mem_mb,
        "free": run(["free", "-m"]),
        "kernel": platform.release(),
        "hypervisor": "yes" if "hypervisor" in open("/proc/cpuinfo").read() else "no",
        "git_commit": run(["git", "rev-parse", "--short", "HEAD"]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def load(results_dir):
    runs = []
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        if os.path.basename(path) == "machine.json":
            continue
        with open(path) as f:
            r = json.load(f)
        r["_file"] = os.path.basename(path)
        runs.append(r)
    mach = {}
    mpath = os.path.join(results_dir, "machine.json")
    if os.path.exists(mpath):
        with open(mpath) as f:
            mach = json.load(f)
    return runs, mach


def get(r, *keys):
    for k in keys:
        if r is None:
            return None
        r = r.get(k) if isinstance(r, dict) else None
    return r


def median(runs, *keys):
    # An empty latency histogram renders as zeros: it means "nothing measured", not 0 ms.
    if len(keys) >= 2 and keys[-1] in ("p50", "p90", "p99", "max", "mean", "min"):
        runs = [r for r in runs
                if not isinstance(get(r, *keys[:-1]), dict) or "count" not in get(r, *keys[:-1])
                or get(r, *keys[:-1], "count") > 0]
    vals = [get(r, *keys) for r in runs]
    vals = [v for v in vals if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return statistics.median(vals) if vals else None


def other_load(r, cpu, own):
    """Busy % of a CPU during the window not explained by the process pinned there."""
    busy = r.get("machine_cpu_busy_percent") or []
    mine = get(r, *own)
    if cpu >= len(busy) or busy[cpu] is None or mine is None:
        return None
    return max(0.0, busy[cpu] - mine)


def median_other(runs, cpu, own):
    vals = [other_load(r, cpu, own) for r in runs]
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def protocol(r):
    """The movement encoding a run spoke: "cmmo.v2" (--compact) or "legacy". Results written before
    cmmo-bench recorded it have no such field and were legacy."""
    return get(r, "config", "protocol") or "legacy"


def refused(r):
    """Connections whose 101 did not select the subprotocol offered (a server without cmmo.v2)."""
    return get(r, "ramp", "subprotocol_refused") or 0


def dropped(r):
    return (get(r, "connections", "dropped_ramp") or 0) + (get(r, "connections", "dropped_window") or 0)


def fmt(v, digits=1, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float) and digits == 0:
        return f"{v:,.0f}{unit}"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v:,.{digits}f}{unit}"


def completed(r):
    """A run whose measured window happened with players in it."""
    return r.get("stop_reason") == "completed" and (r.get("players_in_window") or 0) > 0


def failures_note(groups):
    lines = []
    for key, rs in groups.items():
        bad = [r for r in rs if not completed(r)]
        for r in bad:
            lines.append(f"- {r.get('label')}: {r.get('stop_reason')}; players dropped: "
                         f"{dropped(r)} (reasons {get(r, 'connections', 'drop_reasons')}), "
                         f"closed by the server before the login reply: "
                         f"{get(r, 'ramp', 'closed_before_play')}")
    if lines:
        lines = ["Runs without a usable window (left out of the medians above):", ""] + lines + [""]
    return lines


def latency_fields(rs):
    """Median chat and movement latency cells of a table row (c50 .. o99, ratio)."""
    return dict(
        c50=fmt(median(rs, "chat", "latency_ms", "p50")),
        c99=fmt(median(rs, "chat", "latency_ms", "p99")),
        cmax=fmt(median(rs, "chat", "latency_ms", "max")),
        ratio=fmt(median(rs, "chat", "delivery_ratio"), 4),
        m50=fmt(median(rs, "movement", "self_ms", "p50")),
        m99=fmt(median(rs, "movement", "self_ms", "p99")),
        o50=fmt(median(rs, "movement", "observer_ms", "p50")),
        o99=fmt(median(rs, "movement", "observer_ms", "p99")),
    )


def group_crowded(runs):
    groups = {}
    for r in runs:
        if r.get("workload") == "crowded":
            groups.setdefault(r["config"]["players"], []).append(r)
    return dict(sorted(groups.items()))


def crowded_section(runs):
    groups = group_crowded(runs)
    out = ["## 1. Crowded map", ""]
    if not groups:
        return out + ["Not run.", ""]
    any_run = next(iter(groups.values()))[0]
    c = any_run["config"]
    out += [
        f"Everyone on the tutorial map ({c['world'][0]:.0f}x{c['world'][1]:.0f}); every player sends a "
        f"Target (random point within {c['target_radius']:.0f} px of itself) every "
        f"{c['target_interval_s']:g} s and a Chat every {c['chat_interval_s']:g} s. Measured window "
        f"{c['duration_s']:g} s after a {c['warmup_s']:g} s warm-up.",
        "",
        "Latencies in ms (p50 / p99 / max). Chat: send to each delivery. Move: Target sent to the first "
        "delta of that actor heading for the new target, seen by the mover's own client and by one "
        "other player. Both include the wait for the next 50 ms tick.",
        "",
        "| players | runs ok / total | chat p50 | chat p99 | chat max | delivered | move own p50 / p99 | move observer p50 / p99 | login p50 / p99 | tick p50 / p99 / max | dropped |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, all_rs in groups.items():
        rs = [r for r in all_rs if completed(r)] or all_rs
        out.append(
            "| {n} | {ok} / {k} | {c50} | {c99} | {cmax} | {ratio} | {m50} / {m99} | {o50} / {o99} | {l50} / {l99} | {t50} / {t99} / {tmax} | {drop} |".format(
                n=n, k=len(all_rs), ok=sum(1 for r in all_rs if completed(r)),
                **latency_fields(rs),
                l50=fmt(median(rs, "ramp", "login_ms", "p50"), 0),
                l99=fmt(median(rs, "ramp", "login_ms", "p99"), 0),
                t50=fmt(median(rs, "server", "tick_ms", "p50"), 2),
                t99=fmt(median(rs, "server", "tick_ms", "p99"), 2),
                tmax=fmt(median(rs, "server", "tick_ms", "max"), 2),
                drop=fmt(statistics.median(dropped(r) for r in rs)),
            ))
    out += [
        "",
        "Load: what each client receives, what the server and the benchmark cost.",
        "",
        "| players | frames / client / s | KiB / client / s | deltas / client / s | server CPU % of a core (peak 1 s) | server RSS MiB | bench CPU % | other load on CPU 0 / CPU 1 % |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, all_rs in groups.items():
        rs = [r for r in all_rs if completed(r)] or all_rs
        bps = median(rs, "traffic", "bytes_per_client_s")
        rss = median(rs, "server", "rss_max_kb")
        out.append("| {n} | {f} | {b} | {d} | {cpu} ({peak}) | {rss} | {bc} | {o0} / {o1} |".format(
            n=n,
            f=fmt(median(rs, "traffic", "frames_per_client_s"), 0),
            b=fmt(bps / 1024 if bps is not None else None, 1),
            d=fmt(median(rs, "traffic", "deltas_per_client_s"), 0),
            cpu=fmt(median(rs, "server", "cpu_percent")),
            peak=fmt(median(rs, "server", "cpu_percent_peak_1s")),
            rss=fmt(rss / 1024 if rss is not None else None),
            bc=fmt(median(rs, "bench", "cpu_percent")),
            o0=fmt(median_other(rs, 0, ("server", "cpu_percent"))),
            o1=fmt(median_other(rs, 1, ("bench", "cpu_percent"))),
        ))
    out.append("")
    out += failures_note(groups)
    goal = [r for r in groups.get(GOAL_PLAYERS, []) if completed(r)]
    if goal:
        p99 = median(goal, "chat", "latency_ms", "p99")
        ratio = median(goal, "chat", "delivery_ratio")
        tick = median(goal, "server", "tick_ms", "p99")

        def verdict(ok):
            return "met" if ok else "**not met**"
        out += [
            f"Goals at {GOAL_PLAYERS} players: chat p99 <= {GOAL_CHAT_P99_MS:g} ms: {fmt(p99)} ms, "
            f"{verdict(p99 is not None and p99 <= GOAL_CHAT_P99_MS)}; all chats delivered: ratio "
            f"{fmt(ratio, 4)}, {verdict(ratio == 1.0)}; tick p99 <= {GOAL_TICK_P99_MS:g} ms: "
            f"{fmt(tick, 2)} ms, {verdict(tick is not None and tick <= GOAL_TICK_P99_MS)}.",
            "",
        ]
    elif GOAL_PLAYERS in groups:
        out += [f"Goals at {GOAL_PLAYERS} players: **not met**: no run reached the measured window.", ""]
    else:
        out += [f"The {GOAL_PLAYERS}-player point was not run (quick mode?): goals not evaluated.", ""]
    out += ["![chat p99 and server CPU against players](bench/chart.svg)", ""]
    return out


def open_section(runs):
    rs = [r for r in runs if r.get("workload") == "open"]
    out = ["## 2. Open world", ""]
    if not rs:
        return out + ["Not run.", ""]
    unsupported = [r for r in rs if r.get("unsupported")]
    if unsupported:
        return out + [
            "**Not supported by this server yet.** " + unsupported[0].get("reason", ""),
            "",
            f"Attempted: `{get(unsupported[0], 'commands', 'server')}`",
            "",
        ]
    c = rs[0]["config"]
    by_protocol = {}
    for r in rs:
        by_protocol.setdefault(protocol(r), []).append(r)
    order = sorted(by_protocol, key=lambda p: (p != "legacy", p))
    # Runs whose clients could not even connect say nothing about the spread or the server.
    measured = [r for r in rs if not refused(r)] or rs
    out += [
        f"`--world {c['world'][0]:.0f}x{c['world'][1]:.0f}`, {c['players']:,} players walked to an even grid "
        f"first (spread took {fmt(median(measured, 'ramp', 'spread_s'))} s, "
        f"{fmt(median(measured, 'ramp', 'spread_unfinished'), 0)} not arrived), then each walks to a point "
        f"within {c['target_radius']:.0f} px every {c['target_interval_s']:g} s and chats every "
        f"{c['chat_interval_s']:g} s (chat is global). Window {c['duration_s']:g} s; runs: "
        + ", ".join(f"{p} {len(by_protocol[p])}" for p in order) + ".",
        "",
        "Each protocol is a separate run on a fresh server: `legacy` sends every movement as a "
        "ModelDelta, `cmmo.v2` (the WebSocket subprotocol of cmmo's browser client, `cmmo-bench "
        "--compact`) as `{\"a\":\"Move\",\"p0\":[id,x,y]}`.",
        "",
        "| protocol | players in / dropped | chat p50 / p99 / max ms | delivered | move own p50 / p99 | move observer p50 / p99 | frames / client / s | KiB / client / s | tick p50 / p99 / max | server CPU % | server RSS MiB |",
        "|:---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    notes = []
    for p in order:
        prs = by_protocol[p]
        if all(refused(r) and not completed(r) for r in prs):
            notes.append(f"**{p} not measured**: the server's WebSocket answer did not select the "
                         f"`{p}` subprotocol ({fmt(median(prs, 'ramp', 'subprotocol_refused'), 0)} "
                         "connections refused per run), so every client failed to connect.")
            continue
        out.append(f"| {p} " + row_common(prs))
    out.append("")
    out += notes + ([""] if notes else [])
    out.append("Run ended: " + "; ".join(
        f"{p}: {', '.join(sorted(set(r.get('stop_reason', '?') for r in by_protocol[p])))}"
        for p in order) + ".")
    unfinished = median(measured, "ramp", "spread_unfinished")
    if unfinished:
        out += ["", f"**The spread did not complete**: {fmt(unfinished)} of {fmt(median(measured, 'ramp', 'logged_in'))} "
                "players had not reached their grid point when the spread timed out, so these figures "
                "describe a crowd around the spawn point (0, 0), not an evenly spread world. New "
                "accounts all spawn at (0, 0); the server moves them at most 70 px per tick it "
                "actually runs."]
    if any(get(r, "server", "tick_ms") is None for r in measured):
        out += ["", "The server did not answer `GET /stats` within 5 s at the end of the window, so "
                "there are no tick figures."]
    return out + [""]


def row_common(rs):
    bps = median(rs, "traffic", "bytes_per_client_s")
    rss = median(rs, "server", "rss_max_kb")
    return ("| {n} / {drop} | {c50} / {c99} / {cmax} | {ratio} | {m50} / {m99} | {o50} / {o99} | {f} | {b} | "
            "{t50} / {t99} / {tmax} | {cpu} | {rss} |").format(
        n=fmt(median(rs, "ramp", "logged_in")),
        **latency_fields(rs),
        f=fmt(median(rs, "traffic", "frames_per_client_s"), 0),
        b=fmt(bps / 1024 if bps is not None else None),
        t50=fmt(median(rs, "server", "tick_ms", "p50"), 2),
        t99=fmt(median(rs, "server", "tick_ms", "p99"), 2),
        tmax=fmt(median(rs, "server", "tick_ms", "max"), 2),
        cpu=fmt(median(rs, "server", "cpu_percent")),
        rss=fmt(rss / 1024 if rss is not None else None),
        drop=fmt(statistics.median(dropped(r) for r in rs)),
    )


def storm_section(runs):
    rs = [r for r in runs if r.get("workload") == "storm"]
    out = ["## 3. Login storm", ""]
    if not rs:
        return out + ["Not run.", ""]
    c = rs[0]["config"]
    out += [
        f"{c['storm']:,} players with existing accounts connect and log in at the same moment, "
        f"{c['storm_delay_s']:g} s into the window, while {c['players']:,} others play (Target every "
        f"{c['target_interval_s']:g} s, Chat every {c['chat_interval_s']:g} s). Goal: every login "
        f"answered within {STORM_LIMIT_S} s. Answer time is from the connection's start to Ok/Deny. "
        f"{len(rs)} run(s).",
        "",
        "| logins | ok | denied | failed / unanswered | answered within 30 s | answer p50 / p99 / max s | players' chat p99 ms | delivered | tick p99 / max ms | server CPU % |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    s50 = median(rs, "storm", "answer_ms", "p50")
    s99 = median(rs, "storm", "answer_ms", "p99")
    smax = median(rs, "storm", "answer_ms", "max")
    out.append("| {n} | {ok} | {den} | {fail} / {un} | {w30} | {a} / {b} / {c} | {cp} | {ratio} | {t99} / {tmax} | {cpu} |".format(
        n=fmt(median(rs, "storm", "started")), ok=fmt(median(rs, "storm", "ok")),
        den=fmt(median(rs, "storm", "denied")), fail=fmt(median(rs, "storm", "failed")),
        un=fmt(median(rs, "storm", "unanswered")), w30=fmt(median(rs, "storm", "answered_within_30s")),
        a=fmt(s50 / 1000 if s50 is not None else None, 2),
        b=fmt(s99 / 1000 if s99 is not None else None, 2),
        c=fmt(smax / 1000 if smax is not None else None, 2),
        cp=fmt(median(rs, "chat", "latency_ms", "p99")),
        ratio=fmt(median(rs, "chat", "delivery_ratio"), 4),
        t99=fmt(median(rs, "server", "tick_ms", "p99"), 2),
        tmax=fmt(median(rs, "server", "tick_ms", "max"), 2),
        cpu=fmt(median(rs, "server", "cpu_percent")),
    ))
    started = median(rs, "storm", "started")
    within = median(rs, "storm", "answered_within_30s")
    ok = started is not None and within == started
    out += ["", f"Goal (every login answered within {STORM_LIMIT_S} s): {'met' if ok else '**not met**'}.", ""]
    return out


def memory_section(runs):
    rs = [r for r in runs if r.get("workload") == "memory"]
    out = ["## 4. Memory", ""]
    if not rs:
        return out + ["Not run.", ""]
    out += [
        f"{rs[0]['config']['players']:,} players log in and stay idle (no Target, no Chat). The server's "
        f"resident set (VmRSS from /proc) on a fresh process before the first connection, and once "
        f"everyone is in. {len(rs)} run(s).",
        "",
        "| players in / tried | closed by server before Ok / dropped after | RSS before MiB | RSS all in MiB | RSS per player KiB | server CPU % with idle players | tick p50 / p99 ms | login p50 / p99 ms | ramp s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    idle = median(rs, "server", "rss_idle_kb")
    full = median(rs, "server", "rss_window_start_kb")
    out.append("| {n} / {tried} | {early} / {drop} | {a} | {b} | {p} | {cpu} | {t50} / {t99} | {l50} / {l99} | {ramp} |".format(
        n=fmt(median(rs, "ramp", "logged_in")),
        tried=fmt(rs[0]["config"]["players"]),
        early=fmt(median(rs, "ramp", "closed_before_play")),
        drop=fmt(statistics.median(dropped(r) for r in rs)),
        t50=fmt(median(rs, "server", "tick_ms", "p50"), 2),
        t99=fmt(median(rs, "server", "tick_ms", "p99"), 2),
        a=fmt(idle / 1024 if idle is not None else None),
        b=fmt(full / 1024 if full is not None else None),
        p=fmt(median(rs, "server", "rss_per_player_kb")),
        cpu=fmt(median(rs, "server", "cpu_percent")),
        l50=fmt(median(rs, "ramp", "login_ms", "p50"), 0),
        l99=fmt(median(rs, "ramp", "login_ms", "p99"), 0),
        ramp=fmt(median(rs, "ramp", "seconds")),
    ))
    return out + [""]


def commands_section(runs):
    out = ["## Exact commands", "",
           "Each run used a fresh server process (the database, with the accounts registered once by "
           "the `setup` run, is shared). `PORT`/`PID` were the free port the server reported and its "
           "process id; the values below are those of the recorded runs.", "", "```"]
    for r in runs:
        cmds = r.get("commands") or {}
        commit = f" (commit {r['git_commit']})" if r.get("git_commit") else ""
        out.append(f"# {r.get('label') or r['_file']}{commit}")
        if cmds.get("server"):
            out.append(cmds["server"])
        if cmds.get("bench"):
            out.append(cmds["bench"])
    out += ["```", ""]
    return out


def floor_section(runs, mach):
    """cmmo against its floor (cmmo-floor: the same clients sent the same frames and bytes with no
    game), run by run, and what cmmo.v2's budget trades: bytes per client, staleness, the position
    error an observer's browser client draws, chat."""
    rs = [r for r in runs if r.get("floor") or protocol(r) == "cmmo.v2"]
    out = ["## Ratios: cmmo against its floor, and what the budget trades", ""]
    if not rs:
        return out + ["Not run (no floor in these results: `BENCH_FLOOR=0`, or an older run).", ""]
    out += [
        f"Measured on {mach.get('cpu_model', 'an unknown CPU')} ({mach.get('nproc', '?')} CPUs), "
        f"kernel {mach.get('kernel', '?')}. The floor (`build/cmmo-floor`, tools/bench/floor/floor.c) "
        "writes each of the same number of clients the frames and bytes per second the run measured, "
        "one write per client per tick, on the server's core: the kernel's share of serving them. "
        "The ratio (server CPU / floor CPU) is the figure that travels between machines; the "
        "absolute percentages are this machine's. Position error: where an observer's browser client "
        "draws a walking mover (web/js/motion.js's interpolation) against where the mover was at the "
        "time drawn; lag: against where it is (the client's delay included, about 70 px/s times it).",
        "",
        "| run | protocol | players | server CPU % | floor CPU % | ratio | KiB / client / s (max client) | frames / client / s | staleness p50 / p99 / max ms | position error p50 / p99 / max px | lag p50 / p99 px | chat p50 / p99 ms | dropped |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(rs, key=lambda r: (r.get("workload", ""), protocol(r), get(r, "config", "players") or 0)):
        bps, mx = get(r, "traffic", "bytes_per_client_s"), get(r, "traffic", "max_client_bytes_s")
        out.append("| {label} | {proto} | {n} | {cpu} | {fc} | {ratio} | {b} ({m}) | {f} | {s50} / {s99} / {smax} | {e50} / {e99} / {emax} | {l50} / {l99} | {c50} / {c99} | {drop} |".format(
            label=r.get("label", "?"), proto=protocol(r), n=fmt(get(r, "players_in_window"), 0),
            cpu=fmt(get(r, "server", "cpu_percent")), fc=fmt(get(r, "floor", "cpu_percent")),
            ratio=fmt(get(r, "floor", "ratio"), 2),
            b=fmt(bps / 1024 if bps is not None else None), m=fmt(mx / 1024 if mx is not None else None),
            f=fmt(get(r, "traffic", "frames_per_client_s"), 0),
            s50=fmt(get(r, "movement", "staleness_ms", "p50")), s99=fmt(get(r, "movement", "staleness_ms", "p99")),
            smax=fmt(get(r, "movement", "staleness_ms", "max")),
            e50=fmt(get(r, "movement", "position_error_px", "p50")),
            e99=fmt(get(r, "movement", "position_error_px", "p99")),
            emax=fmt(get(r, "movement", "position_error_px", "max")),
            l50=fmt(get(r, "movement", "position_lag_px", "p50")),
            l99=fmt(get(r, "movement", "position_lag_px", "p99")),
            c50=fmt(get(r, "chat", "latency_ms", "p50")), c99=fmt(get(r, "chat", "latency_ms", "p99")),
            drop=fmt(dropped(r), 0)))
    if any(not r.get("floor") for r in rs):
        out += ["", "n/a: a run made before `make bench` measured the floor and staleness (the "
                "cmmo.v2 runs without them also predate the Moves frame and the budget)."]
    if any(get(r, "movement", "position_error_px") is None for r in rs):
        out += ["", "Position error and lag n/a: a run made before cmmo-bench measured them."]
    return out + [""]


def markdown(runs, mach):
    free = mach.get("free", "")
    lines = [
        "# cmmo benchmarks",
        "",
        "Generated by `make bench` (tools/bench/run.sh, tools/bench/report.py) from the raw results in "
        "`bench/results/*.json`; do not edit by hand. Every number below comes from those runs.",
        "",
        "## Machine",
        "",
        f"- CPU: {mach.get('cpu_model', 'unknown')}, `nproc` = {mach.get('nproc', '?')}"
        + (" (virtual machine)" if mach.get("hypervisor") == "yes" else ""),
        f"- Memory: {fmt(mach.get('memory_mb'))} MiB; kernel {mach.get('kernel', '?')}",
        f"- Commit {mach.get('git_commit', '?')}, run {mach.get('date', '?')} (each run's own commit "
        "is in the commands at the end)",
        "- The server (`build/cmmo-server`, release build) is pinned to CPU 0 with `taskset -c 0`, "
        "the benchmark to CPU 1 with `taskset -c 1`; both talk over loopback.",
        "",
        "```",
        "$ free -m",
        free,
        "```",
        "",
    ]
    lines += crowded_section(runs)
    lines += open_section(runs)
    lines += storm_section(runs)
    lines += memory_section(runs)
    lines += floor_section(runs, mach)
    # Hand-written analysis (what each change bought, where it breaks), kept beside the results
    # because it quotes runs made outside make bench (tools/bench/ab.sh).
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "NOTES.md")
    if os.path.exists(notes):
        lines += [open(notes).read().rstrip("\n"), ""]
    lines += [
        "## How to read this",
        "",
        "- Server CPU is user+system time of the server process over the window, from "
        "`/proc/PID/stat`, as a percentage of one core; RSS is `VmRSS` from `/proc/PID/status`.",
        "- Tick figures come from the server's own `GET /stats` (reset when the window opens).",
        "- A chat counts as expected for every player in PLAY when it was sent (the sender "
        "excluded); the delivery ratio is deliveries over that.",
        "- Latencies are kept in log-linear histograms (1.6 % resolution); max is exact.",
        "- Other processes on the machine (e.g. test suites) disturb the numbers: \"other load\" is "
        "the busy time of each pinned CPU (from `/proc/stat`) minus the pinned process's own; "
        "compare runs made on a quiet machine.",
        "",
    ]
    lines += commands_section(runs)
    return "\n".join(lines)


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def panel(x0, y0, w, h, title, xs, series, yunit, goal=None):
    """One line chart: xs are player counts shown at even spacing (they span 10..500)."""
    parts = [f'<text x="{x0 + w / 2}" y="{y0 - 12}" text-anchor="middle" font-size="14" '
             f'font-weight="bold">{esc(title)}</text>']
    ymax = max([v for _, vals, _ in series for v in vals if v is not None] + ([goal] if goal else []) + [1])
    ymax = nice_ceiling(ymax * 1.1)
    parts.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    for i in range(6):
        v = ymax * i / 5
        y = y0 + h - h * i / 5
        parts.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + w}" y2="{y}" stroke="#eee"/>')
        parts.append(f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end" font-size="11">{v:g}</text>')
    n = len(xs)

    def px(i):
        return x0 + (w * (i + 0.5) / n)

    def py(v):
        return y0 + h - h * v / ymax

    for i, x in enumerate(xs):
        parts.append(f'<text x="{px(i)}" y="{y0 + h + 16}" text-anchor="middle" font-size="11">{x}</text>')
    parts.append(f'<text x="{x0 + w / 2}" y="{y0 + h + 34}" text-anchor="middle" font-size="12">players</text>')
    parts.append(f'<text x="{x0 - 44}" y="{y0 + h / 2}" text-anchor="middle" font-size="12" '
                 f'transform="rotate(-90 {x0 - 44} {y0 + h / 2})">{esc(yunit)}</text>')
    if goal is not None:
        parts.append(f'<line x1="{x0}" y1="{py(goal)}" x2="{x0 + w}" y2="{py(goal)}" stroke="#c00" '
                     f'stroke-dasharray="6 4"/>')
        parts.append(f'<text x="{x0 + w - 4}" y="{py(goal) - 4}" text-anchor="end" font-size="11" '
                     f'fill="#c00">goal {goal:g}</text>')
    for k, (name, vals, color) in enumerate(series):
        pts = [(px(i), py(v)) for i, v in enumerate(vals) if v is not None]
        if len(pts) > 1:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y in pts:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>')
        parts.append(f'<rect x="{x0 + 10}" y="{y0 + 10 + 16 * k}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x0 + 26}" y="{y0 + 19 + 16 * k}" font-size="11">{esc(name)}</text>')
    return parts


def nice_ceiling(v):
    if v <= 0:
        return 1
    mag = 10 ** len(str(int(v))) / 10
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * mag >= v:
            return m * mag
    return 10 * mag


def chart(runs):
    groups = group_crowded(runs)
    xs = list(groups.keys())
    chat99 = [median(rs, "chat", "latency_ms", "p99") for rs in groups.values()]
    tick99 = [median(rs, "server", "tick_ms", "p99") for rs in groups.values()]
    cpu = [median(rs, "server", "cpu_percent") for rs in groups.values()]
    bench_cpu = [median(rs, "bench", "cpu_percent") for rs in groups.values()]
    W, H = 900, 380
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}" font-family="sans-serif">',
             f'<rect width="{W}" height="{H}" fill="white"/>',
             f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">cmmo, crowded map '
             f'(1344x832, Target every 0.5 s, Chat every 2 s): medians of the runs in bench/results</text>']
    if not xs:
        parts.append(f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle">no crowded-map runs</text>')
    else:
        parts += panel(80, 70, 330, 240, "chat latency p99", xs,
                       [("chat p99", chat99, "#1f77b4"), ("server tick p99", tick99, "#ff7f0e")],
                       "ms", goal=GOAL_CHAT_P99_MS)
        parts += panel(530, 70, 330, 240, "CPU, % of one core", xs,
                       [("server", cpu, "#2ca02c"), ("cmmo-bench", bench_cpu, "#999999")], "%")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("machine")
    rep = sub.add_parser("report")
    rep.add_argument("--results", default="bench/results")
    rep.add_argument("--markdown", default="BENCHMARKS.md")
    rep.add_argument("--chart", default="bench/chart.svg")
    args = ap.parse_args()
    if args.cmd == "machine":
        json.dump(machine(), sys.stdout, indent=2)
        print()
        return 0
    runs, mach = load(args.results)
    runs = [r for r in runs if r.get("workload") != "setup"] + [r for r in runs if r.get("workload") == "setup"]
    if not mach:
        mach = machine()
    os.makedirs(os.path.dirname(args.chart) or ".", exist_ok=True)
    with open(args.markdown, "w") as f:
        f.write(markdown(runs, mach))
    with open(args.chart, "w") as f:
        f.write(chart(runs))
    print(f"report: {len(runs)} result files -> {args.markdown}, {args.chart}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
