"""Policies over the API and the commands: the two-admin rule, the fast path,
versions that say what decided a request, simulate and backtest."""

from __future__ import annotations

import io
import textwrap
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from approvals.models import ActionRequest
from audit.models import AuditEvent
from policies.models import ImmutablePolicyError, PolicyVersion
from tests.conftest import Api
from tests.factories import apply_policy, make_person

pytestmark = pytest.mark.django_db

V1 = textwrap.dedent(
    """
    default: {effect: require_approval, approvals: 1, reviewers: [reviewers], timeout: 1h}
    rules:
      - name: reads-are-self-service
        match: {action: ["*.read", "metrics.*"]}
        effect: allow
      - name: no-prod-drops
        match: {action: schema.drop, environment: production}
        effect: deny
        message: dropping production tables is never allowed
    """
)
V2 = (
    V1
    + "  - name: restarts-need-sre\n"
    + "    match: {action: cluster.restart}\n"
    + "    effect: require_approval\n"
    + "    approvals: 2\n"
    + "    reviewers: [sre]\n"
    + "    timeout: 15m\n"
)


@pytest.fixture
def admin_a(db):
    return make_person("alice-admin@example.com", groups=["airlock-admins"])


@pytest.fixture
def admin_b(db):
    return make_person("bob-admin@example.com", groups=["airlock-admins"])


def propose(api: Api, document: str):
    return api.post("/api/v1/policies", {"document": document})


