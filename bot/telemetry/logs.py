"""Log lines joined up with traces: each record made inside a span names its trace and span ids."""

from __future__ import annotations

import logging

from opentelemetry import trace


class TraceIdsFilter(logging.Filter):
    """Appends `trace_id=... span_id=...` (W3C hex, as Application Insights' operation_Id shows them) to the message
    of a record made inside a recorded span. Installed before the redacting filter, so the line passes it whole."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            ids = f" trace_id={context.trace_id:032x} span_id={context.span_id:016x}"
            record.msg = f"{record.msg}{ids}"  # getMessage() formats str(msg) % args: the same, ids after
        return True
