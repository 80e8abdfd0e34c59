"""Every write of notifications: channels, the delivery outbox (plan, attempt, retry,
sweep), agents' webhook secrets, chat links. Each takes an explicit actor where a
person acts, and audits in the same transaction."""

from __future__ import annotations

import base64
import logging
import random
import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import roles
from accounts.models import Agent, User
from airlock.db import relaxed_update
from airlock.errors import Conflict, Forbidden, InvalidInput, NotFound
from airlock.netsafety import UnsafeURL, check_outbound_url
from airlock.prepared import PreparedAll
from approvals import dispatch
from approvals.dispatch import DomainEvent
from approvals.models import FINAL_STATUSES, ActionRequest, ActionStatus
from audit import catalogue
from audit.services import record
from notifications.models import (
    AgentWebhookSecret,
    Channel,
    ChannelKind,
    ChannelMode,
    ChatLink,
    ChatProvider,
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    PostedMessage,
    SlackMessage,
    TeamsMessage,
)
from notifications.outbound import PermanentFailure, TransientFailure
from notifications.senders import SENDERS
from notifications.teams_connector import is_conversation

logger = logging.getLogger(__name__)

GROUP_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,149}$")
SLACK_CHANNEL_RE = re.compile(r"^[CGD][A-Z0-9]{2,31}$")
SLACK_ID_RE = re.compile(r"^[A-Z0-9]{2,32}$")
WEBHOOK_KINDS = frozenset({DeliveryKind.WEBHOOK, DeliveryKind.CALLBACK})
KIND_OF_CHANNEL = {
    ChannelKind.SLACK: DeliveryKind.SLACK_POST,
    ChannelKind.EMAIL: DeliveryKind.EMAIL,
    ChannelKind.TEAMS: DeliveryKind.TEAMS,
    ChannelKind.WEBHOOK: DeliveryKind.WEBHOOK,
}


def _conf() -> dict[str, Any]:
    return settings.NOTIFY


