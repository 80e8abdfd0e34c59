"""Read-only figures for the console's dashboard and the audit page: requests per
day by status, time to decision, pending by age, top agents and actions, blocked
self-approvals, and the audit chain's state. No rule about who may see them lives
here: the views ask ``accounts.roles.can_read_audit``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from airlock.cache import shared_cache
from approvals.models import ActionRequest, ActionStatus
from audit import keys
from audit import verify as chain
from audit.models import AuditEvent, ChainHead, Checkpoint
from audit.verification import verify_database

DAYS = 14
WINDOW = timedelta(days=30)
# Statuses in the order they stack, bottom up; each has its own CSS class.
STACK = (
    ActionStatus.APPROVED,
    ActionStatus.DENIED,
    ActionStatus.EXPIRED,
    ActionStatus.CANCELLED,
    ActionStatus.PENDING,
    ActionStatus.SCREENING,
)
AGE_BUCKETS = (
    ("under 15 min", timedelta(minutes=15)),
    ("15 to 60 min", timedelta(hours=1)),
    ("1 to 4 h", timedelta(hours=4)),
    ("4 to 24 h", timedelta(hours=24)),
    ("over a day", None),
)
# Verifying re-reads the whole log (about 30,000 events a second): the audit page
# does it itself only up to this size, and keeps the answer per chain head.
VERIFY_ON_PAGE_UP_TO = 50_000
VERIFY_CACHE_SECONDS = 600


@dataclass
class Bar:
    label: str
    total: int
    segments: list[dict[str, Any]] = field(default_factory=list)
    cells: list[int] = field(default_factory=list)


def per_day(now: datetime | None = None, days: int = DAYS) -> dict[str, Any]:
    """Requests filed each of the last ``days`` days (UTC), by status now, with the
    geometry of a stacked bar chart (a 100-high SVG user space)."""
    now = now or timezone.now()
    first = (now - timedelta(days=days - 1)).date()
    counts: dict[tuple[date, str], int] = {}
    rows = (
        ActionRequest.objects.filter(created_at__date__gte=first)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for day, status, n in rows:
        counts[(day, status)] = n
    dates = [first + timedelta(days=i) for i in range(days)]
    totals = [sum(counts.get((d, s), 0) for s in STACK) for d in dates]
    peak = max(totals, default=0) or 1
    bars = []
    width = 100 / days
    for index, (day, total) in enumerate(zip(dates, totals, strict=True)):
        bar = Bar(label=day.strftime("%b %d"), total=total)
        y = 100.0
        for status in STACK:
            n = counts.get((day, status), 0)
            if not n:
                continue
            height = 100 * n / peak
            y -= height
            bar.segments.append(
                {
                    "status": status,
                    "n": n,
                    "x": round(index * width + width * 0.15, 3),
                    "y": round(y, 3),
                    "width": round(width * 0.7, 3),
                    "height": round(height, 3),
                }
            )
        bar.cells = [counts.get((day, s), 0) for s in STACK]
        bars.append(bar)
    by_status = {s: sum(counts.get((d, s), 0) for d in dates) for s in STACK}
    return {
        "bars": bars,
        "peak": peak if any(totals) else 0,
        "statuses": [{"status": s, "n": by_status[s]} for s in STACK],
        "total": sum(totals),
        "days": days,
    }


def _percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def time_to_decision(now: datetime | None = None, limit: int = 50_000) -> dict[str, Any]:
    """p50 and p95 of filing to decision for requests a person decided (approved or
    denied after review) in the last 30 days."""
    now = now or timezone.now()
    rows = (
        ActionRequest.objects.filter(
            decided_at__gte=now - WINDOW,
            status__in=(ActionStatus.APPROVED, ActionStatus.DENIED),
            approvals_required__gt=0,
        )
        .order_by("-decided_at")
        .values_list("created_at", "decided_at")[:limit]
    )
    seconds = sorted(
        (decided - created).total_seconds() for created, decided in rows if decided is not None
    )
    return {
        "count": len(seconds),
        "p50": _percentile(seconds, 50),
        "p95": _percentile(seconds, 95),
    }


def pending_by_age(now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or timezone.now()
    aggregates: dict[str, Any] = {}
    newer_than: datetime | None = None
    for index, (_, bound) in enumerate(AGE_BUCKETS):
        older = Q() if newer_than is None else Q(created_at__lt=newer_than)
        since = Q() if bound is None else Q(created_at__gte=now - bound)
        aggregates[f"b{index}"] = Count("pk", filter=older & since)
        newer_than = now - bound if bound is not None else None
    counts = ActionRequest.objects.filter(status=ActionStatus.PENDING).aggregate(**aggregates)
    peak = max(counts.values(), default=0) or 1
    return [
        {"label": label, "n": counts[f"b{i}"], "width": round(100 * counts[f"b{i}"] / peak, 1)}
        for i, (label, _) in enumerate(AGE_BUCKETS)
    ]


def top(now: datetime | None = None, n: int = 5) -> dict[str, list[dict[str, Any]]]:
    """The agents and actions that asked most in the last 30 days."""
    now = now or timezone.now()
    recent = ActionRequest.objects.filter(created_at__gte=now - WINDOW).order_by()
    agents = list(
        recent.filter(requester_agent__isnull=False)
        .values("requester_agent__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "requester_agent__name")[:n]
    )
    actions = list(recent.values("action").annotate(n=Count("pk")).order_by("-n", "action")[:n])
    return {
        "agents": [{"name": row["requester_agent__name"], "n": row["n"]} for row in agents],
        "actions": [{"name": row["action"], "n": row["n"]} for row in actions],
    }


def blocked_self_approvals(now: datetime | None = None, n: int = 10) -> dict[str, Any]:
    """Attempts to approve one's own request that the gate refused (and audited)."""
    now = now or timezone.now()
    refused = AuditEvent.objects.filter(
        event_type="action.review_refused", data__code="self_approval", at__gte=now - WINDOW
    )
    return {"count": refused.count(), "recent": list(refused.order_by("-seq")[:n])}


