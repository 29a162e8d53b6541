"""The Teams SDK anchor's own venv: `bench/.teams-sdk-venv/` (git-ignored), made on first use by the benchmark
command and installed from PyPI with pip from the pinned `bench/teams_sdk_requirements.txt`; rebuilt only when that
file changes. The project's venv never gets the SDK (FastAPI, uvicorn, httpx, pydantic are not ours to carry).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".teams-sdk-venv"
REQUIREMENTS = BENCH / "teams_sdk_requirements.txt"
MODULE = "bench.teams_sdk_echo"


def python() -> Path:
    """The anchor venv's interpreter, after creating the venv and installing the pinned SDK if needed."""
    stamp = VENV / ".installed"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    interpreter = VENV / "bin" / "python"
    if stamp.exists() and stamp.read_text() == wanted and interpreter.exists():
        return interpreter
    print(f"bench: installing the Teams SDK anchor into {VENV.name}/ (once)", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(interpreter), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                    "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(wanted)
    return interpreter
