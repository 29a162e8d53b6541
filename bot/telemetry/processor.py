"""The span processor that keeps request paths and query strings out of the server span (loaded with the SDK)."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import SpanKind

from bot.telemetry.scrub import path_template, url_template


class ScrubbingProcessor(SpanProcessor):
    """Runs first on every span: the server span's path becomes a template and its query string goes. Only server
    spans are looked at (the one kind whose URL attributes we do not write ourselves), so the others pay one
    comparison."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if span.kind is not SpanKind.SERVER:
            return
        attributes = span.attributes or {}
        if "url.path" in attributes:
            span.set_attribute("url.path", path_template(str(attributes["url.path"])))
        if "url.query" in attributes:
            span.set_attribute("url.query", "")
        if "url.full" in attributes:
            span.set_attribute("url.full", url_template(attributes["url.full"]))

