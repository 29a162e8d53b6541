"""The benchmark run: the loopback cloud and the Graph simulator here (threads), each bot and each load phase in
a process of its own, so each bot's CPU, memory and start-up are measured apart.

Per phase (bot x turn kind x concurrency): turns/s, p50/p99 latency, the bot's CPU per turn, its event-loop lag
p99, and what the turns cost the cloud (Entra, token service and Graph requests per turn); every turn must have
got a 2xx and exactly one reply of the expected shape in its own conversation.

Our bot runs twice: with memory state (`our bot`) and as production runs it, with `BotStorage=blob` (`ours+blob`)
on an Azurite of the run's own, behind a counting proxy (tests/storage_proxy.py), so its rows also say how many
storage reads and writes each turn made and how long a storage round trip took.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from bench import teams_sdk
from bench.harness import SLOW_CALLBACK_S
from bench.procstat import cpu_seconds, is_loopback, machine, memory_mib, percentile, socket_addresses
from dialogs.cards import actions, strings
from graph.simulator import GraphSimulator, run_in_thread
from tests.azurite import Azurite
from tests.cloud import LoopbackCloud, opaque_token
from tests.cloud.otlp import OtlpReceiver
from tests.storage_proxy import StorageProxy

ROOT = Path(__file__).resolve().parent.parent
STOCK, TEAMS, OURS, OURS_BLOB = "stock echo", "Teams SDK", "our bot", "ours+blob"
OURS_OTEL = "our bot + OTLP"  # the same bot with telemetry on, exporting to a loopback OTLP receiver
# Exports more often than the defaults (5 s spans, 60 s metrics), so a phase of seconds pays for its exports.
OTEL_ENV = {"OTEL_BSP_SCHEDULE_DELAY": "1000", "OTEL_METRIC_EXPORT_INTERVAL": "2000"}


@dataclass(frozen=True)
class Plan:
    """How much load: the full run stays under ~3 minutes on 2 cores; the smoke run takes seconds."""

    mode: str
    concurrencies: tuple[int, ...]
    max_turns: int
    max_seconds: float
    conversations: int  # spread over the workers; each gets one warm-up turn
    startup_runs: int
    link_concurrency: int  # time to link: this many users at once, Graph answering in GRAPH_LATENCY_S
    link_seconds: float
    open_seconds: float  # open loop at half the measured capacity
    teams_sdk: bool  # run the Teams SDK anchor (its venv is installed from PyPI on first use: never in the smoke run)


FULL = Plan("full", (1, 16, 64), max_turns=5000, max_seconds=5.0, conversations=64, startup_runs=3,
            link_concurrency=4, link_seconds=6.0, open_seconds=6.0, teams_sdk=True)
SMOKE = Plan("smoke", (1, 4), max_turns=6, max_seconds=2.0, conversations=4, startup_runs=1,
             link_concurrency=2, link_seconds=1.0, open_seconds=1.0, teams_sdk=False)
GRAPH_LATENCY_S = 0.3
ME_COMMAND = "getAppointmentLink"


@dataclass(frozen=True)
class Meeting:
    """A bench user's meeting: the reference they paste and the link the result card must carry."""

    join_url: str
    link: str
    teams_key: str  # the meeting's key at the fake connector (for "inside a meeting")


@dataclass(frozen=True)
class TurnKind:
    """One kind of interaction: which bot serves it, the user's steps, and what each reply must look like."""

    name: str
    bot: str
    steps: Callable[[LoopbackCloud, str, Meeting], list[dict[str, Any]]]  # (cloud, user, meeting) -> activities
    replies: int  # replies posted to the connector per interaction (0: answered inline, checked by `expect`)
    reply_ok: Callable[[dict[str, Any], Meeting], bool]  # (reply activity, the user's meeting) -> right reply?
    expect_inline: bool = False  # the last step's HTTP answer must carry the meeting's link


def _card_json(reply: dict[str, Any]) -> str:
    cards = [a for a in reply.get("attachments") or [] if a.get("contentType", "").endswith("card.adaptive")]
    return json.dumps(cards) if len(cards) == 1 else ""


