"""Fixtures for the notification tests: the fake Slack, signed Slack callbacks,
channels, and a socket guard for the SSRF tests."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client, TestCase
from slack_sdk.signature import SignatureVerifier

from notifications import slack_app
from notifications.models import Channel
from tests.notifications.fakes import start_fake_slack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T0TEAM"


@pytest.fixture
def fake_slack(settings):
    fake = start_fake_slack()
    settings.SLACK = {
        "SIGNING_SECRET": SIGNING_SECRET,
        "BOT_TOKEN": "xoxb-test-token",
        "TEAM_ID": TEAM,
        "API_URL": fake.url,
    }
    slack_app._app.cache_clear()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    slack_app._app.cache_clear()


def slack_channel(name: str = "reviews", groups: list[str] | None = None, mode: str = "approve"):
    return Channel.objects.create(
        kind="slack", name=name, target="C0REVIEWS", groups=groups or ["reviewers"], mode=mode
    )


def signed_headers(body: bytes, *, timestamp: int | None = None, secret: str = SIGNING_SECRET):
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"HTTP_X_SLACK_REQUEST_TIMESTAMP": ts, "HTTP_X_SLACK_SIGNATURE": signature}


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def click(
    action_id: str,
    *,
    user: str,
    team: str = TEAM,
    which: str = "approve",
    ts: str = "",
    channel: str = "C0REVIEWS",
) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "team": {"id": team, "domain": "acme"},
        "api_app_id": "A0APP",
        "channel": {"id": channel, "name": "reviews"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel},
        "message": {"ts": ts, "type": "message"},
        "trigger_id": "1337.42.abcd",
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "action_id": which,
                "block_id": "review",
                "value": action_id,
                "type": "button",
                "action_ts": f"{time.time_ns() / 1e9:.6f}",
            }
        ],
    }


def post_signed(
    payload: dict[str, Any],
    *,
    timestamp: int | None = None,
    secret: str = SIGNING_SECRET,
    headers: dict[str, str] | None = None,
):
    """POST a signed interaction to the real endpoint, running what commits set off."""
    body = interaction_body(payload)
    extra = (
        headers if headers is not None else signed_headers(body, timestamp=timestamp, secret=secret)
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            "/integrations/slack/interactions",
            body,
            content_type="application/x-www-form-urlencoded",
            **extra,
        )


@pytest.fixture
def no_network(monkeypatch):
    """Any DNS look-up, or a connection to anything but loopback, raises: an SSRF
    test that reached out would fail loudly rather than touch a real address."""
    reached: list[Any] = []
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1"):
            reached.append(address)
            raise AssertionError(f"connection to {address!r} attempted")
        return real_connect(self, address)

    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        try:
            if ipaddress.ip_address(host).is_loopback:
                return real_getaddrinfo(host, *args, **kwargs)
        except ValueError:
            pass
        reached.append(host)
        raise AssertionError(f"look-up of {host!r} attempted")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    return reached
