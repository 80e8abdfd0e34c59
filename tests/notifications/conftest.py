"""Fixtures for the notification tests: the fake Slack, signed Slack callbacks, the
fake Bot Connector and Teams activities signed by a test key it publishes, channels,
and a socket guard for the SSRF tests."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client, TestCase
from slack_sdk.signature import SignatureVerifier

from notifications import slack_app, teams_auth, teams_connector
from notifications.models import Channel
from tests.notifications.fakes import start_fake_bot_connector, start_fake_slack

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


# --- Teams ----------------------------------------------------------------------------

APP_ID = "5b8e6a3c-1d2f-4e0a-9c7b-a1b2c3d4e5f6"
TENANT = "6f1c2a54-0d0e-4b8e-9b7a-1f2e3d4c5b6a"
OTHER_TENANT = "0badc0de-0000-4000-8000-000000000000"
ISSUER = "https://api.botframework.com"
CONVERSATION = "19:reviews0a1b2c3d@thread.tacv2"
KID = "airlock-test-key"
CAROL_OID = "c4c4c4c4-0000-4000-8000-00000000ca01"
DAVE_OID = "d4d4d4d4-0000-4000-8000-00000000da01"


@pytest.fixture(scope="session")
def bot_key():
    """The test's signing key: its public half is what the fake publishes as the Bot
    Framework's keys."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def stranger_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def published_jwk(key, kid: str = KID, endorsements: list[str] | None = None) -> dict[str, Any]:
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "endorsements": endorsements or ["msteams"]}


@pytest.fixture
def fake_teams(settings, bot_key):
    """The fake Bot Connector, and Airlock's Teams settings pointing at it."""
    fake = start_fake_bot_connector()
    fake.jwks = {"keys": [published_jwk(bot_key)]}
    settings.AIRLOCK = {
        **settings.AIRLOCK,
        "ALLOW_HTTP_CALLBACKS": True,
        "ALLOW_PRIVATE_CALLBACKS": True,
    }
    settings.TEAMS = {
        **settings.TEAMS,
        "APP_ID": APP_ID,
        "APP_PASSWORD": "test-client-secret",
        "TENANT_ID": TENANT,
        "TOKEN_URL": f"{fake.url}/token",
        "OPENID_METADATA_URL": f"{fake.url}/openid",
        "ISSUER": ISSUER,
        "SERVICE_URL": f"{fake.url}/",
    }
    teams_auth.forget_keys()
    teams_connector.forget_tokens()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()
    teams_auth.forget_keys()
    teams_connector.forget_tokens()


def teams_channel(name: str = "teams-reviews", groups: list[str] | None = None, mode="approve"):
    return Channel.objects.create(
        kind="teams", name=name, target=CONVERSATION, groups=groups or ["reviewers"], mode=mode
    )


def bot_token(
    key,
    *,
    service_url: str,
    kid: str = KID,
    issuer: str = ISSUER,
    audience: str = APP_ID,
    lifetime: int = 3600,
    issued_ago: int = 60,
) -> str:
    """A Bot Connector token as the Bot Framework issues them."""
    now = int(time.time())
    claims = {
        "serviceurl": service_url,
        "nbf": now - issued_ago,
        "exp": now - issued_ago + lifetime,
        "iss": issuer,
        "aud": audience,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def card_click(
    action_id: str,
    *,
    service_url: str,
    oid: str = CAROL_OID,
    verb: str = "approve",
    reason: str | None = None,
    reply_to: str = "",
    tenant: str = TENANT,
    conversation: str = CONVERSATION,
) -> dict[str, Any]:
    """The invoke activity Teams sends when someone clicks an Action.Execute."""
    data: dict[str, Any] = {"action": action_id}
    if reason is not None:
        data["reason"] = reason
    return {
        "type": "invoke",
        "name": "adaptiveCard/action",
        "id": f"f:{time.time_ns()}",
        "timestamp": "2026-11-30T12:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": f"29:1{oid[:8]}", "name": "Someone", "aadObjectId": oid},
        "conversation": {
            "id": f"{conversation};messageid={reply_to}",
            "conversationType": "channel",
            "tenantId": tenant,
            "isGroup": True,
        },
        "recipient": {"id": f"28:{APP_ID}", "name": "Airlock"},
        "replyToId": reply_to,
        "channelData": {
            "tenant": {"id": tenant},
            "channel": {"id": conversation},
            "team": {"id": "19:team0@thread.tacv2"},
        },
        "value": {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
    }


def post_activity(activity: dict[str, Any], *, token: str | None, headers: dict | None = None):
    """POST an activity to the real endpoint, running what commits set off."""
    extra = dict(headers or {})
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            "/integrations/teams/messages",
            json.dumps(activity),
            content_type="application/json",
            **extra,
        )
