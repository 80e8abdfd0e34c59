"""Presentation helpers for the console: human times, risk badges, highlighted
findings. Everything here escapes what it is given; nothing decides who may do what."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Entity types that are credentials rather than personal data: marked "secret".
_SECRET_ENTITY = re.compile(r"(SECRET|TOKEN|_KEY$|PRIVATE_KEY|PASSWORD|^JWT$)")
PRODUCTION = re.compile(r"^(prod|production|prd|live)([-_.].*)?$", re.IGNORECASE)


def _utc_label(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative(moment: datetime, now: datetime | None = None) -> str:
    """ "3 min ago", "in 2 h 5 min", "just now": what a reviewer reads at a glance."""
    now = now or timezone.now()
    seconds = int((moment - now).total_seconds())
    future, seconds = seconds > 0, abs(seconds)
    if seconds < 45:
        return "in under a minute" if future else "just now"
    minutes = round(seconds / 60)
    if minutes < 60:
        text = f"{minutes} min"
    elif minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        text = f"{hours} h {rest} min" if rest and hours < 6 else f"{round(minutes / 60)} h"
    else:
        days = round(minutes / (24 * 60))
        text = f"{days} day{'s' if days != 1 else ''}"
    return f"in {text}" if future else f"{text} ago"


@register.simple_tag
def when(moment: datetime | None, empty: str = "—") -> SafeString | str:
    """A time as people read it, exact time (UTC; the page's script switches it to
    the reader's zone) on hover and in ``datetime`` for machines."""
    if moment is None:
        return empty
    return format_html(
        '<time datetime="{}" title="{}" data-local>{}</time>',
        moment.isoformat(),
        _utc_label(moment),
        relative(moment),
    )


@register.simple_tag
def countdown(moment: datetime | None, empty: str = "never", suffix: str = "") -> SafeString | str:
    """The time left until ``moment`` (then ``suffix``), counted down each second by
    the page's script; "expired" once it has passed."""
    if moment is None:
        return empty
    left = relative(moment)
    return format_html(
        '<time datetime="{}" title="{}" data-local data-expires data-suffix="{}">{}</time>',
        moment.isoformat(),
        _utc_label(moment),
        suffix,
        left.removeprefix("in ") + suffix if left.startswith("in ") else "expired",
    )


@register.filter
def is_production(environment: str | None) -> bool:
    return bool(environment) and bool(PRODUCTION.match(environment or ""))


def entity_kind(entity: str) -> str:
    return "secret" if _SECRET_ENTITY.search(entity) else "pii"


def entity_label(entity: str) -> str:
    special = {
        "US_SSN": "US SSN",
        "IBAN_CODE": "IBAN",
        "IP_ADDRESS": "IP address",
        "JWT": "JWT",
        "SECRET": "secret-named field",
        "AWS_ACCESS_KEY": "AWS access key",
        "AWS_SECRET_KEY": "AWS secret key",
        "GITHUB_TOKEN": "GitHub token",
        "GITLAB_TOKEN": "GitLab token",
        "SLACK_TOKEN": "Slack token",
        "STRIPE_KEY": "Stripe key",
        "GOOGLE_API_KEY": "Google API key",
    }
    return special.get(entity, entity.replace("_", " ").lower())


@register.filter
def data_classes(findings: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """The entity types found in a payload, once each, secrets first."""
    entities = {str(f.get("entity")) for f in findings or () if f.get("entity")}
    ordered = sorted(entities, key=lambda e: (entity_kind(e) != "secret", e))
    return [
        {"entity": e, "kind": entity_kind(e), "label": entity_label(e), "slug": e.lower()}
        for e in ordered
    ]


@register.filter
def entity_name(entity: str) -> str:
    return entity_label(entity)


@register.filter
def kind_of(entity: str) -> str:
    return entity_kind(entity)


_PLACEHOLDER = re.compile(r"&lt;([A-Z][A-Z0-9_]{1,63})&gt;")


@register.filter
def highlight_masked(text: str, findings: list[dict[str, Any]] | None) -> SafeString:
    """Escape ``text`` (a masked payload as JSON), then mark each placeholder that
    screening put in (``<EMAIL_ADDRESS>``) with its type."""
    known = {str(f.get("entity")) for f in findings or ()}
    escaped = str(escape(text))

    def mark(match: re.Match[str]) -> str:
        entity = match.group(1)
        if entity not in known:
            return match.group(0)
        return (
            f'<mark class="finding finding-{entity_kind(entity)}" '
            f'title="{entity_label(entity)}">{match.group(0)}</mark>'
        )

    return mark_safe(_PLACEHOLDER.sub(mark, escaped))  # noqa: S308 (escaped above)


@register.filter
def compact_json(value: Any) -> str:
    if value in (None, {}, []):
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


@register.filter
def scalar(value: Any) -> str:
    """A context value on one line: strings as they are, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


@register.filter
def percent(part: int, whole: int) -> int:
    return 0 if not whole else min(100, round(100 * part / whole))


@register.simple_tag(takes_context=True)
def console_nav(context: template.Context) -> list[dict[str, Any]]:
    """The console's sections this person can open, the current one marked. Who may
    read what is asked of accounts.roles, never decided here."""
    from accounts.roles import can_read_audit, can_read_policies, is_admin, reads_everything

    request = context.get("request")
    user = getattr(request, "user", None)
    path = getattr(request, "path", "")
    sections = [
        ("home", "Queue", True),
        ("my-requests", "My requests", True),
        ("history", "History", True),
        ("dashboard", "Dashboard", can_read_audit(user)),
        ("audit-log", "Audit log", can_read_audit(user)),
        ("policies-page", "Policies", can_read_policies(user)),
        ("evidence-page", "Evidence", reads_everything(user)),
        ("notification-channels", "Notifications", is_admin(user)),
        ("agents", "Agents", True),
        ("tokens", "Tokens", True),
    ]
    from django.urls import reverse

    out = []
    for name, label, shown in sections:
        if not shown:
            continue
        url = reverse(name)
        current = path == url if url == "/" else path.startswith(url)
        if name == "home" and path.startswith("/actions/"):
            current = False
        out.append({"url": url, "label": label, "current": current})
    return out


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as people say them: "42 s", "3.5 min", "2.1 h", "1.5 days"."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@register.filter
def target_link(target: str) -> str:
    """The console page of an audit event's target (``action:<id>``, ``policy:<n>``,
    ``agent:<name>``), or "" when it has none."""
    from uuid import UUID

    from django.urls import reverse

    kind, _, ref = str(target).partition(":")
    if kind == "action":
        try:
            return reverse("action-page", kwargs={"action_id": UUID(ref)})
        except ValueError:
            return ""
    if kind == "policy" and ref.isdigit():
        return reverse("policy-page", kwargs={"version": int(ref)})
    if kind == "agent":
        return reverse("agents")
    return ""


_UUID_TARGET = re.compile(
    r"^([a-z_]+):([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@register.filter
def short_target(target: str) -> str:
    """``action:d1e67438…`` for a UUID target (the full one is in the link's title)."""
    match = _UUID_TARGET.match(str(target))
    return f"{match.group(1)}:{match.group(2)}…" if match else str(target)


@register.simple_tag
def risk_badges(item: Any) -> SafeString:
    """The environment (production marked in words and colour) and the data classes
    found in a request's payload, as a list of badges. Built here rather than in an
    included template: the queue draws it on every row."""
    environment = item.environment
    if not environment:
        parts = [mark_safe('<li class="badge" title="no environment given">no environment</li>')]
    elif is_production(environment):
        parts = [
            format_html(
                '<li class="badge badge-prod" title="production environment">▲ {}</li>',
                environment,
            )
        ]
    else:
        parts = [
            format_html('<li class="badge badge-env" title="environment">{}</li>', environment)
        ]
    for found in data_classes(item.findings):
        secret = found["kind"] == "secret"
        parts.append(
            format_html(
                '<li class="badge badge-{}" title="{} found: {}">{}{}</li>',
                found["kind"],
                "secret" if secret else "personal data",
                found["entity"],
                "secret: " if secret else "",
                found["label"],
            )
        )
    return format_html(
        '<ul class="badges" aria-label="Environment and data">{}</ul>',
        mark_safe("".join(parts)),  # noqa: S308 (each part escaped by format_html)
    )
