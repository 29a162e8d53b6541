"""`python -m bench hostile`: DESIGN.md section 8's "hostile size" budget, in the real app over the loopback cloud.

One bot process (`bench.run_bot`, as `python app.py` runs) and the loopback cloud here. For each hostile shape, a
100 KB message is posted `ROUNDS` times, one after the other, by a signed-in user: the bot's CPU (from /proc) per
message is the figure, against a "help" turn measured the same way as the anchor. Meanwhile a second user says
"help" over and over; their turn latency is compared with the same user's latency when the bot is idle, and the
bot's longest single callback (the stall meter of `bench.botproc`) is read for the hostile phase. Budgets: under
50 ms of CPU per 100 KB message; a second user's turn delayed by under 50 ms (p99 against idle p99).
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.procstat import machine, percentile
from bench.suite import OURS, BotProcess, Cloud, attributable

SIZE = 100_000
ROUNDS = 24
CPU_BUDGET_MS = 50.0
DELAY_BUDGET_MS = 50.0
SHAPES = {
    "one character": "x",
    "word-dot run": "a.",
    "@ and . flood": "@.",
    "spaced digits": "1 ",
    "unclosed mentions": "<at>",
    "closing brackets": ")",
    "zero-width + rtl": "\u200b\u202e",
    "long join URL": "https://teams.microsoft.com/l/meetup-join/19%3ameeting_",
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "hostile.json"


class Poster:
    """Posts activities to the bot over one keep-alive connection; each post returns once the turn is done.

    Each post is in a conversation of its own: the bot paces replies per conversation (as Teams asks), and the
    figure is about CPU and the event loop, not about that pacing."""

    def __init__(self, cloud: Cloud, bot: BotProcess) -> None:
        self.cloud, self.port = cloud, bot.port
        self.authorization = "Bearer " + cloud.cloud.channel_token()
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.posts = 0

    def say(self, user: str, text: str) -> float:
        """Seconds from sending `text` as `user` to the bot's answer (after its reply went to the connector)."""
        activity = self.cloud.cloud.activity(text, user=user)
        self.posts += 1
        activity["conversation"]["id"] += f"-{self.posts}"
        body = json.dumps(activity, ensure_ascii=False).encode()
        started = time.perf_counter()
        self.connection.request("POST", "/api/messages", body=body, headers={
            "Content-Type": "application/json", "Authorization": self.authorization})
        response = self.connection.getresponse()
        response.read()
        took = time.perf_counter() - started
        if response.status != 201:
            raise RuntimeError(f"{user}: HTTP {response.status} for {len(body)} bytes ({text[:30]!r})")
        return took

    def close(self) -> None:
        self.connection.close()


def _cpu_ms_per_turn(bot: BotProcess, poster: Poster, user: str, text: str, rounds: int) -> float:
    before = bot.cpu_seconds()
    for _ in range(rounds):
        poster.say(user, text)
    return (bot.cpu_seconds() - before) * 1000 / rounds


def _latencies_while(poster: Poster, user: str, busy: threading.Event) -> list[float]:
    """The second user's "help" turn latencies (ms), one after the other, while `busy` is set."""
    samples: list[float] = []
    while busy.is_set():
        samples.append(poster.say(user, "help") * 1000)
        time.sleep(0.005)
    return samples


def _collect(into: list[list[float]], poster: Poster, user: str, busy: threading.Event) -> None:
    into.append(_latencies_while(poster, user, busy))


def _idle_latencies(poster: Poster, user: str, count: int = 60) -> list[float]:
    samples = []
    for _ in range(count):
        samples.append(poster.say(user, "help") * 1000)
        time.sleep(0.005)
    return samples


def run(rounds: int = ROUNDS) -> dict[str, Any]:
    cloud = Cloud()
    cloud.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-hostile-") as logs:
            bot = BotProcess(OURS, "bench.run_bot", cloud.bot_env(), Path(logs))
            bot.start()
            try:
                return _measure(cloud, bot, rounds)
            finally:
                bot.stop()
    finally:
        cloud.stop()


