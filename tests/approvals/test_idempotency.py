from __future__ import annotations

import pytest

from approvals.models import ActionRequest
from tests.conftest import Api, racing_retries
from tests.factories import make_agent

BODY = {"action": "cluster.restart", "resource": "k8s://prod/api", "payload": {"replicas": 3}}


@pytest.mark.django_db
def test_the_same_key_and_body_returns_the_first_request(agent_api):
    first = agent_api.file(BODY, HTTP_IDEMPOTENCY_KEY="run-42")
    again = agent_api.file(BODY, HTTP_IDEMPOTENCY_KEY="run-42")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert ActionRequest.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_409(agent_api):
    agent_api.file(BODY, HTTP_IDEMPOTENCY_KEY="run-42")
    response = agent_api.file({**BODY, "payload": {"replicas": 30}}, HTTP_IDEMPOTENCY_KEY="run-42")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert ActionRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_replay_answers_with_the_current_state(agent_api, reviewer):
    first = agent_api.file(BODY, HTTP_IDEMPOTENCY_KEY="k").json()
    Api(reviewer.token).approve(first["id"])
    assert agent_api.file(BODY, HTTP_IDEMPOTENCY_KEY="k").json()["status"] == "approved"


@pytest.mark.django_db
def test_keys_belong_to_one_requester(agent_api, agent_owner):
    other = Api(make_agent(agent_owner.user, name="twin-bot").token)
    a = agent_api.file(BODY, HTTP_IDEMPOTENCY_KEY="shared")
    b = other.file(BODY, HTTP_IDEMPOTENCY_KEY="shared")
    assert b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_without_a_key_each_post_is_a_new_request(agent_api):
    agent_api.file(BODY)
    agent_api.file(BODY)
    assert ActionRequest.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_create_one_request(requester_agent):
    """Eight retries racing: the unique constraint lets one insert win and the rest
    are answered as replays of it."""
    results = racing_retries(requester_agent.token, BODY, "retry-storm")
    assert ActionRequest.objects.count() == 1
    assert len({action_id for _, action_id in results}) == 1
    assert sorted(code for code, _ in results) == [200] * 7 + [201]
