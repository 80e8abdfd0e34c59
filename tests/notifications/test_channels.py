"""Channels over the API and the console (admins only, audited), and chat links made
by the operator command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from audit.models import AuditEvent
from notifications.models import Channel, ChatLink
from tests.conftest import Api
from tests.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return make_person("root@example.com", groups=["airlock-admins"])


def test_admins_add_list_and_remove_channels_and_each_change_is_audited(admin):
    api = Api(admin.token)
    created = api.post(
        "/api/v1/channels",
        {
            "kind": "slack",
            "name": "reviews",
            "target": "C0REVIEWS",
            "groups": ["reviewers"],
            "mode": "link",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert {k: body[k] for k in ("kind", "name", "target", "groups", "mode")} == {
        "kind": "slack",
        "name": "reviews",
        "target": "C0REVIEWS",
        "groups": ["reviewers"],
        "mode": "link",
    }
    assert "secret" not in body  # only webhooks have one
    assert [c["name"] for c in api.get("/api/v1/channels").json()["results"]] == ["reviews"]
    assert api.client.delete(f"/api/v1/channels/{body['id']}").status_code == 204
    assert not Channel.objects.exists()
    assert list(
        AuditEvent.objects.filter(event_type__startswith="notification.channel").values_list(
            "event_type", "actor"
        )
    ) == [
        ("notification.channel_created", "user:root@example.com"),
        ("notification.channel_deleted", "user:root@example.com"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "fax", "name": "x", "groups": ["reviewers"]}, "kind"),
        ({"kind": "slack", "name": "x", "target": "#general", "groups": ["reviewers"]}, "target"),
        ({"kind": "email", "name": "x", "target": "all@example.com", "groups": ["r"]}, "target"),
        ({"kind": "email", "name": "x", "groups": []}, "groups"),
        (
            {
                "kind": "webhook",
                "name": "x",
                "target": "http://hooks.example.com/x",
                "groups": ["reviewers"],
            },
            "target",
        ),
        ({"kind": "slack", "name": "x", "target": "C0X1", "groups": ["r"], "mode": "auto"}, "mode"),
    ],
)
def test_a_bad_channel_is_a_400_naming_the_field(admin, body, field):
    response = Api(admin.token).post("/api/v1/channels", body)
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_people_who_are_not_admins_cannot_see_or_change_channels(reviewer, auditor):
    for person in (reviewer, auditor):
        api = Api(person.token)
        assert api.get("/api/v1/channels").status_code == 403
        assert api.get("/api/v1/deliveries").status_code == 403
        made = api.post("/api/v1/channels", {"kind": "email", "name": "x", "groups": ["a"]})
        assert made.status_code == 403
    browser = Client()
    browser.force_login(reviewer.user)
    assert browser.get("/notifications/").status_code == 404


def test_the_console_page_adds_a_webhook_channel_and_shows_its_secret_once(admin):
    browser = Client()
    browser.force_login(admin.user)
    page = browser.post(
        "/notifications/",
        {
            "kind": "webhook",
            "name": "siem",
            "target": "https://hooks.example.com/airlock",
            "groups": "reviewers, privacy",
            "mode": "approve",
        },
    ).content.decode()
    channel = Channel.objects.get()
    assert channel.groups == ["privacy", "reviewers"]
    assert channel.secret.startswith("whsec_")
    assert channel.secret in page
    assert channel.secret not in browser.get("/notifications/").content.decode()


def test_link_chat_user_binds_a_slack_identity_and_refuses_a_bad_one(reviewer):
    call_command("link_chat_user", reviewer.user.email, "--slack", "T0TEAM:UCAROL")
    link = ChatLink.objects.get()
    assert (link.user, link.provider, link.team_id, link.chat_user_id) == (
        reviewer.user,
        "slack",
        "T0TEAM",
        "UCAROL",
    )
    assert AuditEvent.objects.filter(event_type="chat.user_linked").count() == 1
    with pytest.raises(CommandError):
        call_command("link_chat_user", reviewer.user.email, "--slack", "not-an-id")
    with pytest.raises(CommandError, match="no such person"):
        call_command("link_chat_user", "nobody@example.com", "--slack", "T0TEAM:UNOBODY")


def test_an_agents_webhook_secret_is_for_its_owner_or_an_admin(requester_agent, reviewer, admin):
    path = "/api/v1/agents/etl-bot/webhook-secret"
    assert Api(reviewer.token).post(path).status_code == 403
    assert Api(requester_agent.token).post(path).status_code == 404
    first = Api(admin.token).post(path).json()["secret"]
    assert first.startswith("whsec_")
    event = AuditEvent.objects.get(event_type="agent.webhook_secret_rotated")
    assert first not in str(event.data)
    assert event.target == "agent:etl-bot"
