"""Local servers speaking the real protocols: a fake Slack Web API the real
``slack_sdk.WebClient`` talks to, a webhook receiver, and a fake of Microsoft's side
of a Teams bot (token endpoint, published keys, Bot Connector). Loopback only."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeSlack:
    """Answers chat.postMessage, chat.update, chat.postEphemeral, views.open and
    auth.test like Slack does, and records every call. ``fail`` maps a method to
    the ``error`` to answer it with, for as many calls as its list holds."""

    calls: list[Call] = field(default_factory=list)
    fail: dict[str, list[str]] = field(default_factory=dict)
    on_call: Callable[[Call], None] | None = None
    server: ThreadingHTTPServer | None = None
    _ts: int = 1700000000

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def answer(self, call: Call) -> dict[str, Any]:
        failures = self.fail.get(call.method)
        if failures:
            return {"ok": False, "error": failures.pop(0)}
        if call.method == "auth.test":
            return {"ok": True, "team_id": "T0TEAM", "user_id": "UBOT", "bot_id": "BBOT"}
        if call.method == "chat.postMessage":
            self._ts += 1
            return {"ok": True, "channel": call.params["channel"], "ts": f"{self._ts}.000100"}
        if call.method == "chat.update":
            return {"ok": True, "channel": call.params["channel"], "ts": call.params["ts"]}
        if call.method in ("chat.postEphemeral", "views.open"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params = json.loads(raw or b"{}")
            else:
                params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            for key in ("blocks", "view"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
            call = Call(self.path.rsplit("/", 1)[-1], params, dict(self.headers))
            fake.calls.append(call)
            if fake.on_call:
                fake.on_call(call)
            body = json.dumps(fake.answer(call)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def start_fake_slack() -> FakeSlack:
    fake = FakeSlack()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake


@dataclass
class Receiver:
    """A webhook receiver: answers each POST with the next status of ``statuses``
    (then 200), and records the raw body and headers."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/airlock"


def start_receiver(statuses: list[int] | None = None) -> Receiver:
    receiver = Receiver(statuses=list(statuses or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, raw))
            code = receiver.statuses.pop(0) if receiver.statuses else 200
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.server.serve_forever, daemon=True).start()
    return receiver


@dataclass
class Exchange:
    method: str
    path: str  # URL-decoded
    headers: dict[str, str]
    body: Any  # JSON, or the form as a dict, or None


@dataclass
class FakeBotConnector:
    """Microsoft's side of a Teams bot, on one loopback port: the Entra token endpoint
    (``POST /token``), the Bot Framework's OpenID metadata and key set (``GET
    /openid``, ``GET /keys``: whatever ``jwks`` holds, the test's published keys) and
    the Bot Connector REST API (``POST /v3/conversations/{id}/activities`` sends,
    ``POST …/activities/{id}`` replies, ``PUT …/activities/{id}`` updates). Every
    exchange is recorded; ``fail`` maps "METHOD kind" to statuses to answer first."""

    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    exchanges: list[Exchange] = field(default_factory=list)
    fail: dict[str, list[int]] = field(default_factory=dict)
    server: ThreadingHTTPServer | None = None
    _next_id: int = 1700000000000

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def sends(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path.endswith("/activities")]

    @property
    def updates(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "PUT"]

    @property
    def replies(self) -> list[Exchange]:
        return [
            e
            for e in self.exchanges
            if e.method == "POST" and "/activities/" in e.path and e.path.startswith("/v3/")
        ]

    @property
    def token_requests(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path == "/token"]

    def answer(self, exchange: Exchange) -> tuple[int, Any]:
        kind = exchange.path.split("/")[1] if exchange.path.count("/") else exchange.path
        failures = self.fail.get(f"{exchange.method} {kind}")
        if failures:
            return failures.pop(0), {"error": {"code": "Failed", "message": "fake failure"}}
        if exchange.path == "/openid" and exchange.method == "GET":
            return 200, {
                "issuer": "https://api.botframework.com",
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.url}/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        if exchange.path == "/keys" and exchange.method == "GET":
            return 200, self.jwks
        if exchange.path == "/token" and exchange.method == "POST":
            return 200, {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJib3RmcmFtZXdvcmsifQ.fake-bot-token",
            }
        if exchange.path.startswith("/v3/conversations/"):
            if exchange.method == "POST" and exchange.path.endswith("/activities"):
                self._next_id += 1
                return 201, {"id": str(self._next_id)}
            if exchange.method in ("PUT", "POST"):
                return 200, {"id": exchange.path.rsplit("/", 1)[-1]}
        return 404, {"error": {"code": "NotFound", "message": exchange.path}}


def _connector_handler(fake: FakeBotConnector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _exchange(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            content_type = self.headers.get("Content-Type", "")
            body: Any = None
            if raw and content_type.startswith("application/json"):
                body = json.loads(raw)
            elif raw:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            exchange = Exchange(self.command, unquote(self.path), dict(self.headers), body)
            fake.exchanges.append(exchange)
            status, answer = fake.answer(exchange)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _exchange

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def start_fake_bot_connector() -> FakeBotConnector:
    fake = FakeBotConnector()
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _connector_handler(fake))
    threading.Thread(target=fake.server.serve_forever, daemon=True).start()
    return fake
