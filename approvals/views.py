"""Thin adapters: parse, authorise, call one service, render."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from airlock import openapi  # noqa: F401 - registers the OpenAPI extensions
from airlock.errors import Forbidden, InvalidInput, NotFound
from approvals import selectors, services
from approvals.backtest import backtest
from approvals.longpoll import WaitSpec
from approvals.models import ActionRequest, ActionStatus
from approvals.serializers import (
    ActionCreateSerializer,
    ActionSerializer,
    CommentSerializer,
    DenySerializer,
    OutcomeSerializer,
    RevealedSerializer,
    RevealSerializer,
)
from policies import services as policy_services
from policies.serializers import BacktestSerializer

WAIT_PARAM = OpenApiParameter(
    "wait",
    {"type": "integer", "minimum": 0, "maximum": settings.AIRLOCK["MAX_WAIT_SECONDS"]},
    description="hold the response until the request is decided or N (0-30) seconds pass",
)
IDEMPOTENCY_KEY_PARAM = OpenApiParameter(
    "Idempotency-Key",
    # What _idempotency_key accepts: 1 to 255 printable ASCII characters (a header
    # value cannot begin or end with a space).
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
    location=OpenApiParameter.HEADER,
    description="the same key from the same agent replays the first request (200)",
)
ERROR_RESPONSES = {
    400: OpenApiResponse(description="bad input; `details` names each bad field"),
    401: OpenApiResponse(description="no or bad credentials"),
    403: OpenApiResponse(description="`self_approval`, `not_a_reviewer`, `not_requester`"),
    404: OpenApiResponse(description="no such request, or not visible to you"),
    409: OpenApiResponse(description="`not_pending`, `already_reviewed`, `idempotency_conflict`"),
    413: OpenApiResponse(description="payload or body too large"),
    429: OpenApiResponse(description="rate limited; see Retry-After"),
}


def _wait_seconds(request: Request) -> int:
    raw = request.query_params.get("wait")
    if raw in (None, ""):
        return 0
    limit = settings.AIRLOCK["MAX_WAIT_SECONDS"]
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(details={"wait": ["must be a whole number of seconds"]}) from None
    if not 0 <= value <= limit:
        raise InvalidInput(details={"wait": [f"must be between 0 and {limit}"]})
    return value


def _filter(request: Request, name: str) -> str | None:
    return selectors.checked_filter(name, request.query_params.get(name) or None)


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not key or len(key) > 255 or not key.isascii() or not key.isprintable():
        raise InvalidInput(details={"Idempotency-Key": ["1 to 255 printable ASCII characters"]})
    return key


def _visible(request: Request, action_id: UUID) -> ActionRequest:
    action = selectors.visible_action(request.user, action_id)  # type: ignore[arg-type]
    if action is None:
        raise NotFound("no such action request")
    return action


def _represent(request: Request, action: ActionRequest) -> dict[str, Any]:
    selectors.load_for_representation(action)
    return ActionSerializer(action, context={"request": request}).data


def _respond(
    request: Request, action: ActionRequest, status_code: int = 200, wait: int = 0
) -> Response:
    """The representation, and if the request is still open, a wait spec for the
    long-poll wrapper. ``action`` is one the caller may see: read through the
    selectors, or just written by the caller through a service."""
    body = _represent(request, action)
    response = Response(body, status=status_code)
    if wait and body["status"] in (ActionStatus.SCREENING, ActionStatus.PENDING):
        response.airlock_wait = WaitSpec(  # type: ignore[attr-defined]
            action_id=action.pk,
            timeout=wait,
            refresh=lambda: _represent(request, _visible(request, action.pk)),
        )
    return response


class ActionPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


class ActionCollection(APIView):
    # Read by drf-spectacular: the list is documented as the page it is.
    pagination_class = ActionPagination

    @extend_schema(
        operation_id="actions_list",
        parameters=[
            OpenApiParameter("status", str, description="comma-separated statuses"),
            OpenApiParameter(
                "action",
                {"type": "string", "maxLength": selectors.FILTER_LIMITS["action"]},
                description=f"a glob such as data.* (at most {selectors.MAX_WILDCARDS} wildcards)",
            ),
            OpenApiParameter(
                "environment",
                {"type": "string", "maxLength": selectors.FILTER_LIMITS["environment"]},
            ),
            OpenApiParameter(
                "agent",
                {"type": "string", "maxLength": selectors.FILTER_LIMITS["agent"]},
                description="the requesting agent's name",
            ),
            OpenApiParameter("cursor", str),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": ActionPagination.max_page_size},
                description="page size, at most 200",
            ),
        ],
        responses={200: ActionSerializer(many=True), **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        statuses = [s for s in request.query_params.get("status", "").split(",") if s]
        bad = [s for s in statuses if s not in ActionStatus.values]
        if bad:
            raise InvalidInput(
                details={"status": [f"unknown status {s!r}" for s in bad]},
            )
        queryset = selectors.filter_requests(
            selectors.requests_visible_to(request.user),  # type: ignore[arg-type]
            statuses=statuses,
            action_glob=_filter(request, "action"),
            environment=_filter(request, "environment"),
            agent=_filter(request, "agent"),
        )
        paginator = ActionPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        data = ActionSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="actions_create",
        request=ActionCreateSerializer,
        parameters=[WAIT_PARAM, IDEMPOTENCY_KEY_PARAM],
        responses={
            201: ActionSerializer,
            200: OpenApiResponse(ActionSerializer, description="replay of an Idempotency-Key"),
            **ERROR_RESPONSES,
        },
    )
    def post(self, request: Request) -> Response:
        wait = _wait_seconds(request)
        key = _idempotency_key(request)
        serializer = ActionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.submit(
            actor=request.user,  # type: ignore[arg-type]
            data=serializer.validated_data,
            idempotency_key=key,
        )
        status_code = status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK
        return _respond(request, submission.action, status_code, wait)


class ActionDetail(APIView):
    @extend_schema(
        operation_id="actions_retrieve",
        parameters=[WAIT_PARAM],
        responses={200: ActionSerializer, **ERROR_RESPONSES},
    )
    def get(self, request: Request, action_id: UUID) -> Response:
        return _respond(request, _visible(request, action_id), wait=_wait_seconds(request))


class ActionApprove(APIView):
    @extend_schema(request=CommentSerializer, responses={200: ActionSerializer, **ERROR_RESPONSES})
    def post(self, request: Request, action_id: UUID) -> Response:
        serializer = CommentSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        action = services.approve(
            action_id=action_id,
            actor=request.user,  # type: ignore[arg-type]
            comment=serializer.validated_data.get("comment", ""),
        )
        return _respond(request, action)


class ActionDeny(APIView):
    @extend_schema(request=DenySerializer, responses={200: ActionSerializer, **ERROR_RESPONSES})
    def post(self, request: Request, action_id: UUID) -> Response:
        serializer = DenySerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        action = services.deny(
            action_id=action_id,
            actor=request.user,  # type: ignore[arg-type]
            reason=serializer.validated_data["reason"],
        )
        return _respond(request, action)


class ActionCancel(APIView):
    @extend_schema(request=None, responses={200: ActionSerializer, **ERROR_RESPONSES})
    def post(self, request: Request, action_id: UUID) -> Response:
        action = services.cancel(action_id=action_id, actor=request.user)  # type: ignore[arg-type]
        return _respond(request, action)


class ActionOutcome(APIView):
    @extend_schema(request=OutcomeSerializer, responses={200: ActionSerializer, **ERROR_RESPONSES})
    def post(self, request: Request, action_id: UUID) -> Response:
        serializer = OutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action = services.report_outcome(
            action_id=action_id,
            actor=request.user,  # type: ignore[arg-type]
            result=serializer.validated_data["result"],
            detail=serializer.validated_data.get("detail"),
        )
        return _respond(request, action)


class ActionReveal(APIView):
    """The original payload, for an eligible reviewer, with a reason; audited."""

    @extend_schema(request=RevealSerializer, responses={200: RevealedSerializer, **ERROR_RESPONSES})
    def post(self, request: Request, action_id: UUID) -> Response:
        action = _visible(request, action_id)
        serializer = RevealSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        original = services.reveal(
            action_id=action.pk,
            actor=request.user,  # type: ignore[arg-type]
            reason=serializer.validated_data["reason"],
        )
        body = {"id": action.pk, "payload": original, "payload_sha256": action.payload_sha256}
        # Never kept by a browser or a proxy.
        return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


class PolicyBacktest(APIView):
    @extend_schema(
        request=BacktestSerializer,
        responses=inline_serializer(
            "BacktestReport",
            {
                "days": serializers.IntegerField(),
                "requests": serializers.IntegerField(),
                "changed": serializers.IntegerField(),
                "stricter": serializers.IntegerField(),
                "looser": serializers.IntegerField(),
                "requirements_changed": serializers.IntegerField(),
                "directions": serializers.DictField(child=serializers.IntegerField()),
                "examples": serializers.DictField(),
                "truncated": serializers.BooleanField(),
            },
        ),
    )
    def post(self, request: Request) -> Response:
        if not roles.can_read_policies(request.user):
            raise Forbidden("policies are for airlock-admins and airlock-auditors")
        serializer = BacktestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        parsed = policy_services.parse(serializer.validated_data["document"])
        report = backtest(parsed, days=serializer.validated_data["days"])
        return Response(report.as_dict())
