"""Input fields every API shares: strict strings, no unknown fields, JSON limits, and
outbound URLs checked before they are stored."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict

from airlock.errors import PayloadTooLarge
from airlock.netsafety import UnsafeURL, check_outbound_url
from airlock.validation import encoded_size, has_control_characters, nesting_depth


class StrictCharField(serializers.CharField):
    """A string and only a string: DRF's CharField would turn ``42`` into ``"42"``."""

    def __init__(
        self, *, multiline: bool = False, schema_pattern: str | None = None, **kwargs: Any
    ) -> None:
        self.multiline = multiline
        # What the OpenAPI document says the value must match (the checks are in code).
        self.schema_pattern = schema_pattern
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if has_control_characters(data, allow_whitespace=self.multiline):
            raise serializers.ValidationError("must not contain control characters")
        return super().to_internal_value(data)


_built_fields = threading.local()


class RejectUnknownFields:
    """A typo in a field name is an error, not a silently ignored field (nested too).

    Also builds a serializer's fields once per class and thread. DRF deep-copies every
    declared field for each new serializer, which re-runs each field's ``__init__``
    (and a nested serializer's, field by field): a tenth of the allowed fast path's
    CPU went there. Fields keep no state between validations (errors and validated
    data live on the serializer), so one set per thread, rebound to each new
    instance as its parent (``root``, ``context`` and ``partial`` are read through
    it), validates exactly as a fresh copy does. Only for serializers whose fields do
    not depend on the instance: ``get_fields`` not overridden.
    """

    @property
    def fields(self) -> BindingDict:
        serializer: Any = self  # a Serializer: this class is only ever mixed into one
        cls = type(self)
        if cls.get_fields is not serializers.Serializer.get_fields:  # type: ignore[attr-defined]
            own: BindingDict | None = self.__dict__.get("_own_fields")
            if own is None:
                own = self.__dict__["_own_fields"] = BindingDict(serializer)
                for name, field in serializer.get_fields().items():
                    own[name] = field
            return own
        cache: dict[type, BindingDict] = _built_fields.__dict__.setdefault("by_class", {})
        fields = cache.get(cls)
        if fields is None:
            fields = cache[cls] = BindingDict(serializer)
            for name, field in serializer.get_fields().items():
                fields[name] = field
        elif fields.serializer is not self:
            # Rebound on every access, not once: two instances of a class alive in
            # one thread each read their own root through the parent.
            fields.serializer = serializer
            for field in fields.values():
                field.parent = serializer
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["unknown field"] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


def check_json_limits(value: Any, *, field: str, max_bytes: int) -> None:
    size = encoded_size(value)
    if size > max_bytes:
        raise PayloadTooLarge(
            f"{field} is {size} bytes encoded; the limit is {max_bytes}",
            details={field: [f"at most {max_bytes} bytes encoded"]},
        )
    depth = nesting_depth(value)
    limit = settings.AIRLOCK["PAYLOAD_MAX_DEPTH"]
    if depth > limit:
        raise serializers.ValidationError(f"nested {depth} deep; the limit is {limit}")


class OutboundURLField(StrictCharField):
    """A URL Airlock will call: https (unless allowed otherwise), and not an address
    inside the network (see ``airlock.netsafety``)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 2048)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not value:
            return value
        try:
            return check_outbound_url(
                value,
                allow_http=settings.AIRLOCK["ALLOW_HTTP_CALLBACKS"],
                allow_private=settings.AIRLOCK["ALLOW_PRIVATE_CALLBACKS"],
            )
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from exc
