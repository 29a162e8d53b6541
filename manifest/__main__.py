"""`python -m manifest build | validate | playground`: the app package and the local try-out, from one place."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from config import ConfigError, Settings
from manifest.builder import BuildError, PackageOptions, package_files, render_manifest, write_zip
from manifest.playground import run_playground
from manifest.validator import package_problems, validate_package

DEFAULT_OUT = Path("build") / "appPackage.zip"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m manifest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build the app package zip from the settings (.env and environment)")
    build.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"zip to write (default {DEFAULT_OUT})")
    build.add_argument("--version", default=PackageOptions.version, help="app version, MAJOR.MINOR.PATCH")
    build.add_argument("--app-id", help="the bot's Entra app id, instead of MicrosoftAppId")
    build.add_argument("--short-name", default=PackageOptions.short_name, help="name shown in Teams (max 30)")
    build.add_argument("--full-name", default=PackageOptions.full_name, help="full app name (max 100)")
    build.add_argument("--developer-name", default=PackageOptions.developer_name, help="publisher name (max 32)")
    build.add_argument("--website-url", default="", help="developer website (default https://<BotDomain>/)")
    build.add_argument("--privacy-url", default="", help="privacy statement URL (default: the website)")
    build.add_argument("--terms-url", default="", help="terms of use URL (default: the website)")

    validate = commands.add_parser("validate", help="validate a package zip or folder offline")
    validate.add_argument("path", type=Path)

    playground = commands.add_parser("playground", help="run the bot in local mode with the Agents Playground")
    playground.add_argument("--bot-port", type=int, default=3978, help="port the bot listens on (default 3978)")
    playground.add_argument("--port", type=int, default=56150, help="port the playground serves (default 56150)")
    return parser


def _build(args: argparse.Namespace) -> int:
    """Validate in memory first, so a package Teams would reject is never written."""
    options = PackageOptions(
        version=args.version,
        short_name=args.short_name,
        full_name=args.full_name,
        developer_name=args.developer_name,
        website_url=args.website_url,
        privacy_url=args.privacy_url,
        terms_url=args.terms_url,
    )
    try:
        manifest = render_manifest(Settings.from_env(), options, app_id=args.app_id)
        files = package_files(manifest, options.accent_color, options)
    except (BuildError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    problems = package_problems(files)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"wrote {write_zip(files, args.out)}")
    return 0


def _validate(path: Path) -> int:
    problems = validate_package(path)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{path}: ok")
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "build":
        return _build(args)
    if args.command == "validate":
        return _validate(args.path)
    return run_playground(bot_port=args.bot_port, port=args.port)


if __name__ == "__main__":
    sys.exit(main())
