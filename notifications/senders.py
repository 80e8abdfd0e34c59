"""Sending one delivery. Each sender raises ``PermanentFailure`` (give up now) or
``TransientFailure`` (try again later); returning means the receiver took it."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from standardwebhooks import Webhook

from accounts.models import User
from approvals import duties
from approvals.models import ActionRequest, ActionStatus
from notifications import messages, outbound, teams_connector
from notifications.models import (
    AgentWebhookSecret,
    Channel,
    ChannelMode,
    Delivery,
    DeliveryKind,
    SlackMessage,
    TeamsMessage,
)
from notifications.outbound import PermanentFailure, TransientFailure

# Slack errors that no retry cures (everything else, rate limits included, is retried).
SLACK_PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)


def slack_client() -> WebClient:
    return WebClient(
        token=settings.SLACK["BOT_TOKEN"] or None,
        base_url=settings.SLACK["API_URL"],
        timeout=settings.NOTIFY["HTTP_TIMEOUT_SECONDS"],
    )


def _slack_call(call: Callable[[], object]) -> object:
    try:
        return call()
    except SlackApiError as exc:
        error = str(exc.response.get("error", "")) if exc.response is not None else ""
        if error in SLACK_PERMANENT:
            raise PermanentFailure(f"slack: {error}") from exc
        raise TransientFailure(f"slack: {error or exc}") from exc
    except (SlackClientError, OSError) as exc:
        raise TransientFailure(f"slack: {type(exc).__name__}: {exc}") from exc


def channel_mode(channel: Channel | None, action: ActionRequest) -> str:
    """Whether a message in ``channel`` about ``action`` offers review buttons."""
    if channel is None or channel.mode == ChannelMode.LINK:
        return ChannelMode.LINK
    # An escalation to a channel none of whose groups may review: a link, not buttons
    # that would only be refused.
    if not set(channel.groups) & duties.reviewer_group_names(action):
        return ChannelMode.LINK
    return ChannelMode.APPROVE


def _mode(delivery: Delivery, action: ActionRequest) -> str:
    return channel_mode(delivery.channel, action)


REMINDER = "Reminder: this request still waits for review."
ESCALATED = "Escalated: still waiting for review."


def _note(delivery: Delivery) -> str:
    return {"remind": REMINDER, "escalate": ESCALATED}.get(delivery.topic, "")


def _recheck(action: ActionRequest, rewrite: Callable[[ActionRequest], None]) -> None:
    """A decision that committed while a message was being posted found no message to
    update; read the status again now the message is recorded (docs/notifications)."""
    status = ActionRequest.objects.filter(pk=action.pk).values_list("status", flat=True).first()
    if status != ActionStatus.PENDING:
        action.refresh_from_db()
        rewrite(action)


def send_slack_post(delivery: Delivery, action: ActionRequest) -> None:
    channel = delivery.channel
    if channel is None:
        raise PermanentFailure("the channel was removed")
    client = slack_client()
    existing = SlackMessage.objects.filter(action=action, channel=channel).first()
    if delivery.topic == "remind" and existing is not None:
        reminder = f"{REMINDER} {messages.console_url(action)}"
        # A reminder is a reply in the message's thread, so the channel is not flooded.
        _slack_call(
            lambda: client.chat_postMessage(
                channel=existing.slack_channel,
                thread_ts=existing.ts,
                reply_broadcast=True,
                text=reminder,
            )
        )
        return
    if existing is not None:
        return  # posted by an earlier attempt that died before recording success
    body = messages.slack_message(
        action,
        mode=_mode(delivery, action),
        note=ESCALATED if delivery.topic == "escalate" else "",
    )
    answer = _slack_call(
        lambda: client.chat_postMessage(
            channel=channel.target, text=body["text"], blocks=body["blocks"]
        )
    )
    message, _ = SlackMessage.objects.get_or_create(
        action=action,
        channel=channel,
        defaults={"slack_channel": answer["channel"], "ts": answer["ts"]},  # type: ignore[index]
    )
    _recheck(action, lambda fresh: update_slack_message(message, fresh))


def update_slack_message(message: SlackMessage, action: ActionRequest) -> None:
    body = messages.slack_message(action, mode=channel_mode(message.channel, action))
    _slack_call(
        lambda: slack_client().chat_update(
            channel=message.slack_channel, ts=message.ts, text=body["text"], blocks=body["blocks"]
        )
    )


def send_slack_update(delivery: Delivery, action: ActionRequest) -> None:
    if delivery.channel is None:
        raise PermanentFailure("the channel was removed")
    message = SlackMessage.objects.filter(action=action, channel=delivery.channel).first()
    if message is None:
        raise PermanentFailure("no Slack message to update")
    update_slack_message(message, action)


def send_email(delivery: Delivery, action: ActionRequest) -> None:
    channel = delivery.channel
    if channel is None:
        raise PermanentFailure("the channel was removed")
    groups = set(channel.groups)
    if delivery.topic == "escalate":
        recipients = _members_of(groups)
    else:
        # The eligible reviewers (duties.audience) who are in this channel's groups.
        recipients = list(
            duties.audience(action).filter(groups__name__in=groups).values_list("email", flat=True)
        )
    if not recipients:
        raise PermanentFailure("nobody eligible to e-mail in the channel's groups")
    facts = messages.summary(action)
    prefix = {"remind": "Reminder: ", "escalate": "Escalated: "}.get(delivery.topic, "")
    context = {"facts": facts, "prefix": prefix, "action": action}
    text = render_to_string("notifications/email.txt", context)
    html = render_to_string("notifications/email.html", context)
    outgoing = []
    for address in recipients:
        email = mail.EmailMultiAlternatives(
            subject=f"[Airlock] {prefix}{facts.title}"[:200],
            body=text,
            from_email=settings.NOTIFY["EMAIL_FROM"],
            to=[address],
            headers={
                "X-Airlock-Delivery": delivery.message_id,
                "X-Airlock-Request": str(action.pk),
            },
        )
        email.attach_alternative(html, "text/html")
        outgoing.append(email)
    try:
        with mail.get_connection(fail_silently=False) as connection:
            connection.send_messages(outgoing)
    except smtplib.SMTPResponseException as exc:
        if 500 <= exc.smtp_code < 600:
            raise PermanentFailure(f"smtp {exc.smtp_code}") from exc
        raise TransientFailure(f"smtp {exc.smtp_code}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentFailure(f"smtp: {len(exc.recipients)} recipients refused") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientFailure(f"smtp: {type(exc).__name__}: {exc}") from exc


def _members_of(groups: set[str]) -> list[str]:
    """Everyone active in ``groups``: an escalation tells people who may not review."""
    return list(
        User.objects.filter(is_active=True, groups__name__in=groups)
        .distinct()
        .order_by("email")
        .values_list("email", flat=True)
    )


def _post(url: str, raw: str, headers: dict[str, str]) -> None:
    airlock = settings.AIRLOCK
    outbound.post(
        url,
        raw.encode(),
        {"Content-Type": "application/json", "User-Agent": "Airlock-Webhooks/1", **headers},
        allow_http=airlock["ALLOW_HTTP_CALLBACKS"],
        allow_private=airlock["ALLOW_PRIVATE_CALLBACKS"],
        timeout=settings.NOTIFY["HTTP_TIMEOUT_SECONDS"],
        max_response_bytes=settings.NOTIFY["HTTP_MAX_RESPONSE_BYTES"],
    )


def signed_headers(secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """Standard Webhooks: the id (stable across retries), the time, and ``v1,<HMAC>``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def _send_signed(url: str, secret: str, delivery: Delivery, body: dict[str, Any]) -> None:
    # Signed at each attempt: the timestamp is the attempt's (receivers refuse old ones).
    at = datetime.now(UTC).replace(microsecond=0)
    raw = json.dumps(body, separators=(",", ":"))
    _post(url, raw, signed_headers(secret, delivery.message_id, raw, at))


