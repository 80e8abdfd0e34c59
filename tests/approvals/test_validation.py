"""Every input rule of API.md's "Action requests", each failure with the error shape
and the bad field named."""

from __future__ import annotations

import json

import pytest

from approvals.models import ActionRequest
from audit.models import AuditEvent

VALID = {"action": "data.export", "resource": "postgres://warehouse/customers"}


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    if field is not None:
        assert field in body["error"]["details"], body
    return body


BAD_FIELDS = [
    # (overrides, field)
    ({"action": None}, "action"),
    ({"action": 42}, "action"),
    ({"action": ""}, "action"),
    ({"action": "Data.Export"}, "action"),
    ({"action": "data..export"}, "action"),
    ({"action": ".data"}, "action"),
    ({"action": "data."}, "action"),
    ({"action": "data export"}, "action"),
    ({"action": "data/export"}, "action"),
    ({"action": "a" * 129}, "action"),
    ({"resource": None}, "resource"),
    ({"resource": ""}, "resource"),
    ({"resource": "   "}, "resource"),
    ({"resource": ["db://x"]}, "resource"),
    ({"resource": "r" * 513}, "resource"),
    ({"resource": "db://x\nINJECTED log line"}, "resource"),
    ({"environment": "e" * 65}, "environment"),
    ({"environment": 7}, "environment"),
    ({"justification": "j" * 2001}, "justification"),
    ({"justification": 12}, "justification"),
    ({"on_behalf_of": "not-an-email"}, "on_behalf_of"),
    ({"on_behalf_of": "alice@"}, "on_behalf_of"),
    ({"context": ["not", "an", "object"]}, "context"),
    ({"context": "string"}, "context"),
    ({"payload": nested(33)}, "payload"),
    ({"payload": {"id": 2**60}}, "payload"),
    ({"callback_url": "http://agent.example.com/hook"}, "callback_url"),
    ({"callback_url": "ftp://agent.example.com/hook"}, "callback_url"),
    ({"callback_url": "https://10.0.0.5/hook"}, "callback_url"),
    ({"callback_url": "https://192.168.1.1/hook"}, "callback_url"),
    ({"callback_url": "https://172.16.0.1/hook"}, "callback_url"),
    ({"callback_url": "https://127.0.0.1/hook"}, "callback_url"),
    ({"callback_url": "https://169.254.169.254/latest/meta-data"}, "callback_url"),
    ({"callback_url": "https://[::1]/hook"}, "callback_url"),
    ({"callback_url": "https://[fe80::1]/hook"}, "callback_url"),
    ({"callback_url": "https://[::ffff:127.0.0.1]/hook"}, "callback_url"),
    ({"callback_url": "https://2130706433/hook"}, "callback_url"),
    ({"callback_url": "https://0x7f.1/hook"}, "callback_url"),
    ({"callback_url": "https://127.1/hook"}, "callback_url"),
    ({"callback_url": "https://localhost/hook"}, "callback_url"),
    ({"callback_url": "https://metadata.google.internal/x"}, "callback_url"),
    ({"callback_url": "https://intranet/hook"}, "callback_url"),
    ({"callback_url": "https://user:pw@agent.example.com/hook"}, "callback_url"),
    ({"callback_url": "https://agent.example.com:99999/hook"}, "callback_url"),
    ({"callback_url": "not a url"}, "callback_url"),
    ({"callback_url": "https://" + "a" * 2100 + ".com/"}, "callback_url"),
    ({"unexpected": 1}, "unexpected"),
    ({"paylaod": {"typo": True}}, "paylaod"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "field"), BAD_FIELDS)
