"""The console's start page and local sign-in (the full console is its own issue)."""

from __future__ import annotations

import pytest

from tests.conftest import Api

pytestmark = pytest.mark.django_db


def test_it_asks_for_a_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/")


def test_a_local_account_signs_in_and_sees_what_waits_for_it(client, agent_api, reviewer, outsider):
    agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"})
    page = client.post(
        "/accounts/login/",
        {"username": reviewer.user.email, "password": "correct horse battery staple"},
    )
    assert page.status_code == 302
    queue = client.get("/")
    assert b"cluster.restart" in queue.content
    assert b"etl-bot" in queue.content


def test_the_owner_does_not_see_their_agents_request_in_their_queue(client, agent_api, agent_owner):
    agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"})
    client.force_login(agent_owner.user)
    assert b"cluster.restart" not in client.get("/").content
    assert b"Nothing is waiting for you" in client.get("/").content


def test_a_reviewed_request_leaves_the_queue(client, agent_api, reviewer):
    action_id = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod/api"}).json()[
        "id"
    ]
    Api(reviewer.token).approve(action_id)
    client.force_login(reviewer.user)
    assert b"cluster.restart" not in client.get("/").content


def test_a_wrong_password_is_refused(client, reviewer):
    page = client.post("/accounts/login/", {"username": reviewer.user.email, "password": "nope"})
    assert page.status_code == 200
    assert b"did not match" in page.content
