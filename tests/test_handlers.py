"""airlock.handlers: an agent's call (bearer token, no cookie) skips the browser's
middleware and gets the same answer; everything else takes the full chain.

Each case is a real WSGI request, served by Django's full handler and by the agent
handler in turn on the same data, and the two answers are compared: status, every
header, and the body (or, where the body names a new row, its shape)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from airlock.handlers import FOR_BROWSERS, AgentHandler, SplitWSGI, for_agent
from tests.factories import AgentIdentity, PersonIdentity, apply_policy

ALLOW_READS = """\
default: {effect: require_approval, approvals: 1, reviewers: [reviewers], timeout: 1h}
rules:
  - name: reads
    match: {action: ["*.read"]}
    effect: allow
"""


def environ(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    query: str = "",
    **headers: str,
) -> dict[str, Any]:
    raw = json.dumps(body).encode() if body is not None else b""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        **headers,
    }
    if raw:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(raw))
    if token is not None:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def serve(app: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started.append((status, headers))

    fresh = dict(env, **{"wsgi.input": io.BytesIO(env["wsgi.input"].getvalue())})
    response = app(fresh, start_response)
    try:
        body = b"".join(response)
    finally:
        response.close()
    status, headers = started[0]
    return status, headers, body


@pytest.fixture
def handlers() -> Iterator[tuple[WSGIHandler, AgentHandler]]:
    # As Django's test client does: the test's transaction must outlive a request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler(), AgentHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def both(
    handlers: tuple[WSGIHandler, AgentHandler], env: dict[str, Any]
) -> tuple[tuple[str, list[tuple[str, str]], bytes], tuple[str, list[tuple[str, str]], bytes]]:
    assert for_agent(env)
    full, agent = handlers
    return serve(full, env), serve(agent, env)


# What differs between two new requests filed the same way: their ids, their times
# and the grant (a token signed over the request's id).
NEW_ROW = frozenset({"id", "jti", "grant", "created_at", "decided_at", "expires_at", "screened_at"})


def same_but(full: Any, agent: Any, varying: frozenset[str], where: str = "") -> None:
    """``full`` and ``agent`` equal everywhere but at keys in ``varying``, where both
    hold a value or both hold null."""
    assert type(agent) is type(full), where
    if isinstance(full, dict):
        assert sorted(agent) == sorted(full), where
        for key, value in full.items():
            if key in varying:
                assert (agent[key] is None) == (value is None), f"{where}.{key}"
            else:
                same_but(value, agent[key], varying, f"{where}.{key}")
    elif isinstance(full, list):
        assert len(agent) == len(full), where
        for i, (a, b) in enumerate(zip(full, agent, strict=True)):
            same_but(a, b, varying, f"{where}[{i}]")
    else:
        assert agent == full, where


def same_answer(full: tuple, agent: tuple, *, exact_body: bool = True) -> None:
    assert agent[0] == full[0]
    assert sorted(agent[1]) == sorted(full[1])
    if exact_body:
        assert agent[2] == full[2]
    else:
        same_but(json.loads(full[2]), json.loads(agent[2]), NEW_ROW)


def test_the_agent_chain_is_the_full_chain_less_the_browsers_middleware() -> None:
    # Every name in FOR_BROWSERS is in MIDDLEWARE: a renamed middleware cannot stay
    # in the agent's chain unnoticed.
    assert set(FOR_BROWSERS) <= set(settings.MIDDLEWARE)
    before = list(settings.MIDDLEWARE)
    agent, full = AgentHandler(), WSGIHandler()
    assert before == settings.MIDDLEWARE  # load_middleware put the setting back
    # The full chain's process_view hooks are CSRF's; the agent's chain has none.
    hooks = {getattr(hook, "__self__", hook).__class__.__name__ for hook in full._view_middleware}  # type: ignore[attr-defined]
    assert "CsrfViewMiddleware" in hooks
    assert agent._view_middleware == []  # type: ignore[attr-defined]


def test_every_view_under_api_is_exempt_from_csrf() -> None:
    """The agent's chain has no CSRF middleware; that is only the same when every
    view it can reach is exempt (DRF's views are)."""
    seen: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/"):
                seen.append(route)
                assert getattr(pattern.callback, "csrf_exempt", False), route

    walk(get_resolver().url_patterns, "")
    assert any(route.startswith("api/v1/actions") for route in seen)
    assert len(seen) > 10


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PATH_INFO": "/api/v1/actions", "HTTP_AUTHORIZATION": "Bearer x"}, True),
        ({"PATH_INFO": "/api/v1/actions", "HTTP_AUTHORIZATION": "bearer x"}, True),
        # A cookie: a browser's request, whatever else it carries.
        (
            {"PATH_INFO": "/api/v1/actions", "HTTP_AUTHORIZATION": "Bearer x", "HTTP_COOKIE": ""},
            False,
        ),
        ({"PATH_INFO": "/api/v1/actions", "HTTP_COOKIE": "sessionid=abc"}, False),
        # No bearer scheme: DRF would ask the session authenticator.
        ({"PATH_INFO": "/api/v1/actions"}, False),
        ({"PATH_INFO": "/api/v1/actions", "HTTP_AUTHORIZATION": "Basic eDp5"}, False),
        ({"PATH_INFO": "/api/v1/actions", "HTTP_AUTHORIZATION": "Bearerx"}, False),
        ({"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}, True),
        ({"PATH_INFO": "/healthz", "REQUEST_METHOD": "POST"}, False),
        ({"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET", "HTTP_COOKIE": "a=b"}, False),
        # The Swagger page asks for a CSRF token (a cookie the full chain sets).
        ({"PATH_INFO": "/api/docs/", "HTTP_AUTHORIZATION": "Bearer x"}, False),
        ({"PATH_INFO": "/api/schema/", "HTTP_AUTHORIZATION": "Bearer x"}, False),
        # The console, the admin, static files, integrations: never.
        ({"PATH_INFO": "/", "HTTP_AUTHORIZATION": "Bearer x"}, False),
        ({"PATH_INFO": "/admin/", "HTTP_AUTHORIZATION": "Bearer x"}, False),
        ({"PATH_INFO": "/static/x.js", "HTTP_AUTHORIZATION": "Bearer x"}, False),
        (
            {"PATH_INFO": "/integrations/slack/interactions", "HTTP_AUTHORIZATION": "Bearer x"},
            False,
        ),
        ({"PATH_INFO": "/apix", "HTTP_AUTHORIZATION": "Bearer x"}, False),
    ],
)
def test_which_requests_take_the_agent_chain(env: dict[str, str], expected: bool) -> None:
    assert for_agent(env) is expected


def test_split_sends_each_request_to_its_handler() -> None:
    calls: list[str] = []

    def app(name: str) -> Any:
        def serve_(environ: dict, start_response: Any) -> list[bytes]:
            calls.append(name)
            start_response("200 OK", [])
            return [b""]

        return serve_

    split = SplitWSGI(app("full"), app("agent"))
    split({"PATH_INFO": "/api/v1/actions", "HTTP_AUTHORIZATION": "Bearer t"}, lambda *a: None)
    split({"PATH_INFO": "/api/v1/actions", "HTTP_COOKIE": "s=1"}, lambda *a: None)
    split({"PATH_INFO": "/"}, lambda *a: None)
    assert calls == ["agent", "full", "full"]


@pytest.mark.django_db
def test_healthz_answers_the_same(handlers: tuple[WSGIHandler, AgentHandler]) -> None:
    full, agent = both(handlers, environ("GET", "/healthz"))
    assert full[0].startswith("200")
    same_answer(full, agent)


@pytest.mark.django_db
def test_an_agents_calls_answer_the_same(
    handlers: tuple[WSGIHandler, AgentHandler],
    requester_agent: AgentIdentity,
    reviewer: PersonIdentity,
) -> None:
    apply_policy(ALLOW_READS)
    token = requester_agent.token

    allowed = {"action": "orders.read", "resource": "db/orders", "environment": "prod"}
    full, agent = both(handlers, environ("POST", "/api/v1/actions", token=token, body=allowed))
    assert full[0].startswith("201")
    same_answer(full, agent, exact_body=False)
    assert json.loads(agent[2])["status"] == "approved"  # by policy, at once

    held = {"action": "orders.export", "resource": "db/orders", "environment": "prod"}
    full, agent = both(handlers, environ("POST", "/api/v1/actions", token=token, body=held))
    assert full[0].startswith("201")
    same_answer(full, agent, exact_body=False)
    action_id = json.loads(agent[2])["id"]

    cases = [
        environ("GET", f"/api/v1/actions/{action_id}", token=token),
        environ("GET", "/api/v1/actions", token=token, query="status=pending"),
        # The requester approving its own request: refused the same on both.
        environ("POST", f"/api/v1/actions/{action_id}/approve", token=token, body={}),
        # Refusals that no view or a different layer produces.
        environ("GET", "/api/v1/actions", token="not-a-token"),
        environ("GET", "/api/v1/actions", token="two words"),
        environ("GET", "/api/v1/nothing-here", token=token),
        environ("GET", "/api/v1/actions/not-a-uuid/approve", token=token),
        environ("DELETE", "/api/v1/actions", token=token),
        environ("GET", "/api/v1/audit/sequencer", token=token),
        environ("POST", "/api/v1/audit/sequencer", token=token, body={}),
        environ("GET", "/api/v1/actions", token=token, query="status=pending%00"),
        environ(
            "POST",
            "/api/v1/actions",
            token=token,
            body={"action": "x"},
            CONTENT_TYPE="text/plain",
        ),
        # A reviewer's personal token deciding: the same answer, and once only.
        environ("GET", f"/api/v1/actions/{action_id}", token=reviewer.token),
    ]
    for env in cases:
        full, agent = both(handlers, env)
        same_answer(full, agent)

    # A state change cannot be compared by running it twice; its answer's shape can.
    approve = environ("POST", f"/api/v1/actions/{action_id}/approve", token=reviewer.token, body={})
    status, _, body = serve(handlers[1], approve)
    assert status.startswith("200"), body
    assert json.loads(body)["status"] == "approved"
    full, agent = both(handlers, environ("GET", f"/api/v1/actions/{action_id}", token=token))
    same_answer(full, agent)


@pytest.mark.django_db
def test_a_browser_session_still_takes_the_full_chain(
    handlers: tuple[WSGIHandler, AgentHandler], reviewer: PersonIdentity
) -> None:
    """The console calls the API with its session cookie: the split must give it the
    full chain, where the session authenticates it; the agent chain would not."""
    client = Client()
    client.force_login(reviewer.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    env = environ("GET", "/api/v1/actions", HTTP_COOKIE=cookie)
    assert not for_agent(env)
    full, agent = handlers
    split = SplitWSGI(full, agent)
    status, _, _ = serve(split, env)
    assert status.startswith("200")
    assert serve(agent, env)[0].startswith(("401", "403"))
