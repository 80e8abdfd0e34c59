"""Evidence reports API: request a package, watch it build, download it."""

from __future__ import annotations

from uuid import UUID

from django.http import FileResponse
from drf_spectacular.utils import OpenApiTypes, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from airlock.errors import Forbidden, InvalidInput, NotFound
from evidence import selectors, services
from evidence.models import EvidenceReport
from evidence.serializers import ReportRequestSerializer, ReportSerializer


def _person(request: Request) -> User:
    if not isinstance(request.user, User) or not services.may_use_evidence(request.user):
        raise Forbidden("evidence reports are for airlock-auditors and airlock-admins")
    return request.user


def _report(request: Request, report_id: UUID) -> EvidenceReport:
    report = selectors.visible_report(_person(request), report_id)
    if report is None:
        raise NotFound("no such report")
    return report


class ReportCollection(APIView):
    @extend_schema(operation_id="reports_list", responses=ReportSerializer(many=True))
    def get(self, request: Request) -> Response:
        reports = selectors.reports_visible_to(_person(request))[:200]
        return Response(ReportSerializer(reports, many=True).data)

    @extend_schema(
        operation_id="reports_create",
        # The wire names (`from`, `to`) are Python keywords, so the schema says them here.
        request=inline_serializer(
            "ReportRequest",
            {
                "framework": serializers.ChoiceField(choices=["soc2"], required=False),
                "from": serializers.DateField(),
                "to": serializers.DateField(),
                "sample": serializers.IntegerField(required=False, min_value=0, max_value=1000),
                "seed": serializers.CharField(required=False, min_length=1, max_length=64),
            },
        ),
        responses={202: ReportSerializer},
    )
    def post(self, request: Request) -> Response:
        actor = _person(request)
        body = request.data if isinstance(request.data, dict) else {}
        wire = {
            **{k: v for k, v in body.items() if k not in ("from", "to")},
            "period_from": body.get("from"),
            "period_to": body.get("to"),
        }
        serializer = ReportRequestSerializer(data=wire)
        if not serializer.is_valid():
            names = {"period_from": "from", "period_to": "to"}
            raise InvalidInput(
                details={names.get(k, k): [str(e) for e in v] for k, v in serializer.errors.items()}
            )
        data = serializer.validated_data
        report = services.request_report(
            actor=actor,
            framework=data["framework"],
            period_from=data["period_from"],
            period_to=data["period_to"],
            sample_size=data.get("sample"),
            seed=data.get("seed"),
        )
        report.refresh_from_db()
        return Response(ReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class ReportDetail(APIView):
    @extend_schema(operation_id="reports_retrieve", responses=ReportSerializer)
    def get(self, request: Request, report_id: UUID) -> Response:
        return Response(ReportSerializer(_report(request, report_id)).data)


class ReportDownload(APIView):
    @extend_schema(
        operation_id="reports_download", responses={(200, "application/zip"): OpenApiTypes.BINARY}
    )
    def get(self, request: Request, report_id: UUID) -> FileResponse:
        report = _report(request, report_id)
        path = services.record_download(actor=_person(request), report=report)
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=report.file_name,
            content_type="application/zip",
        )