def new_webhook_secret() -> str:
    """Standard Webhooks' symmetric form: ``whsec_`` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# --- channels ------------------------------------------------------------------------


def _require_admin(actor: Any) -> None:
    if not roles.is_admin(actor):
        raise Forbidden("only airlock-admins manage notification channels")


def _check_target(kind: str, target: str) -> str:
    target = target.strip()
    if kind == ChannelKind.SLACK:
        if not SLACK_CHANNEL_RE.match(target):
            raise InvalidInput(details={"target": ["a Slack channel id such as C0123ABCD"]})
    elif kind == ChannelKind.EMAIL:
        if target:
            raise InvalidInput(
                details={"target": ["leave empty: e-mail goes to the groups' eligible reviewers"]}
            )
    elif kind == ChannelKind.TEAMS and "://" not in target:
        if not is_conversation(target):
            raise InvalidInput(
                details={
                    "target": [
                        "a Workflows webhook URL, or a conversation id such as "
                        "19:…@thread.tacv2 that the Airlock bot is installed in"
                    ]
                }
            )
        if not settings.TEAMS["APP_ID"]:
            raise InvalidInput(
                details={"target": ["a conversation needs the Airlock bot: set TEAMS_APP_ID"]}
            )
    else:
        try:
            check_outbound_url(
                target,
                allow_http=settings.AIRLOCK["ALLOW_HTTP_CALLBACKS"],
                allow_private=settings.AIRLOCK["ALLOW_PRIVATE_CALLBACKS"],
            )
        except UnsafeURL as exc:
            raise InvalidInput(details={"target": [str(exc)]}) from exc
    return target


def create_channel(
    *, actor: User, kind: str, name: str, target: str, groups: list[str], mode: str = "approve"
) -> tuple[Channel, str | None]:
    """A channel, and for a webhook its signing secret (returned this once)."""
    _require_admin(actor)
    problems: dict[str, list[str]] = {}
    if kind not in ChannelKind.values:
        problems["kind"] = [f"one of {', '.join(ChannelKind.values)}"]
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        problems["name"] = ["1 to 100 characters"]
    if (
        not isinstance(groups, list)
        or not groups
        or not all(isinstance(g, str) and GROUP_RE.match(g) for g in groups)
    ):
        problems["groups"] = ["a list of reviewer group names"]
    if mode not in ChannelMode.values:
        problems["mode"] = ["approve or link"]
    if problems:
        raise InvalidInput(details=problems)
    target = _check_target(kind, target or "")
    secret = new_webhook_secret() if kind == ChannelKind.WEBHOOK else ""
    with transaction.atomic():
        if Channel.objects.filter(name=name.strip()).exists():
            raise Conflict("a channel with this name exists")
        channel = Channel.objects.create(
            kind=kind,
            name=name.strip(),
            target=target,
            groups=sorted(set(groups)),
            mode=mode,
            secret=secret,
            created_by=actor.email,
        )
        record(
            catalogue.CHANNEL_CREATED,
            actor,
            channel.audit_target,
            {"kind": kind, "name": channel.name, "groups": channel.groups, "mode": mode},
        )
    return channel, secret or None


def delete_channel(*, actor: User, channel_id: int) -> None:
    _require_admin(actor)
    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
        if channel is None:
            raise NotFound("no such channel")
        record(catalogue.CHANNEL_DELETED, actor, channel.audit_target, {"name": channel.name})
        channel.delete()


# Read for every request that becomes pending; the query compiled once (per thread).
_every_channel = PreparedAll(lambda: Channel.objects.order_by("pk"))


def channels_for(groups: set[str] | tuple[str, ...]) -> list[Channel]:
    wanted = set(groups)
    return [c for c in _every_channel.all() if wanted & set(c.groups)]


# --- planning: domain event -> delivery rows ----------------------------------------


def becomes_pending(event: DomainEvent) -> bool:
    return event.status == ActionStatus.PENDING and (
        event.kind == dispatch.FILED
        or (event.kind == dispatch.STATUS and event.previous != ActionStatus.PENDING)
    )


def plan(event: DomainEvent) -> list[int]:
    """Create this event's deliveries (once: keyed by event id) and return the ids of
    those still to send. Safe to call again for the same event."""
    if event.id is None:
        return []
    callback = event.callback
    if callback is None:  # an event that does not say: read the request
        # Deliveries only name the request; no ordering, no payload or sealed copy read.
        action = next(
            iter(
                ActionRequest.objects.only("id", "callback_url", "requester_agent_id")
                .filter(pk=event.action_id)
                .order_by()[:1]
            ),
            None,
        )
        if action is None:
            return []
        callback = action.calls_back
    action_id = event.action_id
    now = timezone.now()
    rows: list[Delivery] = []
    if becomes_pending(event):
        for channel in channels_for(event.reviewer_groups):
            rows.append(
                Delivery(
                    key=f"e{event.id}:c{channel.pk}",
                    kind=KIND_OF_CHANNEL[channel.kind],  # type: ignore[index]
                    channel=channel,
                    action_id=action_id,
                    topic="pending",
                )
            )
    if event.kind == dispatch.REVIEWED or (
        event.kind == dispatch.STATUS and event.status in FINAL_STATUSES
    ):
        # Every chat message about the request is rewritten: Slack's and Teams' alike.
        posted: tuple[tuple[type[PostedMessage], str, str], ...] = (
            (SlackMessage, DeliveryKind.SLACK_UPDATE, "u"),
            (TeamsMessage, DeliveryKind.TEAMS_UPDATE, "t"),
        )
        for model, kind, tag in posted:
            messages_about = model._default_manager.filter(action_id=action_id)
            for message in messages_about.select_related("channel"):
                rows.append(
                    Delivery(
                        key=f"e{event.id}:{tag}{message.pk}",
                        kind=kind,
                        channel=message.channel,
                        action_id=action_id,
                        topic=event.status,
                    )
                )
    if event.kind in (dispatch.FILED, dispatch.STATUS) and callback:
        rows.append(
            Delivery(
                key=f"e{event.id}:cb",
                kind=DeliveryKind.CALLBACK,
                action_id=action_id,
                topic=event.status,
            )
        )
    return store(rows, now)


def store(rows: list[Delivery], now: datetime) -> list[int]:
    if not rows:
        return []
    for row in rows:
        row.created_at = row.next_attempt_at = now
        row.save_message_id()
    Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        Delivery.objects.filter(
            key__in=[r.key for r in rows], status=DeliveryStatus.PENDING
        ).values_list("pk", flat=True)
    )


# --- sending ---------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Exponential, capped, jittered over its upper half."""
    base = min(_conf()["BACKOFF_MAX_SECONDS"], _conf()["BACKOFF_SECONDS"] * 2 ** (attempts - 1))
    return timedelta(seconds=base * (0.5 + random.random() / 2))  # noqa: S311 - not a secret


