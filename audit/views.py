from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from airlock.errors import Forbidden, InvalidInput
from audit import selectors

PAGE_SIZE = 500


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    type = serializers.CharField(source="event_type")
    actor = serializers.CharField()
    target = serializers.CharField()
    # Declared fields leave the class body, so this does not shadow Serializer.data.
    data = serializers.JSONField()  # type: ignore[assignment]


class AuditEventList(APIView):
    """Append-only events in sequence order, for auditors and admins.

    Page with ``after``: pass the ``next_after`` of one page to get the next.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="only events with a larger sequence"),
            OpenApiParameter("type", str),
            OpenApiParameter("target", str),
            OpenApiParameter("limit", int, description=f"at most {PAGE_SIZE}"),
        ],
        responses=inline_serializer(
            "AuditEventPage",
            {
                "results": AuditEventSerializer(many=True),
                "next_after": serializers.IntegerField(allow_null=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        if not selectors.can_read_audit(request.user):
            raise Forbidden("the audit log is for airlock-auditors and airlock-admins")
        after = _int_param(request, "after", minimum=0)
        limit = _int_param(request, "limit", minimum=1) or PAGE_SIZE
        queryset = selectors.events(
            after=after,
            event_type=request.query_params.get("type") or None,
            target=request.query_params.get("target") or None,
        )
        page = list(queryset[: min(limit, PAGE_SIZE)])
        return Response(
            {
                "results": AuditEventSerializer(page, many=True).data,
                "next_after": page[-1].seq if page else after,
            }
        )


def _int_param(request: Request, name: str, *, minimum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(details={name: ["must be an integer"]}) from None
    if value < minimum:
        raise InvalidInput(details={name: [f"must be at least {minimum}"]})
    return value
