"""Agents' callbacks and webhook channels: Standard Webhooks signatures checked by
the `standardwebhooks` library in a local receiver; retries, permanent failures and
SSRF refusals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from standardwebhooks import Webhook

from audit.models import AuditEvent
from notifications import outbound, services
from notifications.models import Channel, Delivery
from tests.conftest import Api
from tests.factories import apply_policy, make_person, quorum_policy
from tests.notifications.fakes import start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback_allowed(settings):
    settings.AIRLOCK = {
        **settings.AIRLOCK,
        "ALLOW_HTTP_CALLBACKS": True,
        "ALLOW_PRIVATE_CALLBACKS": True,
    }


@pytest.fixture
def receiver():
    server = start_receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _later(days: int = 1):
    return timezone.now() + timedelta(days=days)


def _secret(agent_owner, name="etl-bot") -> str:
    response = Api(agent_owner.token).post(f"/api/v1/agents/{name}/webhook-secret")
    assert response.status_code == 201
    return response.json()["secret"]


def test_every_state_change_reaches_the_callback_signed_with_the_agents_secret(
    loopback_allowed, receiver, agent_api, agent_owner, reviewer
):
    apply_policy(quorum_policy(1))
    secret = _secret(agent_owner)
    action_id = agent_api.file(
        {
            "action": "key.rotate",
            "resource": "kms://k",
            "callback_url": receiver.url,
            "payload": {"key": "sk_live_51Habcdefghijklmnopqrstuv"},
        }
    ).json()["id"]
    Api(reviewer.token).approve(action_id)
    verifier = Webhook(secret)
    bodies = [verifier.verify(raw, headers) for headers, raw in receiver.received]
    assert [(b["type"], b["data"]["status"]) for b in bodies] == [
        ("action.pending", "pending"),
        ("action.approved", "approved"),
    ]
    assert all(b["data"]["id"] == action_id for b in bodies)
    # Ids and states only: never the payload, masked or not, nor the grant.
    assert all(
        b"sk_live" not in raw and b"payload" not in raw and b"grant" not in raw
        for _, raw in receiver.received
    )
    ids = [headers["webhook-id"] for headers, _ in receiver.received]
    assert len(set(ids)) == 2
    # A receiver holding another secret (or the old one after rotation) refuses it.
    rotated = _secret(agent_owner)
    headers, raw = receiver.received[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(rotated).verify(raw, headers)


def test_a_receiver_failing_three_times_gets_it_on_the_fourth_attempt_with_one_id(
    loopback_allowed, receiver, agent_api, agent_owner
):
    apply_policy(quorum_policy(1))
    secret = _secret(agent_owner)
    receiver.statuses = [503, 503, 500]
    agent_api.file({"action": "key.rotate", "resource": "kms://k", "callback_url": receiver.url})
    delivery = Delivery.objects.get(kind="callback")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "HTTP 503"
    assert services.sweep() == 0  # not due yet: backoff
    for day in (1, 2, 3):
        services.sweep(now=_later(day))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    assert len(receiver.received) == 4
    assert {h["webhook-id"] for h, _ in receiver.received} == {delivery.message_id}
    headers, raw = receiver.received[-1]
    assert Webhook(secret).verify(raw, headers)["type"] == "action.pending"
    assert services.sweep(now=_later(9)) == 0
    assert len(receiver.received) == 4


def test_a_permanent_failure_stops_at_once_is_visible_audited_and_retryable(
    loopback_allowed, receiver, agent_api, agent_owner
):
    apply_policy(quorum_policy(1))
    _secret(agent_owner)
    admin = make_person("root@example.com", groups=["airlock-admins"])
    receiver.statuses = [404]
    agent_api.file({"action": "key.rotate", "resource": "kms://k", "callback_url": receiver.url})
    delivery = Delivery.objects.get(kind="callback")
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "HTTP 404")
    failed = AuditEvent.objects.get(event_type="notification.failed")
    assert failed.data["permanent"] is True
    assert failed.target == f"delivery:{delivery.pk}"
    assert services.sweep(now=_later()) == 0  # never retried on its own

    api = Api(admin.token)
    listed = api.get("/api/v1/deliveries", status="failed").json()["results"]
    assert [(d["id"], d["last_error"], d["attempts"]) for d in listed] == [
        (delivery.pk, "HTTP 404", 1)
    ]
    console = Client()
    console.force_login(admin.user)
    page = console.get("/notifications/").content.decode()
    assert "HTTP 404" in page
    assert f"/notifications/deliveries/{delivery.pk}/retry" in page
    assert Api(agent_owner.token).post(f"/api/v1/deliveries/{delivery.pk}/retry").status_code == 403

    retried = api.post(f"/api/v1/deliveries/{delivery.pk}/retry")  # the receiver is fixed now
    assert retried.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert AuditEvent.objects.filter(event_type="notification.retried").count() == 1
    assert api.post(f"/api/v1/deliveries/{delivery.pk}/retry").status_code == 409


def test_without_a_webhook_secret_the_callback_fails_visibly(loopback_allowed, receiver, agent_api):
    apply_policy(quorum_policy(1))
    agent_api.file({"action": "key.rotate", "resource": "kms://k", "callback_url": receiver.url})
    delivery = Delivery.objects.get(kind="callback")
    assert delivery.status == "failed"
    assert "no webhook secret" in delivery.last_error
    assert receiver.received == []


def test_a_webhook_channel_secret_is_shown_once_and_signs_its_messages(
    loopback_allowed, receiver, agent_api
):
    apply_policy(quorum_policy(1))
    admin = make_person("root@example.com", groups=["airlock-admins"])
    api = Api(admin.token)
    created = api.post(
        "/api/v1/channels",
        {"kind": "webhook", "name": "siem", "target": receiver.url, "groups": ["reviewers"]},
    )
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert "secret" not in json.dumps(api.get("/api/v1/channels").json())
    agent_api.file({"action": "key.rotate", "resource": "kms://k", "payload": {"n": 1}})
    [(headers, raw)] = receiver.received
    body = Webhook(secret).verify(raw, headers)
    assert body["type"] == "action.pending"
    assert body["data"]["payload_excerpt"] == '{"n": 1}'


# --- SSRF ------------------------------------------------------------------------------

PRIVATE = ["127.0.0.1", "10.0.0.1", "169.254.169.254"]


def _post(url: str):
    return outbound.post(
        url, b"{}", {}, allow_http=True, allow_private=False, timeout=2, max_response_bytes=1024
    )


@pytest.mark.parametrize("address", PRIVATE)
def test_private_loopback_and_link_local_addresses_are_refused(no_network, address):
    with pytest.raises(outbound.PermanentFailure, match="unsafe_url"):
        _post(f"http://{address}/hooks")
    assert no_network == []  # refused before any connection


@pytest.mark.parametrize("address", PRIVATE)
def test_a_name_resolving_to_a_private_address_is_refused(no_network, monkeypatch, address):
    looked_up = []

    def resolver(host, port):
        looked_up.append(host)
        return [address]

    monkeypatch.setattr(outbound, "resolve", resolver)
    with pytest.raises(outbound.PermanentFailure, match="resolves to a private"):
        _post("https://hooks.example.com/airlock")
    assert looked_up == ["hooks.example.com"]
    assert no_network == []


def test_a_name_that_rebinds_to_a_private_address_fails_its_delivery(
    no_network, monkeypatch, agent_api
):
    """The channel was accepted with a public-looking name; at send time the name
    resolves inside: the delivery fails for good, and nothing is connected to."""
    apply_policy(quorum_policy(1))
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["169.254.169.254"])
    Channel.objects.create(
        kind="webhook",
        name="hooks",
        target="https://hooks.example.com/x",
        groups=["reviewers"],
        secret=services.new_webhook_secret(),
    )
    agent_api.file({"action": "key.rotate", "resource": "kms://k"})
    delivery = Delivery.objects.get(kind="webhook")
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("unsafe_url")
    assert no_network == []


def test_redirects_are_not_followed(loopback_allowed, receiver):
    receiver.statuses = [302]
    with pytest.raises(outbound.PermanentFailure, match="redirects are not followed"):
        outbound.post(
            receiver.url,
            b"{}",
            {},
            allow_http=True,
            allow_private=True,
            timeout=2,
            max_response_bytes=1024,
        )
    assert len(receiver.received) == 1


def test_a_channel_to_a_private_address_is_refused_when_made(agent_api):
    admin = make_person("root@example.com", groups=["airlock-admins"])
    response = Api(admin.token).post(
        "/api/v1/channels",
        {
            "kind": "webhook",
            "name": "meta",
            "target": "https://169.254.169.254/x",
            "groups": ["reviewers"],
        },
    )
    assert response.status_code == 400
    assert "target" in response.json()["error"]["details"]


def test_a_teams_channel_gets_a_card_with_a_link_to_the_console(
    loopback_allowed, receiver, agent_api
):
    apply_policy(quorum_policy(1))
    Channel.objects.create(kind="teams", name="teams", target=receiver.url, groups=["reviewers"])
    action_id = agent_api.file({"action": "key.rotate", "resource": "kms://k"}).json()["id"]
    [(_headers, raw)] = receiver.received
    message = json.loads(raw)
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    [button] = attachment["content"]["actions"]
    assert button == {
        "type": "Action.OpenUrl",
        "title": "Review in Airlock",
        "url": f"http://127.0.0.1:8000/actions/{action_id}/",
    }