def _claim(delivery_id: int, now: datetime) -> bool:
    return bool(
        relaxed_update(
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .filter(next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)),
            claimed_until=now + timedelta(seconds=_conf()["CLAIM_SECONDS"]),
        )
    )


def _gives_up(delivery: Delivery, attempts: int, now: datetime) -> bool:
    if delivery.kind in WEBHOOK_KINDS:
        return now - delivery.created_at >= timedelta(hours=_conf()["WEBHOOK_RETRY_HOURS"])
    return attempts >= _conf()["MAX_ATTEMPTS"]


def attempt(delivery_id: int, *, now: datetime | None = None) -> str | None:
    """Send one delivery if it is due and nobody else is sending it. Returns its
    status afterwards, or None when it was not ours to send."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = Delivery.objects.select_related(
        "channel",
        "action__requester_agent",
        "action__requester_user",
        "action__requester_owner",
    ).get(pk=delivery_id)
    action = delivery.action
    attempts = delivery.attempts + 1
    error = ""
    permanent = False
    try:
        SENDERS[delivery.kind](delivery, action)
    except PermanentFailure as exc:
        error, permanent = str(exc), True
    except TransientFailure as exc:
        error = str(exc)
    except Exception as exc:
        # A bug or an unexpected answer: retried like a transient error, and visible.
        logger.exception("notifications: delivery %s raised", delivery_id)
        error = f"{type(exc).__name__}: {exc}"
    done = timezone.now()
    if not error:
        relaxed_update(
            Delivery.objects.filter(pk=delivery_id),
            status=DeliveryStatus.DELIVERED,
            attempts=attempts,
            delivered_at=done,
            claimed_until=None,
            last_error="",
        )
        return DeliveryStatus.DELIVERED
    if permanent or _gives_up(delivery, attempts, done):
        with transaction.atomic():
            Delivery.objects.filter(pk=delivery_id).update(
                status=DeliveryStatus.FAILED,
                attempts=attempts,
                claimed_until=None,
                last_error=error[:500],
            )
            record(
                catalogue.DELIVERY_FAILED,
                "system",
                delivery.audit_target,
                {
                    "kind": delivery.kind,
                    "action": str(delivery.action_id),
                    "channel": delivery.channel_id,
                    "attempts": attempts,
                    "permanent": permanent,
                    "error": error[:200],
                },
            )
        logger.warning("notifications: delivery %s failed: %s", delivery_id, error)
        return DeliveryStatus.FAILED
    relaxed_update(
        Delivery.objects.filter(pk=delivery_id),
        attempts=attempts,
        next_attempt_at=done + backoff(attempts),
        claimed_until=None,
        last_error=error[:500],
    )
    return DeliveryStatus.PENDING


def due(*, now: datetime | None = None, batch: int | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: batch or _conf()["SWEEP_BATCH"]]
    )


def sweep(*, now: datetime | None = None) -> int:
    """Send every due delivery (a first send whose task was lost, or a retry).
    Returns how many were delivered."""
    now = now or timezone.now()
    return sum(attempt(pk, now=now) == DeliveryStatus.DELIVERED for pk in due(now=now))


def retry(*, actor: User, delivery_id: int) -> Delivery:
    """An admin sends a failed delivery again, with a fresh set of attempts."""
    if not roles.is_admin(actor):
        raise Forbidden("only airlock-admins retry deliveries")
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound("no such delivery")
        if delivery.status != DeliveryStatus.FAILED:
            raise Conflict("only a failed delivery can be retried")
        now = timezone.now()
        Delivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None
        )
        record(
            catalogue.DELIVERY_RETRIED,
            actor,
            delivery.audit_target,
            {
                "kind": delivery.kind,
                "action": str(delivery.action_id),
                "last_error": delivery.last_error[:200],
            },
        )
        delivery.refresh_from_db()
    return delivery


# --- agents' webhook secrets and chat links -------------------------------------------


def rotate_webhook_secret(*, agent_name: str, actor: User | str) -> str:
    """Make or replace an agent's callback signing secret; returned this once."""
    with transaction.atomic():
        agent = Agent.objects.filter(name=agent_name).first()
        if agent is None:
            raise NotFound("no such agent")
        if not isinstance(actor, str) and not roles.can_revoke_agent(actor, agent):
            raise Forbidden("only an admin or the agent's owner may set its webhook secret")
        secret = new_webhook_secret()
        _, created = AgentWebhookSecret.objects.update_or_create(
            agent=agent, defaults={"secret": secret, "created_at": timezone.now()}
        )
        record(
            catalogue.AGENT_WEBHOOK_SECRET_ROTATED,
            actor,
            f"agent:{agent.name}",
            {"first": created},
        )
    return secret


