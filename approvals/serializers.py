"""The wire contract of API.md's "Action requests": input checks and the representation."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from airlock.errors import PayloadTooLarge
from airlock.netsafety import UnsafeURL, check_outbound_url
from approvals.models import ActionRequest, Outcome
from approvals.validation import encoded_size, has_control_characters, nesting_depth

ACTION_RE = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")


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


class RejectUnknownFields:
    """A typo in a field name is an error, not a silently ignored field (nested too)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)  # type: ignore[attr-defined]
            if unknown:
                raise serializers.ValidationError(
                    {name: ["unknown field"] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


def _check_json_limits(value: Any, *, field: str, max_bytes: int) -> None:
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


class ActionCreateSerializer(RejectUnknownFields, serializers.Serializer):
    action = StrictCharField(max_length=128, schema_pattern=ACTION_RE.pattern)
    resource = StrictCharField(max_length=512)
    environment = StrictCharField(max_length=64, required=False, allow_blank=True)
    payload = serializers.JSONField(required=False, allow_null=True)
    justification = StrictCharField(
        max_length=2000, required=False, allow_blank=True, multiline=True, trim_whitespace=False
    )
    on_behalf_of = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    callback_url = StrictCharField(required=False, allow_blank=True, max_length=2048)
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

    def validate_on_behalf_of(self, value: str) -> str:
        return value.strip().lower()

    def validate_payload(self, value: Any) -> Any:
        _check_json_limits(value, field="payload", max_bytes=settings.AIRLOCK["PAYLOAD_MAX_BYTES"])
        return value

    def validate_context(self, value: dict[str, Any]) -> dict[str, Any]:
        _check_json_limits(value, field="context", max_bytes=settings.AIRLOCK["CONTEXT_MAX_BYTES"])
        return value

    def validate_callback_url(self, value: str) -> str:
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


class CommentSerializer(RejectUnknownFields, serializers.Serializer):
    comment = StrictCharField(
        max_length=2000, required=False, allow_blank=True, multiline=True, trim_whitespace=False
    )


class DenySerializer(RejectUnknownFields, serializers.Serializer):
    reason = StrictCharField(max_length=2000, multiline=True)


class RevealSerializer(RejectUnknownFields, serializers.Serializer):
    """Why the original is needed: kept in the audit log with who asked."""

    reason = StrictCharField(max_length=2000, multiline=True)


class RevealedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    payload = serializers.JSONField(help_text="the original payload, as filed")
    payload_sha256 = serializers.CharField()


class OutcomeSerializer(RejectUnknownFields, serializers.Serializer):
    result = serializers.ChoiceField(choices=Outcome.choices)
    detail = serializers.DictField(required=False)

    def validate_detail(self, value: dict[str, Any]) -> dict[str, Any]:
        _check_json_limits(
            value, field="detail", max_bytes=settings.AIRLOCK["OUTCOME_DETAIL_MAX_BYTES"]
        )
        return value


# --- representation -------------------------------------------------------------------


class RequesterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["agent", "person"])
    id = serializers.CharField()
    owner = serializers.EmailField(allow_null=True)


class PolicySerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True)
    rules = serializers.ListField(child=serializers.CharField())
    effect = serializers.CharField()
    message = serializers.CharField(allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    reviewer = serializers.EmailField(source="reviewer.email")
    verdict = serializers.CharField()
    comment = serializers.CharField()
    at = serializers.DateTimeField(source="created_at")


class FindingSerializer(serializers.Serializer):
    """Where something was found, what and how sure: never the value."""

    path = serializers.CharField()
    entity = serializers.CharField()
    score = serializers.FloatField()
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    key = serializers.BooleanField(required=False, help_text="found in an object key")


class RequirementSerializer(serializers.Serializer):
    rule = serializers.CharField()
    approvals = serializers.IntegerField()
    reviewers = serializers.ListField(child=serializers.CharField())
    approved = serializers.IntegerField()


class OutcomeViewSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=Outcome.choices)
    at = serializers.DateTimeField()


class ActionSerializer(serializers.ModelSerializer):
    """The request as API.md shows it. ``payload`` is the copy a reviewer may see."""

    requester = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField()
    reviews = ReviewSerializer(many=True, read_only=True)
    findings = FindingSerializer(many=True, read_only=True)
    payload = serializers.JSONField(read_only=True)
    on_behalf_of = serializers.SerializerMethodField()
    reviewer_groups = serializers.SerializerMethodField()
    requirements = serializers.SerializerMethodField()
    outcome = serializers.SerializerMethodField()
    grant = serializers.SerializerMethodField()

    class Meta:
        model = ActionRequest
        fields = [
            "id",
            "status",
            "action",
            "resource",
            "environment",
            "requester",
            "on_behalf_of",
            "payload",
            "findings",
            "screened_at",
            "screening_note",
            "original_kept",
            "reveal_allowed",
            "policy",
            "approvals_required",
            "requirements",
            "reviewer_groups",
            "reviews",
            "justification",
            "created_at",
            "decided_at",
            "expires_at",
            "outcome",
            "grant",
        ]
        read_only_fields = fields

    @extend_schema_field(RequesterSerializer)
    def get_requester(self, obj: ActionRequest) -> dict[str, Any]:
        if obj.requester_agent_id:
            agent = obj.requester_agent
            return {"type": "agent", "id": agent.name, "owner": agent.owner.email}  # type: ignore[union-attr]
        return {"type": "person", "id": obj.requester_user.email, "owner": None}  # type: ignore[union-attr]

    @extend_schema_field(PolicySerializer)
    def get_policy(self, obj: ActionRequest) -> dict[str, Any]:
        return {
            "version": obj.policy_version,
            "rules": obj.policy_rules,
            "effect": obj.policy_effect,
            "message": obj.policy_message,
        }

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_on_behalf_of(self, obj: ActionRequest) -> str | None:
        return obj.on_behalf_of or None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reviewer_groups(self, obj: ActionRequest) -> list[str]:
        return sorted(group.name for group in obj.reviewer_groups.all())

    @extend_schema_field(RequirementSerializer(many=True))
    def get_requirements(self, obj: ActionRequest) -> list[dict[str, Any]]:
        return obj.progress(obj.reviews.all())

    @extend_schema_field(OutcomeViewSerializer(allow_null=True))
    def get_outcome(self, obj: ActionRequest) -> dict[str, Any] | None:
        if not obj.outcome or obj.outcome_at is None:
            return None
        return {
            "result": obj.outcome,
            "at": serializers.DateTimeField().to_representation(obj.outcome_at),
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_grant(self, obj: ActionRequest) -> str | None:
        # Grants are issued by the grants feature (roadmap); until then none exists.
        return None
