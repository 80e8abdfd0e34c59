"""Health, OpenAPI, settings, and the audit read endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Api

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_answers_when_the_database_does(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.REDIS_URL else "eager")


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "unreachable"


@pytest.mark.django_db
def test_the_openapi_document_describes_the_action_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in [
        "/api/v1/actions",
        "/api/v1/actions/{action_id}",
        "/api/v1/actions/{action_id}/approve",
        "/api/v1/actions/{action_id}/deny",
        "/api/v1/actions/{action_id}/cancel",
        "/api/v1/actions/{action_id}/outcome",
        "/api/v1/audit/events",
    ]:
        assert path in paths, path
    create = schema["components"]["schemas"]["ActionCreateRequest"]
    assert create["required"] == ["action", "resource"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.django_db
def test_the_docs_page_serves_its_own_assets(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"swagger-ui" in page.content
    assert b"cdn.jsdelivr" not in page.content


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); print('started')",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "airlock.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_no_secret_key_outside_debug_is_a_startup_error():
    result = _start({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_is_a_startup_error():
    result = _start({"DEBUG": "maybe"})
    assert result.returncode != 0
    assert "is not a boolean" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-a-file-" + "x" * 40)
    result = _start({"DEBUG": "0", "SECRET_KEY_FILE": str(secret)})
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


@pytest.mark.django_db
def test_the_audit_log_is_for_auditors(agent_api, auditor, reviewer):
    agent_api.file({"action": "a.b", "resource": "r"})
    assert Api(reviewer.token).get("/api/v1/audit/events").status_code == 403
    assert agent_api.get("/api/v1/audit/events").status_code == 403
    page = Api(auditor.token).get("/api/v1/audit/events", type="action.created").json()
    assert [e["type"] for e in page["results"]] == ["action.created"]
    assert page["results"][0]["actor"] == "agent:etl-bot"
    after = Api(auditor.token).get("/api/v1/audit/events", after=page["next_after"]).json()
    assert after["results"] == []


@pytest.mark.django_db
def test_audit_events_cannot_be_changed_or_deleted(agent_api):
    from audit.models import AppendOnlyError, AuditEvent

    agent_api.file({"action": "a.b", "resource": "r"})
    event = AuditEvent.objects.first()
    event.data = {"forged": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


@pytest.mark.django_db
def test_a_principal_over_its_rate_is_429_with_retry_after(agent_api, monkeypatch):
    from airlock.api import PrincipalRateThrottle

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "3/min"})
    codes = [agent_api.get("/api/v1/actions").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = agent_api.get("/api/v1/actions")
    assert response.json()["error"]["code"] == "rate_limited"
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_every_setting_read_from_the_environment_is_documented():
    import re

    source = "\n".join(p.read_text() for p in (ROOT / "airlock").glob("*.py"))
    read = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_]+)"', source))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read
    assert read - documented == set()


def test_the_openapi_schema_has_no_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "s.yaml"))
    assert (tmp_path / "s.yaml").stat().st_size > 10_000
