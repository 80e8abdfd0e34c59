"""Teams end to end: the Airlock bot against a local fake of Microsoft's side (the
Entra token endpoint, the Bot Framework's OpenID metadata and keys, the Bot Connector),
and activities posted to the real endpoint with tokens signed by a test key that the
fake publishes as the issuer's."""

from __future__ import annotations

import json

import pytest
from django.test import Client, TestCase

from approvals.models import ActionRequest
from audit.models import AuditEvent
from notifications import teams_auth
from notifications.models import ChatLink, Delivery, TeamsMessage
from notifications.services import link_chat_user
from tests.conftest import Api
from tests.factories import apply_policy, make_person, quorum_policy
from tests.notifications.conftest import (
    APP_ID,
    CAROL_OID,
    CONVERSATION,
    DAVE_OID,
    OTHER_TENANT,
    TENANT,
    bot_token,
    card_click,
    post_activity,
    published_jwk,
    teams_channel,
)

pytestmark = pytest.mark.django_db

SNEAKY = "weekly churn [Approve here](https://evil.example/phish) **now**"


def link_carol(reviewer) -> None:
    link_chat_user(
        email=reviewer.user.email,
        provider="teams",
        team_id=TENANT,
        chat_user_id=CAROL_OID,
        actor="system",
    )


