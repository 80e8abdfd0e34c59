"""What a message about a request says, in each medium: Slack Block Kit, e-mail,
Teams cards and webhook bodies. Everything here is read from the stored request;
the payload appears only as a short excerpt of its *masked* copy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from approvals.models import ActionRequest, ActionStatus, Review, Verdict

EXCERPT_CHARS = 300

OUTCOME_WORDS = {
    ActionStatus.APPROVED: "Approved",
    ActionStatus.DENIED: "Denied",
    ActionStatus.EXPIRED: "Expired",
    ActionStatus.CANCELLED: "Cancelled",
}


def console_url(action: ActionRequest) -> str:
    base = settings.NOTIFY["BASE_URL"].rstrip("/")
    return base + reverse("action-page", args=[action.pk])


def escape(text: str) -> str:
    """Slack's three control characters: user text can neither mention ``@channel``
    nor make links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def excerpt(action: ActionRequest) -> str:
    """A short excerpt of the masked payload (never the sealed original)."""
    if action.payload is None:
        return "(withheld until screened)"
    text = json.dumps(action.payload, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


def requester_name(action: ActionRequest) -> str:
    if action.requester_agent_id:
        return f"agent {action.requester_agent.name}"  # type: ignore[union-attr]
    return action.requester_user.email if action.requester_user else "?"


@dataclass(frozen=True)
class Summary:
    """The facts every medium shows."""

    title: str
    fields: list[tuple[str, str]]
    excerpt: str
    url: str
    decided: str  # "" while open; else "Approved by carol@… at …"
    progress: str

    def as_text(self) -> str:
        lines = [self.title, ""]
        lines += [f"{name}: {value}" for name, value in self.fields]
        lines += [f"Progress: {self.progress}", f"Payload (masked): {self.excerpt}"]
        if self.decided:
            lines += ["", self.decided]
        lines += ["", f"Open in Airlock: {self.url}"]
        return "\n".join(lines)


def _progress(action: ActionRequest, reviews: list[Review]) -> str:
    parts = [
        f"{p['approved']} of {p['approvals']} from {', '.join(p['reviewers'])} ({p['rule']})"
        for p in action.progress(reviews)
    ]
    return "; ".join(parts) or "-"


def _decided(action: ActionRequest, reviews: list[Review]) -> str:
    word = OUTCOME_WORDS.get(action.status)  # type: ignore[call-overload]
    if word is None:
        return ""
    when = action.decided_at.strftime("%Y-%m-%d %H:%M UTC") if action.decided_at else ""
    if action.status == ActionStatus.APPROVED:
        people = [r.reviewer.email for r in reviews if r.verdict == Verdict.APPROVE]
        who = ", ".join(people) if people else "policy"
    elif action.status == ActionStatus.DENIED:
        people = [r.reviewer.email for r in reviews if r.verdict == Verdict.DENY]
        who = ", ".join(people) if people else "policy"
    elif action.status == ActionStatus.CANCELLED:
        who = requester_name(action)
    else:
        return f"Expired at {when}: nobody decided before the deadline"
    return f"{word} by {who} at {when}"


def summary(action: ActionRequest) -> Summary:
    reviews = list(action.reviews.select_related("reviewer").order_by("created_at"))
    owner = action.requester_owner.email if action.requester_owner_id else "-"  # type: ignore[union-attr]
    classes = sorted({str(f.get("entity")) for f in action.findings or []})
    fields = [
        ("Action", action.action),
        ("Resource", action.resource),
        ("Environment", action.environment or "-"),
        ("Requester", requester_name(action)),
        ("Owner", owner),
        ("On behalf of", action.on_behalf_of or "-"),
        ("Justification", (action.justification or "-")[:500]),
        ("Policy", ", ".join(action.policy_rules or []) or "default"),
        ("Expires", action.expires_at.strftime("%Y-%m-%d %H:%M UTC") if action.expires_at else "-"),
        ("Data found", ", ".join(classes) or "none"),
    ]
    return Summary(
        title=f"Approval needed: {action.action} on {action.resource}"[:150],
        fields=fields,
        excerpt=excerpt(action),
        url=console_url(action),
        decided=_decided(action, reviews),
        progress=_progress(action, reviews),
    )


# --- Slack -------------------------------------------------------------------------


def slack_message(action: ActionRequest, *, mode: str, note: str = "") -> dict[str, Any]:
    """``text`` and ``blocks`` for chat.postMessage / chat.update. Buttons only while
    the request is pending and the channel approves in place."""
    facts = summary(action)
    outcome = OUTCOME_WORDS.get(action.status)  # type: ignore[call-overload]
    header = f"{outcome}: {action.action} on {action.resource}" if outcome else facts.title
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:150]}},
    ]
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]})
    fields = [
        {"type": "mrkdwn", "text": f"*{name}*\n{escape(value)}"[:2000]}
        for name, value in facts.fields
    ]
    blocks.append({"type": "section", "fields": fields[:10]})
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*Progress* {escape(facts.progress)}\n*Payload (masked)* "
                f"`{escape(facts.excerpt)}`"[:3000],
            },
        }
    )
    open_button = {
        "type": "button",
        "action_id": "open",
        "text": {"type": "plain_text", "text": "Open in Airlock"},
        "url": facts.url,
    }
    if facts.decided:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(facts.decided)}*"}}
        )
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"<{facts.url}|Open in Airlock>"}],
            }
        )
    elif action.status == ActionStatus.PENDING and mode == "approve":
        value = str(action.pk)
        blocks.append(
            {
                "type": "actions",
                "block_id": "review",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "style": "primary",
                        "value": value,
                        "text": {"type": "plain_text", "text": "Approve"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Approve this action?"},
                            "text": {
                                "type": "plain_text",
                                "text": f"{action.action} on {action.resource}"[:300],
                            },
                            "confirm": {"type": "plain_text", "text": "Approve"},
                            "deny": {"type": "plain_text", "text": "Back"},
                        },
                    },
                    {
                        "type": "button",
                        "action_id": "deny",
                        "style": "danger",
                        "value": value,
                        "text": {"type": "plain_text", "text": "Deny"},
                    },
                    open_button,
                ],
            }
        )
    else:
        blocks.append({"type": "actions", "block_id": "review", "elements": [open_button]})
    text = facts.decided or facts.title
    return {"text": text, "blocks": blocks}


