"""Audit API: events (filtered, paged), export, verify, inclusion proofs, public keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# The HTTP adapter authorises people, so it sits above accounts; the log itself does not.
from accounts import roles
from airlock.errors import Conflict, Forbidden, InvalidInput, NotFound
from audit import catalogue, keys, selectors, sequencer
from audit import verify as chain
from audit.models import AuditEvent
from audit.verification import checkpoint_rows, event_rows, verify_database

PAGE_SIZE = 500

FILTERS = [
    OpenApiParameter("after", int, description="only events with a larger sequence number"),
    OpenApiParameter("type", str, enum=catalogue.names(), description="an event type"),
    OpenApiParameter("actor", str, description="e.g. user:carol@example.com, agent:etl-bot"),
    OpenApiParameter("target", str, description="e.g. action:<id>, policy:3"),
    OpenApiParameter("since", str, description="ISO 8601; events at or after"),
    OpenApiParameter("until", str, description="ISO 8601; events before"),
]


class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    type = serializers.CharField(source="event_type")
    actor = serializers.CharField()
    target = serializers.CharField()
    # Declared fields leave the class body, so this does not shadow Serializer.data.
    data = serializers.JSONField()  # type: ignore[assignment]
    chain_hash = serializers.CharField()


def _require_auditor(request: Request) -> None:
    if not roles.can_read_audit(request.user):
        raise Forbidden("the audit log is for airlock-auditors and airlock-admins")


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


def _time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    problem = {name: ["an ISO 8601 time with a zone, e.g. 2026-11-22T00:00:00Z"]}
    try:
        value = parse_datetime(raw)  # ValueError for a well-formed impossible date
        if value is None or value.tzinfo is None:
            raise InvalidInput(details=problem)
        value.astimezone(UTC)  # OverflowError past year 9999 once in UTC
    except (ValueError, OverflowError):
        raise InvalidInput(details=problem) from None
    return value


def _type_param(request: Request) -> str | None:
    """A type from the catalogue: a misspelt type is an error, not an empty page."""
    raw = request.query_params.get("type") or None
    if raw is not None and raw not in catalogue.CATALOGUE:
        raise InvalidInput(details={"type": ["not an audit event type; see the catalogue"]})
    return raw


class NotSequenced(Conflict):
    """The event exists (it is committed) but has no place in the chain yet."""

    code = "not_sequenced"
    message = "the event is not sequenced yet"


def _filtered(request: Request, through: int | None = None) -> QuerySet[AuditEvent]:
    return selectors.events(
        through=through,
        after=_int_param(request, "after", minimum=0),
        event_type=_type_param(request),
        actor=request.query_params.get("actor") or None,
        target=request.query_params.get("target") or None,
        since=_time_param(request, "since"),
        until=_time_param(request, "until"),
    )


class AuditEventList(APIView):
    """Append-only events in sequence order. Page with ``after``: pass the
    ``next_after`` of one page to get the next. Only sequenced events are listed;
    ``sequenced_through`` says how far the chain reaches (events committed since
    wait for the sequencer, usually milliseconds)."""

    @extend_schema(
        parameters=[*FILTERS, OpenApiParameter("limit", int, description=f"at most {PAGE_SIZE}")],
        responses=inline_serializer(
            "AuditEventPage",
            {
                "results": AuditEventSerializer(many=True),
                "next_after": serializers.IntegerField(allow_null=True),
                "sequenced_through": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        _require_auditor(request)
        limit = _int_param(request, "limit", minimum=1) or PAGE_SIZE
        through = sequencer.sequenced_through()
        page = list(_filtered(request, through)[: min(limit, PAGE_SIZE)])
        return Response(
            {
                "results": AuditEventSerializer(page, many=True).data,
                "next_after": page[-1].seq if page else request.query_params.get("after"),
                "sequenced_through": through,
            }
        )


class AuditExport(APIView):
    """JSON Lines: a header with the published keys, every checkpoint, then the events
    with everything ``audit/verify.py`` needs. Filters give a partial export, which
    verifies only when it starts at the first event and is unfiltered. The header's
    ``sequenced_through`` is the last sequence number the export covers: events
    committed but not yet sequenced are in a later export."""

    @extend_schema(parameters=FILTERS, responses={(200, "application/jsonl"): str})
    def get(self, request: Request) -> StreamingHttpResponse:
        _require_auditor(request)
        through = sequencer.sequenced_through()
        queryset = _filtered(request, through)

        def lines() -> Iterator[str]:
            header = {
                "kind": "header",
                "origin": keys.origin(),
                "keys": keys.published_keys(),
                "sequenced_through": through,
            }
            yield json.dumps(header) + "\n"
            for checkpoint in checkpoint_rows():
                yield json.dumps({"kind": "checkpoint", **checkpoint}) + "\n"
            for row in event_rows(queryset):
                yield json.dumps({"kind": "event", **row}, ensure_ascii=False) + "\n"

        response = StreamingHttpResponse(lines(), content_type="application/jsonl")
        response["Content-Disposition"] = 'attachment; filename="airlock-audit.jsonl"'
        return response


class AuditVerify(APIView):
    @extend_schema(
        responses=inline_serializer(
            "AuditVerification",
            {
                "ok": serializers.BooleanField(),
                "events": serializers.IntegerField(),
                "head": serializers.CharField(allow_null=True),
                "first_bad_seq": serializers.IntegerField(allow_null=True),
                "checkpoints": serializers.IntegerField(),
                "problems": serializers.ListField(child=serializers.CharField()),
                "unsequenced": serializers.IntegerField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        """``events`` is the sequenced log that was verified; ``unsequenced`` how many
        committed events wait for the sequencer (counted up to 10,000)."""
        _require_auditor(request)
        result = verify_database().as_dict()
        return Response({**result, "unsequenced": sequencer.status()["unsequenced"]})


class AuditProof(APIView):
    """An RFC 6962 inclusion proof of one event against the latest checkpoint."""

    @extend_schema(
        responses=inline_serializer(
            "AuditInclusionProof",
            {
                "seq": serializers.IntegerField(),
                "leaf_index": serializers.IntegerField(),
                "tree_size": serializers.IntegerField(),
                "leaf_hash": serializers.CharField(),
                "canonical": serializers.CharField(),
                "proof": serializers.ListField(child=serializers.CharField()),
                "checkpoint": serializers.CharField(),
            },
        )
    )
    def get(self, request: Request, seq: int) -> Response:
        _require_auditor(request)
        through = sequencer.sequenced_through()
        event = selectors.sequenced().filter(seq=seq, seq__lte=through).first()
        if event is None:
            waiting = sequencer.status()["unsequenced"]
            if through < seq <= through + waiting:
                raise NotSequenced(
                    f"event {seq} is not sequenced yet: the log is sequenced through "
                    f"{through} and {waiting} committed events wait for the sequencer; "
                    "ask again shortly",
                    details={"sequenced_through": through, "unsequenced": waiting},
                )
            raise NotFound(f"no audit event {seq}")
        checkpoint = selectors.latest_checkpoint_covering(seq)
        if checkpoint is None:
            raise NotFound(
                "no checkpoint covers this event yet: Celery beat signs one every "
                "AUDIT_CHECKPOINT_SECONDS; without beat (the embedded default) run "
                "`manage.py audit_checkpoint`"
            )
        leaves = list(selectors.leaf_hashes(up_to=checkpoint.tree_size))
        path = chain.inclusion_proof(seq - 1, leaves)
        return Response(
            {
                "seq": seq,
                "leaf_index": seq - 1,
                "tree_size": checkpoint.tree_size,
                "leaf_hash": event.leaf_hash,
                "canonical": event.canonical,
                "proof": [node.hex() for node in path],
                "checkpoint": checkpoint.note,
            }
        )


@csrf_exempt
@require_GET
def sequencer_health(request: HttpRequest) -> JsonResponse:
    """Public, for monitors: is the sequencer keeping up? 503 when stalled (the oldest
    unsequenced event has waited longer than ``AUDIT_SEQUENCE_STALL_SECONDS``). It
    names counts and ages only, never an event.

    Exempt from CSRF like every view under ``/api/`` (``airlock.handlers``): it reads
    and changes nothing, so any other method is its 405, not the CSRF check's 403."""
    state = sequencer.status()
    return JsonResponse(state, status=503 if state["stalled"] else 200)


@require_GET
def published_keys(request: HttpRequest) -> JsonResponse:
    """Public: the keys that sign checkpoints, with their validity periods."""
    return JsonResponse({"origin": keys.origin(), "keys": keys.published_keys()})
