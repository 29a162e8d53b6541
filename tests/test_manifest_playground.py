"""`python -m manifest playground`: what it launches, and that the loopback preload really confines node to 127.0.0.1.

The launch itself needs npm and the playground package, so it is checked by hand (see docs); here are the parts
that decide safety: an empty app id for the bot, no browser, and every node listen forced onto loopback.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from manifest import playground

REPO_ROOT = Path(__file__).resolve().parent.parent
node = shutil.which("node")

# Every listen() form the playground or its libraries might use, without and with an all-interfaces host.
LISTEN_PROBE = """
const net = require("net");
const forms = [
  (s, cb) => s.listen(0, cb), (s, cb) => s.listen(cb), (s, cb) => s.listen(0, "0.0.0.0", cb),
  (s, cb) => s.listen({ port: 0 }, cb), (s, cb) => s.listen({ port: 0, host: "::" }, cb),
  (s, cb) => s.listen("0", cb), (s, cb) => s.listen(0, 511, cb),
];
Promise.all(forms.map((listen) => new Promise((resolve) => {
  const server = net.createServer();
  listen(server, () => { const { address } = server.address(); server.close(() => resolve(address)); });
}))).then((addresses) => console.log(addresses.join(",")));
"""


@pytest.mark.skipif(node is None, reason="node is not installed")
def test_preload_forces_every_listen_onto_loopback() -> None:
    assert node is not None
    run = [node, "--require", str(playground.LOOPBACK_PRELOAD), "-e", LISTEN_PROBE]
    result = subprocess.run(run, capture_output=True, text=True, timeout=20, check=True)  # noqa: S603
    assert result.stdout.strip().split(",") == ["127.0.0.1"] * 7
    unguarded = subprocess.run([node, "-e", LISTEN_PROBE], capture_output=True, text=True, timeout=20, check=True)  # noqa: S603
    assert "127.0.0.1" not in unguarded.stdout  # the probe would notice if the preload did nothing


def test_bot_runs_in_local_mode_whatever_the_environment_says() -> None:
    launch = playground.bot_launch(4000, {"MicrosoftAppId": "real-id", "MicrosoftAppPassword": "s", "PATH": "/bin"})
    assert launch.argv[1:] == ["app.py"] and launch.cwd == REPO_ROOT
    assert launch.env["MicrosoftAppId"] == "" and launch.env["MicrosoftAppPassword"] == ""
    assert (launch.env["HOST"], launch.env["PORT"], launch.env["PATH"]) == ("127.0.0.1", "4000", "/bin")


def test_playground_is_loopback_only_headless_and_logs_in_an_ignored_folder() -> None:
    launch = playground.playground_launch(Path("/x/cli.js"), "node", 4000, 56999, {})
    argv = launch.argv
    assert argv[:4] == ["node", "--require", str(playground.LOOPBACK_PRELOAD), "/x/cli.js"]
    assert argv[argv.index("--app-endpoint") + 1] == "http://127.0.0.1:4000/api/messages"
    assert argv[argv.index("--port") + 1] == "56999"
    assert argv[argv.index("--service-url") + 1] == "http://127.0.0.1:56999/_connector"
    assert "--disable-telemetry" in argv
    assert launch.env["TEAMSAPPTESTER_BROWSER"] == "none"
    log = Path(launch.env["TEAMSAPPTESTER_LOGFILE"])
    assert launch.cwd == log.parent
    assert "node_modules" in log.relative_to(REPO_ROOT).parts  # covered by .gitignore's node_modules/
    assert "node_modules/" in (REPO_ROOT / ".gitignore").read_text().splitlines()
