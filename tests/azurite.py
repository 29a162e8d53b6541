"""Azurite, Microsoft's Azure Storage emulator, for the blob-storage tests: installed by npm, run on loopback.

`ensure_installed()` installs the pinned version into `node_modules/.azurite` (git-ignored) only when it is missing;
`python -m tests.azurite` does just that (for `make`/CI set-up). `Azurite.start()` runs the blob service on
127.0.0.1 with an ephemeral port, a throw-away data folder and telemetry off (no test may touch the internet).
No npm means the tests fail with a message saying so: skipping would hide that scale-out is untested.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

AZURITE_VERSION = "3.35.0"
REPO = Path(__file__).resolve().parent.parent
PREFIX = REPO / "node_modules" / ".azurite"
BINARY = PREFIX / "node_modules" / ".bin" / "azurite-blob"
# Azurite's published development account (the same for every installation; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"successfully listens on (http://127\.0\.0\.1:\d+)")


class AzuriteUnavailable(RuntimeError):
    """Azurite cannot be installed or started; the message says what to install."""


def installed_version() -> str | None:
    manifest = PREFIX / "node_modules" / "azurite" / "package.json"
    if not BINARY.exists() or not manifest.is_file():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


def ensure_installed() -> Path:
    """The azurite-blob executable, installing `azurite@AZURITE_VERSION` with npm first if it is missing."""
    if installed_version() == AZURITE_VERSION:
        return BINARY
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise AzuriteUnavailable(
            "the blob-storage tests need Azurite, installed with npm: install Node.js 18+ and npm "
            "(Debian: apt-get install nodejs npm), then run `python -m tests.azurite`"
        )
    PREFIX.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(PREFIX),
               f"azurite@{AZURITE_VERSION}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    if result.returncode != 0 or installed_version() != AZURITE_VERSION:
        raise AzuriteUnavailable(f"`npm install azurite@{AZURITE_VERSION}` failed: {result.stderr.strip()[-500:]}")
    return BINARY


class Azurite:
    """One Azurite blob service process; `connection_string` is what `BlobConnectionString` takes."""

    def __init__(self) -> None:
        self.blob_endpoint = ""
        self._process: subprocess.Popen[str] | None = None
        self._location: Path | None = None
        self._output: list[str] = []
        self._reader: threading.Thread | None = None

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.blob_endpoint};")

    @property
    def port(self) -> int:
        return int(self.blob_endpoint.rsplit(":", 1)[1].split("/", 1)[0])

    def start(self, timeout: float = 20.0, *, port: int = 0) -> Azurite:
        """Start the service; `port` 0 picks a free one. A restart (after `kill`) reuses the data folder."""
        binary = ensure_installed()
        if self._location is None:
            self._location = Path(tempfile.mkdtemp(prefix="azurite-"))
        self._output = []
        command = [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(self._location),
                   "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry"]
        self._process = subprocess.Popen(  # noqa: S603
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        found = threading.Event()
        self._reader = threading.Thread(target=self._read_output, args=(found,), daemon=True, name="azurite-output")
        self._reader.start()
        if not found.wait(timeout):
            self.stop()
            raise AzuriteUnavailable(f"Azurite did not start within {timeout}s: {''.join(self._output)[-500:]}")
        return self

    def _read_output(self, found: threading.Event) -> None:
        """Drain Azurite's output (so it never blocks on a full pipe) and spot the listening line."""
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self._output.append(line)
            if (match := _LISTENING.search(line)) and not found.is_set():
                self.blob_endpoint = f"{match.group(1)}/{ACCOUNT}"
                found.set()

    # --- faults (tests/test_blob_faults.py; only on an instance of the test's own, never the session's) ---------

    def freeze(self) -> None:
        """SIGSTOP: connections stay open and accept, no byte comes back (a throttled or partitioned account)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """End the process (SIGTERM; the port refuses connections until `restart`), keeping the data folder, so
        `restart` comes back with what was stored. Not SIGKILL: Azurite keeps its metadata in a journal it writes
        every few seconds, so a SIGKILL tests the emulator's durability, which Azure's is not."""
        process, self._process = self._process, None
        assert process is not None
        process.terminate()
        process.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if process.stdout is not None:
            process.stdout.close()

    def restart(self, timeout: float = 20.0) -> Azurite:
        """Start again on the same port and data folder (after `kill`)."""
        return self.start(timeout, port=self.port)

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and delete its data folder; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a frozen one cannot act on SIGTERM
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._reader is not None:
            self._reader.join(timeout=5)  # ends at EOF, once the process is gone
            self._reader = None
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._location is not None:
            shutil.rmtree(self._location, ignore_errors=True)
            self._location = None


def running() -> Iterator[Azurite]:
    """A started Azurite, stopped afterwards; the test fails (never skips) without npm. For fixtures."""
    try:
        server = Azurite().start()
    except AzuriteUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """A running Azurite for the session (a plugin of tests/conftest.py)."""
    yield from running()


if __name__ == "__main__":
    try:
        print(f"azurite {AZURITE_VERSION}: {ensure_installed()}")
    except AzuriteUnavailable as exc:
        sys.exit(f"error: {exc}")
