"""Issue 11, items 1 and 2: every bad input is a clear 4xx in API.md's error shape,
never a 500, never a request stuck in screening, never an HTML page under /api/."""

from __future__ import annotations

import json
import time

import pytest
from django.db import OperationalError

from approvals.models import ActionRequest
from tests.conftest import Api
from tests.factories import make_person

pytestmark = pytest.mark.django_db

VALID = {"action": "data.export", "resource": "postgres://warehouse/customers"}
SURROGATE = "\ud800"
NUL = "\x00"


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    if field is not None:
        assert field in body["error"]["details"], body
    return body


def post_raw(api: Api, path: str, body: object):
    # json.dumps escapes a lone surrogate as "\ud800", exactly as an attacker sends it.
    return api.client.post(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def filed(agent_api, reviewer):
    action_id = agent_api.file(VALID).json()["id"]
    assert Api(reviewer.token).approve(action_id).status_code == 200
    return action_id


# --- lone surrogates and U+0000 ---------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"payload": {"q": SURROGATE}}, "payload"),
        ({"payload": {SURROGATE: 1}}, "payload"),
        ({"payload": [["deep", {"x": "a" + SURROGATE + "b"}]]}, "payload"),
        ({"context": {"run": SURROGATE}}, "context"),
        ({"context": {SURROGATE: "r"}}, "context"),
        ({"payload": {"q": NUL}}, "payload"),
        ({"payload": {"k" + NUL: 1}}, "payload"),
        ({"payload": "a" + NUL}, "payload"),
        ({"context": {"run": "r" + NUL}}, "context"),
        ({"justification": "why" + SURROGATE}, "justification"),
    ],
)
def test_a_string_that_cannot_be_stored_is_a_400_naming_the_field(agent_api, extra, field):
    response = post_raw(agent_api, "/api/v1/actions", {**VALID, **extra})
    assert_error(response, 400, "validation_error", field)
    assert ActionRequest.objects.count() == 0


def test_a_valid_surrogate_pair_is_an_ordinary_character(agent_api):
    response = post_raw(agent_api, "/api/v1/actions", {**VALID, "payload": {"emoji": "\U0001f600"}})
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("detail", [{"log": SURROGATE}, {"log": NUL}, {NUL: "x"}])
def test_an_outcome_detail_that_cannot_be_stored_is_a_400(agent_api, filed, detail):
    response = post_raw(
        agent_api,
        f"/api/v1/actions/{filed}/outcome",
        {"result": "succeeded", "detail": detail},
    )
    assert_error(response, 400, "validation_error", "detail")


@pytest.mark.parametrize(
    "request_body",
    [
        {"action": "a.b", "resource": "r", "payload": {"x": SURROGATE}},
        {"action": "a.b", "resource": "r", "context": {SURROGATE: 1}},
    ],
)
def test_simulate_refuses_what_cannot_be_stored(auditor, request_body):
    response = post_raw(Api(auditor.token), "/api/v1/policies/simulate", {"request": request_body})
    assert_error(response, 400, "validation_error", "request")


def test_a_comment_with_a_surrogate_is_a_400(reviewer, agent_api):
    action_id = agent_api.file(VALID).json()["id"]
    response = post_raw(
        Api(reviewer.token), f"/api/v1/actions/{action_id}/approve", {"comment": SURROGATE}
    )
    assert_error(response, 400, "validation_error", "comment")


# --- duplicate keys -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"action": "data.export", "action": "schema.drop", "resource": "db://x"}',
        '{"action": "a.b", "resource": "r", "payload": {"rows": 1, "rows": 10000000}}',
    ],
)
def test_duplicate_keys_are_refused_not_last_one_wins(agent_api, raw):
    response = agent_api.client.post("/api/v1/actions", raw, content_type="application/json")
    body = assert_error(response, 400, "parse_error")
    assert "duplicate key" in body["error"]["message"]
    assert ActionRequest.objects.count() == 0


# --- list filters -------------------------------------------------------------------------


@pytest.mark.parametrize("param", ["agent", "action", "environment", "status", "cursor"])
def test_nul_in_an_action_list_filter_is_a_400(agent_api, param):
    agent_api.file(VALID)
    response = agent_api.client.get(f"/api/v1/actions?{param}=x%00y")
    assert_error(response, 400, "validation_error", param)


@pytest.mark.parametrize("param", ["actor", "type", "target", "since"])
def test_nul_in_an_audit_filter_is_a_400(auditor, param):
    response = Api(auditor.token).client.get(f"/api/v1/audit/events?{param}=%00")
    assert_error(response, 400, "validation_error", param)


