"""The Teams app package: `python -m manifest build | validate | playground` (see manifest/__main__.py)."""
