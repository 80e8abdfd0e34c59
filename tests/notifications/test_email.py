"""E-mail to the eligible reviewers, through Django's SMTP backend to a real SMTP
server (aiosmtpd) the test starts on loopback."""

from __future__ import annotations

import email
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from notifications.models import Channel, Delivery
from tests.factories import apply_policy, make_person, quorum_policy
from tests.servers import free_port

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.refuse: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, options):
        if self.refuse:
            return self.refuse.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


def _parts(message: Message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }


def test_the_eligible_reviewers_get_text_and_html_with_a_link_and_no_payload(
    smtp, agent_api, reviewer, second_reviewer, outsider
):
    apply_policy(quorum_policy(1))
    make_person("alice@example.com", groups=["reviewers"])  # on_behalf_of: not eligible
    Channel.objects.create(kind="email", name="mail", groups=["reviewers"])
    action_id = agent_api.file(
        {
            "action": "data.export",
            "resource": "pg://customers",
            "on_behalf_of": "alice@example.com",
            "payload": {"rows": [{"email": "dana.smith@example.com"}]},
        }
    ).json()["id"]
    delivery = Delivery.objects.get(kind="email")
    assert delivery.status == "delivered", delivery.last_error
    recipients = sorted(to for tos, _ in smtp.messages for to in tos)
    # The owner (owner@example.com) and alice are on the requester side; mallory is
    # not a reviewer.
    assert recipients == ["carol@example.com", "dave@example.com"]
    _, message = smtp.messages[0]
    assert message["Subject"] == "[Airlock] Approval needed: data.export on pg://customers"
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    link = f"http://127.0.0.1:8000/actions/{action_id}/"
    assert link in parts["text/plain"]
    assert f'href="{link}"' in parts["text/html"]
    for body in parts.values():
        assert "dana.smith" not in body
        assert "EMAIL_ADDRESS" in body
    assert message["X-Airlock-Delivery"] == delivery.message_id


def test_a_refused_recipient_is_a_permanent_failure(smtp, agent_api, reviewer):
    apply_policy(quorum_policy(1))
    Channel.objects.create(kind="email", name="mail", groups=["reviewers"])
    smtp.refuse = ["550 5.1.1 no such user"]
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    delivery = Delivery.objects.get(kind="email")
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("smtp")


def test_a_server_that_is_down_is_retried(settings, agent_api, reviewer):
    apply_policy(quorum_policy(1))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    Channel.objects.create(kind="email", name="mail", groups=["reviewers"])
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    delivery = Delivery.objects.get(kind="email")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "ConnectionRefused" in delivery.last_error