def file_request(agent_api, **extra) -> str:
    response = agent_api.file(
        {
            "action": "data.export",
            "resource": "pg://customers",
            "environment": "production",
            "justification": SNEAKY,
            "on_behalf_of": "alice@example.com",
            "payload": {"query": "select 1"},
            **extra,
        }
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


@pytest.fixture
def pending(fake_teams, agent_api, reviewer):
    """A request pending for `reviewers`, announced by the bot; carol is linked."""
    apply_policy(quorum_policy(1))
    teams_channel()
    link_carol(reviewer)
    return file_request(agent_api)


def card_of(exchange) -> dict:
    [attachment] = exchange.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachment["content"]


def verbs(card: dict) -> list[str]:
    """The Action.Execute verbs a card offers, inside Action.ShowCard too."""
    found = []
    for action in card.get("actions", []):
        if action["type"] == "Action.Execute":
            found.append(action["verb"])
        if action["type"] == "Action.ShowCard":
            found += verbs(action["card"])
    return found


def links(card: dict) -> dict[str, str]:
    return {a["title"]: a["url"] for a in card.get("actions", []) if a["type"] == "Action.OpenUrl"}


def texts(card: dict) -> str:
    """Every text the card shows, one a line."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(found)


def click(fake, key, action_id: str, **kwargs):
    service_url = f"{fake.url}/"
    reply_to = kwargs.pop("reply_to", None)
    if reply_to is None:
        reply_to = TeamsMessage.objects.get(action_id=action_id).activity_id
    activity = card_click(action_id, service_url=service_url, reply_to=reply_to, **kwargs)
    return post_activity(activity, token=bot_token(key, service_url=service_url))


def answered_card(response) -> dict:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    return body["value"]


def note_of(card: dict) -> str:
    """The line the clicker is told (the card's second block)."""
    return card["body"][1]["inlines"][0]["text"]


def test_a_pending_request_arrives_as_a_card_with_approve_and_deny(pending, fake_teams):
    [token_request] = fake_teams.token_requests
    assert token_request.body == {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": "test-client-secret",
        "scope": "https://api.botframework.com/.default",
    }
    [send] = fake_teams.sends
    assert send.path == f"/v3/conversations/{CONVERSATION}/activities"
    assert send.headers["Authorization"].startswith("Bearer eyJ0eXAiOiJKV1QifQ.")
    assert send.body["type"] == "message"
    card = card_of(send)
    assert card["version"] == "1.5"
    assert verbs(card) == ["approve", "deny"]
    [show] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    [reason] = show["card"]["body"]
    assert (reason["type"], reason["id"], reason["isRequired"]) == ("Input.Text", "reason", True)
    assert links(card) == {"Review in Airlock": f"http://127.0.0.1:8000/actions/{pending}/"}
    text = texts(card)
    for fact in (
        "data.export",
        "pg://customers",
        "production",
        "agent etl-bot",
        "owner@example.com",
        "alice@example.com",
        "0 of 1 from reviewers",
        "Expires",
        "Data found",
        '{"query": "select 1"}',
    ):
        assert fact in text, fact
    # What the requester wrote is only ever a TextRun, which Teams never reads as
    # Markdown: the justification cannot become a link or bold text.
    assert '"type": "TextBlock"' not in json.dumps(card)
    runs = [i for b in card["body"] for i in b.get("inlines", [])]
    assert {"type": "TextRun", "text": SNEAKY} in runs
    message = TeamsMessage.objects.get(action_id=pending)
    assert (message.conversation_id, message.activity_id) == (CONVERSATION, "1700000000001")
    delivery = Delivery.objects.get(kind="teams")
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_a_linked_reviewers_approve_approves_and_the_card_is_rewritten_for_everyone(
    pending, fake_teams, bot_key
):
    response = click(fake_teams, bot_key, pending)
    answer = answered_card(response)
    assert verbs(answer) == []
    assert note_of(answer) == "You approved this request."
    assert "Approved by carol@example.com at" in texts(answer)
    action = ActionRequest.objects.get(pk=pending)
    assert action.status == "approved"
    assert action.reviews.get().via == "teams"
    [update] = fake_teams.updates
    assert update.path == f"/v3/conversations/{CONVERSATION}/activities/1700000000001"
    assert update.body["id"] == "1700000000001"
    card = card_of(update)
    assert verbs(card) == []
    assert "Approved by carol@example.com at" in texts(card)
    assert card["body"][0]["inlines"][0]["text"] == "Approved: data.export on pg://customers"
    # One token served both calls, and the keys were fetched once.
    assert len(fake_teams.token_requests) == 1
    assert [e.path for e in fake_teams.exchanges if e.method == "GET"] == ["/openid", "/keys"]


def test_deny_without_a_reason_is_refused_in_the_card_and_with_one_it_denies(
    pending, fake_teams, bot_key
):
    for empty in (None, "", "   "):
        answer = answered_card(click(fake_teams, bot_key, pending, verb="deny", reason=empty))
        assert note_of(answer) == "A reason is required to deny."
        assert verbs(answer) == ["approve", "deny"]
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    assert fake_teams.updates == []
    answer = answered_card(
        click(fake_teams, bot_key, pending, verb="deny", reason=" exports need a ticket ")
    )
    assert note_of(answer) == "You denied this request."
    action = ActionRequest.objects.get(pk=pending)
    assert action.status == "denied"
    assert action.reviews.get().comment == "exports need a ticket"
    assert "Denied by carol@example.com" in texts(card_of(fake_teams.updates[0]))


@pytest.mark.parametrize("who", ["owner", "on_behalf_of"])
def test_the_owner_and_the_on_behalf_of_person_are_refused_with_self_approval(
    pending, fake_teams, bot_key, who
):
    email = "owner@example.com" if who == "owner" else "alice@example.com"
    make_person(email, groups=["reviewers"])
    link_chat_user(
        email=email, provider="teams", team_id=TENANT, chat_user_id=DAVE_OID, actor="system"
    )
    answer = answered_card(click(fake_teams, bot_key, pending, oid=DAVE_OID))
    assert note_of(answer).startswith("Refused (self_approval)")
    assert verbs(answer) == ["approve", "deny"]  # still open for the real reviewers
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    refused = AuditEvent.objects.get(event_type="action.review_refused")
    assert refused.actor == f"user:{email}"
    assert refused.data == {"verdict": "approve", "code": "self_approval", "via": "teams"}
    assert fake_teams.updates == []


def test_an_outsider_is_refused_as_not_a_reviewer(pending, fake_teams, bot_key, outsider):
    link_chat_user(
        email=outsider.user.email,
        provider="teams",
        team_id=TENANT,
        chat_user_id=DAVE_OID,
        actor="system",
    )
    answer = answered_card(click(fake_teams, bot_key, pending, oid=DAVE_OID))
    assert note_of(answer).startswith("Refused (not_a_reviewer)")
    assert ActionRequest.objects.get(pk=pending).status == "pending"


def _refused_reasons() -> list[str]:
    return list(
        AuditEvent.objects.filter(event_type="integration.activity_refused")
        .order_by("seq")
        .values_list("data__reason", flat=True)
    )


@pytest.mark.parametrize(
    ("case", "status", "reason"),
    [
        ("unsigned", 401, "unsigned"),
        ("not_a_jwt", 401, "malformed"),
        ("forged", 401, "forged"),
        ("expired", 401, "expired"),
        ("wrong_audience", 401, "wrong_audience"),
        ("wrong_issuer", 401, "wrong_issuer"),
        ("other_service_url", 401, "service_url"),
        ("unknown_key", 401, "unknown_key"),
        ("hs256", 401, "algorithm"),
        ("foreign_tenant", 403, "other_tenant"),
    ],
)
def test_an_activity_that_is_not_authentic_or_not_ours_is_refused_and_audited(
    pending, fake_teams, bot_key, stranger_key, case, status, reason
):
    service_url = f"{fake_teams.url}/"
    reply_to = TeamsMessage.objects.get(action_id=pending).activity_id
    activity = card_click(pending, service_url=service_url, reply_to=reply_to)
    token: str | None = bot_token(bot_key, service_url=service_url)
    if case == "unsigned":
        token = None
    elif case == "not_a_jwt":
        token = "not-a-token"
    elif case == "forged":  # the right key id, someone else's key
        token = bot_token(stranger_key, service_url=service_url)
    elif case == "expired":  # an hour and ten minutes old: past the five-minute skew
        token = bot_token(bot_key, service_url=service_url, issued_ago=70 * 60)
    elif case == "wrong_audience":  # a token for another bot
        token = bot_token(bot_key, service_url=service_url, audience="another-bot-app-id")
    elif case == "wrong_issuer":
        token = bot_token(bot_key, service_url=service_url, issuer="https://sts.example.com/")
    elif case == "other_service_url":  # a genuine token replayed with another serviceUrl
        token = bot_token(bot_key, service_url="https://smba.example.com/emea/")
    elif case == "unknown_key":
        token = bot_token(stranger_key, service_url=service_url, kid="not-published")
    elif case == "hs256":  # the public key as an HMAC secret, the classic confusion
        import jwt

        token = jwt.encode(
            {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": 9999999999},
            "an-hmac-secret-long-enough-for-sha256-0123456789",
            algorithm="HS256",
            headers={"kid": "airlock-test-key"},
        )
    elif case == "foreign_tenant":
        activity = card_click(
            pending, service_url=service_url, reply_to=reply_to, tenant=OTHER_TENANT
        )
    # carol is linked in our tenant; in another tenant the same oid is nobody of ours
    response = post_activity(activity, token=token)
    assert response.status_code == status
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    assert not ActionRequest.objects.get(pk=pending).reviews.exists()
    assert _refused_reasons() == [reason]
    event = AuditEvent.objects.get(event_type="integration.activity_refused")
    assert event.actor == "teams"
    assert token is None or token not in json.dumps(event.data)
    if case == "foreign_tenant":
        assert event.data["tenant_id"] == OTHER_TENANT
    assert fake_teams.updates == []


def test_a_key_not_endorsed_for_teams_is_refused(pending, fake_teams, bot_key):
    fake_teams.jwks = {"keys": [published_jwk(bot_key, endorsements=["webchat"])]}
    teams_auth.forget_keys()
    response = click(fake_teams, bot_key, pending)
    assert response.status_code == 401
    assert _refused_reasons() == ["endorsement"]
    assert ActionRequest.objects.get(pk=pending).status == "pending"


def test_rotated_keys_are_fetched_again_when_a_token_names_a_new_one(
    pending, fake_teams, bot_key, stranger_key
):
    assert click(fake_teams, bot_key, pending, verb="deny", reason="").status_code == 200
    fake_teams.jwks = {"keys": [published_jwk(stranger_key, kid="rotated-key")]}
    service_url = f"{fake_teams.url}/"
    reply_to = TeamsMessage.objects.get(action_id=pending).activity_id
    activity = card_click(pending, service_url=service_url, reply_to=reply_to)
    token = bot_token(stranger_key, service_url=service_url, kid="rotated-key")
    # The cache was filled moments ago: an unknown key id waits out the refetch pause
    # (so forged key ids cannot make Airlock hammer the key endpoint)...
    assert post_activity(activity, token=token).status_code == 401
    cache = teams_auth._cache[f"{fake_teams.url}/openid"]
    cache.tried_at -= teams_auth.REFETCH_MIN_SECONDS + 1
    # ...and after it the new key set is fetched and the new key accepted.
    answer = answered_card(post_activity(activity, token=token))
    assert note_of(answer) == "You approved this request."
    assert [e.path for e in fake_teams.exchanges if e.method == "GET"] == ["/openid", "/keys"] * 2


def test_a_console_approval_rewrites_the_card(pending, fake_teams, reviewer):
    browser = Client()
    browser.force_login(reviewer.user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = browser.post(f"/actions/{pending}/approve", {"comment": "fine"})
    assert response.status_code == 302
    assert ActionRequest.objects.get(pk=pending).reviews.get().via == "console"
    [update] = fake_teams.updates
    card = card_of(update)
    assert verbs(card) == []
    assert "Approved by carol@example.com at" in texts(card)


def test_an_api_approval_and_expiry_rewrite_the_card_too(fake_teams, agent_api, reviewer):
    from datetime import timedelta

    from django.utils import timezone

    from approvals import services

    apply_policy(quorum_policy(1))
    teams_channel()
    first = file_request(agent_api)
    assert Api(reviewer.token).approve(first, "ok").status_code == 200
    assert "Approved by carol@example.com" in texts(card_of(fake_teams.updates[-1]))
    second = file_request(agent_api, resource="pg://orders")
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.expire_overdue(now=timezone.now() + timedelta(days=2)) == 1
    card = card_of(fake_teams.updates[-1])
    assert fake_teams.updates[-1].path.endswith(
        TeamsMessage.objects.get(action_id=second).activity_id
    )
    assert card["body"][0]["inlines"][0]["text"] == "Expired: data.export on pg://orders"
    assert verbs(card) == []


def test_a_link_mode_channel_never_offers_the_buttons_and_refuses_a_click(
    fake_teams, bot_key, agent_api, reviewer
):
    apply_policy(quorum_policy(1))
    teams_channel(mode="link")
    link_carol(reviewer)
    action_id = file_request(agent_api)
    card = card_of(fake_teams.sends[0])
    assert verbs(card) == []
    assert list(links(card)) == ["Review in Airlock"]
    # A hand-made invoke against that card (Teams would never send one) is refused.
    answer = answered_card(click(fake_teams, bot_key, action_id))
    assert note_of(answer).startswith("This channel reviews in the console only")
    assert verbs(answer) == []
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    refused = AuditEvent.objects.get(event_type="chat.click_refused")
    assert refused.data["reason"] == "link_only"
    assert refused.data["via"] == "teams"
    assert refused.actor == f"teams:{TENANT}:{CAROL_OID}"


def test_a_click_on_a_card_airlock_did_not_post_gets_no_review(pending, fake_teams, bot_key):
    answer = answered_card(click(fake_teams, bot_key, pending, reply_to="9999"))
    assert note_of(answer).startswith("This channel reviews in the console only")
    assert ActionRequest.objects.get(pk=pending).status == "pending"


def test_an_unlinked_clicker_is_refused_told_how_to_link_and_then_approves(
    pending, fake_teams, bot_key, second_reviewer
):
    answer = answered_card(click(fake_teams, bot_key, pending, oid=DAVE_OID))
    assert note_of(answer).startswith("Your Microsoft Teams account is not linked")
    link = links(answer)["Link your Teams account"]
    assert "/notifications/link/teams?token=" in link
    assert ActionRequest.objects.get(pk=pending).status == "pending"
    refused = AuditEvent.objects.get(event_type="chat.click_refused")
    assert refused.data == {
        "reason": "unlinked",
        "tenant_id": TENANT,
        "aad_object_id": DAVE_OID,
        "via": "teams",
    }
    # Following it, signed in, binds that Teams identity to whoever confirms.
    browser = Client()
    browser.force_login(second_reviewer.user)
    path = link.split("127.0.0.1:8000", 1)[1]
    page = browser.get(path)
    assert page.status_code == 200
    assert b"Link your Microsoft Teams account" in page.content
    # A Teams link is not a Slack link.
    token = path.split("token=", 1)[1]
    assert browser.post("/notifications/link/slack", {"token": token}).status_code == 302
    assert not ChatLink.objects.filter(user=second_reviewer.user).exists()
    browser.post("/notifications/link/teams", {"token": token})
    link_row = ChatLink.objects.get(user=second_reviewer.user)
    assert (link_row.provider, link_row.team_id, link_row.chat_user_id) == (
        "teams",
        TENANT,
        DAVE_OID,
    )
    answer = answered_card(click(fake_teams, bot_key, pending, oid=DAVE_OID))
    assert note_of(answer) == "You approved this request."
    assert ActionRequest.objects.get(pk=pending).status == "approved"


def test_a_review_short_of_the_quorum_rewrites_the_progress_and_keeps_the_buttons(
    fake_teams, bot_key, agent_api, reviewer
):
    apply_policy(quorum_policy(2))
    teams_channel()
    link_carol(reviewer)
    action_id = file_request(agent_api)
    answer = answered_card(click(fake_teams, bot_key, action_id))
    assert note_of(answer) == "You approved this request."
    assert verbs(answer) == ["approve", "deny"]
    [update] = fake_teams.updates
    assert "1 of 2 from reviewers" in texts(card_of(update))
    assert verbs(card_of(update)) == ["approve", "deny"]
    again = answered_card(click(fake_teams, bot_key, action_id))
    assert note_of(again).startswith("Refused (already_reviewed)")


def test_a_click_after_the_decision_is_told_it_is_decided(pending, fake_teams, bot_key, agent_api):
    agent_api.post(f"/api/v1/actions/{pending}/cancel")
    answer = answered_card(click(fake_teams, bot_key, pending))
    assert note_of(answer).startswith("Refused (")
    assert "Cancelled by agent etl-bot" in texts(answer)
    assert verbs(answer) == []


def test_installation_and_message_activities_are_accepted_without_an_answer(fake_teams, bot_key):
    service_url = f"{fake_teams.url}/"
    activity = {
        "type": "conversationUpdate",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "conversation": {"id": CONVERSATION, "tenantId": TENANT},
        "channelData": {"tenant": {"id": TENANT}, "eventType": "teamMemberAdded"},
        "membersAdded": [{"id": f"28:{APP_ID}"}],
    }
    response = post_activity(activity, token=bot_token(bot_key, service_url=service_url))
    assert (response.status_code, response.content) == (200, b"")


def test_the_endpoint_is_absent_until_the_bot_is_configured(settings):
    settings.TEAMS = {**settings.TEAMS, "APP_ID": ""}
    response = Client().post("/integrations/teams/messages", "{}", content_type="application/json")
    assert response.status_code == 404


def test_reminders_go_into_the_cards_thread(pending, fake_teams):
    from notifications import services
    from notifications.models import DeliveryKind

    [delivery_id] = services.store(
        [
            Delivery(
                key=f"r{pending}:c1",
                kind=DeliveryKind.TEAMS,
                channel=TeamsMessage.objects.get(action_id=pending).channel,
                action_id=pending,
                topic="remind",
            )
        ],
        __import__("django.utils.timezone", fromlist=["now"]).now(),
    )
    assert services.attempt(delivery_id) == "delivered"
    [reply] = fake_teams.replies
    assert reply.path == f"/v3/conversations/{CONVERSATION}/activities/1700000000001"
    assert reply.body["text"].startswith("Reminder: this request still waits for review.")
    assert len(fake_teams.sends) == 1  # no second card


# --- notify and link: a Workflows webhook ----------------------------------------------


def test_a_workflows_channel_gets_the_same_facts_and_only_a_link(settings, agent_api):
    from tests.notifications.fakes import start_receiver

    settings.AIRLOCK = {
        **settings.AIRLOCK,
        "ALLOW_HTTP_CALLBACKS": True,
        "ALLOW_PRIVATE_CALLBACKS": True,
    }
    apply_policy(
        "default: {effect: allow}\nrules:\n  - name: pii\n"
        "    match: {data_classes: [EMAIL_ADDRESS]}\n"
        "    effect: require_approval\n    reviewers: [reviewers]\n"
    )
    receiver = start_receiver()
    try:
        from notifications.models import Channel

        Channel.objects.create(
            kind="teams", name="workflows", target=receiver.url, groups=["reviewers"]
        )
        action_id = file_request(agent_api, payload={"to": "dana.smith@example.com"})
        [(headers, raw)] = receiver.received
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
    assert headers["content-type"] == "application/json"
    message = json.loads(raw)
    [attachment] = message["attachments"]
    card = attachment["content"]
    assert verbs(card) == []
    assert links(card) == {"Review in Airlock": f"http://127.0.0.1:8000/actions/{action_id}/"}
    text = texts(card)
    for fact in (
        "data.export",
        "pg://customers",
        "production",
        "agent etl-bot",
        "owner@example.com",
        "alice@example.com",
        SNEAKY,
        "pii",
        "0 of 1 from reviewers",
        "EMAIL_ADDRESS",
        "<EMAIL_ADDRESS>",
    ):
        assert fact in text, fact
    assert "dana.smith" not in raw.decode()  # the masked excerpt, never the payload
    assert '"type": "TextBlock"' not in raw.decode()


# --- every Teams call goes through the SSRF guard --------------------------------------


def test_keys_behind_a_private_address_are_never_fetched_and_the_activity_is_refused(
    pending, fake_teams, bot_key, settings, monkeypatch, no_network
):
    from notifications import outbound

    settings.AIRLOCK = {**settings.AIRLOCK, "ALLOW_PRIVATE_CALLBACKS": False}
    settings.TEAMS = {**settings.TEAMS, "OPENID_METADATA_URL": "https://keys.example.com/openid"}
    looked_up: list[str] = []

    def resolver(host, port):
        looked_up.append(host)
        return ["10.20.30.40"]

    monkeypatch.setattr(outbound, "resolve", resolver)
    before = len(fake_teams.exchanges)
    response = click(fake_teams, bot_key, pending)
    assert response.status_code == 503
    assert _refused_reasons() == ["keys_unavailable"]
    assert looked_up == ["keys.example.com"]
    assert no_network == []
    assert len(fake_teams.exchanges) == before
    assert ActionRequest.objects.get(pk=pending).status == "pending"


def test_a_bot_connector_at_a_private_address_fails_the_delivery_unsent(
    fake_teams, agent_api, settings, monkeypatch, no_network
):
    from notifications import outbound

    settings.AIRLOCK = {**settings.AIRLOCK, "ALLOW_PRIVATE_CALLBACKS": False}
    settings.TEAMS = {
        **settings.TEAMS,
        "TOKEN_URL": "https://login.example.com/tenant/oauth2/v2.0/token",
        "SERVICE_URL": "https://smba.example.com/teams/",
    }
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["169.254.169.254"])
    apply_policy(quorum_policy(1))
    teams_channel()
    file_request(agent_api)
    delivery = Delivery.objects.get(kind="teams")
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("teams token: unsafe_url")
    assert fake_teams.exchanges == []
    assert no_network == []
    assert AuditEvent.objects.filter(event_type="notification.failed").count() == 1


def test_teams_channel_targets_are_checked_when_made(settings):
    admin = make_person("root@example.com", groups=["airlock-admins"])
    api = Api(admin.token)

    def make(target: str):
        return api.post(
            "/api/v1/channels",
            {"kind": "teams", "name": target[:40], "target": target, "groups": ["reviewers"]},
        )

    for bad in (
        "https://169.254.169.254/workflows",
        "http://prod-00.westus.logic.azure.com/workflows/x",  # not https
        "https://localhost/x",
        "19:has spaces@thread.tacv2",
        "../v3/conversations",
    ):
        response = make(bad)
        assert response.status_code == 400, bad
        assert "target" in response.json()["error"]["details"]
    # A conversation needs the bot.
    settings.TEAMS = {**settings.TEAMS, "APP_ID": ""}
    assert make(CONVERSATION).status_code == 400
    settings.TEAMS = {**settings.TEAMS, "APP_ID": APP_ID}
    assert make(CONVERSATION).status_code == 201
    assert make("https://prod-00.westus.logic.azure.com/workflows/abc?sig=x").status_code == 201


def test_a_bot_connector_outage_is_retried_and_a_refused_token_is_not(
    fake_teams, agent_api, reviewer
):
    from datetime import timedelta

    from django.utils import timezone

    from notifications import services

    apply_policy(quorum_policy(1))
    teams_channel()
    fake_teams.fail["POST v3"] = [503]
    first = file_request(agent_api)
    delivery = Delivery.objects.get(kind="teams", action_id=first)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.last_error == "teams: HTTP 503"
    assert services.sweep(now=timezone.now() + timedelta(hours=2)) == 1
    assert TeamsMessage.objects.filter(action_id=first).exists()
    # A secret Entra refuses fails the delivery at once: no retry cures it.
    from notifications import teams_connector

    teams_connector.forget_tokens()
    fake_teams.fail["POST token"] = [401]
    second = file_request(agent_api, resource="pg://orders")
    failed = Delivery.objects.get(kind="teams", action_id=second)
    assert (failed.status, failed.last_error) == ("failed", "teams token: HTTP 401")
