"""Issue 11, item 7: the OpenAPI document says what the server does.

CI also runs Schemathesis against the real server (.ci/fuzz-api.sh); these pin the
fixes it needed, and check a few of them against the server directly.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _resolve(schema, ref_or_schema):
    ref = ref_or_schema.get("$ref")
    if ref is None:
        return ref_or_schema
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_action_list_is_documented_as_the_page_it_returns(schema, agent_api):
    ok = schema["paths"]["/api/v1/actions"]["get"]["responses"]["200"]
    page = _resolve(schema, ok["content"]["application/json"]["schema"])
    assert page["type"] == "object"
    assert {"next", "previous", "results"} <= set(page["properties"])
    body = agent_api.get("/api/v1/actions").json()
    assert set(body) == {"next", "previous", "results"}


@pytest.mark.parametrize(
    ("path", "component"),
    [
        ("/api/v1/actions", "ActionCreateRequest"),
        ("/api/v1/actions/{action_id}/approve", "CommentRequest"),
        ("/api/v1/actions/{action_id}/deny", "DenyRequest"),
        ("/api/v1/actions/{action_id}/outcome", "OutcomeRequest"),
        ("/api/v1/actions/{action_id}/reveal", "RevealRequest"),
        ("/api/v1/policies", "ProposeRequest"),
        ("/api/v1/policies/simulate", "SimulateRequest"),
    ],
)
def test_request_bodies_refuse_unknown_fields_as_the_server_does(schema, path, component):
    body = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith(f"/{component}")
    assert schema["components"]["schemas"][component]["additionalProperties"] is False


def test_an_unknown_field_is_refused_by_the_server_too(agent_api, reviewer):
    from tests.conftest import Api

    action_id = agent_api.file({"action": "a.b", "resource": "r"}).json()["id"]
    response = Api(reviewer.token).post(
        f"/api/v1/actions/{action_id}/approve", {"comment": "ok", "extra": 1}
    )
    assert response.status_code == 400
    assert "extra" in response.json()["error"]["details"]


def test_idempotency_key_and_wait_say_what_the_server_accepts(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/v1/actions"]["post"]["parameters"]}
    key = params["Idempotency-Key"]["schema"]
    assert key["maxLength"] == 255
    assert key["pattern"] == "^[!-~]([ -~]*[!-~])?$"
    assert params["wait"]["schema"] == {"type": "integer", "minimum": 0, "maximum": 30}
    retrieve = schema["paths"]["/api/v1/actions/{action_id}"]["get"]["parameters"]
    assert {"type": "integer", "minimum": 0, "maximum": 30} in [p["schema"] for p in retrieve]


def test_the_action_verb_pattern_is_api_md_s(schema):
    action = schema["components"]["schemas"]["ActionCreateRequest"]["properties"]["action"]
    assert action["pattern"] == r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$"
    assert action["maxLength"] == 128


def test_every_api_operation_documents_its_errors_in_the_error_shape(schema):
    assert "error" in schema["components"]["schemas"]["Error"]["properties"]
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("400", "401", "403", "404", "429", "503"):
                assert code in responses, (method, path, code)
                content = responses[code]["content"]["application/json"]["schema"]
                assert content["$ref"].endswith("/Error"), (method, path, code)
            assert "Retry-After" in responses["429"]["headers"]
            assert "Retry-After" in responses["503"]["headers"]
