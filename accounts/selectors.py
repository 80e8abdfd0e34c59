"""Reads about identities."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Agent, ApiToken, User
from accounts.tokens import AGENT_PREFIX, PERSONAL_PREFIX, token_digest
from airlock.prepared import PreparedGet

# Read on every API call (so that a revocation counts from the next request), compiled
# once per thread (airlock.prepared): compiling the join was most of its cost.
_agent_by_digest = PreparedGet(
    lambda digest: (
        Agent.objects.select_related("owner")
        .filter(token_hash=digest, revoked_at__isnull=True, owner__is_active=True)
        .order_by()
    )
)
_personal_token_by_digest = PreparedGet(
    lambda digest: (
        ApiToken.objects.select_related("user")
        .filter(token_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .order_by()
    )
)


def principal_for_token(token: str) -> Agent | User | None:
    """The active agent or person a bearer token belongs to, or None."""
    if token.startswith(AGENT_PREFIX):
        return _agent_by_digest.get(token_digest(token))
    if token.startswith(PERSONAL_PREFIX):
        api_token = _personal_token_by_digest.get(token_digest(token))
        return api_token.user if api_token else None
    return None


def roster() -> QuerySet[User]:
    """Every person with their groups (roles and reviewer groups), by e-mail: the
    approver roster an evidence package snapshots."""
    return User.objects.prefetch_related("groups").order_by("email")
