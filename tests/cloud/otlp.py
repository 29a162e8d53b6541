"""A loopback OTLP/HTTP receiver: what an OpenTelemetry collector would be sent, kept raw and decoded.

`OtlpReceiver().start()` serves POST /v1/traces and /v1/metrics on 127.0.0.1 in its own thread and decodes each body
with opentelemetry-proto's classes (the exporter's own wire format), so tests read spans and metrics as a collector
would, and can also walk every string in them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from google.protobuf.message import Message
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ._runtime import LoopThread


class OtlpReceiver:
    """Records every export; `spans()` and `metrics()` flatten what arrived."""

    def __init__(self) -> None:
        self._thread = LoopThread("otlp-receiver")
        self._lock = threading.Lock()
        self.raw: list[tuple[str, bytes]] = []
        self.traces: list[ExportTraceServiceRequest] = []
        self.metric_exports: list[ExportMetricsServiceRequest] = []
        self.url = ""

    def start(self) -> OtlpReceiver:
        self._thread.start()
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        app.router.add_post("/v1/metrics", self._metrics)
        self.url = f"http://127.0.0.1:{self._thread.serve(app)}"
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def clear(self) -> None:
        with self._lock:
            self.raw.clear()
            self.traces.clear()
            self.metric_exports.clear()

    async def _traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        decoded = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            self.raw.append((request.path, body))
            self.traces.append(decoded)
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await request.read()
        decoded = ExportMetricsServiceRequest.FromString(body)
        with self._lock:
            self.raw.append((request.path, body))
            self.metric_exports.append(decoded)
        return web.Response(body=ExportMetricsServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    # ---- reading -------------------------------------------------------------------------------------------------

    def spans(self) -> list[Any]:
        with self._lock:
            return [span for export in self.traces for rs in export.resource_spans for ss in rs.scope_spans
                    for span in ss.spans]

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name -> its data points (of whichever kind), over every export."""
        found: dict[str, list[Any]] = {}
        with self._lock:
            for export in self.metric_exports:
                for rm in export.resource_metrics:
                    for sm in rm.scope_metrics:
                        for metric in sm.metrics:
                            kind = metric.WhichOneof("data")
                            points = getattr(metric, kind).data_points if kind else []
                            found.setdefault(metric.name, []).extend(points)
        return found

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError("the OTLP receiver did not get what the test waited for")

    def strings(self) -> Iterator[str]:
        """Every string in every decoded export: names, attribute keys and values, events, resource, scopes (the
        bytes fields are trace and span ids)."""
        with self._lock:
            messages: list[Message] = [*self.traces, *self.metric_exports]
        for message in messages:
            yield from _strings(message)


def _strings(message: Message) -> Iterator[str]:
    pending = [message]
    while pending:
        current = pending.pop()
        for field, value in current.ListFields():
            items = value if field.is_repeated else [value]
            for item in items:
                if isinstance(item, Message):
                    pending.append(item)
                elif isinstance(item, str):
                    yield item


def attributes(item: Any) -> dict[str, Any]:
    """A span's, event's or data point's attributes as a plain dict."""
    out: dict[str, Any] = {}
    for kv in item.attributes:
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind) if kind else None
    return out
