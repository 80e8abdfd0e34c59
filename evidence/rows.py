"""The rows evidence joins to the log's events: requests, the people and agents who
filed them, and notification channels. Plain values, read 1,000 at a time.

These reads would sit in ``approvals.selectors`` and ``notifications``' selectors;
they are here while those apps are someone else's to change (and notifications is
beside evidence in the layers, so its model is looked up by name, not imported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.apps import apps
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL

from accounts.models import Agent, User
from approvals.models import ActionRequest, ActionStatus

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class Request:
    """What a package takes from a request's row: who answers for it and whether its
    approval issues a grant. Everything else it says of a request is in the log."""

    requester_agent_id: Any
    requester_user_id: int | None
    requester_owner_id: int | None
    has_grant: bool


# ``approvals.grants.spec_of(action) is not None``, in SQL: approved, filed by an agent,
# decided, with a grant its rules agree on. (A test holds the two equal.)
HAS_GRANT = ExpressionWrapper(
    Q(status=ActionStatus.APPROVED)
    & Q(requester_agent__isnull=False)
    & Q(decided_at__isnull=False)
    & Q(grant_spec__isnull=False)
    & ~Q(grant_spec={})
    & ~Q(grant_spec__has_key="refused"),
    output_field=BooleanField(),
)


def requests(ids: list[str]) -> dict[str, Request]:
    """Requests by id (as text; what is not a UUID names none); never the payload nor
    its sealed original."""
    valid = [text for text in ids if UUID_TEXT.fullmatch(text)]
    if connection.vendor == "postgresql":
        # One array parameter rather than a thousand: the ORM's IN list costs more
        # Python to build than the query costs PostgreSQL to answer.
        chosen = ActionRequest.objects.filter(pk__in=RawSQL("SELECT unnest(%s::uuid[])", [valid]))
    else:
        chosen = ActionRequest.objects.filter(pk__in=[UUID(text) for text in valid])
    rows = (
        chosen.order_by()
        .annotate(has_grant=HAS_GRANT)
        .values_list(
            "id",
            "requester_agent_id",
            "requester_user_id",
            "requester_owner_id",
            "has_grant",
        )
    )
    return {str(row[0]): Request(*row[1:]) for row in rows}


class People:
    """Names of agents and e-mails of people, read once each."""

    def __init__(self) -> None:
        self.agents: dict[Any, tuple[str, str]] = {}
        self.users: dict[int, str] = {}
        self.sides: dict[tuple[Any, ...], frozenset[str]] = {}

    def _agent(self, pk: Any) -> tuple[str, str]:
        if pk not in self.agents:
            for agent_id, name, owner in Agent.objects.filter(pk=pk).values_list(
                "id", "name", "owner__email"
            ):
                self.agents[agent_id] = (name, owner or "")
        return self.agents.get(pk, ("", ""))

    def _user(self, pk: int | None) -> str:
        if pk is None:
            return ""
        if pk not in self.users:
            self.users[pk] = str(
                User.objects.filter(pk=pk).values_list("email", flat=True).first() or ""
            )
        return self.users[pk]

    def owner(self, request: Request | None) -> str:
        return self._user(request.requester_owner_id) if request is not None else ""

    def requester_side(self, request: Request | None, data: dict[str, Any]) -> set[str]:
        """The people who may never approve this request (``approvals.duties``' table)."""
        side = set()
        if data.get("on_behalf_of"):
            side.add(str(data["on_behalf_of"]))
        if request is not None:
            side |= self._side(
                request.requester_owner_id, request.requester_user_id, request.requester_agent_id
            )
        return side

    def _side(self, owner: int | None, user: int | None, agent: Any) -> frozenset[str]:
        key = (owner, user, agent)
        if key not in self.sides:
            emails = (
                self._user(owner),
                self._user(user),
                self._agent(agent)[1] if agent is not None else "",
            )
            self.sides[key] = frozenset(email for email in emails if email)
        return self.sides[key]


def channels(ids: list[str]) -> dict[str, dict[str, Any]]:
    """Stored channels by id (as text): kind and target, never the signing secret."""
    model = apps.get_model("notifications", "Channel")
    numbers = [int(pk) for pk in ids if pk.isdigit()]
    rows = model.objects.filter(pk__in=numbers).values_list("id", "kind", "target")
    return {str(pk): {"kind": kind, "target": target} for pk, kind, target in rows}


def redact(kind: str, target: str) -> str:
    """What a package may say of a channel's target. A Slack channel id is a name, not
    a secret; a Teams Workflows or webhook URL carries its secret in the path or query,
    so only its scheme and host are shown; e-mail has no target of its own."""
    if kind == "slack":
        return target
    if kind == "email" or not target:
        return "(the groups' eligible reviewers)" if kind == "email" else ""
    try:
        parts = urlsplit(target)
        host = parts.hostname or ""
    except ValueError:
        return "(redacted)"
    return f"{parts.scheme}://{host}/… (path and query redacted)" if host else "(redacted)"
