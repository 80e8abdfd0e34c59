from __future__ import annotations

from typing import Any

from rest_framework import serializers

from approvals.serializers import ActionCreateSerializer, RejectUnknownFields, StrictCharField
from policies.document import MAX_DOCUMENT_BYTES
from policies.models import PolicyVersion


class PolicyVersionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_name")
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = PolicyVersion
        fields = [
            "version",
            "status",
            "sha256",
            "author",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "document",
            "parsed",
        ]
        read_only_fields = fields

    def get_decided_by(self, obj: PolicyVersion) -> str | None:
        return obj.decided_by.email if obj.decided_by else None


class PolicySummarySerializer(PolicyVersionSerializer):
    class Meta(PolicyVersionSerializer.Meta):
        fields = ["version", "status", "sha256", "author", "created_at", "decided_by", "decided_at"]
        read_only_fields = fields


class ProposeSerializer(RejectUnknownFields, serializers.Serializer):
    document = StrictCharField(max_length=MAX_DOCUMENT_BYTES, multiline=True, trim_whitespace=False)


class RejectSerializer(RejectUnknownFields, serializers.Serializer):
    reason = StrictCharField(max_length=2000, multiline=True)


class SimulatedRequestSerializer(ActionCreateSerializer):
    """A request as an agent would file it, plus the agent's name."""

    agent = serializers.CharField(required=False, allow_null=True, max_length=64)


class FindingInputSerializer(RejectUnknownFields, serializers.Serializer):
    entity = serializers.RegexField(r"^[A-Z][A-Z0-9_]{0,63}$")
    score = serializers.FloatField(min_value=0, max_value=1, required=False, default=1.0)
    path = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class SimulateSerializer(RejectUnknownFields, serializers.Serializer):
    document = StrictCharField(
        max_length=MAX_DOCUMENT_BYTES, multiline=True, trim_whitespace=False, required=False
    )
    request = SimulatedRequestSerializer()
    findings = FindingInputSerializer(many=True, required=False)


class BacktestSerializer(RejectUnknownFields, serializers.Serializer):
    document = StrictCharField(max_length=MAX_DOCUMENT_BYTES, multiline=True, trim_whitespace=False)
    days = serializers.IntegerField(min_value=1, max_value=90, default=30)


def facts_from(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": data["action"],
        "resource": data["resource"],
        "environment": data.get("environment", ""),
        "agent": data.get("agent"),
        "payload": data.get("payload"),
        "context": data.get("context") or {},
        "justification": data.get("justification", ""),
    }