def _measure(cloud: Cloud, bot: BotProcess, rounds: int) -> dict[str, Any]:
    attacker, bystander = "hostile-sender", "hostile-bystander"
    cloud.signed_in_user(attacker)
    main, side = Poster(cloud, bot), Poster(cloud, bot)
    try:
        for _ in range(5):  # warm: sign-in state, token cache, code paths
            main.say(attacker, "help")
            side.say(bystander, "help")
        anchor_ms = _cpu_ms_per_turn(bot, main, attacker, "help", rounds * 2)
        idle = _idle_latencies(side, bystander)
        bot.loop_meters()  # start the stall meter afresh
        rows: list[dict[str, Any]] = []
        for name, piece in SHAPES.items():
            text = "get link " + piece * (SIZE // len(piece.encode()))  # 100 KB of UTF-8
            main.say(attacker, text)  # warm this shape's path
            cpu_ms = _cpu_ms_per_turn(bot, main, attacker, text, rounds)
            busy = threading.Event()
            busy.set()
            result: list[list[float]] = []
            watcher = threading.Thread(target=_collect, args=(result, side, bystander, busy))
            bot.loop_meters()
            watcher.start()
            try:
                for _ in range(rounds):
                    main.say(attacker, text)
            finally:
                busy.clear()
                watcher.join(60)
            meters = bot.loop_meters()
            during = result[0] if result else []
            rows.append({
                "shape": name, "bytes": len(text.encode()), "cpu_ms": cpu_ms, "cpu_vs_help": cpu_ms / anchor_ms,
                "bystander_p50_ms": percentile(during, 50), "bystander_p99_ms": percentile(during, 99),
                "bystander_max_ms": max(during, default=float("nan")), "bystander_turns": len(during),
                "delay_p99_ms": percentile(during, 99) - percentile(idle, 99),
                "longest_callback_ms": max(meters["slow_callbacks_ms"], default=0.0), **attributable(meters),
            })
    finally:
        main.close()
        side.close()
    return {
        "machine": machine(), "size": SIZE, "rounds": rounds, "help_cpu_ms": anchor_ms,
        "idle_p50_ms": statistics.median(idle), "idle_p99_ms": percentile(idle, 99), "shapes": rows,
        "worst_cpu_ms": max(r["cpu_ms"] for r in rows), "worst_delay_p99_ms": max(r["delay_p99_ms"] for r in rows),
        "worst_callback_ms": max(r["longest_callback_ms"] for r in rows),
        "worst_callback_cpu_ms": max(r["longest_callback_cpu_ms"] for r in rows),
        "worst_gc_ms": max(r["gc_longest_ms"] for r in rows),
    }


def render(figures: dict[str, Any]) -> str:
    lines = [
        f"Hostile size: {figures['size'] // 1000} KB messages, {figures['rounds']} per shape; anchor: a help turn "
        f"costs {figures['help_cpu_ms']:.1f} ms CPU; a second user's help turn, idle: p50 "
        f"{figures['idle_p50_ms']:.1f} ms, p99 {figures['idle_p99_ms']:.1f} ms",
        f"{'shape':<20} {'CPU ms':>7} {'x help':>7} {'2nd user p50':>13} {'p99':>7} {'max':>7} {'delay p99':>10} "
        f"{'longest cb':>11} {'cb CPU':>8} {'GC max':>7}",
    ]
    for r in figures["shapes"]:
        lines.append(f"{r['shape']:<20} {r['cpu_ms']:>7.1f} {r['cpu_vs_help']:>7.2f} {r['bystander_p50_ms']:>13.1f} "
                     f"{r['bystander_p99_ms']:>7.1f} {r['bystander_max_ms']:>7.1f} {r['delay_p99_ms']:>10.1f} "
                     f"{r['longest_callback_ms']:>11.1f} {r['longest_callback_cpu_ms']:>8.1f} "
                     f"{r['gc_longest_ms']:>7.1f}")
    cpu_met = figures["worst_cpu_ms"] < CPU_BUDGET_MS
    delay_met = figures["worst_delay_p99_ms"] < DELAY_BUDGET_MS
    lines.append(f"Budget: CPU per 100 KB message < {CPU_BUDGET_MS:.0f} ms: worst {figures['worst_cpu_ms']:.1f} ms "
                 f"{'MET' if cpu_met else 'NOT MET'}; second user's delay < {DELAY_BUDGET_MS:.0f} ms: worst "
                 f"{figures['worst_delay_p99_ms']:.1f} ms {'MET' if delay_met else 'NOT MET'}; longest callback "
                 f"{figures['worst_callback_ms']:.1f} ms (most CPU one callback used: "
                 f"{figures['worst_callback_cpu_ms']:.1f} ms; longest GC pause {figures['worst_gc_ms']:.1f} ms)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"messages per shape (default {ROUNDS})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    figures = run(args.rounds)
    print(render(figures), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2))
    print(f"\nJSON: {args.out}")
    return 0
