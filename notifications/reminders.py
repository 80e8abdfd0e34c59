"""Reminders and escalation, as policy rules ask (``remind_after``,
``escalate_after: {after, to}``). They only notify: a request is never approved
because time passed (expiry, in approvals, only ever expires it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from approvals.models import ActionRequest, ActionStatus
from audit import catalogue
from audit.services import record
from notifications.models import Delivery, Notice
from notifications.services import KIND_OF_CHANNEL, channels_for, store
from policies import selectors as policy_selectors

REMIND = "remind"
ESCALATE = "escalate"


def timers(parsed: dict[str, Any], rule_names: list[str]) -> dict[str, Any]:
    """The reminder and escalation a request's matched rules ask for: the earliest
    of each, escalating to every group any of them names."""
    rules = {rule["name"]: rule for rule in parsed.get("rules", [])}
    matched = [rules[name] for name in rule_names if name in rules] or [parsed["default"]]
    remind = [r["remind_after"] for r in matched if r.get("remind_after")]
    escalations = [r["escalate_after"] for r in matched if r.get("escalate_after")]
    return {
        "remind_after": min(remind) if remind else None,
        "escalate_after": min(e["after"] for e in escalations) if escalations else None,
        "escalate_to": sorted({g for e in escalations for g in e["to"]}),
    }


def _has_timers(parsed: dict[str, Any]) -> bool:
    outcomes = [parsed.get("default", {}), *parsed.get("rules", [])]
    return any(o.get("remind_after") or o.get("escalate_after") for o in outcomes)


def _notice(action: ActionRequest, kind: str, groups: list[str], after: int) -> list[int]:
    with transaction.atomic():
        _, created = Notice.objects.get_or_create(
            action=action, kind=kind, defaults={"groups": groups}
        )
        if not created:
            return []
        record(
            catalogue.ACTION_REMINDED if kind == REMIND else catalogue.ACTION_ESCALATED,
            "system",
            action.audit_target,
            {"groups": groups, "after_seconds": after},
        )
        rows = [
            Delivery(
                key=f"{kind[0]}{action.pk}:c{channel.pk}",
                kind=KIND_OF_CHANNEL[channel.kind],  # type: ignore[index]
                channel=channel,
                action=action,
                topic=kind,
            )
            for channel in channels_for(set(groups))
        ]
        return store(rows, timezone.now())


def remind_due(*, now: datetime | None = None, batch: int = 1000) -> list[int]:
    """Send the reminders and escalations that are due; returns the deliveries made."""
    now = now or timezone.now()
    versions: dict[int, dict[str, Any]] = {}
    for version in policy_selectors.versions():
        if _has_timers(version.parsed):
            versions[version.version] = version.parsed
    if not versions:
        return []
    made: list[int] = []
    pending = (
        ActionRequest.objects.filter(status=ActionStatus.PENDING, policy_version__in=versions)
        .prefetch_related("reviewer_groups")
        .order_by("created_at")[:batch]
    )
    sent = {
        (n.action_id, n.kind)
        for n in Notice.objects.filter(action__status=ActionStatus.PENDING).only("action", "kind")
    }
    for action in pending:
        timer = timers(versions[action.policy_version], list(action.policy_rules))  # type: ignore[index]
        waited = now - action.created_at
        remind = timer["remind_after"]
        if remind and waited >= timedelta(seconds=remind) and (action.pk, REMIND) not in sent:
            groups = sorted(g.name for g in action.reviewer_groups.all())
            made += _notice(action, REMIND, groups, remind)
        escalate = timer["escalate_after"]
        if escalate and waited >= timedelta(seconds=escalate) and (action.pk, ESCALATE) not in sent:
            made += _notice(action, ESCALATE, timer["escalate_to"], escalate)
    return made
