"""Approval inside Slack: a slack-bolt app in HTTP mode, behind our own signature
check (``integrations``), calling the same domain review as every other path.

The clicker becomes a person only through an explicit ``ChatLink`` and only from
the configured workspace (``SLACK_TEAM_ID``). Then ``approvals.services`` decides,
so the owner, the ``on_behalf_of`` person and outsiders are refused exactly as in
the console; the refusal is audited there and shown to the clicker ephemerally.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any
from uuid import UUID

from django.conf import settings
from slack_bolt import Ack, App
from slack_sdk import WebClient

from accounts.models import User
from airlock.errors import DomainError
from approvals import services as approvals
from notifications import chat, messages
from notifications.models import ChannelMode, ChatProvider, SlackMessage

logger = logging.getLogger(__name__)
PROVIDER = ChatProvider.SLACK


def _ids(body: dict[str, Any]) -> tuple[str, str, str]:
    """(the request's team, the clicker's own team, the clicker)."""
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or ""
    return str(team), str(user.get("team_id") or team), str(user.get("id") or "")


def _refuse_click(body: dict[str, Any], reason: str, action_id: str | None) -> None:
    team, user_team, user = _ids(body)
    chat.refuse_click(
        PROVIDER,
        actor=f"slack:{user_team}:{user}",
        request_id=action_id,
        reason=reason,
        data={"team_id": team, "user_team_id": user_team},
    )


def _person(body: dict[str, Any], action_id: str | None) -> tuple[User | None, str]:
    """The linked person behind a click, or None and what to tell the clicker."""
    team, user_team, user = _ids(body)
    expected = settings.SLACK["TEAM_ID"]
    if not expected or team != expected or user_team != expected:
        _refuse_click(body, "other_team", action_id)
        return None, "This Slack workspace is not connected to Airlock."
    person = chat.person(PROVIDER, team, user)
    if person is None:
        _refuse_click(body, "unlinked", action_id)
        return None, (
            f"{chat.unlinked_text(PROVIDER)} Link it here (sign-in required), then click "
            f"again: {chat.link_url(PROVIDER, team, user)}"
        )
    return person, ""


def _message_mode(body: dict[str, Any]) -> str:
    channel = (body.get("channel") or {}).get("id")
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    stored = (
        SlackMessage.objects.select_related("channel").filter(slack_channel=channel, ts=ts).first()
    )
    # A click on a message Airlock did not post (or no longer knows) gets no review.
    return stored.channel.mode if stored is not None else ChannelMode.LINK


def _tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    channel = (body.get("channel") or {}).get("id")
    user = (body.get("user") or {}).get("id")
    if channel and user:
        client.chat_postEphemeral(channel=channel, user=user, text=text)


def _clicked(body: dict[str, Any]) -> tuple[str | None, User | None, str]:
    actions = body.get("actions") or [{}]
    action_id = chat.action_id(actions[0].get("value"))
    person, why = _person(body, action_id)
    if person is None:
        return action_id, None, why
    if action_id is None:
        return None, None, "This button names no request."
    if _message_mode(body) != ChannelMode.APPROVE:
        _refuse_click(body, "link_only", action_id)
        return (
            action_id,
            None,
            "This channel reviews in the console only: open the request in Airlock.",
        )
    return action_id, person, ""


def on_approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    action_id, person, why = _clicked(body)
    if person is None or action_id is None:
        _tell(client, body, why)
        return
    try:
        approvals.approve(action_id=UUID(action_id), actor=person, via="slack")
    except DomainError as exc:
        _tell(client, body, chat.refusal_text(exc))
        return
    _tell(client, body, "You approved this request.")


def on_deny(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    action_id, person, why = _clicked(body)
    if person is None or action_id is None:
        _tell(client, body, why)
        return
    channel = (body.get("channel") or {}).get("id") or ""
    ts = (body.get("message") or {}).get("ts") or ""
    client.views_open(
        trigger_id=body["trigger_id"], view=messages.deny_modal(action_id, channel, ts)
    )


def on_deny_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        meta = {}
    action_id = chat.action_id(meta.get("action"))
    person, why = _person(body, action_id)
    if person is None or action_id is None:
        ack(response_action="errors", errors={"reason": why or "This form names no request."})
        return
    state = (view.get("state") or {}).get("values") or {}
    reason = str(((state.get("reason") or {}).get("reason") or {}).get("value") or "")
    if not reason.strip():
        ack(response_action="errors", errors={"reason": "A reason is required to deny."})
        return
    try:
        approvals.deny(action_id=UUID(action_id), actor=person, reason=reason.strip(), via="slack")
    except DomainError as exc:
        ack(response_action="errors", errors={"reason": chat.refusal_text(exc)})
        return
    ack()


def on_open(ack: Ack) -> None:
    ack()  # a link button: Slack opens the URL, Airlock has nothing to do


@cache
def _app(signing_secret: str, token: str, api_url: str) -> App:
    app = App(
        signing_secret=signing_secret,
        client=WebClient(token=token or None, base_url=api_url),
        # The signature, the window and replays are checked (and audited) before Bolt.
        request_verification_enabled=False,
        token_verification_enabled=False,
        process_before_response=True,
        logger=logger,
    )
    app.action("approve")(on_approve)
    app.action("deny")(on_deny)
    app.action("open")(on_open)
    app.view("deny_reason")(on_deny_submitted)
    return app


def app() -> App:
    conf = settings.SLACK
    return _app(conf["SIGNING_SECRET"], conf["BOT_TOKEN"], conf["API_URL"])