def send_webhook(delivery: Delivery, action: ActionRequest) -> None:
    channel = delivery.channel
    if channel is None:
        raise PermanentFailure("the channel was removed")
    body = messages.event_body(
        action,
        event_type=f"action.{delivery.topic or action.status}",
        at=delivery.created_at.isoformat(),
        excerpt_too=True,
    )
    _send_signed(channel.target, channel.secret, delivery, body)


def send_callback(delivery: Delivery, action: ActionRequest) -> None:
    if not action.callback_url or action.requester_agent_id is None:
        raise PermanentFailure("the request has no agent callback")
    secret = AgentWebhookSecret.objects.filter(agent_id=action.requester_agent_id).first()
    if secret is None:
        raise PermanentFailure("the agent has no webhook secret: make one (webhook_secret)")
    body = messages.event_body(
        action,
        event_type=f"action.{delivery.topic}",
        at=delivery.created_at.isoformat(),
        excerpt_too=False,
    )
    _send_signed(action.callback_url, secret.secret, delivery, body)


def send_teams(delivery: Delivery, action: ActionRequest) -> None:
    """A Workflows webhook gets a card with a link; a conversation id gets the bot's
    card, through the Bot Connector."""
    channel = delivery.channel
    if channel is None:
        raise PermanentFailure("the channel was removed")
    if teams_connector.is_conversation(channel.target):
        _send_teams_bot(delivery, action, channel)
        return
    _post(channel.target, json.dumps(messages.teams_card(action, note=_note(delivery))), {})


