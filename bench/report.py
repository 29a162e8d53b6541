"""Turning a run into figures: per-kind totals, the DESIGN.md section 8 budgets against the anchor measured in the
same run, issue 2's comparison, the printed table and the JSON file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.suite import GRAPH_LATENCY_S, OURS, OURS_BLOB, OURS_OTEL, STOCK, TEAMS

MIB_BUDGET = 100.0
STARTUP_BUDGET_S = 1.5
LAG_BUDGET_MS = 10.0
CALLBACK_BUDGET_MS = 50.0
CPU_RATIO_BUDGET = 0.3
TELEMETRY_CPU_BUDGET = 1.15  # issue 29: CPU per interaction with telemetry exporting / without
LINK_SLACK_MS = 100.0


def per_kind(phases: list[dict[str, Any]], turn: str, bot: str | None = None) -> dict[str, Any]:
    """One turn kind (of one bot) over all its concurrencies: CPU per turn is total CPU over total turns."""
    mine = [p for p in phases if p["turn"] == turn and p.get("load", "closed") == "closed"
            and (bot is None or p["bot"] == bot)]
    turns = sum(p["turns"] for p in mine)
    posts = sum(p.get("posts", p["turns"]) for p in mine)
    return {
        "turns": turns,
        "steps": mine[0].get("steps", 1) if mine else 1,
        "cpu_ms_per_turn": sum(p["cpu_s"] for p in mine) * 1000 / turns if turns else math.nan,
        "cpu_ms_per_post": sum(p["cpu_s"] for p in mine) * 1000 / posts if posts else math.nan,
        "entra_requests": sum(p["entra_requests"] for p in mine),
        "entra_per_turn": sum(p["entra_requests"] for p in mine) / turns if turns else math.nan,
        "turns_per_s": {str(p["concurrency"]): p["turns_per_s"] for p in mine},
    }


def _phase(phases: list[dict[str, Any]], turn: str, load: str, bot: str = OURS) -> dict[str, Any]:
    return next(p for p in phases if p["turn"] == turn and p.get("load", "closed") == load and p["bot"] == bot)


def headline(result: dict[str, Any]) -> dict[str, Any]:
    """The figures issue 18 asks for: the whole interaction's CPU against as many stock echo turns, event-loop
    lateness at half capacity (open loop) and at saturation, and time to link with Graph answering slowly."""
    phases = result["phases"]
    echo, link = per_kind(phases, "echo", STOCK), per_kind(phases, "get link", OURS)
    open_phase = _phase(phases, "get link", "open")
    saturated = max((p for p in phases if p["turn"] == "get link" and p.get("load", "closed") == "closed"
                     and p["bot"] == OURS), key=lambda p: p["concurrency"])
    return {
        "echo_cpu_ms_per_turn": echo["cpu_ms_per_turn"],
        "link_cpu_ms_per_interaction": link["cpu_ms_per_turn"],
        "link_cpu_ms_per_turn": link["cpu_ms_per_post"],
        "link_turns_per_interaction": link["steps"],
        "cpu_ratio": link["cpu_ms_per_turn"] / (link["steps"] * echo["cpu_ms_per_turn"]),
        "capacity_interactions_per_s": max(p["turns_per_s"] for p in phases if p["turn"] == "get link"
                                           and p.get("load", "closed") == "closed" and p["bot"] == OURS),
        "open_rate": open_phase["open_rate"], "open_lag_p99_ms": open_phase["loop_lag_p99_ms"],
        "open_longest_callback_ms": open_phase["longest_callback_ms"],
        "saturated_concurrency": saturated["concurrency"], "saturated_lag_p99_ms": saturated["loop_lag_p99_ms"],
        "longest_callback_ms": max(p["longest_callback_ms"] for p in phases if p["bot"] == OURS),
        "longest_callback_cpu_ms": max(p.get("longest_callback_cpu_ms", math.nan) for p in phases if p["bot"] == OURS),
        "gc_longest_ms": max(p.get("gc_longest_ms", math.nan) for p in phases if p["bot"] == OURS),
        "gc_longest_cpu_ms": max(p.get("gc_longest_cpu_ms", math.nan) for p in phases if p["bot"] == OURS),
        "gc_full": sum(p.get("gc_full", 0) for p in phases if p["bot"] == OURS),
        "open_longest_callback_cpu_ms": open_phase.get("longest_callback_cpu_ms", math.nan),
        "open_batch_p99_ms": open_phase.get("batch_p99_ms", math.nan),
        "open_batch_longest_ms": open_phase.get("batch_longest_ms", math.nan),
        "open_batch_longest_cpu_ms": open_phase.get("batch_longest_cpu_ms", math.nan),
        "open_batch_longest_callbacks": open_phase.get("batch_longest_callbacks", 0),
        "open_callbacks_per_interaction": open_phase.get("callbacks_per_turn", math.nan),
        "open_cpu_ms_per_callback": open_phase.get("cpu_ms_per_callback", math.nan),
        "open_gc_longest_ms": open_phase.get("gc_longest_ms", math.nan),
        "link_p50_ms": _phase(phases, "get link", "graph 300 ms")["last_step_p50_ms"],
        "link_p99_ms": _phase(phases, "get link", "graph 300 ms")["last_step_p99_ms"],
        "link_graph_per_interaction": _phase(phases, "get link", "graph 300 ms")["graph_per_turn"],
        "me_p50_ms": _phase(phases, "ME link", "graph 300 ms")["last_step_p50_ms"],
        "me_p99_ms": _phase(phases, "ME link", "graph 300 ms")["last_step_p99_ms"],
        "me_graph_per_interaction": _phase(phases, "ME link", "graph 300 ms")["graph_per_turn"],
        **blob_headline(result),
    }


def blob_headline(result: dict[str, Any]) -> dict[str, Any]:
    """The same interaction on `BotStorage=blob` (Azurite), same run: its CPU against the stock echo, its storage
    requests per turn (target: one read and at most one write of the turn's one state key), and time to link, whose
    budget adds the storage round trips of the last step (at this run's median round trip) to the memory one."""
    phases = result["phases"]
    echo, link = per_kind(phases, "echo", STOCK), per_kind(phases, "get link", OURS_BLOB)
    closed = [p for p in phases if p["bot"] == OURS_BLOB and p.get("load", "closed") == "closed"]
    posts = sum(p["posts"] for p in closed)
    slow = _phase(phases, "get link", "graph 300 ms", OURS_BLOB)
    reads = sum(p["storage_reads_per_post"] * p["posts"] for p in closed) / posts
    writes = sum(p["storage_writes_per_post"] * p["posts"] for p in closed) / posts
    other = sum(p["storage_other_per_turn"] * p["turns"] for p in closed) / sum(p["turns"] for p in closed)
    return {
        "blob_link_cpu_ms_per_interaction": link["cpu_ms_per_turn"],
        "blob_cpu_ratio": link["cpu_ms_per_turn"] / (link["steps"] * echo["cpu_ms_per_turn"]),
        "blob_reads_per_turn": reads, "blob_writes_per_turn": writes, "blob_other_per_interaction": other,
        "blob_storage_p50_ms": slow["storage_p50_ms"], "blob_storage_p99_ms": slow["storage_p99_ms"],
        "blob_link_p50_ms": slow["last_step_p50_ms"], "blob_link_p99_ms": slow["last_step_p99_ms"],
        "blob_link_budget_ms": 2 * GRAPH_LATENCY_S * 1000 + LINK_SLACK_MS
        + (slow["storage_reads_per_post"] + slow["storage_writes_per_post"]) * slow["storage_p50_ms"],
    }


def budgets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget as measured / limit / met; the CPU one is a ratio to the stock echo bot of the same run."""
    phases = result["phases"]
    h = headline(result)
    ours = [p for p in phases if p["bot"] == OURS]
    bot = result["bots"][OURS]
    graph_ms = GRAPH_LATENCY_S * 1000
    rows = [
        ("whole get-link interaction CPU / as many stock echo turns", h["cpu_ratio"], CPU_RATIO_BUDGET, "<="),
        ("Entra requests in steady state (our turns)", float(sum(p["entra_requests"] for p in ours)), 0.0, "<="),
        ("timer lateness p99 at half capacity (open loop), ms", h["open_lag_p99_ms"], LAG_BUDGET_MS, "<"),
        ("longest single callback, any phase (GC included), ms", h["longest_callback_ms"], CALLBACK_BUDGET_MS, "<"),
        ("time to link p99, Skip -> result card, Graph 300 ms, ms", h["link_p99_ms"],
         2 * graph_ms + LINK_SLACK_MS, "<="),
        ("time to link p99, messaging extension in a meeting, ms", h["me_p99_ms"], graph_ms + LINK_SLACK_MS, "<="),
        ("BotStorage=blob: get-link interaction CPU / as many echo turns", h["blob_cpu_ratio"], CPU_RATIO_BUDGET,
         "<="),
        ("BotStorage=blob: time to link p99 (+ storage round trips), ms", h["blob_link_p99_ms"],
         h["blob_link_budget_ms"], "<="),
        ("peak RSS, MiB", bot["peak_rss_mib"], MIB_BUDGET, "<"),
        ("start-up to /healthz, s (median)", bot["startup_s"], STARTUP_BUDGET_S, "<"),
        ("get-link CPU with telemetry exporting (OTLP) / without", telemetry(result)["cpu_ratio"],
         TELEMETRY_CPU_BUDGET, "<="),
    ]
    return [{"budget": name, "measured": value, "limit": limit, "rule": rule,
             "met": value <= limit if rule == "<=" else value < limit} for name, value, limit, rule in rows]


def telemetry(result: dict[str, Any]) -> dict[str, Any]:
    """Issue 29: the same get-link interaction with telemetry on (spans and metrics exported over OTLP/HTTP to a
    loopback receiver) and off, same run, same concurrencies."""
    phases = result["phases"]
    off, on = per_kind(phases, "get link", OURS), per_kind(phases, "get link", OURS_OTEL)
    return {"off": off, "on": on, "cpu_ratio": on["cpu_ms_per_turn"] / off["cpu_ms_per_turn"],
            "cpu_ms_added": on["cpu_ms_per_turn"] - off["cpu_ms_per_turn"], "otlp": result.get("otlp", {})}


def issue2(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 2's first benchmark: our echo-equivalent turn (`help`, a card, no Graph) against the stock echo."""
    echo, help_ = per_kind(phases, "echo", STOCK), per_kind(phases, "help")
    return {"stock_echo": echo, "our_help": help_,
            "cpu_ratio_help_to_echo": help_["cpu_ms_per_turn"] / echo["cpu_ms_per_turn"]}


def teams_sdk(result: dict[str, Any]) -> dict[str, Any]:
    """The second anchor (issue 18's stretch): our get-link turn against one Teams SDK echo turn, same run; under
    1.0 means a turn of our whole interaction costs less CPU than the Teams SDK's quick-start echo turn."""
    phases = result["phases"]
    if not any(p["bot"] == TEAMS for p in phases):
        return {"skipped": f"not run ({result['mode']} run)"}
    teams, echo = per_kind(phases, "echo", TEAMS), per_kind(phases, "echo", STOCK)
    link = per_kind(phases, "get link", OURS)
    return {"echo": teams, "cpu_ms_per_turn": teams["cpu_ms_per_turn"],
            "stock_to_teams": echo["cpu_ms_per_turn"] / teams["cpu_ms_per_turn"],
            "link_turn_to_teams_echo_turn": link["cpu_ms_per_post"] / teams["cpu_ms_per_turn"],
            "stretch_met": link["cpu_ms_per_post"] < teams["cpu_ms_per_turn"]}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "issue2": issue2(result["phases"]), "get_link": per_kind(result["phases"], "get link", OURS),
            "headline": headline(result), "budgets": budgets(result), "teams_sdk": teams_sdk(result),
            "telemetry": telemetry(result)}


def write_json(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")


def _f(value: float, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def render(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    load = summary.get("load_average", {})
    busy = " (above 2: a busy machine; the lateness figures need a quiet one)" if load.get("before", [0])[0] > 2 else ""
    lines = [f"machine: {m['cpu_model']}, {m['cores']} cores, Python {m['python']} ({summary['mode']} run); "
             f"load average before {_loads(load.get('before'))}, after {_loads(load.get('after'))}{busy}", ""]
    header = (f"{'bot':<11}{'interaction':<12}{'load':<13}{'c':>3}{'done':>6}{'/s':>7}{'CPU ms':>8}{'p50 ms':>8}"
              f"{'p99 ms':>8}{'last p99':>9}{'lag p99':>9}{'stall p99':>10}{'max':>7}{'max CPU':>8}{'GC max':>7}"
              f"{'Entra/t':>8}"
              f"{'tokensvc/t':>11}{'Graph/t':>8}"
              "  replies")
    lines += [header, "-" * len(header)]
    for p in summary["phases"]:
        ok = "ok" if p["replies_ok"] and not p["failures"] else f"BAD ({p['failures']} failed)"
        load = p.get("load", "closed") if p.get("open_rate") is None else f"open {p['open_rate']:.0f}/s"
        lines.append(f"{p['bot']:<11}{p['turn']:<12}{load:<13}{p['concurrency']:>3}{p['turns']:>6}{_f(p['turns_per_s']):>7}"
                     f"{_f(p['cpu_ms_per_turn'], 2):>8}{_f(p['p50_ms']):>8}{_f(p['p99_ms']):>8}"
                     f"{_f(p.get('last_step_p99_ms', math.nan)):>9}"
                     f"{_f(p['loop_lag_p99_ms']):>9}{_f(p['stall_p99_ms'], 2):>10}{_f(p['longest_callback_ms']):>7}"
                     f"{_f(p.get('longest_callback_cpu_ms', math.nan)):>8}{_f(p.get('gc_longest_ms', math.nan)):>7}"
                     f"{_f(p['entra_per_turn'], 2):>8}"
                     f"{_f(p['token_service_per_turn'], 2):>11}{_f(p['graph_per_turn'], 2):>8}  {ok}")
    lines.append("")
    for name, bot in summary["bots"].items():
        samples = ", ".join(_f(s, 2) for s in bot["startup_samples_s"])
        lines.append(f"{name:<11} start-up {_f(bot['startup_s'], 2)} s (runs: {samples}); "
                     f"peak RSS {_f(bot['peak_rss_mib'])} MiB; tracebacks logged {bot['tracebacks_logged']}")
    sockets = summary["sockets"]
    seen = ", ".join(f"{name} {n}" for name, n in sockets["seen"].items())
    lines.append("sockets (polled from /proc all run; distinct protocol/local/peer): " + seen + "; "
                 + ("all on 127.0.0.1" if not sockets["off_loopback"] else f"OFF LOOPBACK: {sockets['off_loopback']}"))
    i2 = summary["issue2"]
    lines += ["", "issue 2: our `help` turn vs the stock echo turn, same run",
              f"  CPU ms/turn: echo {_f(i2['stock_echo']['cpu_ms_per_turn'], 2)}, "
              f"help {_f(i2['our_help']['cpu_ms_per_turn'], 2)}, ratio {_f(i2['cpu_ratio_help_to_echo'], 2)}",
              f"  Entra requests/turn: echo {_f(i2['stock_echo']['entra_per_turn'], 2)}, "
              f"help {_f(i2['our_help']['entra_per_turn'], 2)}",
              "  turns/s by concurrency: echo " + _by_c(i2["stock_echo"]) + "; help " + _by_c(i2["our_help"]),
              ""]
    h = summary["headline"]
    lines += ["whole get-link interaction (`get link <join URL>`, then Skip: 2 turns) vs the stock echo, same run",
              f"  CPU ms: echo turn {_f(h['echo_cpu_ms_per_turn'], 2)}; get-link interaction "
              f"{_f(h['link_cpu_ms_per_interaction'], 2)} ({_f(h['link_cpu_ms_per_turn'], 2)} per turn); "
              f"ratio to {h['link_turns_per_interaction']} echo turns {_f(h['cpu_ratio'], 2)}",
              f"  event loop: capacity {_f(h['capacity_interactions_per_s'])} interactions/s; open loop at "
              f"{_f(h['open_rate'])}/s: timer lateness p99 {_f(h['open_lag_p99_ms'], 2)} ms, longest callback "
              f"{_f(h['open_longest_callback_ms'])} ms; at saturation (c={h['saturated_concurrency']}): lateness p99 "
              f"{_f(h['saturated_lag_p99_ms'])} ms",
              f"  attributable to the bot process (beside the wall-clock figures above): the most CPU one callback "
              f"used {_f(h['longest_callback_cpu_ms'])} ms (open loop: {_f(h['open_longest_callback_cpu_ms'])}); "
              f"longest garbage collection {_f(h['gc_longest_ms'])} ms wall, {_f(h['gc_longest_cpu_ms'])} ms CPU "
              f"(open loop: {_f(h['open_gc_longest_ms'])} ms); {h['gc_full']} full collections in our phases",
              f"  what bounds the open loop's lateness: a timer that falls due waits for the iteration's ready "
              f"callbacks; iterations' ready batches p99 {_f(h['open_batch_p99_ms'], 2)} ms, longest "
              f"{_f(h['open_batch_longest_ms'])} ms wall / {_f(h['open_batch_longest_cpu_ms'])} ms CPU "
              f"({h['open_batch_longest_callbacks']} callbacks); an interaction runs as "
              f"{_f(h['open_callbacks_per_interaction'])} callbacks of {_f(h['open_cpu_ms_per_callback'], 3)} ms "
              "CPU on average",
              f"  time to link, Graph answering in {GRAPH_LATENCY_S * 1000:.0f} ms: Skip -> result card p50 "
              f"{_f(h['link_p50_ms'])} / p99 {_f(h['link_p99_ms'])} ms ({_f(h['link_graph_per_interaction'], 2)} "
              f"Graph requests per interaction); messaging extension in a meeting p50 {_f(h['me_p50_ms'])} / p99 "
              f"{_f(h['me_p99_ms'])} ms ({_f(h['me_graph_per_interaction'], 2)} Graph requests)",
              "",
              "the same interaction with BotStorage=blob (Azurite on this machine, through a counting proxy), same run",
              f"  CPU ms per interaction {_f(h['blob_link_cpu_ms_per_interaction'], 2)} (memory: "
              f"{_f(h['link_cpu_ms_per_interaction'], 2)}); ratio to {h['link_turns_per_interaction']} echo turns "
              f"{_f(h['blob_cpu_ratio'], 2)}",
              f"  dialog state requests per turn: {_f(h['blob_reads_per_turn'], 2)} reads, "
              f"{_f(h['blob_writes_per_turn'], 2)} writes (one key per turn: target 1 read, at most 1 write); the "
              f"personal chat reference: {_f(h['blob_other_per_interaction'], 2)} requests per interaction (written "
              "when a user's chat is new to this process; each bench interaction is a new conversation)",
              f"  time to link, Graph {GRAPH_LATENCY_S * 1000:.0f} ms: p50 {_f(h['blob_link_p50_ms'])} / p99 "
              f"{_f(h['blob_link_p99_ms'])} ms; storage round trip p50 {_f(h['blob_storage_p50_ms'], 2)} / p99 "
              f"{_f(h['blob_storage_p99_ms'], 2)} ms; budget {_f(h['blob_link_budget_ms'])} ms",
              ""]
    tel = summary["telemetry"]
    lines += ["telemetry (issue 29): the get-link interaction with spans and metrics exported over OTLP/HTTP to a "
              "loopback receiver, and without, same run",
              f"  CPU ms/interaction: off {_f(tel['off']['cpu_ms_per_turn'], 2)}, on "
              f"{_f(tel['on']['cpu_ms_per_turn'], 2)} (+{_f(tel['cpu_ms_added'], 2)} ms, "
              f"ratio {_f(tel['cpu_ratio'], 3)}); "
              f"exported {tel['otlp'].get('spans', 0)} spans in {tel['otlp'].get('exports', 0)} requests, "
              f"{tel['otlp'].get('bytes', 0) / 1024:.0f} KiB",
              "  turns/s by concurrency: off " + _by_c(tel["off"]) + "; on " + _by_c(tel["on"]), ""]
    t = summary["teams_sdk"]
    if "skipped" in t:
        lines.append(f"Teams SDK for Python echo anchor: {t['skipped']}")
    else:
        lines += ["Teams SDK for Python quick-start echo (auth on), same run",
                  f"  CPU ms/turn: Teams SDK echo {_f(t['cpu_ms_per_turn'], 2)}, stock botbuilder echo "
                  f"{_f(h['echo_cpu_ms_per_turn'], 2)} ({_f(t['stock_to_teams'], 2)}x); our get-link turn "
                  f"{_f(h['link_cpu_ms_per_turn'], 2)}",
                  "  stretch (DESIGN.md 8): our get-link turn / Teams SDK echo turn "
                  f"{_f(t['link_turn_to_teams_echo_turn'], 2)} "
                  f"{'< 1.0: MET' if t['stretch_met'] else '>= 1.0: NOT MET'}"]
    lines += ["", "DESIGN.md section 8 budgets (our bot; ratio against the stock echo bot of this run)"]
    for b in summary["budgets"]:
        lines.append(f"  {'MET    ' if b['met'] else 'NOT MET'}  {b['budget']:<58} {_f(b['measured'], 2):>8} "
                     f"{b['rule']} {_f(b['limit'], 2)}")
    lines += ["", "done: interactions completed (echo, help: 1 turn; get link: 2 turns; ME link: 2 invokes);",
              "CPU ms: per interaction; last p99: the last step's answer (time to link); /t: per interaction;",
              "lag p99: how late a 10 ms timer fires (includes queueing behind other ready turns at saturation);",
              "stall p99: the 99th percentile of how long one callback held the event loop, over every callback "
              "(1.00 means at most 1 ms);",
              "max: the longest single callback, wall clock (GC included); max CPU: the most CPU time one callback "
              "used (its thread's CPU clock: what is the bot's own, not time spent waiting for a core);",
              "GC max: the longest garbage collection (gc.callbacks), wall clock."]
    return "\n".join(lines)


def _loads(values: list[float] | None) -> str:
    return "/".join(f"{v:.2f}" for v in values) if values else "-"


def _by_c(kind: dict[str, Any]) -> str:
    return " / ".join(f"c={c}: {_f(v)}" for c, v in kind["turns_per_s"].items())
