"""Wire the OpenTelemetry SDK from `TelemetrySettings`, only when they ask for it.

Everything here imports the SDK, the exporters and the instrumentations inside `start`, so a bot with telemetry off
loads none of them and starts no exporter thread. Every value the SDK would otherwise read from `OTEL_*` variables is
passed explicitly (config.py is the environment's one reader). The aiohttp server instrumentation traces every
request the app serves (one server span per turn: `POST /api/messages`). Outbound calls are recorded where they pass,
not by the aiohttp client instrumentation (a span and a histogram per request, which the CPU budget could not
afford, README "Telemetry"): Graph calls as spans (record.GraphTelemetry), connector and token-service calls as
events of the span they serve (record.HttpCall, in bot/sdk/aiohttp_transport.py).
Spans also pass `processor.ScrubbingProcessor`, which templates the server span's `url.path` and empties `url.query`:
anyone can post to any path with any query string, and it must not become a recorded attribute.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.telemetry import record
from config import TelemetrySettings

log = logging.getLogger(__name__)

SCOPE = "va-link-bot"
SHUTDOWN_S = 5.0  # flushing what is buffered at shutdown, at most


@dataclass
class Telemetry:
    """The SDK objects of one running app; `context` (an aiohttp cleanup context) flushes and shuts them down."""

    tracer_provider: Any
    meter_provider: Any
    _server_instrumentor: Any

    def application(self, **options: Any) -> web.Application:
        """A `web.Application` with the aiohttp server instrumentation's middleware. The instrumentor works by
        swapping the `web.Application` class; it is swapped back at once, so no other application (the local
        Graph simulator, a test's servers) is traced by accident."""
        self._server_instrumentor.instrument(tracer_provider=self.tracer_provider)
        try:
            return web.Application(**options)
        finally:
            self._server_instrumentor.uninstrument()

    async def context(self, _app: web.Application) -> AsyncIterator[None]:
        yield
        # Off the event loop: a collector that does not answer costs the exporters' timeout, not a frozen loop.
        try:
            await asyncio.wait_for(asyncio.to_thread(self.shutdown), SHUTDOWN_S)
        except TimeoutError:
            log.warning("telemetry not flushed within %.0f s at shutdown", SHUTDOWN_S)

    def shutdown(self) -> None:
        """Flush what is buffered (bounded by the exporters' timeouts), stop their threads, stop recording."""
        record.deactivate()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def start(settings: TelemetrySettings) -> Telemetry | None:
    """None when nothing is configured. Otherwise the providers (the tracer provider set as the global one, for
    libraries that use the OpenTelemetry API) and recording on; build the app with `Telemetry.application`."""
    if not settings.enabled:
        return None
    from opentelemetry import trace
    from opentelemetry.instrumentation._semconv import (
        _OpenTelemetrySemanticConventionStability,
        _OpenTelemetryStabilitySignalType,
        _StabilityMode,
    )
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased

    from bot.telemetry.processor import ScrubbingProcessor

    # The stable HTTP conventions (http.server.request.duration, url.path, http.response.status_code): the
    # instrumentations only offer the OTEL_SEMCONV_STABILITY_OPT_IN variable for this, which config.py owns.
    _OpenTelemetrySemanticConventionStability._initialize()  # type: ignore[no-untyped-call]
    _OpenTelemetrySemanticConventionStability._OTEL_SEMCONV_STABILITY_SIGNAL_MAPPING[
        _OpenTelemetryStabilitySignalType.HTTP
    ] = _StabilityMode.HTTP

    class HashedOnce(Resource):
        """The OTLP encoder groups each batch's spans by resource, hashing it per span; Resource's hash is a JSON
        dump of its attributes, which do not change: computed once."""

        _hash: int | None = None

        def __hash__(self) -> int:
            if self._hash is None:
                self._hash = super().__hash__()
            return self._hash

    resource = HashedOnce({**settings.resource_attributes, "service.name": settings.service_name})
    tracer_provider = TracerProvider(
        resource=resource,
        sampler=ParentBased(ALWAYS_ON),
        span_limits=SpanLimits(max_attributes=64, max_events=32, max_links=8, max_attribute_length=256,
                               max_event_attributes=16, max_link_attributes=16, max_span_attributes=64,
                               max_span_attribute_length=256),
        shutdown_on_exit=True,
    )
    tracer_provider.add_span_processor(ScrubbingProcessor())
    readers: list[MetricReader] = []
    for span_exporter, metric_exporter in _exporters(settings):
        tracer_provider.add_span_processor(
            BatchSpanProcessor(span_exporter, schedule_delay_millis=settings.traces_export_ms,
                               max_queue_size=2048, max_export_batch_size=512,
                               export_timeout_millis=int(settings.otlp_timeout_s * 1000))
        )
        readers.append(
            PeriodicExportingMetricReader(metric_exporter, export_interval_millis=settings.metrics_export_ms,
                                          export_timeout_millis=int(settings.otlp_timeout_s * 1000))
        )
    # No exemplars: each measurement inside a span would otherwise also be kept as a sample with its trace id.
    meter_provider = MeterProvider(resource=resource, metric_readers=readers, shutdown_on_exit=True,
                                   exemplar_filter=AlwaysOffExemplarFilter())
    trace.set_tracer_provider(tracer_provider)  # refused (with a warning) if something set one first
    # The meter provider is deliberately not the global one: the aiohttp server instrumentation takes its meter from
    # the global (it ignores `meter_provider`), and its three measurements per request (http.server.request.duration,
    # http.server.active_requests up and down) would repeat `linkbot.turn.duration`, the turn latency by activity
    # type and outcome, at a cost the CPU budget cannot afford (README "Telemetry"). Left with the API's no-op meter.
    record.activate(tracer_provider.get_tracer(SCOPE), meter_provider.get_meter(SCOPE))

    backends = (("OTLP", settings.otlp_endpoint), ("Azure Monitor", settings.azure_connection_string))
    names = [name for name, setting in backends if setting]
    log.info("telemetry on: traces and metrics to %s", " and ".join(names))
    return Telemetry(tracer_provider, meter_provider, AioHttpServerInstrumentor())


def _exporters(settings: TelemetrySettings) -> list[tuple[Any, Any]]:
    """(span exporter, metric exporter) per configured backend."""
    pairs: list[tuple[Any, Any]] = []
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        common: dict[str, Any] = {
            "headers": dict(settings.otlp_headers), "timeout": settings.otlp_timeout_s,
            "compression": Compression.NoCompression,
        }
        pairs.append((
            OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint}/v1/traces", **common),
            OTLPMetricExporter(endpoint=f"{settings.otlp_endpoint}/v1/metrics", **common),
        ))
    if settings.azure_connection_string:
        from azure.monitor.opentelemetry.exporter import AzureMonitorMetricExporter, AzureMonitorTraceExporter

        pairs.append((
            AzureMonitorTraceExporter(connection_string=settings.azure_connection_string),
            AzureMonitorMetricExporter(connection_string=settings.azure_connection_string),
        ))
    return pairs
