"""Separation of duties on every path a review can take: the API, the console, Slack
and Teams. One table: for each path, the agent's owner and the ``on_behalf_of`` person
(both in the reviewer group) are refused with ``self_approval`` and audited with that
path's ``via``, and a reviewer who answers for nothing approves (so a refusal is the
rule speaking, not a broken path). Each path is driven for real: the API and the
console through Django's test client, Slack through a signed interaction with the
real slack-sdk against a fake Slack, Teams through a Bot Framework token signed by a
key the fake Bot Connector publishes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.test import Client, TestCase

from approvals.models import ActionRequest
from audit.models import AuditEvent
from notifications.models import SlackMessage, TeamsMessage
from notifications.services import link_chat_user
from tests.conftest import Api
from tests.factories import PersonIdentity, apply_policy, make_person, quorum_policy
from tests.notifications.conftest import (  # noqa: F401 - fixtures used by name
    TEAM,
    TENANT,
    bot_key,
    bot_token,
    card_click,
    click,
    fake_slack,
    fake_teams,
    post_activity,
    post_signed,
    slack_channel,
    teams_channel,
)

pytestmark = pytest.mark.django_db

OWNER = "owner@example.com"
ON_BEHALF_OF = "alice@example.com"
REVIEWER = "carol@example.com"


@dataclass
class World:
    fake_slack: object
    fake_teams: object
    bot_key: object


def by_api(world: World, person: PersonIdentity, action_id: str) -> str:
    response = Api(person.token).approve(action_id, "looks fine")
    if response.status_code == 200:
        return "approved"
    assert response.status_code == 403
    return response.json()["error"]["code"]


def by_console(world: World, person: PersonIdentity, action_id: str) -> str:
    browser = Client()
    browser.force_login(person.user)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = browser.post(f"/actions/{action_id}/approve", {"comment": "looks fine"})
    assert response.status_code == 302
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def by_slack(world: World, person: PersonIdentity, action_id: str) -> str:
    slack_id = "U" + person.user.email.split("@")[0].upper()
    link_chat_user(
        email=person.user.email,
        provider="slack",
        team_id=TEAM,
        chat_user_id=slack_id,
        actor="system",
    )
    ts = SlackMessage.objects.get(action_id=action_id).ts
    assert post_signed(click(action_id, user=slack_id, ts=ts)).status_code == 200
    return world.fake_slack.of("chat.postEphemeral")[-1].params["text"]


def by_teams(world: World, person: PersonIdentity, action_id: str) -> str:
    oid = {OWNER: "0e0e0e0e", ON_BEHALF_OF: "a1a1a1a1", REVIEWER: "c4c4c4c4"}[person.user.email]
    oid += "-0000-4000-8000-000000000001"
    link_chat_user(
        email=person.user.email,
        provider="teams",
        team_id=TENANT,
        chat_user_id=oid,
        actor="system",
    )
    service_url = f"{world.fake_teams.url}/"
    activity = card_click(
        action_id,
        service_url=service_url,
        oid=oid,
        reply_to=TeamsMessage.objects.get(action_id=action_id).activity_id,
    )
    response = post_activity(activity, token=bot_token(world.bot_key, service_url=service_url))
    assert response.status_code == 200
    card = response.json()["value"]
    return card["body"][1]["inlines"][0]["text"]


PATHS: dict[str, Callable[[World, PersonIdentity, str], str]] = {
    "api": by_api,
    "console": by_console,
    "slack": by_slack,
    "teams": by_teams,
}
TOLD = {
    "api": ("self_approval", "approved"),
    "console": ("The requester cannot approve their own action", "Approved."),
    "slack": ("Refused (self_approval)", "You approved this request."),
    "teams": ("Refused (self_approval)", "You approved this request."),
}


@pytest.mark.parametrize("who", [OWNER, ON_BEHALF_OF, REVIEWER])
@pytest.mark.parametrize("path", list(PATHS))
def test_self_approval_is_refused_on_every_path(
    path,
    who,
    fake_slack,  # noqa: F811 - the fixtures imported above
    fake_teams,  # noqa: F811
    bot_key,  # noqa: F811
    agent_api,
):
    apply_policy(quorum_policy(1))
    slack_channel()
    teams_channel()
    for email in (ON_BEHALF_OF, REVIEWER):
        make_person(email, groups=["reviewers"])
    # The owner fixture is in `reviewers` too: group membership alone would let them.
    response = agent_api.file(
        {
            "action": "iam.grant",
            "resource": "aws://iam/role/admin",
            "justification": "break-glass",
            "on_behalf_of": ON_BEHALF_OF,
        }
    )
    action_id = response.json()["id"]
    assert ActionRequest.objects.get(pk=action_id).status == "pending"
    person = make_person(who)  # the same account (get or create), with a fresh token

    told = PATHS[path](World(fake_slack, fake_teams, bot_key), person, action_id)

    action = ActionRequest.objects.get(pk=action_id)
    refused_text, approved_text = TOLD[path]
    if who == REVIEWER:
        assert approved_text in told
        assert action.status == "approved"
        assert action.reviews.get().via == path
        assert not AuditEvent.objects.filter(event_type="action.review_refused").exists()
        return
    assert refused_text.lower() in told.lower(), told
    assert action.status == "pending"
    assert not action.reviews.exists()
    refused = AuditEvent.objects.get(event_type="action.review_refused")
    assert refused.actor == f"user:{who}"
    assert refused.target == f"action:{action_id}"
    assert refused.data == {"verdict": "approve", "code": "self_approval", "via": path}