@pytest.mark.parametrize(
    "url", ["/history/?agent=%00", "/history/?action=%00", "/history/?q=%00", "/audit/?actor=%00"]
)
def test_nul_in_a_console_filter_is_a_400_not_a_500(client, url):
    person = make_person("nul-prober@example.com", groups=["reviewers", "airlock-auditors"])
    client.force_login(person.user)
    response = client.get(url)
    assert response.status_code == 400


# --- a policy nested too deep -------------------------------------------------------------


def test_a_policy_nested_5000_levels_is_a_quick_400():
    from policies.document import PolicyDocumentError, parse_document

    document = "rules:\n  - name: deep\n    match: {when: " + "[" * 5000 + "]" * 5000 + "}\n"
    started = time.monotonic()
    with pytest.raises(PolicyDocumentError) as caught:
        parse_document(document)
    assert time.monotonic() - started < 2
    assert "nested" in str(caught.value)


@pytest.mark.parametrize(
    "document",
    [
        "default: " + "[" * 5000 + "]" * 5000,
        "default:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 400)) + "  " * 400 + "v",
    ],
)
def test_proposing_a_deeply_nested_policy_is_a_400(document):
    admin = make_person("deep-admin@example.com", groups=["airlock-admins"])
    response = Api(admin.token).post("/api/v1/policies", {"document": document})
    body = assert_error(response, 400, "validation_error", "document")
    assert "nested" in json.dumps(body)


def test_simulating_a_deeply_nested_draft_is_a_400(auditor):
    document = "rules: " + "[" * 5000 + "]" * 5000
    response = Api(auditor.token).post(
        "/api/v1/policies/simulate", {"document": document, "request": VALID}
    )
    assert response.status_code == 400, response.content[:300]


# --- every error under /api/ has the error shape ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/actions/not-a-uuid/approve",
        "/api/v1/actions/not-a-uuid",
        "/api/v1/nothing-here",
        "/api/v1/policies/not-a-number",
    ],
)
def test_an_unknown_api_url_is_a_json_404(reviewer, path):
    response = Api(reviewer.token).client.post(path, {}, format="json")
    assert_error(response, 404, "not_found")


def test_an_unexpected_failure_under_api_is_a_json_500(agent_api, monkeypatch):
    from approvals import services

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "submit", broken)
    agent_api.client.raise_request_exception = False
    response = agent_api.client.post("/api/v1/actions", VALID, format="json")
    body = assert_error(response, 500, "server_error")
    assert "a bug" not in json.dumps(body)


def test_a_refused_host_under_api_is_a_json_400(client):
    response = client.get("/api/v1/actions", HTTP_HOST="evil.example.net")
    assert_error(response, 400, "bad_request")


def test_the_database_away_is_a_503_with_retry_after_for_the_api(agent_api, monkeypatch):
    from approvals import selectors

    def away(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(selectors, "requests_visible_to", away)
    response = agent_api.client.get("/api/v1/actions")
    assert_error(response, 503, "service_unavailable")
    assert int(response.headers["Retry-After"]) > 0


def test_the_database_away_is_a_503_with_retry_after_for_the_console(client, monkeypatch):
    from frontend import views

    person = make_person("console-503@example.com", groups=["reviewers"])
    client.force_login(person.user)

    def away(*args, **kwargs):
        raise OperationalError("connection failed")

    monkeypatch.setattr(views, "render", away)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


# --- filters the database cannot take ---------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "since=2026-13-45T00:00:00Z",  # well-formed, impossible: ValueError in parsing
        "until=9999-12-31T23:59:59-23:59",  # past year 9999 once in UTC
        "since=2026-02-30T00:00:00Z",
    ],
)
def test_an_impossible_audit_time_is_a_400(auditor, query):
    response = Api(auditor.token).client.get(f"/api/v1/audit/events?{query}")
    assert_error(response, 400, "validation_error", query.split("=")[0])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("action=" + "*" * 5000, "action"),  # PostgreSQL: "regular expression is too complex"
        ("action=" + "*a" * 9, "action"),
        ("action=" + "a" * 129, "action"),
        ("agent=" + "x" * 65, "agent"),
        ("environment=" + "e" * 65, "environment"),
    ],
)
def test_a_filter_longer_than_its_field_or_too_wild_is_a_400(agent_api, query, field):
    agent_api.file(VALID)
    assert_error(agent_api.client.get(f"/api/v1/actions?{query}"), 400, "validation_error", field)


def test_a_glob_with_a_few_wildcards_still_filters(agent_api):
    agent_api.file(VALID)
    response = agent_api.client.get("/api/v1/actions?action=d*t*.*x*o*t")  # 5 wildcards
    assert response.status_code == 200
    assert [a["action"] for a in response.json()["results"]] == ["data.export"]