def deny_modal(action_id: str, channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "deny_reason",
        "private_metadata": json.dumps({"action": action_id, "channel": channel, "ts": ts}),
        "title": {"type": "plain_text", "text": "Deny the request"},
        "submit": {"type": "plain_text", "text": "Deny"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Reason (the requester sees it)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": 2000,
                },
            }
        ],
    }


# --- Teams: Adaptive Cards (a Workflows post with a link, or the bot's card) --------

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
DENY_REASON_MAX = 2000


def _runs(*parts: tuple[str, bool]) -> dict[str, Any]:
    """A RichTextBlock of TextRuns: TextRun text is never read as Markdown, so what a
    requester wrote (a justification, a resource) cannot become a disguised link."""
    return {
        "type": "RichTextBlock",
        "inlines": [
            {"type": "TextRun", "text": text, **({"weight": "Bolder"} if bold else {})}
            for text, bold in parts
        ],
    }


def _card_body(action: ActionRequest, facts: Summary, note: str, alert: bool) -> list[Any]:
    outcome = OUTCOME_WORDS.get(action.status)  # type: ignore[call-overload]
    header = f"{outcome}: {action.action} on {action.resource}" if outcome else facts.title
    body: list[Any] = [
        {
            "type": "RichTextBlock",
            "inlines": [
                {"type": "TextRun", "text": header[:200], "weight": "Bolder", "size": "Medium"}
            ],
        }
    ]
    if note:
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [
                    {
                        "type": "TextRun",
                        "text": note[:1000],
                        "color": "Attention" if alert else "Good",
                        "weight": "Bolder",
                    }
                ],
            }
        )
    body += [_runs((f"{name}: ", True), (value, False)) for name, value in facts.fields]
    body.append(_runs(("Progress: ", True), (facts.progress, False)))
    body.append(
        {
            "type": "RichTextBlock",
            "inlines": [
                {"type": "TextRun", "text": "Payload (masked): ", "weight": "Bolder"},
                {"type": "TextRun", "text": facts.excerpt, "fontType": "Monospace"},
            ],
        }
    )
    if facts.decided:
        body.append(_runs((facts.decided, True)))
    return body


