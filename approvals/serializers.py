"""The wire contract of API.md's "Action requests": input checks and the representation."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from airlock.fields import (
    OutboundURLField,
    RejectUnknownFields,
    StrictCharField,
    check_json_limits,
)
from approvals import grants
from approvals.models import ActionRequest, Outcome
from policies.serializers import RequestFactsSerializer


class ActionCreateSerializer(RequestFactsSerializer):
    """A request as an agent files it: the facts policy reads, and who it is for and
    where to report."""

    on_behalf_of = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    callback_url = OutboundURLField(required=False, allow_blank=True)

    def validate_on_behalf_of(self, value: str) -> str:
        return value.strip().lower()


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
        check_json_limits(
            value, field="detail", max_bytes=settings.AIRLOCK["OUTCOME_DETAIL_MAX_BYTES"]
        )
        return value


# --- representation -------------------------------------------------------------------

_datetime_field = serializers.DateTimeField()
_FINDING_KEYS = ("path", "entity", "score", "start", "end", "key")


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.utcoffset() == _ZERO and _utc_is_current():
        # What DRF's DateTimeField gives a UTC time when the current zone is UTC
        # (isoformat, "+00:00" as "Z"), without its zone conversion per value.
        return value.replace(tzinfo=None).isoformat() + "Z"
    return _datetime_field.to_representation(value)


_ZERO = timedelta(0)


def _utc_is_current() -> bool:
    return timezone.get_current_timezone_name() == "UTC"


def _prefetched(obj: ActionRequest, name: str) -> list[Any]:
    """A relation's rows as prefetched (or known when filed: ``selectors.know_new``),
    without building its related manager; read from the database otherwise."""
    cached = getattr(obj, "_prefetched_objects_cache", {}).get(name)
    if cached is not None and cached._result_cache is not None:
        return list(cached._result_cache)
    return list(getattr(obj, name).all())


def _finding(finding: dict[str, Any]) -> dict[str, Any]:
    shown = {key: finding[key] for key in _FINDING_KEYS if key in finding}
    shown["score"] = float(shown["score"])
    return shown


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


class GrantStateSerializer(serializers.Serializer):
    """What anyone who sees the request may know of its grant: never the token."""

    status = serializers.ChoiceField(choices=["issued", "redeemed", "expired", "revoked", "none"])
    reason = serializers.CharField(required=False)
    jti = serializers.CharField(required=False)
    audience = serializers.CharField(required=False)
    broker = serializers.CharField(required=False, allow_null=True)
    expires_at = serializers.DateTimeField(required=False)
    redeemed_at = serializers.DateTimeField(required=False, allow_null=True)
    redeemed_by = serializers.CharField(required=False, allow_null=True)
    revoked_at = serializers.DateTimeField(required=False, allow_null=True)
    revoked_by = serializers.CharField(required=False, allow_null=True)


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
    grant_state = serializers.SerializerMethodField()

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
            "grant_state",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ActionRequest) -> dict[str, Any]:
        """The representation, built directly: DRF would construct and bind 25 field
        objects (deep copies of the declared ones) for every request it renders, 2 ms
        of the fast path. The declared fields above stay the schema's description;
        ``tests/approvals/test_representation.py`` checks this against DRF's own
        rendering of them."""
        obj = instance
        reviews = _prefetched(obj, "reviews")
        request = self.context.get("request")
        return {
            "id": str(obj.pk),
            "status": obj.status,
            "action": obj.action,
            "resource": obj.resource,
            "environment": obj.environment,
            "requester": self.get_requester(obj),
            "on_behalf_of": obj.on_behalf_of or None,
            "payload": obj.payload,
            "findings": [_finding(finding) for finding in obj.findings],
            "screened_at": _time(obj.screened_at),
            "screening_note": obj.screening_note,
            "original_kept": obj.original_kept,
            "reveal_allowed": obj.reveal_allowed,
            "policy": self.get_policy(obj),
            "approvals_required": obj.approvals_required,
            "requirements": obj.progress(reviews),
            "reviewer_groups": self.get_reviewer_groups(obj),
            "reviews": [
                {
                    "reviewer": review.reviewer.email,
                    "verdict": review.verdict,
                    "comment": review.comment,
                    "at": _time(review.created_at),
                }
                for review in reviews
            ],
            "justification": obj.justification,
            "created_at": _time(obj.created_at),
            "decided_at": _time(obj.decided_at),
            "expires_at": _time(obj.expires_at),
            "outcome": self.get_outcome(obj),
            "grant": grants.token_for(obj, getattr(request, "user", None)),
            "grant_state": self.get_grant_state(obj),
        }

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
        return sorted(group.name for group in _prefetched(obj, "reviewer_groups"))

    @extend_schema_field(RequirementSerializer(many=True))
    def get_requirements(self, obj: ActionRequest) -> list[dict[str, Any]]:
        return obj.progress(obj.reviews.all())

    @extend_schema_field(OutcomeViewSerializer(allow_null=True))
    def get_outcome(self, obj: ActionRequest) -> dict[str, Any] | None:
        if not obj.outcome or obj.outcome_at is None:
            return None
        return {
            "result": obj.outcome,
            "at": _time(obj.outcome_at),
        }

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_grant(self, obj: ActionRequest) -> str | None:
        """The signed grant: for the requesting agent only (approvals.grants)."""
        request = self.context.get("request")
        return grants.token_for(obj, getattr(request, "user", None))

    @extend_schema_field(GrantStateSerializer(allow_null=True))
    def get_grant_state(self, obj: ActionRequest) -> dict[str, Any] | None:
        state = grants.state_of(obj)
        if not state:
            return None
        return {
            key: _time(value) if isinstance(value, datetime) else value
            for key, value in state.items()
        }
