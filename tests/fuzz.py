"""`python -m tests.fuzz --examples 10000 [pytest args]`: the long fuzz campaign (tests/test_fuzz.py, every property
at N examples instead of CI's 150). Prints each property's example count and the longest event-loop stall seen.

Example: `python -m tests.fuzz --examples 10000 -k hostile` runs 10,000 hostile-size activities. The bot runs in a
process of its own (`--bot process`, the default), as `python app.py` does, so the callbacks and collections it
reports are the bot's alone; `--bot thread` runs it in the test process, as CI does.
"""

from __future__ import annotations

import argparse
import os
import sys

import pytest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000, help="examples per property (default 10000)")
    parser.add_argument("--bot", choices=("process", "thread"), default="process",
                        help="where the bot runs (default: a process of its own)")
    args, pytest_args = parser.parse_known_args(argv)
    os.environ["FUZZ_EXAMPLES"] = str(args.examples)
    os.environ["FUZZ_BOT"] = args.bot
    return int(pytest.main(["-q", "-s", "-p", "no:randomly", "tests/test_fuzz.py", *pytest_args]))


if __name__ == "__main__":
    sys.exit(main())
