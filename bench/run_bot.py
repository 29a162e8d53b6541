"""Our service as `python app.py` runs it (`app.create_app` on the environment's settings), plus the bench's lag
probe and an ephemeral port. Run: `python -m bench.run_bot` with the loopback cloud's settings in the environment.
"""

from __future__ import annotations

import sys

from app import create_app
from bench.botproc import install_lag_probe, serve
from bot.logsafe import configure_logging
from config import ConfigError, Settings


def main() -> int:
    try:
        settings = Settings.from_env(dotenv_path=None)
        app = create_app(settings)
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(
        settings.log_level,
        secrets=[settings.app_password, settings.blob_connection_string, *settings.telemetry.secrets],
        trace_ids=settings.telemetry.enabled,
    )
    install_lag_probe(app)
    serve(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
