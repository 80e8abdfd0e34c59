"""Reads about identities."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Agent, ApiToken, User
from accounts.tokens import AGENT_PREFIX, PERSONAL_PREFIX, token_digest


def principal_for_token(token: str) -> Agent | User | None:
    """The active agent or person a bearer token belongs to, or None. Read on every
    API call, so that a revocation counts from the next request. The hash is unique:
    no ordering (``first()`` would order by the models' Meta ordering, and compiling
    that ORDER BY was a third of the query's cost)."""
    if token.startswith(AGENT_PREFIX):
        agents = Agent.objects.select_related("owner").order_by()
        return next(
            iter(
                agents.filter(
                    token_hash=token_digest(token), revoked_at__isnull=True, owner__is_active=True
                )[:1]
            ),
            None,
        )
    if token.startswith(PERSONAL_PREFIX):
        tokens = ApiToken.objects.select_related("user").order_by()
        api_token = next(
            iter(
                tokens.filter(
                    token_hash=token_digest(token), revoked_at__isnull=True, user__is_active=True
                )[:1]
            ),
            None,
        )
        return api_token.user if api_token else None
    return None


def roster() -> QuerySet[User]:
    """Every person with their groups (roles and reviewer groups), by e-mail: the
    approver roster an evidence package snapshots."""
    return User.objects.prefetch_related("groups").order_by("email")