def test_a_proposal_waits_for_a_second_admin(agent_api, admin_a, admin_b):
    apply_policy(V1)
    response = propose(Api(admin_a.token), V2)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "proposed"
    version = body["version"]
    assert body["author"] == "alice-admin@example.com"

    # Still decided by v1 until approved.
    filed = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod"}).json()
    assert filed["policy"]["version"] == 1

    self_approval = Api(admin_a.token).post(f"/api/v1/policies/{version}/approve")
    assert self_approval.status_code == 403
    assert self_approval.json()["error"]["code"] == "self_approval"
    assert PolicyVersion.objects.get(version=version).status == "proposed"

    approved = Api(admin_b.token).post(f"/api/v1/policies/{version}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "active"
    assert approved.json()["decided_by"] == "bob-admin@example.com"
    assert PolicyVersion.objects.get(version=1).status == "superseded"

    after = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod"}).json()
    assert after["policy"] == {
        "version": version,
        "rules": ["restarts-need-sre"],
        "effect": "require_approval",
        "message": "",
    }
    assert after["approvals_required"] == 2
    assert after["reviewer_groups"] == ["sre"]
    created = timezone.datetime.fromisoformat(after["created_at"])
    assert timezone.datetime.fromisoformat(after["expires_at"]) - created == timedelta(minutes=15)

    events = list(
        AuditEvent.objects.filter(target=f"policy:{version}").values_list("event_type", "actor")
    )
    assert events == [
        ("policy.proposed", "user:alice-admin@example.com"),
        ("policy.approval_refused", "user:alice-admin@example.com"),
        ("policy.activated", "user:bob-admin@example.com"),
    ]


def test_only_admins_propose_or_approve(admin_a, reviewer, auditor):
    assert propose(Api(reviewer.token), V1).status_code == 403
    version = propose(Api(admin_a.token), V1).json()["version"]
    for outsider in (reviewer, auditor):
        response = Api(outsider.token).post(f"/api/v1/policies/{version}/approve")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "not_a_reviewer"


def test_agents_cannot_touch_policies(agent_api):
    assert propose(agent_api, V1).status_code == 403
    assert agent_api.get("/api/v1/policies").status_code == 403
    simulate = agent_api.post(
        "/api/v1/policies/simulate", {"request": {"action": "a", "resource": "r"}}
    )
    assert simulate.status_code == 403


def test_an_approved_version_cannot_be_approved_again(admin_a, admin_b):
    version = propose(Api(admin_a.token), V1).json()["version"]
    Api(admin_b.token).post(f"/api/v1/policies/{version}/approve")
    third = make_person("carl-admin@example.com", groups=["airlock-admins"])
    again = Api(third.token).post(f"/api/v1/policies/{version}/approve")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_pending"


def test_a_proposal_can_be_rejected_with_a_reason(admin_a, admin_b):
    version = propose(Api(admin_a.token), V1).json()["version"]
    assert Api(admin_b.token).post(f"/api/v1/policies/{version}/reject", {}).status_code == 400
    response = Api(admin_b.token).post(
        f"/api/v1/policies/{version}/reject", {"reason": "too loose"}
    )
    assert response.json()["status"] == "rejected"
    assert Api(admin_a.token).post(f"/api/v1/policies/{version}/approve").status_code == 403


def test_single_admin_mode_activates_at_once(admin_a, settings):
    settings.AIRLOCK = {**settings.AIRLOCK, "POLICY_SINGLE_ADMIN": True}
    body = propose(Api(admin_a.token), V1).json()
    assert body["status"] == "active"
    event = AuditEvent.objects.get(event_type="policy.activated")
    assert event.data["single_admin"] is True


def test_a_bad_document_is_refused_with_line_key_and_reason(admin_a):
    document = "rules:\n  - name: ok\n    match: {action: a.b}\n    effect: alow\n"
    response = propose(Api(admin_a.token), document)
    assert response.status_code == 400
    problems = response.json()["error"]["details"]["document"]
    assert problems == [
        {
            "line": 4,
            "key": "rules[0].effect",
            "reason": "must be one of allow, require_approval, deny",
        }
    ]
    assert not PolicyVersion.objects.exists()


def test_the_fast_path_allows_in_the_same_response(agent_api):
    apply_policy(V1)
    response = agent_api.file({"action": "metrics.cpu", "resource": "prom://prod"})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "approved"
    assert body["decided_at"] is not None
    assert body["policy"]["rules"] == ["reads-are-self-service"]
    assert body["approvals_required"] == 0
    event = AuditEvent.objects.get(event_type="action.approved", target=f"action:{body['id']}")
    assert event.actor == "policy"


def test_the_fast_path_denies_with_the_rules_message(agent_api):
    apply_policy(V1)
    body = agent_api.file(
        {"action": "schema.drop", "resource": "pg://orders", "environment": "production"}
    ).json()
    assert body["status"] == "denied"
    assert body["policy"]["message"] == "dropping production tables is never allowed"
    assert body["policy"]["effect"] == "deny"


def test_a_request_records_the_version_that_decided_it(agent_api):
    apply_policy(V1)
    first = agent_api.file({"action": "x.y", "resource": "r"}).json()
    apply_policy(V2)
    second = agent_api.file({"action": "x.y", "resource": "r"}).json()
    assert (first["policy"]["version"], second["policy"]["version"]) == (1, 2)
    assert ActionRequest.objects.get(pk=first["id"]).policy_version == 1


def test_every_requirement_must_be_met_and_one_person_may_count_for_two(agent_api):
    apply_policy(
        textwrap.dedent(
            """
            rules:
              - name: iam-needs-security
                match: {action: "iam.*"}
                effect: require_approval
                approvals: 2
                reviewers: [security]
              - name: iam-needs-a-lead
                match: {action: "iam.*"}
                effect: require_approval
                reviewers: [security-leads]
            """
        )
    )
    action_id = agent_api.file({"action": "iam.role.grant", "resource": "aws://iam/x"}).json()["id"]
    lead = make_person("lead@example.com", groups=["security", "security-leads"])
    member = make_person("member@example.com", groups=["security"])
    other = make_person("other@example.com", groups=["security"])
    after_lead = Api(lead.token).approve(action_id).json()
    assert after_lead["status"] == "pending"
    assert [(r["rule"], r["approved"]) for r in after_lead["requirements"]] == [
        ("iam-needs-security", 1),
        ("iam-needs-a-lead", 1),
    ]
    assert Api(member.token).approve(action_id).json()["status"] == "approved"
    assert Api(other.token).approve(action_id).json()["error"]["code"] == "not_pending"


def test_approvals_required_never_overstates_what_decides_it_when_groups_overlap(agent_api):
    # Two rules from one group: three privacy approvals meet both (each counts toward
    # both requirements), so the request needs 3, not the 5 a sum would claim.
    apply_policy(
        textwrap.dedent(
            """
            rules:
              - name: exports-with-pii
                match: {action: "data.export"}
                effect: require_approval
                approvals: 2
                reviewers: [privacy]
              - name: big-exports
                match: {action: "data.export"}
                effect: require_approval
                approvals: 3
                reviewers: [privacy]
            """
        )
    )
    filed = agent_api.file({"action": "data.export", "resource": "pg://customers"}).json()
    assert filed["approvals_required"] == 3
    assert [(r["rule"], r["approvals"]) for r in filed["requirements"]] == [
        ("exports-with-pii", 2),
        ("big-exports", 3),
    ]
    people = [make_person(f"privacy{i}@example.com", groups=["privacy"]) for i in range(3)]
    statuses = [Api(p.token).approve(filed["id"]).json()["status"] for p in people]
    assert statuses == ["pending", "pending", "approved"]


def test_requirements_are_met_only_by_their_groups(agent_api):
    apply_policy(
        "rules:\n"
        "  - {name: a, match: {action: 'x.*'}, effect: require_approval, reviewers: [sre]}\n"
        "  - {name: b, match: {action: 'x.*'}, effect: require_approval, reviewers: [dba]}\n"
    )
    action_id = agent_api.file({"action": "x.y", "resource": "r"}).json()["id"]
    sre = make_person(groups=["sre"])
    sre2 = make_person(groups=["sre"])
    assert Api(sre.token).approve(action_id).json()["status"] == "pending"
    assert Api(sre2.token).approve(action_id).json()["status"] == "pending"
    assert Api(make_person(groups=["dba"]).token).approve(action_id).json()["status"] == "approved"


def test_a_stored_version_is_immutable():
    policy = apply_policy(V1)
    policy.document = V2
    with pytest.raises(ImmutablePolicyError):
        policy.save()


def test_listing_and_detail_for_auditors(auditor, reviewer):
    apply_policy(V1)
    listing = Api(auditor.token).get("/api/v1/policies").json()
    assert listing["active"]["version"] == 1
    assert [v["version"] for v in listing["versions"]] == [1]
    detail = Api(auditor.token).get("/api/v1/policies/1").json()
    assert detail["document"] == V1
    assert len(detail["sha256"]) == 64
    assert Api(auditor.token).get("/api/v1/policies/9").status_code == 404
    assert Api(reviewer.token).get("/api/v1/policies").status_code == 403


# --- simulate -------------------------------------------------------------------------


def test_simulate_a_draft_without_storing_it(admin_a):
    response = Api(admin_a.token).post(
        "/api/v1/policies/simulate",
        {
            "document": V2,
            "request": {"action": "cluster.restart", "resource": "k8s://prod", "agent": "etl-bot"},
            "findings": [{"entity": "EMAIL_ADDRESS", "score": 0.9}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["effect"] == "require_approval"
    assert body["rules"] == ["restarts-need-sre"]
    assert body["approvals"] == 2
    assert body["timeout_seconds"] == 900
    assert not PolicyVersion.objects.exists()


def test_simulate_against_the_active_policy(auditor):
    apply_policy(V1)
    body = (
        Api(auditor.token)
        .post(
            "/api/v1/policies/simulate",
            {"request": {"action": "schema.drop", "resource": "r", "environment": "production"}},
        )
        .json()
    )
    assert body["effect"] == "deny"
    assert body["version"] == 1


def test_simulate_validates_its_input(auditor):
    bad = Api(auditor.token).post(
        "/api/v1/policies/simulate", {"request": {"action": "BAD", "resource": "r"}}
    )
    assert bad.status_code == 400
    assert "request" in bad.json()["error"]["details"]


# --- backtest -------------------------------------------------------------------------


def test_backtest_reports_what_a_draft_would_change(agent_api, admin_a):
    apply_policy(V1)
    for _ in range(3):
        agent_api.file({"action": "cluster.restart", "resource": "k8s://prod"})
    agent_api.file({"action": "metrics.cpu", "resource": "prom://prod"})
    draft = (
        V1.replace("effect: allow", "effect: require_approval").replace(
            "message: dropping production tables is never allowed", "message: nope"
        )
        + "  - {name: no-restarts, match: {action: cluster.restart}, effect: deny}\n"
    )
    response = Api(admin_a.token).post("/api/v1/policies/backtest", {"document": draft, "days": 7})
    assert response.status_code == 200
    report = response.json()
    assert report["requests"] == 4
    assert report["changed"] == 4
    assert report["stricter"] == 4
    assert report["looser"] == 0
    assert report["directions"] == {"require_approval->deny": 3, "allow->require_approval": 1}
    example = report["examples"]["require_approval->deny"][0]
    assert example["would_be"]["rules"] == ["no-restarts"]
    assert example["was"]["version"] == 1


def test_backtest_sees_only_the_window(agent_api, admin_a):
    apply_policy(V1)
    old = agent_api.file({"action": "cluster.restart", "resource": "k8s://prod"}).json()["id"]
    ActionRequest.objects.filter(pk=old).update(created_at=timezone.now() - timedelta(days=10))
    report = (
        Api(admin_a.token).post("/api/v1/policies/backtest", {"document": V1, "days": 7}).json()
    )
    assert report["requests"] == 0


def test_backtest_counts_changed_requirements(agent_api, admin_a):
    apply_policy(V1)
    agent_api.file({"action": "cluster.restart", "resource": "k8s://prod"})
    report = (
        Api(admin_a.token).post("/api/v1/policies/backtest", {"document": V2, "days": 1}).json()
    )
    assert report["changed"] == 0
    assert report["requirements_changed"] == 1


# --- commands -------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().strip()


def test_policy_apply_activates_the_first_policy_then_proposes(tmp_path):
    v1 = tmp_path / "v1.yaml"
    v1.write_text(V1)
    assert run("policy_apply", str(v1)) == ("1", "")
    assert PolicyVersion.objects.get(version=1).status == "active"
    v2 = tmp_path / "v2.yaml"
    v2.write_text(V2)
    out, err = run("policy_apply", str(v2))
    assert out == "2"
    assert "proposed" in err
    assert PolicyVersion.objects.get(version=2).status == "proposed"


def test_policy_apply_with_single_admin_mode_activates(tmp_path, settings):
    settings.AIRLOCK = {**settings.AIRLOCK, "POLICY_SINGLE_ADMIN": True}
    apply_policy(V1)
    path = tmp_path / "v2.yaml"
    path.write_text(V2)
    assert run("policy_apply", str(path))[0] == "2"
    assert PolicyVersion.objects.get(version=2).status == "active"


def test_policy_apply_refuses_a_bad_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - name: x\n    effect: allow\n    approvals: 2\n")
    with pytest.raises(CommandError, match=r"line 4: rules\[0\]\.approvals"):
        run("policy_apply", str(path))


CASES = textwrap.dedent(
    """
    cases:
      - name: reads are self-service
        request: {action: metrics.cpu.read, resource: "prom://prod"}
        expect: {effect: allow, rules: [reads-are-self-service]}
      - name: prod drops are denied
        request: {action: schema.drop, resource: "pg://x", environment: production}
        expect: {effect: deny, message: never allowed}
      - name: restarts need sre
        request: {action: cluster.restart, resource: "k8s://prod"}
        expect: {effect: require_approval, approvals: 2, reviewers: [sre], timeout: 15m}
    """
)


def test_policy_test_passes_and_fails(tmp_path):
    policy, cases = tmp_path / "p.yaml", tmp_path / "cases.yaml"
    policy.write_text(V2)
    cases.write_text(CASES)
    out, _ = run("policy_test", str(policy), str(cases))
    assert out.splitlines()[-1] == "3 passed, 0 failed"
    policy.write_text(V1)  # no restarts rule: the third case fails
    with pytest.raises(SystemExit) as exit_info:
        run("policy_test", str(policy), str(cases))
    assert exit_info.value.code == 1


def test_policy_backtest_command(tmp_path, agent_api):
    apply_policy(V1)
    agent_api.file({"action": "metrics.cpu", "resource": "prom://prod"})
    path = tmp_path / "draft.yaml"
    path.write_text("default: {effect: deny}\n")
    out, _ = run("policy_backtest", str(path), "--days", "3")
    assert out.splitlines()[0].startswith("1 requests of the last 3 days replayed: 1 would be")
    assert "allow->deny: 1" in out
