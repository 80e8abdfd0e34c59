"""Every write to identities: people, their groups, agents, tokens."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts import roles
from accounts.models import Agent, ApiToken, User
from accounts.tokens import AGENT_PREFIX, PERSONAL_PREFIX, display_prefix, new_token, token_digest
from airlock.errors import Conflict, Forbidden, InvalidInput, NotFound
from audit import catalogue as events
from audit.services import record

Actor = User | Agent | str


def _operator(actor: Actor) -> bool:
    """A string actor is an operator at the command line, trusted as the host is."""
    return isinstance(actor, str)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(f"{email!r} is not an e-mail address") from exc
    return email


def upsert_user(
    *,
    email: str,
    groups: list[str] | None = None,
    password: str | None = None,
    actor: Actor = "system",
) -> User:
    """Create or update a person. ``groups``, when given, becomes their exact set."""
    email = normalise_email(email)
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(email=email)
        if created:
            user.set_unusable_password()
        if password is not None:
            user.set_password(password)
        user.save()
        data: dict[str, object] = {"created": created}
        if groups is not None:
            wanted = sorted({name.strip() for name in groups if name.strip()})
            group_objects = [Group.objects.get_or_create(name=name)[0] for name in wanted]
            user.groups.set(group_objects)
            data["groups"] = wanted
        if password is not None:
            data["password_set"] = True
        record(
            events.USER_CREATED if created else events.USER_UPDATED, actor, f"user:{email}", data
        )
    return user


def create_agent(*, name: str, owner_email: str, actor: Actor = "system") -> tuple[Agent, str]:
    if not (_operator(actor) or roles.can_manage_agents(actor)):
        raise Forbidden("only airlock-admins create agents")
    """A new agent and its token. The token is returned once and never stored."""
    owner = User.objects.filter(email=normalise_email(owner_email), is_active=True).first()
    if owner is None:
        raise NotFound(f"no active person {owner_email!r}: create them first")
    token = new_token(AGENT_PREFIX)
    agent = Agent(
        name=name, owner=owner, token_hash=token_digest(token), token_prefix=display_prefix(token)
    )
    try:
        agent.full_clean()
    except ValidationError as exc:
        if "name" in exc.message_dict and Agent.objects.filter(name=name).exists():
            raise Conflict(f"an agent named {name!r} exists") from exc
        raise InvalidInput("invalid agent", details=exc.message_dict) from exc
    with transaction.atomic():
        agent.save()
        record(events.AGENT_CREATED, actor, f"agent:{agent.name}", {"owner": owner.email})
    return agent, token


def rotate_agent_token(*, name: str, actor: Actor = "system") -> tuple[Agent, str]:
    """A new token for an agent; the old one stops working at once."""
    token = new_token(AGENT_PREFIX)
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(name=name).first()
        if agent is None:
            raise NotFound(f"no agent {name!r}")
        if not (_operator(actor) or roles.can_revoke_agent(actor, agent)):
            raise Forbidden("only an admin or the agent's owner may rotate its token")
        agent.token_hash = token_digest(token)
        agent.token_prefix = display_prefix(token)
        agent.revoked_at = None
        agent.save(update_fields=["token_hash", "token_prefix", "revoked_at"])
        record(events.AGENT_TOKEN_ROTATED, actor, f"agent:{agent.name}", {})
    return agent, token


def revoke_agent(*, name: str, actor: Actor = "system") -> Agent:
    with transaction.atomic():
        agent = Agent.objects.select_for_update().filter(name=name).first()
        if agent is None:
            raise NotFound(f"no agent {name!r}")
        if not (_operator(actor) or roles.can_revoke_agent(actor, agent)):
            raise Forbidden("only an admin or the agent's owner may revoke it")
        if agent.revoked_at is None:
            agent.revoked_at = timezone.now()
            agent.save(update_fields=["revoked_at"])
            record(events.AGENT_REVOKED, actor, f"agent:{agent.name}", {})
    return agent


def create_personal_token(
    *, email: str, name: str = "", actor: Actor = "system"
) -> tuple[ApiToken, str]:
    user = User.objects.filter(email=normalise_email(email), is_active=True).first()
    if user is None:
        raise NotFound(f"no active person {email!r}")
    if not (_operator(actor) or roles.is_self(actor, user)):
        raise Forbidden("a personal token is made by its owner")
    token = new_token(PERSONAL_PREFIX)
    with transaction.atomic():
        api_token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            token_hash=token_digest(token),
            token_prefix=display_prefix(token),
        )
        record(events.TOKEN_CREATED, actor, f"user:{user.email}", {"token": api_token.token_prefix})
    return api_token, token


def revoke_personal_token(*, token_id: int, actor: Actor = "system") -> ApiToken:
    with transaction.atomic():
        api_token = (
            ApiToken.objects.select_for_update().select_related("user").filter(pk=token_id).first()
        )
        if api_token is None or not (
            _operator(actor) or roles.can_revoke_token(actor, api_token.user)
        ):
            raise NotFound("no such token")
        if api_token.revoked_at is None:
            api_token.revoked_at = timezone.now()
            api_token.save(update_fields=["revoked_at"])
            record(
                events.TOKEN_REVOKED,
                actor,
                f"user:{api_token.user.email}",
                {"token": api_token.token_prefix},
            )
    return api_token
