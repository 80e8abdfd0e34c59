"""Policies API: list, detail, propose, approve, reject, simulate. (Backtest replays
stored requests, so it is served by approvals.)"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from airlock.errors import Forbidden, NotFound
from policies import selectors, services
from policies.serializers import (
    PolicySummarySerializer,
    PolicyVersionSerializer,
    ProposeSerializer,
    RejectSerializer,
    SimulateSerializer,
    facts_from,
)

DecisionSchema = inline_serializer(
    "PolicyDecision",
    {
        "effect": serializers.CharField(),
        "rules": serializers.ListField(child=serializers.CharField()),
        "version": serializers.IntegerField(allow_null=True),
        "approvals": serializers.IntegerField(),
        "reviewers": serializers.ListField(child=serializers.CharField()),
        "requirements": serializers.ListField(child=serializers.DictField()),
        "timeout_seconds": serializers.IntegerField(allow_null=True),
        "require_justification": serializers.BooleanField(),
        "message": serializers.CharField(),
        "depends_on_findings": serializers.BooleanField(),
        "reveal": serializers.BooleanField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)


def _require_reader(request: Request) -> None:
    if not roles.can_read_policies(request.user):
        raise Forbidden("policies are for airlock-admins and airlock-auditors")


class PolicyCollection(APIView):
    @extend_schema(
        operation_id="policies_list",
        responses=inline_serializer(
            "PolicyList",
            {
                "active": PolicyVersionSerializer(allow_null=True),
                "versions": PolicySummarySerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        _require_reader(request)
        active = selectors.active_version()
        return Response(
            {
                "active": PolicyVersionSerializer(active).data if active else None,
                "versions": PolicySummarySerializer(selectors.versions()[:200], many=True).data,
            }
        )

    @extend_schema(request=ProposeSerializer, responses={201: PolicyVersionSerializer})
    def post(self, request: Request) -> Response:
        serializer = ProposeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.propose(
            document=serializer.validated_data["document"],
            actor=request.user,  # type: ignore[arg-type]
        )
        return Response(PolicyVersionSerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetail(APIView):
    @extend_schema(operation_id="policies_retrieve", responses=PolicyVersionSerializer)
    def get(self, request: Request, version: int) -> Response:
        _require_reader(request)
        policy = selectors.version(version)
        if policy is None:
            raise NotFound(f"no policy version {version}")
        return Response(PolicyVersionSerializer(policy).data)


class PolicyApprove(APIView):
    @extend_schema(request=None, responses=PolicyVersionSerializer)
    def post(self, request: Request, version: int) -> Response:
        policy = services.approve(version=version, actor=request.user)  # type: ignore[arg-type]
        return Response(PolicyVersionSerializer(policy).data)


class PolicyReject(APIView):
    @extend_schema(request=RejectSerializer, responses=PolicyVersionSerializer)
    def post(self, request: Request, version: int) -> Response:
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = services.reject(
            version=version,
            actor=request.user,  # type: ignore[arg-type]
            reason=serializer.validated_data["reason"],
        )
        return Response(PolicyVersionSerializer(policy).data)


class PolicySimulate(APIView):
    @extend_schema(request=SimulateSerializer, responses=DecisionSchema)
    def post(self, request: Request) -> Response:
        _require_reader(request)
        serializer = SimulateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decision = services.simulate(
            document=data.get("document"),
            facts=facts_from(data["request"]),
            findings=data.get("findings", []),
        )
        return Response(decision.as_dict())
