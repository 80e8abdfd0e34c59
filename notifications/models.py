"""Channels per reviewer group, the outbox of outgoing messages, and chat identities.

Every message that leaves Airlock (a Slack post or update, an e-mail, a webhook, an
agent's callback) is a ``Delivery`` row first, written before anything is sent and
keyed so that the same event never makes two of them. A worker claims a row, sends
it and records the result; the sweep sends again what is due. A receiver sees the
row's ``message_id`` on every attempt, so a duplicate is harmless.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Agent, User
from approvals.models import ActionRequest


class ChannelKind(models.TextChoices):
    SLACK = "slack"
    TEAMS = "teams"
    EMAIL = "email"
    WEBHOOK = "webhook"


class ChannelMode(models.TextChoices):
    """``approve``: buttons in the message; ``link``: only "Open in Airlock", for rules
    that want the reviewer signed in to the console."""

    APPROVE = "approve"
    LINK = "link"


class Channel(models.Model):
    """Where requests for some reviewer groups are announced. ``target`` is a Slack
    channel id, for Teams a Workflows URL (a card with a link) or a conversation id
    the Airlock bot is installed in (a card to approve in), a webhook URL, or
    (e-mail) empty: e-mail goes to the eligible reviewers themselves. ``secret``
    signs a webhook channel's messages; it is shown once, when the channel is made."""

    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(max_length=100, unique=True)
    target = models.CharField(max_length=2048, blank=True)
    groups = models.JSONField(default=list)
    mode = models.CharField(max_length=8, choices=ChannelMode.choices, default=ChannelMode.APPROVE)
    secret = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def audit_target(self) -> str:
        return f"channel:{self.pk}"


class DeliveryKind(models.TextChoices):
    SLACK_POST = "slack_post"
    SLACK_UPDATE = "slack_update"
    EMAIL = "email"
    TEAMS = "teams"  # a Workflows post, or the bot's card in a conversation
    TEAMS_UPDATE = "teams_update"  # the bot's card rewritten (Bot Connector update)
    WEBHOOK = "webhook"  # a webhook channel
    CALLBACK = "callback"  # the request's callback_url, signed with its agent's secret


class DeliveryStatus(models.TextChoices):
    """Allowed transitions:

    - pending -> delivered | failed (permanent error, or out of attempts)
    - failed  -> pending (an admin retries it)
    - delivered: final.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(models.Model):
    """One outgoing message: what it is, to where, and how sending it went.

    ``key`` makes creation idempotent (the domain event id and the channel, or the
    reminder); ``message_id`` is what the receiver sees as ``webhook-id`` or
    ``Message-ID``, the same on every attempt."""

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(max_length=120, unique=True)
    message_id = models.CharField(max_length=64, default="", editable=False)
    kind = models.CharField(max_length=16, choices=DeliveryKind.choices)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    action = models.ForeignKey(ActionRequest, on_delete=models.CASCADE, related_name="+")
    # What the message says: the request's status it announces, "remind", "escalate".
    topic = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="delivery_due",
            ),
            models.Index(fields=["status", "-id"], name="delivery_status"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.save_message_id()
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def save_message_id(self) -> None:
        """The id receivers see; set once, before the row is first stored."""
        if not self.message_id:
            self.message_id = f"msg_{uuid.uuid4().hex}"

    @property
    def audit_target(self) -> str:
        return f"delivery:{self.pk}"


class PostedMessage(models.Model):
    """A chat message Airlock posted about a request, kept so that every later decision
    rewrites it for everyone: one per request and channel."""

    action = models.ForeignKey(ActionRequest, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class SlackMessage(PostedMessage):
    """Where Slack keeps it: the channel's id and the message's ``ts``."""

    slack_channel = models.CharField(max_length=32)
    ts = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "channel"], name="slack_message_once"),
        ]

    def __str__(self) -> str:
        return f"{self.slack_channel}/{self.ts}"


class TeamsMessage(PostedMessage):
    """Where the Teams bot's card is (the Bot Connector's update-activity call)."""

    conversation_id = models.CharField(max_length=400)
    activity_id = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "channel"], name="teams_message_once"),
        ]
        indexes = [models.Index(fields=["activity_id"], name="teams_message_activity")]

    def __str__(self) -> str:
        return f"{self.conversation_id}/{self.activity_id}"


class ChatProvider(models.TextChoices):
    SLACK = "slack"
    TEAMS = "teams"


class ChatLink(models.Model):
    """An explicit binding of a chat identity to a person: the only way a click in
    chat becomes someone's review (never a display name or an e-mail look-up)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="chat_links")
    provider = models.CharField(max_length=8, choices=ChatProvider.choices)
    team_id = models.CharField(max_length=64)
    chat_user_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "team_id", "chat_user_id"], name="chat_identity_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.team_id}:{self.chat_user_id} -> {self.user_id}"


class AgentWebhookSecret(models.Model):
    """The secret an agent's callbacks are signed with (Standard Webhooks, ``whsec_``).
    Shown once when made or rotated."""

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="+")
    secret = models.CharField(max_length=100, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"webhook secret of {self.agent_id}"


class SeenSignature(models.Model):
    """A signed inbound request already accepted: the same one again is a replay.
    Kept for the signature window (five minutes) and a little more."""

    digest = models.CharField(max_length=64, unique=True)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.digest[:12]


class Notice(models.Model):
    """A reminder or an escalation already sent for a request (one each per rule
    setting), so the periodic task never repeats one."""

    action = models.ForeignKey(ActionRequest, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # remind | escalate
    groups = models.JSONField(default=list)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "kind"], name="notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.action_id}"
