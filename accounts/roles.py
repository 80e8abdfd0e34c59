"""Who holds which role: the one module that answers "is this an admin, an auditor,
the owner of this agent". Services enforce these; views and templates only ask
them to decide what to show.

Roles are IdP groups (synced at every OIDC sign-in): ``airlock-admins`` manage
agents and policy, ``airlock-auditors`` read everything and change nothing. Agents
hold no role, whatever their name.
"""

from __future__ import annotations

from typing import Any

from accounts.models import ADMINS_GROUP, AUDITORS_GROUP, Agent, User


def _person(principal: Any) -> User | None:
    return principal if isinstance(principal, User) and principal.is_active else None


def is_admin(principal: Any) -> bool:
    person = _person(principal)
    return person is not None and ADMINS_GROUP in person.group_names()


def is_auditor(principal: Any) -> bool:
    person = _person(principal)
    return person is not None and AUDITORS_GROUP in person.group_names()


def reads_everything(principal: Any) -> bool:
    """Admins and auditors see every request, the audit log and policies (read-only
    for auditors). Agents never: a policy tells an agent how to avoid review."""
    return is_admin(principal) or is_auditor(principal)


def can_read_audit(principal: Any) -> bool:
    return reads_everything(principal)


def can_read_policies(principal: Any) -> bool:
    return reads_everything(principal)


def can_manage_agents(principal: Any) -> bool:
    """Create agents for anyone: admins only."""
    return is_admin(principal)


def owns(principal: Any, agent: Agent) -> bool:
    person = _person(principal)
    return person is not None and agent.owner_id == person.pk


def can_revoke_agent(principal: Any, agent: Agent) -> bool:
    """An admin, or the person who answers for the agent, may cut off its token."""
    return is_admin(principal) or owns(principal, agent)


def is_self(principal: Any, person: User) -> bool:
    acting = _person(principal)
    return acting is not None and acting.pk == person.pk


def can_revoke_token(principal: Any, owner: User) -> bool:
    """A personal token: its owner, or an admin cutting off someone's access."""
    return is_self(principal, owner) or is_admin(principal)
