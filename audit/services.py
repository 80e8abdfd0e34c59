"""The one way into the audit log.

``record`` writes inside the caller's transaction: if the change it describes rolls
back, so does the event, and a committed change always has its event.
"""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent


def actor_ref(actor: Any) -> str:
    """``user:<email>``, ``agent:<name>`` or a plain system name such as ``system``."""
    if isinstance(actor, str):
        return actor
    if getattr(actor, "is_agent", False):
        return f"agent:{actor.name}"
    email = getattr(actor, "email", None)
    if email:
        return f"user:{email}"
    raise TypeError(f"cannot name {actor!r} as an audit actor")


def record(
    event_type: str, actor: Any, target: str, data: dict[str, Any] | None = None
) -> AuditEvent:
    return AuditEvent.objects.create(
        event_type=event_type, actor=actor_ref(actor), target=target, data=data or {}
    )
