"""The live queue over the real ASGI app (Channels' WebsocketCommunicator): who
receives what, and that nobody receives their own request."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from airlock.asgi import application
from approvals import services
from tests.factories import make_person

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"action": "cluster.restart", "resource": "k8s://prod/api"}


def session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    return [
        (b"cookie", cookie.encode()),
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
    ]


async def connect(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/queue", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def test_an_anonymous_socket_is_refused():
    async def scenario() -> None:
        communicator = WebsocketCommunicator(
            application, "/ws/queue", headers=[(b"origin", b"http://testserver")]
        )
        # Accepted, then closed with 4401: a server can send a close code only after
        # the handshake (before it, uvicorn answers a bare HTTP 403).
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}

    asyncio.run(scenario())


def test_a_foreign_origin_is_refused(reviewer):
    headers = [h for h in session_headers(reviewer.user) if h[0] != b"origin"]

    async def scenario() -> None:
        communicator = WebsocketCommunicator(
            application, "/ws/queue", headers=[*headers, (b"origin", b"https://evil.example")]
        )
        connected, _ = await communicator.connect()
        assert not connected

    asyncio.run(scenario())


def test_reviewers_get_new_requests_and_nobody_gets_their_own(
    requester_agent, agent_owner, reviewer, outsider
):
    # The owner is in "reviewers" too: the group would reach them, the check must not.
    reviewer_headers = session_headers(reviewer.user)
    owner_headers = session_headers(agent_owner.user)
    outsider_headers = session_headers(outsider.user)
    second = make_person("erin@example.com", groups=["reviewers"])

    async def scenario() -> None:
        as_reviewer = await connect(reviewer_headers)
        as_owner = await connect(owner_headers)
        as_outsider = await connect(outsider_headers)

        submission = await database_sync_to_async(services.submit)(
            actor=requester_agent.agent, data=BODY
        )
        event = await as_reviewer.receive_json_from(timeout=5)
        assert event["type"] == "action.created"
        assert event["action"]["id"] == str(submission.action.pk)
        assert event["action"]["status"] == "pending"
        assert event["action"]["requester"]["owner"] == "owner@example.com"
        assert await as_owner.receive_nothing(timeout=0.3)
        assert await as_outsider.receive_nothing(timeout=0.1)

        await database_sync_to_async(services.approve)(
            action_id=submission.action.pk, actor=second.user
        )
        update = await as_reviewer.receive_json_from(timeout=5)
        assert update["type"] == "action.updated"
        assert update["action"]["status"] == "approved"
        assert await as_owner.receive_nothing(timeout=0.3)
        assert await as_outsider.receive_nothing(timeout=0.1)
        for communicator in (as_reviewer, as_owner, as_outsider):
            await communicator.disconnect()

    asyncio.run(scenario())


def test_a_request_on_behalf_of_a_reviewer_is_not_in_their_queue(requester_agent, reviewer):
    headers = session_headers(reviewer.user)

    async def scenario() -> None:
        as_reviewer = await connect(headers)
        await database_sync_to_async(services.submit)(
            actor=requester_agent.agent, data={**BODY, "on_behalf_of": "carol@example.com"}
        )
        assert await as_reviewer.receive_nothing(timeout=0.5)
        await as_reviewer.disconnect()

    asyncio.run(scenario())


def test_requests_decided_at_once_are_not_announced(requester_agent, reviewer):
    from tests.factories import apply_policy

    apply_policy("rules:\n  - {name: all-allowed, match: {action: '*'}, effect: allow}\n")
    headers = session_headers(reviewer.user)

    async def scenario() -> None:
        as_reviewer = await connect(headers)
        submission = await database_sync_to_async(services.submit)(
            actor=requester_agent.agent, data=BODY
        )
        assert submission.action.status == "approved"
        assert await as_reviewer.receive_nothing(timeout=0.5)
        await as_reviewer.disconnect()

    asyncio.run(scenario())
