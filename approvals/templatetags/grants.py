"""``{% grant_state action as grant %}``: a request's grant state for the console
(never the token)."""

from __future__ import annotations

from typing import Any

from django import template

from approvals import grants
from approvals.models import ActionRequest

register = template.Library()


@register.simple_tag
def grant_state(action: ActionRequest) -> dict[str, Any] | None:
    return grants.state_of(action)
