"""The startup command infra/azure.bicep gives App Service, run as App Service runs it: from the deployed folder
(the repository less .webappignore), in a fresh venv of requirements.txt alone, on the PORT it is given.

`make test` builds that venv (.venv-runtime/, recreated whenever requirements.txt changes, so the test itself
installs nothing and reaches no registry) and sets RUNTIME_VENV, so a missing venv fails instead of skipping.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def startup_command() -> str:
    match = re.search(r"^var startupCommand = '([^']+)'", (ROOT / "infra" / "azure.bicep").read_text(), re.M)
    assert match, "infra/azure.bicep declares no startupCommand"
    return match.group(1)


def runtime_venv() -> Path:
    venv = ROOT / (os.environ.get("RUNTIME_VENV") or ".venv-runtime")
    if not (venv / "bin" / "python").exists():
        message = f"{venv} is missing: run `make test` (it builds the runtime-only venv)"
        if os.environ.get("RUNTIME_VENV"):
            pytest.fail(message)
        pytest.skip(message)
    return venv


def deployed_copy(target: Path) -> Path:
    """What azureAppService/zipDeploy uploads: every file not matched by .webappignore (gitignore-style subset)."""
    patterns = [line.strip() for line in (ROOT / ".webappignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern.rstrip("/")) for pattern in patterns)

    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not ignored(d)]  # never walks .venv or node_modules
        here = Path(folder).relative_to(ROOT)
        for name in files:
            if not ignored(name) and not (Path(folder) / name).is_symlink():
                (target / here).mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(folder) / name, target / here / name)
    return target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_bicep_startup_command_serves_healthz_and_stops_on_sigterm(cloud, tmp_path):
    venv = runtime_venv()
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import pytest"],  # noqa: S603
                           capture_output=True, timeout=60, check=False)
    assert probe.returncode != 0, "the runtime venv has pytest: it is not made from requirements.txt alone"
    site = deployed_copy(tmp_path / "site")
    assert not (site / "tests").exists() and (site / "app.py").exists()
    port = _free_port()
    env = {
        # App Service activates the venv Oryx built, then runs the command with the app settings as environment.
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "REQUESTS_CA_BUNDLE": cloud.ca_bundle,
        **cloud.settings_env(),
        "HOST": "127.0.0.1",  # App Service listens on 0.0.0.0; tests never leave loopback
        "PORT": str(port),
    }
    process = subprocess.Popen(  # noqa: S603
        shlex.split(startup_command()), cwd=site, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert health is not None, process.communicate(timeout=10)
        assert health.status_code == 200 and health.json() == {"status": "ok", "local": False}
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
