"""The grants API: redeem (an executor, i.e. an agent identity), revoke (an admin or
the agent's owner), and the public keys executors verify grants with."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Agent
from airlock.errors import Forbidden, NotFound
from airlock.fields import RejectUnknownFields, StrictCharField, check_json_limits
from approvals import selectors
from approvals.grants import keys
from approvals.serializers import ActionSerializer
from approvals.services import grants as grant_services
from approvals.views import ERROR_RESPONSES

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class RedeemSerializer(RejectUnknownFields, serializers.Serializer):
    grant = serializers.CharField(max_length=8192, trim_whitespace=True)
    payload = serializers.JSONField(
        required=False, allow_null=True, help_text="the payload the executor will run"
    )

    def validate_payload(self, value: Any) -> Any:
        check_json_limits(value, field="payload", max_bytes=settings.AIRLOCK["PAYLOAD_MAX_BYTES"])
        return value


class RevokeSerializer(RejectUnknownFields, serializers.Serializer):
    reason = StrictCharField(max_length=2000, multiline=True)


class GrantRedeem(APIView):
    @extend_schema(
        request=RedeemSerializer,
        responses={
            200: inline_serializer(
                "Redemption",
                {
                    "claims": serializers.DictField(),
                    "credential": serializers.DictField(allow_null=True),
                },
            ),
            401: OpenApiResponse(description="`invalid_grant`"),
            409: OpenApiResponse(
                description="`already_redeemed`, `grant_revoked`, `payload_mismatch`"
            ),
            503: OpenApiResponse(description="`broker_unavailable`"),
        },
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.user, Agent):
            raise Forbidden("grants are redeemed by an executor's agent identity")
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        redemption = grant_services.redeem(
            token=data["grant"],
            actor=request.user,
            payload=data.get("payload", grant_services.NO_PAYLOAD),
        )
        body = {"claims": redemption.claims, "credential": redemption.credential}
        return Response(body, headers=NO_STORE)


class GrantRevoke(APIView):
    @extend_schema(request=RevokeSerializer, responses={200: ActionSerializer, **ERROR_RESPONSES})
    def post(self, request: Request, action_id: UUID) -> Response:
        if selectors.visible_action(request.user, action_id) is None:  # type: ignore[arg-type]
            raise NotFound("no such action request")
        if isinstance(request.user, Agent):
            raise grant_services.RevokeForbidden()
        serializer = RevokeSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        action = grant_services.revoke(
            action_id=action_id,
            actor=request.user,  # type: ignore[arg-type]
            reason=serializer.validated_data["reason"],
        )
        selectors.load_for_representation(action)
        return Response(ActionSerializer(action, context={"request": request}).data)


@require_GET
def jwks(request: HttpRequest) -> JsonResponse:
    """The keys grants are signed with, retired ones until their last grant expires.
    Cached for less than a rotation's overlap (15 minutes)."""
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=300"
    return response
