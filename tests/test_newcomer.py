"""Issue 11, item 8: what a new user trips over, each pinned to what really happens."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import Api
from tests.factories import make_person

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _production_paragraph() -> str:
    start = README.index("For the production shape")
    return README[start : README.index("```", start)]


def test_the_production_paragraph_says_to_collect_static_files():
    paragraph = _production_paragraph()
    assert "collectstatic" in paragraph
    assert "migrate" in paragraph


@pytest.mark.django_db
def test_the_tours_audit_trail_is_the_one_the_server_writes(agent_api):
    # The tour's own steps: file with a payload and an Idempotency-Key, then approve.
    me = make_person("you@example.com", groups=["reviewers", "airlock-auditors"])
    filed = agent_api.file(
        {
            "action": "data.export",
            "resource": "postgres://warehouse/customers",
            "environment": "production",
            "payload": {"query": "select id from customers"},
            "justification": "weekly churn analysis",
        },
        HTTP_IDEMPOTENCY_KEY="churn-2026-11-22",
    ).json()
    assert Api(me.token).approve(filed["id"], "ok").status_code == 200
    events = Api(me.token).get("/api/v1/audit/events", target=f"action:{filed['id']}").json()
    actual = [(e["type"], e["actor"]) for e in events["results"]]

    line = next(x for x in README.splitlines() if x.startswith("# action.created"))
    documented = re.findall(r"(action\.[a-z_]+) \(([^)]+)\)", line)
    assert documented == actual


@pytest.mark.django_db
def test_the_example_policy_passes_its_example_cases(capsys):
    examples = ROOT / "docs" / "examples"
    call_command("policy_test", str(examples / "policy.yaml"), str(examples / "cases.yaml"))
    out = capsys.readouterr().out
    assert re.search(r"^(\d+) passed, 0 failed$", out, re.M), out
    assert int(re.search(r"^(\d+) passed", out, re.M).group(1)) >= 5
    assert "policy_test docs/examples/policy.yaml docs/examples/cases.yaml" in README


def _verify_proof(tmp_path: Path, proof: object) -> subprocess.CompletedProcess[str]:
    (tmp_path / "proof.json").write_text(json.dumps(proof))
    (tmp_path / "keys.json").write_text(json.dumps({"keys": []}))
    return _run_verify(tmp_path)


def _run_verify(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the auditor's own verifier
        [
            *(sys.executable, str(ROOT / "audit" / "verify.py"), "proof"),
            *(str(tmp_path / "proof.json"), "--keys", str(tmp_path / "keys.json")),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.django_db
def test_without_a_checkpoint_verify_proof_says_why_and_how_to_make_one(
    agent_api, auditor, tmp_path
):
    # The embedded default has no beat: the tour's proof step, before any checkpoint.
    agent_api.file({"action": "a.b", "resource": "r"})
    answer = Api(auditor.token).get("/api/v1/audit/events/1/proof")
    assert answer.status_code == 404
    result = _verify_proof(tmp_path, answer.json())
    assert result.returncode == 1
    assert "malformed proof" not in result.stdout
    assert "no checkpoint covers this event yet" in result.stdout
    assert "manage.py audit_checkpoint" in result.stdout
    assert "$M audit_checkpoint" in README


def test_verify_proof_names_what_a_proof_lacks(tmp_path):
    result = _verify_proof(tmp_path, {"seq": 1})
    assert result.returncode == 1
    assert "missing leaf_index" in result.stdout
    assert "checkpoint" in result.stdout


@pytest.mark.django_db
def test_after_a_checkpoint_the_tours_proof_verifies(agent_api, auditor, tmp_path, client):
    agent_api.file({"action": "a.b", "resource": "r"})
    call_command("audit_checkpoint")
    proof = Api(auditor.token).get("/api/v1/audit/events/1/proof")
    assert proof.status_code == 200
    (tmp_path / "proof.json").write_text(proof.content.decode())
    (tmp_path / "keys.json").write_text(
        client.get("/.well-known/airlock-audit-keys").content.decode()
    )
    result = _run_verify(tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK: event 1 is in the log")


def test_celery_beat_keeps_its_schedule_in_var_not_the_repository_root():
    from airlock.celery import app

    schedule = Path(app.conf.beat_schedule_filename)
    assert schedule.parent == ROOT / "var"
    assert "celerybeat-schedule*" in (ROOT / ".gitignore").read_text().splitlines()
