"""Issue 11, item 8: the live queue's socket as a real server closes it, and with the
channel layer's Redis going away under it."""

from __future__ import annotations

import asyncio
import logging

import pytest
import websockets
from channels.layers import channel_layers
from channels.testing.websocket import WebsocketCommunicator

from airlock.asgi import application
from tests.approvals.test_live_queue import session_headers
from tests.factories import make_person
from tests.faults.services import redis_server
from tests.live import running_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_anonymous_socket_gets_close_code_4401_from_a_real_server():
    async def scenario(url: str) -> int:
        async with websockets.connect(url, origin="http://127.0.0.1") as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    with running_server() as base:
        code = asyncio.run(scenario(base.replace("http://", "ws://") + "/ws/queue"))
    assert code == 4401


@pytest.fixture
def own_redis_layer(settings):
    with redis_server() as redis:
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [redis.url], "prefix": "airlock:test:"},
            }
        }
        channel_layers.backends.clear()
        try:
            yield redis
        finally:
            channel_layers.backends.clear()


def test_redis_going_away_under_an_open_socket_is_not_an_error(own_redis_layer, caplog):
    headers = session_headers(make_person("live-fault@example.com", groups=["reviewers"]).user)

    async def scenario() -> None:
        communicator = WebsocketCommunicator(application, "/ws/queue", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"type": "pong"}
        own_redis_layer.stop()
        await asyncio.sleep(0.5)
        await communicator.disconnect()

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_with_redis_away_a_new_socket_is_told_to_try_again_later(own_redis_layer):
    headers = session_headers(make_person("live-later@example.com", groups=["reviewers"]).user)
    own_redis_layer.stop()

    async def scenario() -> tuple[bool, int | None]:
        communicator = WebsocketCommunicator(application, "/ws/queue", headers=headers)
        connected, _ = await communicator.connect()
        output = await communicator.receive_output()
        await communicator.wait()
        return connected, output.get("code")

    connected, code = asyncio.run(scenario())
    assert connected
    assert code == 1013
