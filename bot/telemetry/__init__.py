"""OpenTelemetry for the bot: traces and metrics exported over OTLP/HTTP and/or to Azure Monitor, off by default.

`setup.start(settings)` is the only place that loads the SDK and exporters, and only when `config.py` found an OTLP
endpoint or an Application Insights connection string. `record` is what the rest of the bot calls; with telemetry
off each of its functions returns at its first line. `scrub` decides what of a URL or path may be recorded.
"""
