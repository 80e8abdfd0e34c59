"""What approving from chat means, whatever the chat: shared by Slack and Teams.

A click becomes a person's review only through an explicit ``ChatLink`` (made by
the console's signed link, ``manage.py link_chat_user``, or, for Teams, an Entra ID
sign-in's ``oid``); a click refused before review (another workspace or tenant, an
unlinked clicker, a link-only channel) is audited here; a review goes through
``approvals.services`` like every other path, which audits its own refusals.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.urls import reverse

from accounts.adapters import claims_of
from accounts.models import User
from airlock.errors import DomainError
from audit import catalogue
from audit.services import record
from notifications.models import ChatProvider
from notifications.services import link_chat_user, linked_person

logger = logging.getLogger(__name__)

LINK_SALT = "airlock.chat-link"
LINK_MAX_AGE = 15 * 60
PROVIDER_NAMES = {ChatProvider.SLACK: "Slack", ChatProvider.TEAMS: "Microsoft Teams"}


def link_url(provider: str, team_id: str, user_id: str) -> str:
    """A console link that binds this chat identity to whoever signs in and confirms.
    Signed and short-lived, and shown only to that chat user: nobody can make one for
    someone else's chat id."""
    token = signing.dumps({"p": provider, "t": team_id, "u": user_id}, salt=LINK_SALT)
    base = settings.NOTIFY["BASE_URL"].rstrip("/")
    name = "chat-link" if provider == ChatProvider.SLACK else "chat-link-teams"
    return f"{base}{reverse(name)}?token={token}"


def read_link(token: str) -> tuple[str, str, str]:
    """(provider, team or tenant id, chat user id) of a link, or ``BadSignature``."""
    data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    return str(data.get("p") or ChatProvider.SLACK), str(data["t"]), str(data["u"])


def person(provider: str, team_id: str, chat_user_id: str) -> User | None:
    """The person explicitly linked to this chat identity, if any (and still active)."""
    if not team_id or not chat_user_id:
        return None
    return linked_person(provider=provider, team_id=team_id, chat_user_id=chat_user_id)


def action_id(value: Any) -> str | None:
    """The request a button names, or None for anything that is not a request id."""
    try:
        return str(UUID(str(value)))
    except ValueError:
        return None


def target(provider: str, request_id: str | None) -> str:
    return f"action:{request_id}" if request_id else f"integration:{provider}"


def refuse_click(
    provider: str,
    *,
    actor: str,
    request_id: str | None,
    reason: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Audit a click refused before it reached review (CC6.1, CC7.2)."""
    record(
        catalogue.CHAT_CLICK_REFUSED,
        actor,
        target(provider, request_id),
        {"reason": reason, **(data or {}), "via": provider},
    )


def refusal_text(exc: DomainError) -> str:
    return f"Refused ({exc.code}): {exc.message}."


def unlinked_text(provider: str) -> str:
    return f"Your {PROVIDER_NAMES[provider]} account is not linked to Airlock yet."  # type: ignore[index]


# --- Teams: the Entra ID sign-in's oid ---------------------------------------------


def link_entra_oid(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """On an OIDC sign-in with Entra ID of our tenant (``TEAMS_LINK_OIDC``), bind the
    ID token's ``oid`` to the person: the same ``aadObjectId`` Teams sends for their
    clicks. Only for our tenant's ``tid``; an existing identical link is left alone."""
    sociallogin = kwargs.get("sociallogin")
    conf = settings.TEAMS
    if sociallogin is None or not conf["LINK_OIDC"] or not conf["TENANT_ID"]:
        return
    claims = claims_of(sociallogin)
    oid, tid = str(claims.get("oid") or ""), str(claims.get("tid") or "")
    if not oid or tid.lower() != conf["TENANT_ID"].lower():
        return
    tenant = conf["TENANT_ID"].lower()
    if person(ChatProvider.TEAMS, tenant, oid.lower()) == user:
        return
    try:
        link_chat_user(
            email=user.email,
            provider=ChatProvider.TEAMS,
            team_id=tenant,
            chat_user_id=oid.lower(),
            actor=f"oidc:{sociallogin.account.uid}",
        )
    except DomainError as exc:
        logger.warning("teams: could not link the oid of %s: %s", user.email, exc.message)
