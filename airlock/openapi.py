"""The OpenAPI document says what the server does (checked by Schemathesis in CI).

- Every operation under ``/api/`` documents the errors any of them can answer, in
  API.md's error shape, with ``Retry-After`` on 429 and 503.
- Request bodies refuse unknown fields (``additionalProperties: false``), as the
  serializers do, and strings that must not hold control characters say so.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "API.md's error shape, for every error under /api/",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "example": "self_approval"},
                "message": {"type": "string"},
                "details": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "for 400: each bad field and what is wrong with it",
                },
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "description": "seconds to wait before trying again",
    }
}

# Any operation: bad query or body, bad credentials, a role it lacks, an unknown id
# or URL, the rate limit, a dependency away.
COMMON = {
    400: "bad input; `details` names each bad field",
    401: "no or bad credentials",
    403: "authenticated but not allowed",
    404: "no such object, or not visible to you",
    429: "rate limited; see Retry-After",
    503: "the database is not answering; see Retry-After",
}
WITH_BODY = {
    409: "conflicts with the current state",
    413: "request body too large",
    415: "the body is not application/json",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: Any) -> Any:
    """drf-spectacular postprocessing hook."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = dict(COMMON)
            if method in ("post", "put", "patch"):
                codes.update(WITH_BODY)
            responses = operation["responses"]
            for code, description in codes.items():
                entry = responses.setdefault(str(code), {"description": description})
                entry.setdefault("content", content)
                if code in (429, 503):
                    entry.setdefault("headers", RETRY_AFTER)
    return result


class StrictRequestExtension(OpenApiSerializerExtension):
    """A serializer with ``RejectUnknownFields``: unknown fields are a 400."""

    target_class = "airlock.fields.RejectUnknownFields"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


# What airlock.validation.has_control_characters refuses (tab, CR, LF allowed in
# multi-line fields).
_NO_CONTROL = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
_NO_CONTROL_MULTILINE = (
    "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
)


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    target_class = "airlock.fields.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> Any:
        schema = build_basic_type(OpenApiTypes.STR) or {"type": "string"}
        field = self.target
        if getattr(field, "max_length", None) is not None:
            schema["maxLength"] = field.max_length
        if getattr(field, "min_length", None) is not None:
            schema["minLength"] = field.min_length
        elif not getattr(field, "allow_blank", False):
            schema["minLength"] = 1
        pattern = getattr(field, "schema_pattern", None)
        schema["pattern"] = pattern or (_NO_CONTROL_MULTILINE if field.multiline else _NO_CONTROL)
        return schema
