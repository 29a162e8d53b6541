"""Defect 7.1: invoke bodies serialised twice by CloudAdapter (every invoke answer HTTP 500)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import serializer_helper
from msrest.serialization import Model


def serialise_invoke_body_once(body: Any) -> Any:
    """Defect 7.1: `ActivityHandler._create_invoke_response` already serialises the body to a dict, and
    `CloudAdapter.process` serialises it again (AttributeError -> HTTP 500 for every messaging-extension,
    task-module and card-action response). Serialise models only; pass JSON-ready values through."""
    if isinstance(body, Model):
        return serializer_helper(body)
    if isinstance(body, list):
        return [serialise_invoke_body_once(item) for item in body]
    return body