def summary(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    pending = pending_by_age(now)
    leaders = top(now)
    return {
        "per_day": per_day(now),
        "decision": time_to_decision(now),
        "pending": pending,
        "pending_total": sum(b["n"] for b in pending),
        "pending_peak": max((b["n"] for b in pending), default=0) or 1,
        "top": leaders,
        "top_agents_peak": max((r["n"] for r in leaders["agents"]), default=0) or 1,
        "top_actions_peak": max((r["n"] for r in leaders["actions"]), default=0) or 1,
        "self_approvals": blocked_self_approvals(now),
        "now": now,
    }


# --- the audit chain --------------------------------------------------------------------


def latest_checkpoint() -> dict[str, Any] | None:
    """The newest signed checkpoint and whether its signature verifies with a
    published key (``audit.verify.open_checkpoint``, the auditor's own check)."""
    checkpoint = Checkpoint.objects.order_by("-tree_size").first()
    if checkpoint is None:
        return None
    table = chain.key_table(keys.published_keys())
    try:
        chain.open_checkpoint(checkpoint.note, {name: e["key"] for name, e in table.items()})
        signature, problem = True, ""
    except chain.NoteError as exc:
        signature, problem = False, str(exc)
    return {
        "tree_size": checkpoint.tree_size,
        "created_at": checkpoint.created_at,
        "key_name": checkpoint.key_name,
        "root_hash": checkpoint.root_hash,
        "signature_ok": signature,
        "problem": problem,
        "note": checkpoint.note,
    }


def chain_status() -> dict[str, Any]:
    """The log's verification as ``audit_verify`` computes it, kept per chain head
    (a new event makes it stale). A log over ``VERIFY_ON_PAGE_UP_TO`` events is not
    re-read for a page view: the nightly check and ``audit_verify`` do that, and the
    page says so, with the last failure the nightly check recorded, if any."""
    head = ChainHead.objects.filter(pk=1).first()
    size = head.seq if head else 0
    failure = (
        AuditEvent.objects.filter(event_type="audit.verification_failed").order_by("-seq").first()
    )
    status: dict[str, Any] = {"events": size, "last_failure": failure, "checked": False}
    if size > VERIFY_ON_PAGE_UP_TO:
        return status
    key = f"console:audit-verify:{size}:{head.chain_hash if head else ''}"
    try:
        result = shared_cache().get(key)
    except Exception:  # a cache outage must not hide the log's state: verify afresh
        result = None
    if result is None:
        result = {**verify_database().as_dict(), "at": timezone.now()}
        with contextlib.suppress(Exception):  # the answer is shown either way
            shared_cache().set(key, result, VERIFY_CACHE_SECONDS)
    return {**status, "checked": True, **result}
