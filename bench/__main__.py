"""`python -m bench [--smoke] [--out PATH]`: the stock echo bot and our bot on the loopback cloud, one run.
(`python -m bench hostile`: the hostile-size figure, bench/hostile.py; `python -m bench reminders`: the reminder
polling cost, bench/reminders.py.)

Prints the table and the DESIGN.md section 8 budgets (MET / NOT MET) and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.report import render, summarise, write_json
from bench.suite import FULL, SMOKE, run

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["hostile"]:
        from bench import hostile

        return hostile.main(argv[1:])
    if argv[:1] == ["reminders"]:
        from bench import reminders

        return reminders.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts at c=1 and 4: checks the bench works")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    summary = summarise(run(SMOKE if args.smoke else FULL))
    print(render(summary), flush=True)
    write_json(summary, args.out)
    print(f"\nJSON: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