def _is_result(reply: dict[str, Any], meeting: Meeting) -> bool:
    return meeting.link in _card_json(reply)


def _link_steps(cloud: LoopbackCloud, user: str, meeting: Meeting) -> list[dict[str, Any]]:
    """`get link <join URL>`, then Skip on the client-details form: the whole interaction to the result card."""
    return [cloud.activity(f"get link {meeting.join_url}", user=user),
            cloud.activity(None, user=user, value={"action": actions.SKIP})]


def _me_steps(cloud: LoopbackCloud, user: str, meeting: Meeting) -> list[dict[str, Any]]:
    """The messaging extension inside a meeting: open the form (this meeting preset), submit it without details."""
    def invoke(name: str, value: dict[str, Any]) -> dict[str, Any]:
        return cloud.invoke(name, {"commandId": ME_COMMAND, "commandContext": "compose", **value}, user=user,
                            meeting_id=meeting.teams_key)

    return [invoke("composeExtension/fetchTask", {}),
            invoke("composeExtension/submitAction", {"data": {"action": "submitTask", "meetingRef": "this meeting"}})]


ECHO = TurnKind("echo", STOCK, lambda c, u, _m: [c.activity("hello", user=u)], 1,
                lambda reply, _m: reply.get("text") == "Echo: hello")
TEAMS_ECHO = TurnKind("echo", TEAMS, ECHO.steps, 1, ECHO.reply_ok)
HELP = TurnKind("help", OURS, lambda c, u, _m: [c.activity("help", user=u)], 1,
                lambda reply, _m: strings.HELP_TITLE in _card_json(reply))
GET_LINK = TurnKind("get link", OURS, _link_steps, 2,
                    lambda reply, m: strings.ASK_CLIENT_DETAILS in _card_json(reply) or _is_result(reply, m))
ME_LINK = TurnKind("ME link", OURS, _me_steps, 0, lambda _reply, _m: False, expect_inline=True)
GET_LINK_OTEL = TurnKind("get link", OURS_OTEL, GET_LINK.steps, GET_LINK.replies, GET_LINK.reply_ok)
GET_LINK_BLOB = TurnKind("get link", OURS_BLOB, _link_steps, 2, GET_LINK.reply_ok)


