"""``python -m dialogs.cards samples DIR``: write every card in every language as JSON (``DIR/<language>/<card>.json``)
to paste into the Adaptive Cards Designer."""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .samples import write_samples


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m dialogs.cards", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    samples = commands.add_parser("samples", help="write one JSON file per card and language into DIR")
    samples.add_argument("directory", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    for path in write_samples(args.directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