def _open(facts: Summary) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": "Review in Airlock", "url": facts.url}


def _review_actions(action: ActionRequest) -> list[dict[str, Any]]:
    """Approve, and Deny behind a reason the card requires (the server requires it too)."""
    data = {"action": str(action.pk)}
    return [
        {
            "type": "Action.Execute",
            "verb": "approve",
            "title": "Approve",
            "style": "positive",
            "data": data,
            "associatedInputs": "none",
        },
        {
            "type": "Action.ShowCard",
            "title": "Deny…",
            "card": {
                "type": "AdaptiveCard",
                "body": [
                    {
                        "type": "Input.Text",
                        "id": "reason",
                        "label": "Reason (the requester sees it)",
                        "isMultiline": True,
                        "isRequired": True,
                        "maxLength": DENY_REASON_MAX,
                        "errorMessage": "A reason is required to deny.",
                    }
                ],
                "actions": [
                    {
                        "type": "Action.Execute",
                        "verb": "deny",
                        "title": "Deny",
                        "style": "destructive",
                        "data": data,
                        "associatedInputs": "auto",
                    }
                ],
            },
        },
    ]


def teams_bot_card(
    action: ActionRequest,
    *,
    mode: str,
    note: str = "",
    alert: bool = False,
    link_url: str = "",
) -> dict[str, Any]:
    """The Airlock bot's card. Approve and Deny (``Action.Execute``: the only action
    modern Teams clients send to a bot) only while the request is pending and the
    channel approves in place; after a decision, the outcome, who and when, and no
    buttons. ``note`` is what the clicker is told; ``link_url`` offers account linking."""
    facts = summary(action)
    actions: list[dict[str, Any]] = []
    if not facts.decided and action.status == ActionStatus.PENDING and mode == "approve":
        actions += _review_actions(action)
    actions.append(_open(facts))
    if link_url:
        actions.append(
            {"type": "Action.OpenUrl", "title": "Link your Teams account", "url": link_url}
        )
    return {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "msteams": {"width": "Full"},
        "body": _card_body(action, facts, note, alert),
        "actions": actions,
    }


def teams_activity(card: dict[str, Any], *, text: str = "") -> dict[str, Any]:
    """A Bot Framework message activity carrying ``card``."""
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}],
    }
    if text:
        activity["summary"] = text[:200]
    return activity


def teams_invoke_card(card: dict[str, Any]) -> dict[str, Any]:
    """The answer to an ``adaptiveCard/action`` invoke: this card replaces the old one
    for the clicker (everyone else's copy is rewritten through the outbox)."""
    return {"statusCode": 200, "type": ADAPTIVE_CARD, "value": card}


def teams_invoke_message(text: str) -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def teams_card(action: ActionRequest, *, note: str = "") -> dict[str, Any]:
    """A Workflows webhook's message: the same facts, and only "Review in Airlock" (a
    Workflows post has no bot behind it to receive a click)."""
    facts = summary(action)
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "msteams": {"width": "Full"},
        "body": _card_body(action, facts, note, alert=False),
        "actions": [_open(facts)],
    }
    return teams_activity(card)


# --- webhooks -------------------------------------------------------------------------


def event_body(
    action: ActionRequest, *, event_type: str, at: str, excerpt_too: bool
) -> dict[str, Any]:
    """A webhook's JSON: ids and states. A channel webhook carries the masked excerpt;
    an agent's callback only what it needs to fetch the rest with its own token."""
    data: dict[str, Any] = {
        "id": str(action.pk),
        "status": action.status,
        "action": action.action,
        "resource": action.resource,
        "environment": action.environment,
        "approvals_required": action.approvals_required,
        "decided_at": action.decided_at.isoformat() if action.decided_at else None,
        "expires_at": action.expires_at.isoformat() if action.expires_at else None,
        "url": console_url(action),
    }
    if excerpt_too:
        data["payload_excerpt"] = excerpt(action)
    return {"type": event_type, "timestamp": at, "data": data}