def link_chat_user(
    *, email: str, provider: str, team_id: str, chat_user_id: str, actor: User | str
) -> ChatLink:
    """Bind a chat identity to a person (moving it if it was bound to someone else)."""
    if provider not in ChatProvider.values:
        raise InvalidInput(details={"provider": ["slack or teams"]})
    if provider == ChatProvider.SLACK and not (
        SLACK_ID_RE.match(team_id) and SLACK_ID_RE.match(chat_user_id)
    ):
        raise InvalidInput(details={"slack": ["TEAM_ID:USER_ID, such as T0123:U0456"]})
    if provider == ChatProvider.TEAMS:
        # Entra ids are GUIDs; Teams sends them in lower case.
        try:
            team_id, chat_user_id = str(uuid.UUID(team_id)), str(uuid.UUID(chat_user_id))
        except ValueError:
            raise InvalidInput(
                details={"teams": ["TENANT_ID:AAD_OBJECT_ID, both GUIDs (the Entra oid)"]}
            ) from None
    if not team_id or not chat_user_id or len(team_id) > 64 or len(chat_user_id) > 64:
        raise InvalidInput(details={provider: ["both ids are required"]})
    with transaction.atomic():
        person = User.objects.filter(email=email.strip().lower(), is_active=True).first()
        if person is None:
            raise NotFound("no such person")
        link, _ = ChatLink.objects.update_or_create(
            provider=provider,
            team_id=team_id,
            chat_user_id=chat_user_id,
            defaults={"user": person, "created_at": timezone.now()},
        )
        record(
            catalogue.CHAT_USER_LINKED,
            actor,
            f"user:{person.email}",
            {"provider": provider, "team_id": team_id, "chat_user_id": chat_user_id},
        )
    return link


def linked_person(*, provider: str, team_id: str, chat_user_id: str) -> User | None:
    link = (
        ChatLink.objects.select_related("user")
        .filter(provider=provider, team_id=team_id, chat_user_id=chat_user_id)
        .first()
    )
    return link.user if link is not None and link.user.is_active else None