def _send_teams_bot(delivery: Delivery, action: ActionRequest, channel: Channel) -> None:
    existing = TeamsMessage.objects.filter(action=action, channel=channel).first()
    if delivery.topic == "remind" and existing is not None:
        # In the card's thread, so the channel is not flooded.
        teams_connector.reply(
            existing.conversation_id,
            existing.activity_id,
            {"type": "message", "text": f"{REMINDER} {messages.console_url(action)}"},
        )
        return
    if existing is not None:
        return  # posted by an earlier attempt that died before recording success
    card = messages.teams_bot_card(action, mode=_mode(delivery, action), note=_note(delivery))
    activity_id = teams_connector.send(
        channel.target, messages.teams_activity(card, text=messages.summary(action).title)
    )
    message, _ = TeamsMessage.objects.get_or_create(
        action=action,
        channel=channel,
        defaults={"conversation_id": channel.target, "activity_id": activity_id},
    )
    _recheck(action, lambda fresh: update_teams_message(message, fresh))


def update_teams_message(message: TeamsMessage, action: ActionRequest) -> None:
    """Rewrite the bot's card for everyone: progress, or the outcome and no buttons."""
    card = messages.teams_bot_card(action, mode=channel_mode(message.channel, action))
    teams_connector.update(
        message.conversation_id,
        message.activity_id,
        messages.teams_activity(card, text=messages.summary(action).decided),
    )


def send_teams_update(delivery: Delivery, action: ActionRequest) -> None:
    if delivery.channel is None:
        raise PermanentFailure("the channel was removed")
    message = TeamsMessage.objects.filter(action=action, channel=delivery.channel).first()
    if message is None:
        raise PermanentFailure("no Teams card to update")
    update_teams_message(message, action)


SENDERS: dict[str, Callable[[Delivery, ActionRequest], None]] = {
    DeliveryKind.SLACK_POST: send_slack_post,
    DeliveryKind.SLACK_UPDATE: send_slack_update,
    DeliveryKind.EMAIL: send_email,
    DeliveryKind.TEAMS: send_teams,
    DeliveryKind.TEAMS_UPDATE: send_teams_update,
    DeliveryKind.WEBHOOK: send_webhook,
    DeliveryKind.CALLBACK: send_callback,
}