def test_it_refuses_a_bad_field(agent_api, overrides, field):
    body = {**VALID, **overrides}
    if body.get("action") is None and "action" in overrides:
        del body["action"]
    if body.get("resource") is None and "resource" in overrides:
        del body["resource"]
    assert_error(agent_api.file(body), 400, "validation_error", field)
    assert ActionRequest.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "good",
    [
        {"action": "a"},
        {"action": "a" * 128},
        {"action": "iam.role-binding.update_v2"},
        {"resource": "r" * 512},
        {"environment": "e" * 64},
        {"justification": "line one\nline two\t" + "j" * 1980},
        {"on_behalf_of": "Alice@Example.com"},
        {"payload": nested(32)},
        {"payload": None},
        {"payload": [1, 2.5, "x", None, True, {"ü": "ñ"}]},
        {"payload": {"id": 2**53 - 1}},
        {"callback_url": "https://agent.example.com/hooks/airlock"},
        {"callback_url": "https://93.184.215.14:8443/hook"},
        {"context": {"run_id": "r-123", "model": "gpt-x"}},
    ],
)
def test_it_accepts_values_at_the_limits(agent_api, good):
    response = agent_api.file({**VALID, **good})
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_on_behalf_of_is_stored_lower_case(agent_api):
    response = agent_api.file({**VALID, "on_behalf_of": "Alice@Example.COM"})
    assert response.json()["on_behalf_of"] == "alice@example.com"


@pytest.mark.django_db
def test_a_payload_over_256_kib_is_413(agent_api):
    payload = {"blob": "x" * (256 * 1024)}
    body = assert_error(agent_api.file({**VALID, "payload": payload}), 413, "payload_too_large")
    assert "payload" in body["error"]["details"]
    assert ActionRequest.objects.count() == 0


@pytest.mark.django_db
def test_a_payload_of_exactly_256_kib_is_accepted(agent_api):
    overhead = len(json.dumps({"blob": ""}, separators=(",", ":")))
    payload = {"blob": "x" * (256 * 1024 - overhead)}
    assert agent_api.file({**VALID, "payload": payload}).status_code == 201


@pytest.mark.django_db
def test_multibyte_characters_count_as_their_utf8_bytes(agent_api):
    # 100k three-byte characters: 300 KB encoded, although only 100k characters.
    payload = {"text": "€" * 100_000}
    assert_error(agent_api.file({**VALID, "payload": payload}), 413, "payload_too_large", "payload")


@pytest.mark.django_db
def test_a_context_over_16_kib_is_413(agent_api):
    assert_error(
        agent_api.file({**VALID, "context": {"x": "y" * 17_000}}),
        413,
        "payload_too_large",
        "context",
    )


@pytest.mark.django_db
def test_a_body_over_the_upload_limit_is_413_before_parsing(agent_api):
    raw = json.dumps({**VALID, "payload": "x" * (2 * 1024 * 1024)})
    response = agent_api.client.post("/api/v1/actions", raw, content_type="application/json")
    assert_error(response, 413, "payload_too_large")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "parse_error"),
        ("", "validation_error"),
        ('{"action": "a", "resource": "r", "payload": NaN}', "parse_error"),
        ('{"action": "a", "resource": "r", "payload": Infinity}', "parse_error"),
        ("[" * 100_000 + "]" * 100_000, "parse_error"),
        ('["a", "list"]', "validation_error"),
        ('"a string"', "validation_error"),
        ("\xff\xfe", "parse_error"),
    ],
)
def test_it_refuses_malformed_bodies(agent_api, raw, code):
    response = agent_api.client.post("/api/v1/actions", raw, content_type="application/json")
    assert_error(response, 400, code)


@pytest.mark.django_db
def test_a_non_json_content_type_is_415(agent_api):
    response = agent_api.client.post("/api/v1/actions", "action=a", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.django_db
@pytest.mark.parametrize("wait", ["-1", "31", "abc", "1.5"])
def test_wait_must_be_0_to_30_seconds(agent_api, wait):
    response = agent_api.client.post(f"/api/v1/actions?wait={wait}", VALID, format="json")
    assert_error(response, 400, "validation_error", "wait")


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["k" * 256, "ключ", "tab\tkey"])
def test_idempotency_key_must_be_short_printable_ascii(agent_api, key):
    response = agent_api.client.post(
        "/api/v1/actions", VALID, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert_error(response, 400, "validation_error", "Idempotency-Key")


@pytest.mark.django_db
def test_refused_input_writes_nothing(agent_api):
    agent_api.file({**VALID, "action": "BAD"})
    assert ActionRequest.objects.count() == 0
    assert not AuditEvent.objects.filter(event_type="action.created").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Bearer alk_agt_not-a-real-token", "Bearer ", "Bearer a b", "Basic dXNlcjpwYXNz", None],
)
def test_it_needs_valid_credentials(client, header, db):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.post("/api/v1/actions", VALID, content_type="application/json", **extra)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "authentication_failed"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
