"""Disable one SDK fix and watch its test fail: `pytest --without-fix NAME ...`, or `python -m tests.fixcheck`.

The fixes are the rows of bot/sdk/registry.py (the README's SDK-defect table, DESIGN.md section 7): each says how
to put the stock botbuilder 4.17.1 behaviour back for exactly that fix, which `--without-fix` does through pytest's
monkeypatch for the test's duration only. `python -m tests.fixcheck` runs every row's tests twice, as shipped and
with that one fix disabled, and prints a table: each row must pass with the fix and fail without it. Production code
has no switch and reads no environment variable for this: the tests reach in, as a reviewer would by deleting it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.sdk.registry import FIXES, switch_off

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--without-fix", action="append", default=[], choices=sorted(FIXES),
                     help="disable this SDK fix (stock botbuilder behaviour) for every test; see bot/sdk/registry.py")


@pytest.fixture(autouse=True)
def _without_fix(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in request.config.getoption("--without-fix"):
        switch_off(name, monkeypatch)


def _outcome(tests: tuple[str, ...], without: str | None) -> str:
    """"pass", "fails" (a test failed) or "error" (set-up broke, e.g. switching the fix off did: proves nothing)."""
    args = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider", "-rfE", *tests]
    if without:
        args += ["--without-fix", without]
    run = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if run.returncode == 0:
        return "pass"
    summary = re.findall(r"^(FAILED|ERROR) \S+\.py", run.stdout, re.MULTILINE)  # -rfE's lines, not log records
    failed, broke = "FAILED" in summary, "ERROR" in summary
    return "fails" if failed and not broke else "error"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fixcheck", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[[], *sorted(FIXES)], help="fixes to check (default: all)")
    names = parser.parse_args(argv).names or list(FIXES)
    print(f"{'fix':<18}{'with it':<9}{'without':<9}  defect / test")
    bad = 0
    for name in names:
        fix = FIXES[name]
        with_it, without = _outcome(fix.tests, None), _outcome(fix.tests, name)
        ok = with_it == "pass" and without == "fails"
        bad += not ok
        print(f"{name:<18}{with_it:<9}{without:<9}"
              f"  {'' if ok else '!! '}{fix.defect}\n{'':<38}{', '.join(t.split('::')[-1] for t in fix.tests)}",
              flush=True)
    print("every fix's test fails without it" if not bad else f"{bad} fix(es) NOT proven by their test")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
