"""Approval inside a Teams card: the Airlock bot's answer to an authentic activity
(``views.teams`` has already checked its Bot Framework token and our tenant).

A click is an ``invoke`` named ``adaptiveCard/action`` (``Action.Execute``), with the
verb and the card's data. The clicker (``from.aadObjectId``, the Entra ``oid``)
becomes a person only through an explicit ``ChatLink``; the card must be one Airlock
posted to a channel that approves in place. Then ``approvals.services`` decides, so
the owner, the ``on_behalf_of`` person and outsiders are refused exactly as in the
console (audited there, ``via: teams``). The answer is a card for the clicker: the
request as it now stands, with what happened; everyone's copy is rewritten through
the outbox after the decision commits.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from accounts.models import User
from airlock.errors import DomainError
from approvals import services as approvals
from approvals.models import ActionRequest
from notifications import chat, messages
from notifications.models import ChannelMode, ChatProvider, TeamsMessage
from notifications.senders import channel_mode

PROVIDER = ChatProvider.TEAMS
INVOKE_CARD_ACTION = "adaptiveCard/action"


def tenant_of(activity: dict[str, Any]) -> str | None:
    """The activity's tenant, or None when it names none or two different ones."""
    conversation = activity.get("conversation")
    channel_data = activity.get("channelData")
    tenant = channel_data.get("tenant") if isinstance(channel_data, dict) else None
    named = {
        str(value).strip().lower()
        for value in (
            conversation.get("tenantId") if isinstance(conversation, dict) else None,
            tenant.get("id") if isinstance(tenant, dict) else None,
        )
        if value
    }
    return named.pop() if len(named) == 1 else None


def _clicker(activity: dict[str, Any]) -> tuple[str, str]:
    """(the Entra object id, a label for the audit log)."""
    sender = activity.get("from") or {}
    oid = str(sender.get("aadObjectId") or "").strip().lower() if isinstance(sender, dict) else ""
    tenant = tenant_of(activity) or ""
    label = oid or (str(sender.get("id") or "?")[:64] if isinstance(sender, dict) else "?")
    return oid, f"teams:{tenant}:{label}"


def _stored(activity: dict[str, Any], request_id: UUID) -> TeamsMessage | None:
    """The card Airlock posted that this click is on (a card it did not post, or no
    longer knows, gets no review)."""
    activity_id = str(activity.get("replyToId") or "")
    conversation = str((activity.get("conversation") or {}).get("id") or "")
    if not activity_id:
        return None
    card = (
        TeamsMessage.objects.select_related("channel")
        .filter(activity_id=activity_id, action_id=request_id)
        .first()
    )
    # In a channel the click's conversation is the card's thread: "<channel>;messageid=…".
    if card is None or conversation.split(";", 1)[0] != card.conversation_id.split(";", 1)[0]:
        return None
    return card


def _answer(
    action: ActionRequest,
    card: TeamsMessage | None,
    note: str,
    *,
    alert: bool = True,
    link: str = "",
) -> dict[str, Any]:
    mode = channel_mode(card.channel, action) if card is not None else ChannelMode.LINK
    return messages.teams_invoke_card(
        messages.teams_bot_card(action, mode=mode, note=note, alert=alert, link_url=link)
    )


def _refuse(activity: dict[str, Any], request_id: str | None, reason: str) -> None:
    oid, actor = _clicker(activity)
    chat.refuse_click(
        PROVIDER,
        actor=actor,
        request_id=request_id,
        reason=reason,
        data={"tenant_id": tenant_of(activity) or "", "aad_object_id": oid},
    )


def on_card_action(activity: dict[str, Any]) -> dict[str, Any]:
    value = activity.get("value") or {}
    executed = (value.get("action") or {}) if isinstance(value, dict) else {}
    verb = str(executed.get("verb") or "") if isinstance(executed, dict) else ""
    data = executed.get("data") if isinstance(executed, dict) else None
    data = data if isinstance(data, dict) else {}
    request_id = chat.action_id(data.get("action"))
    action = ActionRequest.objects.filter(pk=request_id).first() if request_id else None
    if action is None or verb not in ("approve", "deny"):
        _refuse(activity, request_id, "unknown_card")
        return messages.teams_invoke_message("This card names no request Airlock knows.")
    card = _stored(activity, action.pk)
    oid, _ = _clicker(activity)
    person: User | None = chat.person(PROVIDER, tenant_of(activity) or "", oid)
    if person is None:
        _refuse(activity, request_id, "unlinked")
        link = chat.link_url(PROVIDER, tenant_of(activity) or "", oid) if oid else ""
        how = (
            "Link it with the button below (sign-in required), then click again."
            if link
            else "Ask an Airlock admin to link it (manage.py link_chat_user --teams)."
        )
        return _answer(action, card, f"{chat.unlinked_text(PROVIDER)} {how}", link=link)
    if card is None or channel_mode(card.channel, action) != ChannelMode.APPROVE:
        _refuse(activity, request_id, "link_only")
        return _answer(
            action, card, "This channel reviews in the console only: open the request in Airlock."
        )
    if verb == "deny":
        reason = str(data.get("reason") or "").strip()[: messages.DENY_REASON_MAX]
        if not reason:
            return _answer(action, card, "A reason is required to deny.")
    try:
        if verb == "approve":
            approvals.approve(action_id=UUID(request_id), actor=person, via="teams")
        else:
            approvals.deny(action_id=UUID(request_id), actor=person, reason=reason, via="teams")
    except DomainError as exc:
        action.refresh_from_db()
        return _answer(action, card, chat.refusal_text(exc))
    action.refresh_from_db()
    done = "You approved this request." if verb == "approve" else "You denied this request."
    return _answer(action, card, done, alert=False)


def handle(activity: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """(HTTP status, JSON body or None) for an authentic activity of our tenant."""
    if activity.get("type") == "invoke" and activity.get("name") == INVOKE_CARD_ACTION:
        return 200, on_card_action(activity)
    # Installation, conversation and message activities need no answer; a card is
    # only ever sent proactively, to the conversation a channel names.
    return 200, None
