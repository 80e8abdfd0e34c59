from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from rest_framework import serializers

from airlock.fields import OutboundURLField, RejectUnknownFields, StrictCharField, check_json_limits
from policies.decisions import RequestFacts
from policies.document import MAX_DOCUMENT_BYTES
from policies.models import PolicyVersion

ACTION_RE = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


class RequestFactsSerializer(RejectUnknownFields, serializers.Serializer):
    """The part of API.md's request that policy reads: filed by an agent
    (``approvals``' ActionCreateSerializer) or described to the simulator."""

    action = StrictCharField(max_length=128, schema_pattern=ACTION_RE.pattern)
    resource = StrictCharField(max_length=512)
    environment = StrictCharField(max_length=64, required=False, allow_blank=True)
    payload = serializers.JSONField(required=False, allow_null=True)
    justification = StrictCharField(
        max_length=2000, required=False, allow_blank=True, multiline=True, trim_whitespace=False
    )
    # Declared fields leave the class body, so this does not shadow Field.context.
    context = serializers.DictField(required=False)  # type: ignore[assignment]

    def validate_action(self, value: str) -> str:
        if not ACTION_RE.match(value):
            raise serializers.ValidationError(
                "a dotted lower-case verb such as data.export ([a-z0-9_-] between dots)"
            )
        return value

    def validate_resource(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("must not be blank")
        return value

    def validate_payload(self, value: Any) -> Any:
        check_json_limits(value, field="payload", max_bytes=settings.AIRLOCK["PAYLOAD_MAX_BYTES"])
        return value

    def validate_context(self, value: dict[str, Any]) -> dict[str, Any]:
        check_json_limits(value, field="context", max_bytes=settings.AIRLOCK["CONTEXT_MAX_BYTES"])
        return value


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


class SimulatedRequestSerializer(RequestFactsSerializer):
    """A request as an agent would file it, plus the agent's name."""

    agent = serializers.CharField(required=False, allow_null=True, max_length=64)
    # Accepted as in a filing, so a request can be pasted as it is; policy reads neither.
    on_behalf_of = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    callback_url = OutboundURLField(required=False, allow_blank=True)


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


def facts_from(data: dict[str, Any]) -> RequestFacts:
    return RequestFacts.from_mapping(data)