class BotProcess:
    """One bot under test in its own process; its stderr goes to a log file shown if it fails."""

    def __init__(self, name: str, module: str, env: dict[str, str], log_dir: Path,
                 interpreter: str = sys.executable) -> None:
        self.name = name
        self._module = module
        self._interpreter = interpreter
        self._env = env
        self._log_path = log_dir / f"{module}-{name}.log".replace(" ", "_").replace("+", "plus")
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/messages"

    def start(self) -> float:
        """Start the process; seconds from spawning it to the first 200 from /healthz."""
        started = time.perf_counter()
        with self._log_path.open("a") as log:
            self._process = subprocess.Popen([self._interpreter, "-m", self._module], cwd=ROOT, env=self._env,
                                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self._process.stdout is not None
        line = _read_line(self._process.stdout, timeout=30)
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"{self.name} did not start: {line!r}\n{self.log_tail()}")
        self.port = int(line.split()[1])
        status, _ = self.get("/healthz", timeout=30)
        if status != 200:
            raise RuntimeError(f"{self.name}: /healthz answered {status}\n{self.log_tail()}")
        return time.perf_counter() - started

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def loop_meters(self) -> dict[str, Any]:
        """bench.harness.read_out() of the bot since the last call, which starts afresh."""
        status, body = self.get("/bench/lag")
        if status != 200:
            raise RuntimeError(f"{self.name}: /bench/lag answered {status}")
        data: dict[str, Any] = json.loads(body)
        return data

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def peak_rss_mib(self) -> float:
        return memory_mib(self.pid, "VmHWM")

    def log_tail(self, lines: int = 30) -> str:
        text = self._log_path.read_text() if self._log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _read_line(stream: IO[str], timeout: float) -> str:
    """One line from a child's stdout, or "" if none comes in time (a hung child must not hang the bench)."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline().strip() if ready else ""


class Cloud:
    """The loopback cloud plus the Graph simulator, wired so the token service hands out tokens Graph accepts."""

    def __init__(self) -> None:
        self.cloud = LoopbackCloud()
        self.sim = GraphSimulator(seed=False)
        self._sim_thread: Any = None
        self._meetings: dict[str, Meeting] = {}
        self.storage: StorageProxy | None = None  # in front of the run's Azurite, once started

    def start(self) -> None:
        self.cloud.start()
        self._sim_thread = run_in_thread(self.sim)
        self.cloud.token_service.token_minter = lambda _teams_id, aad_id: self.sim.issue_token(aad_id)

    def stop(self) -> None:
        self.cloud.token_service.token_minter = opaque_token
        if self._sim_thread is not None:
            self._sim_thread.stop()
        self.cloud.stop()

    def bot_env(self) -> dict[str, str]:
        env = {**os.environ, **self.cloud.settings_env(GraphEndpoint=self._sim_thread.base_url)}
        env["REQUESTS_CA_BUNDLE"] = self.cloud.ca_bundle
        env.pop("PORT", None)
        return env

    def signed_in_user(self, user: str) -> Meeting:
        """Give `user` a Graph token at the token service and a meeting they organise (known to Teams too)."""
        if user not in self._meetings:
            _, aad_id = self.cloud.user_ids(user)
            meeting = self.sim.add_meeting(aad_id, "Bench appointment", datetime.now(UTC) + timedelta(hours=2))
            self.cloud.token_service.give_token(user)
            key = f"meeting-{user}"
            self.cloud.add_meeting(key, organizer=user, title="Bench appointment", graph_id=meeting.id)
            self._meetings[user] = Meeting(meeting.join_web_url, meeting.virtual_appointment_url, key)
        return self._meetings[user]

    @contextmanager
    def slow_graph(self, seconds: float) -> Iterator[None]:
        """Every Graph request answered `seconds` late for the duration."""
        self.sim.inject(None, latency=seconds, times=10**9)
        try:
            yield
        finally:
            self.sim.clear_faults()

    def counters(self) -> dict[str, int]:
        entra = self.cloud.entra
        return {
            "entra": entra.token_requests + entra.discovery_requests,
            "token_service": len(self.cloud.token_service.calls),
            "graph": len(self.sim.requests),
            "replies": len(self.cloud.connector.activities),
            **self._state_requests(),
            "storage_round_trips": len(self.storage.durations_ms) if self.storage else 0,
        }

    def _state_requests(self) -> dict[str, int]:
        """Reads and writes of turn state (the reminder poller's lease and listing, in the same container, apart)."""
        seen = [s for s in self.storage.seen if "/reminders/" not in s.path] if self.storage else []
        state = [s for s in seen if "personalChats" not in s.path]  # the user's personal chat reference apart
        return {"storage_reads": sum(s.method == "GET" for s in state),
                "storage_writes": sum(s.method in ("PUT", "DELETE") for s in state),
                "storage_other": sum(s.method in ("GET", "PUT", "DELETE") for s in seen) - len(state)}


def run_phase(cloud: Cloud, bot: BotProcess, kind: TurnKind, concurrency: int, plan: Plan, *,
              label: str = "closed", open_rate: float | None = None, seconds: float | None = None) -> dict[str, Any]:
    """One load phase; the bot's counters are read exactly around the measured part (after the warm-up)."""
    authorization = "Bearer " + cloud.cloud.channel_token()  # valid for an hour: signed once, not per post
    users = [f"bench-{bot.name}-{kind.name}-{i}".replace(" ", "-") for i in range(concurrency)]
    meetings = [cloud.signed_in_user(user) for user in users]
    per_worker = max(1, math.ceil(plan.conversations / concurrency))
    workers = []
    for user, meeting in zip(users, meetings, strict=True):
        steps = kind.steps(cloud.cloud, user, meeting)
        base = f"{steps[0]['conversation']['id']}-{label}"
        workers.append({"steps": steps, "authorization": authorization, "base": base,
                        "expect": meeting.link if kind.expect_inline else None,
                        "conversations": [f"{base}-{k}" for k in range(per_worker)]})
    spec = {"url": bot.url, "workers": workers, "max_turns": plan.max_turns,
            "max_seconds": plan.max_seconds if seconds is None else seconds, "timeout_s": 30, "open_rate": open_rate}
    with _loadgen() as (send, receive):
        send(json.dumps(spec))
        if receive(120) != "ready":
            raise RuntimeError(f"load generator failed to warm up {bot.name}\n{bot.log_tail()}")
        bot.loop_meters()  # drop the warm-up's samples
        before, cpu_before = cloud.counters(), bot.cpu_seconds()
        send("go")
        result: dict[str, Any] = json.loads(receive(spec["max_seconds"] + 120) or "null")
        cpu = bot.cpu_seconds() - cpu_before
        after = cloud.counters()
    meters = bot.loop_meters()
    lag, slow, callbacks = meters["samples_ms"], meters["slow_callbacks_ms"], int(meters["callbacks"])
    turns = result["turns"]
    posts = turns * len(workers[0]["steps"])
    replies = cloud.cloud.connector.activities[before["replies"]:after["replies"]]
    expected_warmup = per_worker * concurrency
    storage_ms = (cloud.storage.durations_ms[before["storage_round_trips"]:after["storage_round_trips"]]
                  if cloud.storage else [])
    return {
        "bot": bot.name, "turn": kind.name, "concurrency": concurrency, "load": label, "open_rate": open_rate,
        "turns": turns, "posts": posts, "steps": len(workers[0]["steps"]),
        "failures": sum(result["failures"].values()) + expected_warmup - result["warmup_ok"],
        "failure_kinds": result["failures"],
        "replies_ok": _replies_ok(replies, workers, meetings, result["ok_by_conversation"], kind),
        "turns_per_s": result["turns_per_s"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"],
        "last_step_p50_ms": result["last_step_p50_ms"], "last_step_p99_ms": result["last_step_p99_ms"],
        "cpu_s": cpu, "cpu_ms_per_turn": _per_turn(cpu * 1000, turns), "cpu_ms_per_post": _per_turn(cpu * 1000, posts),
        "loop_lag_p99_ms": percentile(lag, 99), "loop_lag_max_ms": max(lag, default=math.nan),
        "longest_callback_ms": max(slow, default=0.0), "callbacks_over_10ms": sum(s > 10 for s in slow),
        "stall_p99_ms": stall_percentile(slow, callbacks, 99), "callbacks": callbacks,
        **batch_figures(meters, turns, cpu),
        **attributable(meters),
        **{f"{name}_per_turn": _per_turn(after[name] - before[name], turns)
           for name in ("entra", "token_service", "graph")},
        "entra_requests": after["entra"] - before["entra"],
        **({"storage_reads_per_post": _per_turn(after["storage_reads"] - before["storage_reads"], posts),
            "storage_writes_per_post": _per_turn(after["storage_writes"] - before["storage_writes"], posts),
            "storage_other_per_turn": _per_turn(after["storage_other"] - before["storage_other"], turns),
            "storage_p50_ms": percentile(storage_ms, 50), "storage_p99_ms": percentile(storage_ms, 99)}
           if storage_ms else {}),
    }


def attributable(meters: dict[str, Any]) -> dict[str, Any]:
    """What the bot process itself spent, beside the wall-clock figures (which on a shared machine include waiting
    for a CPU): the most CPU one callback used, and the garbage collections (longest pause wall and CPU, full ones)."""
    pauses = meters.get("gc_pauses", [])
    return {
        "longest_callback_cpu_ms": max(meters.get("slow_callbacks_cpu_ms", []), default=0.0),
        "gc_longest_ms": max((p[1] for p in pauses), default=0.0),
        "gc_longest_cpu_ms": max((p[2] for p in pauses), default=0.0),
        "gc_full": sum(p[0] == 2 for p in pauses), "gc_collections": len(pauses),
        "gc_over_10ms": sum(p[1] > 10 for p in pauses),
        "gc_tracked_after": meters.get("gc_tracked"), "gc_frozen": meters.get("gc_frozen"),
    }


def batch_figures(meters: dict[str, Any], turns: int, cpu_s: float) -> dict[str, Any]:
    """What bounds timer lateness on one loop (bench/harness.py): how long the iterations' ready batches took (p99
    over every iteration, the longest, wall and CPU), and how a turn's CPU is split into callbacks."""
    batches, iterations = meters.get("batches", []), int(meters.get("iterations", 0))
    walls = [b[0] for b in batches]
    callbacks = int(meters["callbacks"])
    return {
        "iterations": iterations, "batch_p99_ms": stall_percentile(walls, iterations, 99),
        "batch_longest_ms": max(walls, default=0.0), "batch_longest_cpu_ms": max((b[1] for b in batches), default=0.0),
        "batch_longest_callbacks": max(batches, default=[0, 0, 0])[2],
        "callbacks_per_turn": _per_turn(callbacks, turns), "cpu_ms_per_callback": _per_turn(cpu_s * 1000, callbacks),
    }


def stall_percentile(slow_ms: list[float], callbacks: int, pct: float) -> float:
    """The pct-th percentile of how long single callbacks held the event loop, over *all* callbacks, of which only
    those over SLOW_CALLBACK_S were kept: when fewer than (100 - pct)% were slow, it is at most that threshold."""
    rank = math.ceil(callbacks * (100 - pct) / 100)
    if rank == 0 or len(slow_ms) < rank:
        return SLOW_CALLBACK_S * 1000
    return sorted(slow_ms, reverse=True)[rank - 1]


def _per_turn(total: float, turns: int) -> float:
    return total / turns if turns else math.nan


def _replies_ok(replies: list[dict[str, Any]], workers: list[dict[str, Any]], meetings: list[Meeting],
                ok_by_conversation: dict[str, int], kind: TurnKind) -> bool:
    """`kind.replies` replies per answered interaction, in that interaction's conversation, each of the kind's
    shape; for interactions with a result card, exactly one result card each."""
    if sum(ok_by_conversation.values()) == 0:
        return False
    if kind.replies == 0:
        return not replies  # answered inline; the load generator checked each answer carried the link
    owners = [(w["base"], m) for w, m in zip(workers, meetings, strict=True)]

    def meeting_of(conversation: str) -> Meeting | None:
        return next((m for base, m in owners if conversation.startswith(base + "-")), None)

    got = Counter(r.get("conversation", {}).get("id") for r in replies)
    expected = Counter({c: n * kind.replies for c, n in ok_by_conversation.items()})
    shapes = [(meeting := meeting_of(r.get("conversation", {}).get("id", ""))) is not None and kind.reply_ok(r, meeting)
              for r in replies]
    results = sum(_is_result(r, m) for r in replies if (m := meeting_of(r.get("conversation", {}).get("id", ""))))
    results_ok = kind not in (GET_LINK, GET_LINK_BLOB) or results == sum(ok_by_conversation.values())
    return got == expected and all(shapes) and results_ok


@contextmanager
def _loadgen() -> Iterator[tuple[Callable[[str], None], Callable[[float], str]]]:
    process = subprocess.Popen([sys.executable, "-m", "bench.loadgen"], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def send(line: str) -> None:
        stdin.write(line + "\n")
        stdin.flush()

    def receive(timeout: float) -> str:
        return _read_line(stdout, timeout)

    try:
        yield send, receive
    finally:
        stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stdout.close()


class SocketWatch:
    """Polls every bot process's TCP/UDP sockets (/proc) in a thread for the whole run, start-ups included: which
    addresses each bot listened on and talked to. Everything must be on 127.0.0.1 (the Teams SDK anchor included:
    its MSAL would ask the public login host about an unknown authority)."""

    INTERVAL_S = 0.05

    def __init__(self, bots: dict[str, BotProcess]) -> None:
        self._bots = bots
        self._seen: dict[str, set[tuple[str, str, str]]] = {name: set() for name in bots}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="socket-watch", daemon=True)

    def __enter__(self) -> SocketWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll()
            self._stop.wait(self.INTERVAL_S)

    def poll(self) -> None:
        for name, bot in self._bots.items():
            process = bot._process
            if process is not None and process.poll() is None:
                self._seen[name] |= socket_addresses(process.pid)

    def summary(self) -> dict[str, Any]:
        off = sorted({(name, *s) for name, seen in self._seen.items() for s in seen
                      if not (is_loopback(s[1]) and is_loopback(s[2]))})
        return {"seen": {name: len(seen) for name, seen in self._seen.items()},
                "off_loopback": [list(s) for s in off]}


def _start(bot: BotProcess, runs: int) -> dict[str, Any]:
    """Median start-up over `runs` starts; the last one is left running for the load phases."""
    samples = []
    for run in range(runs):
        samples.append(bot.start())
        if run < runs - 1:
            bot.stop()
    return {"startup_s": statistics.median(samples), "startup_samples_s": samples}


def run(plan: Plan) -> dict[str, Any]:
    """The whole benchmark; returns everything `bench.report` prints and writes."""
    load_before = os.getloadavg()
    cloud = Cloud()
    cloud.start()
    azurite = Azurite().start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as logs, StorageProxy(azurite.blob_endpoint) as storage:
            cloud.storage = storage
            env = cloud.bot_env()
            blob_env = {**env, "BotStorage": "blob", "BlobContainer": f"bench-{uuid.uuid4().hex[:12]}",
                        "BlobConnectionString": storage.connection_string(azurite.connection_string)}
            bots = {STOCK: BotProcess(STOCK, "bench.stock_echo", env, Path(logs))}
            kinds = [ECHO]
            if plan.teams_sdk:
                bots[TEAMS] = BotProcess(TEAMS, teams_sdk.MODULE, env, Path(logs), str(teams_sdk.python()))
                kinds.append(TEAMS_ECHO)
            bots[OURS] = BotProcess(OURS, "bench.run_bot", env, Path(logs))
            bots[OURS_BLOB] = BotProcess(OURS_BLOB, "bench.run_bot", blob_env, Path(logs))
            kinds += [HELP, GET_LINK, GET_LINK_BLOB]
            otlp = OtlpReceiver().start()
            bots[OURS_OTEL] = BotProcess(OURS_OTEL, "bench.run_bot",
                                         {**env, **OTEL_ENV, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url}, Path(logs))
            kinds.append(GET_LINK_OTEL)
            watch = SocketWatch(bots)
            try:
                with watch:
                    bot_figures = {name: _start(bot, plan.startup_runs) for name, bot in bots.items()}
                    # Each concurrency runs every bot in turn (not each bot all its concurrencies): a change in the
                    # machine's load during the run then hits the anchors and our bot alike.
                    phases = [run_phase(cloud, bots[kind.bot], kind, c, plan)
                              for c in plan.concurrencies for kind in kinds]
                    capacity = max(p["turns_per_s"] for p in phases
                                   if p["turn"] == GET_LINK.name and p["bot"] == OURS)
                    phases.append(run_phase(cloud, bots[OURS], GET_LINK, max(plan.concurrencies), plan, label="open",
                                            open_rate=capacity / 2, seconds=plan.open_seconds))
                    with cloud.slow_graph(GRAPH_LATENCY_S):
                        phases += [run_phase(cloud, bots[kind.bot], kind, plan.link_concurrency, plan,
                                             label="graph 300 ms", seconds=plan.link_seconds)
                                   for kind in (GET_LINK, ME_LINK, GET_LINK_BLOB)]
                    for name, bot in bots.items():
                        bot_figures[name]["peak_rss_mib"] = bot.peak_rss_mib()
                        bot_figures[name]["tracebacks_logged"] = bot.log_tail(10_000).count("Traceback")
            finally:
                for bot in bots.values():
                    bot.stop()
                otlp.stop()
    finally:
        azurite.stop()
        cloud.stop()
    exported = {"exports": len(otlp.raw), "bytes": sum(len(body) for _, body in otlp.raw), "spans": len(otlp.spans())}
    return {"mode": plan.mode, "machine": machine(), "plan": asdict(plan), "bots": bot_figures, "phases": phases,
            "load_average": {"before": load_before, "after": os.getloadavg()}, "sockets": watch.summary(),
            "otlp": exported}
