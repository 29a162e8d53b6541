"""`python -m manifest playground`: the bot in local mode plus the Microsoft 365 Agents Playground, both on loopback.

The playground (npm `@microsoft/m365agentsplayground`) is the client for local mode (DESIGN.md section 6). It is
installed on first use under the repo's git-ignored `node_modules/`, and it is started with `loopback.cjs`
preloaded, because it listens on every interface by default and local mode must never be reachable from elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PLAYGROUND_PACKAGE = "@microsoft/m365agentsplayground"
PLAYGROUND_VERSION = "0.2.28"
NODE_PREFIX = REPO_ROOT  # npm --prefix: the package lands in REPO_ROOT/node_modules, which .gitignore covers
RUN_DIR = REPO_ROOT / "node_modules" / ".m365agentsplayground"  # its working folder and log file
LOOPBACK_PRELOAD = Path(__file__).with_name("loopback.cjs")
HOST = "127.0.0.1"
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 5.0


class PlaygroundError(RuntimeError):
    """Something the user has to fix before the try-out can start; one line."""


@dataclass(frozen=True)
class Launch:
    """One child process to start: what to run, where, and with which environment."""

    argv: list[str]
    cwd: Path
    env: dict[str, str]


def package_dir(prefix: Path = NODE_PREFIX) -> Path:
    return prefix / "node_modules" / PLAYGROUND_PACKAGE


def installed_version(prefix: Path = NODE_PREFIX) -> str | None:
    manifest = package_dir(prefix) / "package.json"
    if not manifest.is_file():
        return None
    version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
    return str(version) if version else None


def ensure_installed(prefix: Path = NODE_PREFIX) -> Path:
    """Install the pinned playground once (no package.json is written); returns its cli.js."""
    if installed_version(prefix) != PLAYGROUND_VERSION:
        npm = shutil.which("npm")
        if npm is None:
            raise PlaygroundError("npm is not on PATH: install Node.js 20 or later to use the playground")
        print(f"installing {PLAYGROUND_PACKAGE}@{PLAYGROUND_VERSION} under {prefix / 'node_modules'} ...")
        command = [
            npm,
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(prefix),
            f"{PLAYGROUND_PACKAGE}@{PLAYGROUND_VERSION}",
        ]
        if subprocess.run(command, check=False).returncode != 0:  # noqa: S603 - fixed argv, no shell
            raise PlaygroundError(f"npm install of {PLAYGROUND_PACKAGE} failed (see npm's output above)")
    return package_dir(prefix) / "cli.js"


def bot_launch(bot_port: int, environ: dict[str, str]) -> Launch:
    """The bot in local mode: an empty app id (and no half-set credentials from .env) means no Azure at all."""
    env = {
        **environ,
        "MicrosoftAppId": "",
        "MicrosoftAppPassword": "",
        "MicrosoftAppTenantId": "",
        "HOST": HOST,
        "PORT": str(bot_port),
    }
    return Launch([sys.executable, "app.py"], REPO_ROOT, env)


def playground_launch(cli_js: Path, node: str, bot_port: int, port: int, environ: dict[str, str]) -> Launch:
    """The playground, loopback-only, pointed at the bot, with no browser, no telemetry and its log kept local."""
    endpoint = f"http://{HOST}:{bot_port}/api/messages"
    argv = [
        node,
        "--require",
        str(LOOPBACK_PRELOAD),
        str(cli_js),
        "start",
        "--app-endpoint",
        endpoint,
        "--channel-id",
        "msteams",
        "--port",
        str(port),
        "--service-url",
        f"http://{HOST}:{port}/_connector",
        "--disable-telemetry",
    ]
    env = {
        **environ,
        "TEAMSAPPTESTER_BROWSER": "none",
        "BOT_ENDPOINT": endpoint,
        "TEAMSAPPTESTER_PORT": str(port),
        "TEAMSAPPTESTER_LOGFILE": str(RUN_DIR / "m365agentsplayground.log"),
    }
    return Launch(argv, RUN_DIR, env)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves do: sockets left in TIME-WAIT by the last run must not count as "in use".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _start(launch: Launch, output: Path | None = None) -> subprocess.Popen[bytes]:
    """Start in its own process group, so Ctrl+C reaches only us and we stop the children in order."""
    stream = output.open("ab") if output else None
    try:
        return subprocess.Popen(  # noqa: S603 - argv built above, no shell
            launch.argv,
            cwd=launch.cwd,
            env=launch.env,
            start_new_session=True,
            stdout=stream,
            stderr=subprocess.STDOUT if stream else None,
        )
    finally:
        if stream:
            stream.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's own process group (which we created), then SIGKILL it if it does not go."""
    if process.poll() is not None:
        return
    for sig, timeout in ((signal.SIGTERM, _STOP_TIMEOUT_S), (signal.SIGKILL, _STOP_TIMEOUT_S)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def _preflight(bot_port: int, port: int) -> str:
    if not (REPO_ROOT / "app.py").is_file():
        raise PlaygroundError(f"{REPO_ROOT / 'app.py'} does not exist yet: nothing to try out")
    node = shutil.which("node")
    if node is None:
        raise PlaygroundError("node is not on PATH: install Node.js 20 or later to use the playground")
    for name, number in (("bot", bot_port), ("playground", port)):
        if not _port_free(number):
            raise PlaygroundError(
                f"port {number} on {HOST} is in use: stop what holds it or choose another {name} port"
            )
    return node


def run_playground(bot_port: int = 3978, port: int = 56150) -> int:
    """Start both, print the URL to open, and stop both on Ctrl+C or when either exits; returns an exit status."""
    try:
        node = _preflight(bot_port, port)
        cli_js = ensure_installed()
    except PlaygroundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    environ = dict(os.environ)
    children: list[subprocess.Popen[bytes]] = []
    # SIGTERM (and SIGINT even when started in the background) stop both children, like Ctrl+C.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _interrupt)
    try:
        bot = _start(bot_launch(bot_port, environ))
        children.append(bot)
        playground = _start(playground_launch(cli_js, node, bot_port, port, environ), RUN_DIR / "console.log")
        children.append(playground)
        for name, number, process in (("bot", bot_port, bot), ("playground", port, playground)):
            if not _wait_listening(number, process, _START_TIMEOUT_S):
                print(
                    f"error: the {name} did not start listening on {HOST}:{number} (logs: {RUN_DIR})", file=sys.stderr
                )
                return 1
        print(f"Agents Playground: open http://{HOST}:{port}  (bot: http://{HOST}:{bot_port}/api/messages)")
        print(f"Playground logs in {RUN_DIR}. Press Ctrl+C to stop both.")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        name = "bot" if bot.poll() is not None else "playground"
        print(f"the {name} exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping")
        return 0
    finally:
        for child in reversed(children):
            _stop(child)
