"""SDK cost: msrest converts an activity's free-form JSON (Adaptive Cards in `attachments[].content`, `value`,
`channelData`) one node at a time, and to send an activity it walks the whole tree three times.

`Serializer.body` first rebuilds the activity from itself (`Deserializer._deserialize` of the model), then validates
it, then serialises it; under `object` attributes every string, number and key goes through msrest's per-value
converters (an `eval` per number or boolean). For the card a get-link turn sends, that was the largest cost left in
our turn after the transport (bot/sdk/aiohttp_transport.py). Same output, less work:
- `FastSerializer.body`: a body that is already a well-typed model tree (each attribute holds what its declared type
  says: models, lists of models, str, bool, int, datetimes; no validation rules, no flattened keys) is serialised
  directly, as msrest's `_serialize` would, without the rebuild (which for such a tree changes nothing); anything
  else goes the stock way.
- `FastSerializer.serialize_object` / `FastDeserializer.deserialize_object`: plain JSON (dict, list, str, int, float,
  bool, None) is copied node by node without the per-value converters, giving the values msrest gives; anything
  else (models, datetimes, ...) is left to msrest.
Both are linear in the input, like the stock walks. Used for replies (bot/sdk/client_cache.py) and for the inbound
activity (bot/adapter.py).
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from azure.core.exceptions import DeserializationError  # what msrest raises
from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model, Serializer

_SCALARS = (str, int, float, bool, type(None))
_BASIC = {"str": str, "bool": bool, "int": int, "float": float}


def _well_typed(value: Any, data_type: str, models: dict[str, Any]) -> bool:
    """True when `value` already is what `data_type` declares, all the way down (so msrest's rebuild is a no-op)."""
    if value is None or data_type == "object":
        return True
    if data_type in _BASIC:
        return isinstance(value, _BASIC[data_type]) and (data_type != "int" or not isinstance(value, bool))
    if data_type == "iso-8601":
        return isinstance(value, datetime.datetime)
    if data_type.startswith("[") and data_type.endswith("]"):
        return isinstance(value, list) and all(_well_typed(v, data_type[1:-1], models) for v in value)
    if data_type.startswith("{") and data_type.endswith("}"):
        return isinstance(value, dict) and all(_well_typed(v, data_type[1:-1], models) for v in value.values())
    model = models.get(data_type)
    if model is None or type(value) is not model or model._validation:  # no Bot Framework model declares rules
        return False
    return all(
        "." not in desc["key"] and hasattr(value, attr) and _well_typed(getattr(value, attr), desc["type"], models)
        for attr, desc in model._attribute_map.items()
    )


class FastSerializer(Serializer):
    """msrest's Serializer, skipping the no-op rebuild of a well-typed model body and the per-value converters on
    plain JSON."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        if isinstance(data, Model) and not kwargs and _well_typed(data, data_type, self.dependencies):
            return self._model_json(data)
        return super().body(data, data_type, **kwargs)  # type: ignore[no-untyped-call]

    def _model_json(self, model: Model) -> dict[str, Any]:
        """msrest's `_serialize` of a well-typed model (no flattened keys, nothing read-only): None is left out."""
        out: dict[str, Any] = {}
        for attr, desc in model._attribute_map.items():
            value = getattr(model, attr)
            if value is not None:
                out[desc["key"]] = self._typed_json(value, desc["type"])
        return out

    def _typed_json(self, value: Any, data_type: str) -> Any:
        """msrest's `serialize_data` for the types a well-typed Bot Framework model holds."""
        if value is None:  # a list item or dict value
            return None
        if data_type == "str":
            return self.serialize_unicode(value)  # type: ignore[no-untyped-call]  # an enum's value, else str()
        if data_type in _BASIC:
            return _BASIC[data_type](value)
        if data_type == "object":
            return self.serialize_object(value)
        if data_type == "iso-8601":
            return Serializer.serialize_iso(value)  # type: ignore[no-untyped-call]
        if data_type[0] == "[":
            return [self._typed_json(item, data_type[1:-1]) for item in value]
        if data_type[0] == "{":
            unicode = self.serialize_unicode
            return {unicode(key): self._typed_json(item, data_type[1:-1])  # type: ignore[no-untyped-call]
                    for key, item in value.items()}
        return self._model_json(value)

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        kind = type(attr)
        if kind in _SCALARS:
            return attr
        if kind is dict and all(type(key) is str for key in attr):
            return {key: self.serialize_object(value, **kwargs) for key, value in attr.items()}
        if kind is list:
            return [self.serialize_object(value, **kwargs) for value in attr]
        return super().serialize_object(attr, **kwargs)  # type: ignore[no-untyped-call]


@functools.cache
def _plan(model: type) -> tuple[tuple[str, str, str], ...] | None:
    """(attribute, JSON key, type) of a model read by plain key look-ups: None when msrest must do it (a flattened
    or empty key, subtypes, validation rules)."""
    if not (isinstance(model, type) and issubclass(model, Model)) or model._validation or model._subtype_map:
        return None
    entries = tuple((attr, desc["key"], desc["type"]) for attr, desc in model._attribute_map.items())
    return None if any(not key or "." in key for _, key, _ in entries) else entries


class FastDeserializer(Deserializer):
    """msrest's Deserializer without the per-value converters on plain JSON, and reading a model's attributes by
    plain key look-ups (what msrest's rest key extractor does for keys without dots) without copying each
    attribute's description first."""

    def _deserialize(self, target_obj: Any, data: Any) -> Any:
        if type(data) is dict and isinstance(target_obj, str):
            response, class_name = self._classify_target(target_obj, data)  # type: ignore[no-untyped-call]
            plan = _plan(response)
            if plan is not None:
                try:
                    attrs = {attr: self.deserialize_data(data.get(key), data_type)  # type: ignore[no-untyped-call]
                             for attr, key, data_type in plan}
                except (AttributeError, TypeError, KeyError) as err:
                    raise DeserializationError(f"Unable to deserialize to object: {class_name}", err) from err
                extra = self._build_additional_properties(response._attribute_map, data)  # type: ignore[no-untyped-call]
                return self._instantiate_model(response, attrs, extra)  # type: ignore[no-untyped-call]
        return super()._deserialize(target_obj, data)  # type: ignore[no-untyped-call]

    def deserialize_object(self, attr: Any, **kwargs: Any) -> Any:
        kind = type(attr)
        if kind in _SCALARS:
            return attr
        if kind is dict:
            return {key: self.deserialize_object(value, **kwargs) for key, value in attr.items()}
        if kind is list:
            return [self.deserialize_object(value, **kwargs) for value in attr]
        return super().deserialize_object(attr, **kwargs)  # type: ignore[no-untyped-call]


@functools.cache
def _activity_deserializer() -> FastDeserializer:
    """One for the process: a Deserializer keeps no per-call state, and each new one is a reference cycle (its
    type table holds its own bound methods) left for the garbage collector."""
    return FastDeserializer(Activity._infer_class_models())  # type: ignore[no-untyped-call]


def activity_from_json(body: dict[str, Any]) -> Activity:
    """`Activity().deserialize(body)`, with FastDeserializer."""
    activity: Activity = _activity_deserializer()("Activity", body)
    return activity


def use_fast_serializer(client: Any) -> Any:
    """Give an msrest client's operation groups a FastSerializer and FastDeserializer; returns the client."""
    serialize = FastSerializer(client._serialize.dependencies)  # type: ignore[no-untyped-call]
    deserialize = FastDeserializer(client._deserialize.dependencies)  # type: ignore[no-untyped-call]
    client._serialize, client._deserialize = serialize, deserialize
    for group in vars(client).values():
        if hasattr(group, "_serialize") and hasattr(group, "_deserialize") and group is not client:
            group._serialize, group._deserialize = serialize, deserialize
    return client
