"""Turning a run into figures: per-kind totals, the DESIGN.md section 8 budgets against the anchor measured in the
same run, issue 2's comparison, the printed table and the JSON file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.suite import OURS, STOCK

MIB_BUDGET = 100.0
STARTUP_BUDGET_S = 1.5
LAG_BUDGET_MS = 10.0
CPU_RATIO_BUDGET = 0.5


def per_kind(phases: list[dict[str, Any]], turn: str) -> dict[str, Any]:
    """One turn kind over all its concurrencies: CPU per turn is total CPU over total turns."""
    mine = [p for p in phases if p["turn"] == turn]
    turns = sum(p["turns"] for p in mine)
    return {
        "turns": turns,
        "cpu_ms_per_turn": sum(p["cpu_s"] for p in mine) * 1000 / turns if turns else math.nan,
        "entra_requests": sum(p["entra_requests"] for p in mine),
        "entra_per_turn": sum(p["entra_requests"] for p in mine) / turns if turns else math.nan,
        "turns_per_s": {str(p["concurrency"]): p["turns_per_s"] for p in mine},
    }


def budgets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each budget as measured / limit / met; the CPU one is a ratio to the stock echo bot of the same run."""
    phases = result["phases"]
    echo, get_link = per_kind(phases, "echo"), per_kind(phases, "get link")
    ours = [p for p in phases if p["bot"] == OURS]
    loaded = [p for p in ours if p["concurrency"] > 1] or ours
    bot = result["bots"][OURS]
    rows = [
        ("warm get-link CPU / stock echo CPU", get_link["cpu_ms_per_turn"] / echo["cpu_ms_per_turn"],
         CPU_RATIO_BUDGET, "<="),
        ("Entra requests in steady state (our turns)", float(sum(p["entra_requests"] for p in ours)), 0.0, "<="),
        ("event-loop stall p99 under load, ms (worst phase)", max(p["stall_p99_ms"] for p in loaded),
         LAG_BUDGET_MS, "<"),
        ("peak RSS, MiB", bot["peak_rss_mib"], MIB_BUDGET, "<"),
        ("start-up to /healthz, s (median)", bot["startup_s"], STARTUP_BUDGET_S, "<"),
    ]
    return [{"budget": name, "measured": value, "limit": limit, "rule": rule,
             "met": value <= limit if rule == "<=" else value < limit} for name, value, limit, rule in rows]


def issue2(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """Issue 2's first benchmark: our echo-equivalent turn (`help`, a card, no Graph) against the stock echo."""
    echo, help_ = per_kind(phases, "echo"), per_kind(phases, "help")
    return {"stock_echo": echo, "our_help": help_,
            "cpu_ratio_help_to_echo": help_["cpu_ms_per_turn"] / echo["cpu_ms_per_turn"]}


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    return {**result, "issue2": issue2(result["phases"]), "get_link": per_kind(result["phases"], "get link"),
            "budgets": budgets(result)}


def write_json(summary: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, allow_nan=True) + "\n")


def _f(value: float, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def render(summary: dict[str, Any]) -> str:
    m = summary["machine"]
    lines = [f"machine: {m['cpu_model']}, {m['cores']} cores, Python {m['python']} ({summary['mode']} run)", ""]
    header = (f"{'bot':<11}{'turn':<9}{'c':>3}{'turns':>7}{'turns/s':>9}{'CPU ms/turn':>12}{'p50 ms':>9}"
              f"{'p99 ms':>9}{'lag p99':>9}{'stall p99':>10}{'max':>7}{'Entra/t':>8}{'tokensvc/t':>11}{'Graph/t':>8}"
              "  replies")
    lines += [header, "-" * len(header)]
    for p in summary["phases"]:
        ok = "ok" if p["replies_ok"] and not p["failures"] else f"BAD ({p['failures']} failed)"
        lines.append(f"{p['bot']:<11}{p['turn']:<9}{p['concurrency']:>3}{p['turns']:>7}{_f(p['turns_per_s']):>9}"
                     f"{_f(p['cpu_ms_per_turn'], 2):>12}{_f(p['p50_ms']):>9}{_f(p['p99_ms']):>9}"
                     f"{_f(p['loop_lag_p99_ms']):>9}{_f(p['stall_p99_ms'], 2):>10}{_f(p['longest_callback_ms']):>7}"
                     f"{_f(p['entra_per_turn'], 2):>8}"
                     f"{_f(p['token_service_per_turn'], 2):>11}{_f(p['graph_per_turn'], 2):>8}  {ok}")
    lines.append("")
    for name in (STOCK, OURS):
        bot = summary["bots"][name]
        samples = ", ".join(_f(s, 2) for s in bot["startup_samples_s"])
        lines.append(f"{name:<11} start-up {_f(bot['startup_s'], 2)} s (runs: {samples}); "
                     f"peak RSS {_f(bot['peak_rss_mib'])} MiB; tracebacks logged {bot['tracebacks_logged']}")
    i2 = summary["issue2"]
    lines += ["", "issue 2: our `help` turn vs the stock echo turn, same run",
              f"  CPU ms/turn: echo {_f(i2['stock_echo']['cpu_ms_per_turn'], 2)}, "
              f"help {_f(i2['our_help']['cpu_ms_per_turn'], 2)}, ratio {_f(i2['cpu_ratio_help_to_echo'], 2)}",
              f"  Entra requests/turn: echo {_f(i2['stock_echo']['entra_per_turn'], 2)}, "
              f"help {_f(i2['our_help']['entra_per_turn'], 2)}",
              "  turns/s by concurrency: echo " + _by_c(i2["stock_echo"]) + "; help " + _by_c(i2["our_help"]),
              "", "DESIGN.md section 8 budgets (our bot; ratio against the stock echo bot of this run)"]
    for b in summary["budgets"]:
        lines.append(f"  {'MET    ' if b['met'] else 'NOT MET'}  {b['budget']:<50} {_f(b['measured'], 2):>8} "
                     f"{b['rule']} {_f(b['limit'], 2)}")
    lines += ["", "lag p99: how late a 10 ms timer fires (includes queueing behind other ready turns at saturation);",
              "stall p99: the 99th percentile of how long one callback held the event loop, over every callback "
              "(1.00 means at most 1 ms);",
              "max: the longest single callback (a full garbage collection, typically)."]
    return "\n".join(lines)


def _by_c(kind: dict[str, Any]) -> str:
    return " / ".join(f"c={c}: {_f(v)}" for c, v in kind["turns_per_s"].items())
