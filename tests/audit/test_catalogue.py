"""The audit event catalogue: every type declared once with the SOC 2 criteria it
evidences; nothing undeclared reaches the log; filters speak the catalogue."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from audit import catalogue
from audit.models import AuditEvent
from audit.services import record
from tests.conftest import Api

ROOT = Path(__file__).resolve().parents[2]
APPS = (
    "accounts",
    "airlock",
    "approvals",
    "audit",
    "evidence",
    "frontend",
    "notifications",
    "policies",
    "sanitization",
)
CRITERIA = {"CC4.1", "CC6.1", "CC6.2", "CC6.3", "CC7.2", "CC8.1"}


@pytest.mark.django_db
def test_an_undeclared_type_is_refused_and_nothing_is_written():
    with pytest.raises(catalogue.UndeclaredEventType, match="not declared"):
        record("action.teleported", "system", "action:x", {})
    assert not AuditEvent.objects.filter(event_type="action.teleported").exists()


def test_every_type_has_a_description_and_known_criteria():
    for event_type in catalogue.CATALOGUE.values():
        if event_type.description == "written by the audit tests":
            continue
        assert event_type.description.endswith("."), event_type.name
        assert event_type.criteria, event_type.name
        assert set(event_type.criteria) <= CRITERIA, event_type.name


def test_a_type_cannot_be_declared_twice():
    with pytest.raises(ValueError, match="declared twice"):
        catalogue.declare(catalogue.ACTION_CREATED, "again", "CC8.1")


def test_no_code_records_a_literal_or_computed_type():
    """Every ``record(...)`` call names a catalogue constant, so a type is declared in
    one place and evidence reports can map it (no literals, no f-strings)."""
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "record"
                    and node.args
                    and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_the_api_filters_by_catalogue_types_only(auditor, agent_api):
    agent_api.file({"action": "data.export", "resource": "pg://customers"})
    api = Api(auditor.token)
    body = api.get("/api/v1/audit/events", type=catalogue.ACTION_CREATED).json()
    assert {event["type"] for event in body["results"]} == {"action.created"}
    refused = api.get("/api/v1/audit/events", type="action.create")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["type"]
