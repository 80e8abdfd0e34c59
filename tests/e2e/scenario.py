"""A console as a reviewer meets it: a policy with named rules, a production export
with personal data and context, a secret rotation, a staging restart, a repeat of an
approved export with a changed payload, a refused self-approval, decisions spread
over days, and a signed checkpoint. Built through the real API and services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from approvals.models import ActionRequest
from tests.conftest import Api
from tests.factories import AgentIdentity, PersonIdentity, apply_policy, make_agent, make_person

POLICY = """\
default:
  effect: require_approval
  approvals: 1
  reviewers: [reviewers]
  timeout: 1h
rules:
  - name: production-changes
    match: {environment: production}
    effect: require_approval
    approvals: 2
    reviewers: [reviewers]
    timeout: 2h
  - name: personal-data
    match: {data_classes: [EMAIL_ADDRESS, PHONE_NUMBER]}
    effect: require_approval
    approvals: 1
    reviewers: [privacy]
    timeout: 2h
  - name: reads
    match: {action: "*.read"}
    effect: allow
"""

LONG_OWNER = "platform-infrastructure-automation-team.owners@example.com"


@dataclass
class Console:
    owner: PersonIdentity
    reviewer: PersonIdentity
    second: PersonIdentity
    auditor: PersonIdentity
    admin: PersonIdentity
    etl: AgentIdentity
    deploy: AgentIdentity
    ids: dict[str, str] = field(default_factory=dict)


def file(agent: AgentIdentity, body: dict) -> str:
    response = Api(agent.token).file(body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def build() -> Console:
    owner = make_person(LONG_OWNER, groups=["reviewers"])
    reviewer = make_person("carol@example.com", groups=["reviewers", "privacy"])
    second = make_person("dave@example.com", groups=["reviewers", "privacy"])
    auditor = make_person("audrey@example.com", groups=["airlock-auditors"])
    admin = make_person("root@example.com", groups=["airlock-admins"])
    apply_policy(POLICY)
    etl = make_agent(owner.user, name="etl-bot")
    deploy = make_agent(owner.user, name="deploy-bot")
    console = Console(owner, reviewer, second, auditor, admin, etl, deploy)

    export = {
        "action": "data.export",
        "resource": "postgres://warehouse/customers",
        "environment": "production",
        "justification": "Quarterly churn analysis requested by finance (FIN-2231).",
        "context": {"run_id": "run-7f3a9c", "model": "gpt-4.1", "ticket": "FIN-2231"},
    }
    # An earlier export of the same table, approved by two reviewers.
    earlier = file(
        etl,
        {
            **export,
            "payload": {
                "query": "SELECT id, plan FROM customers",
                "rows": 1000,
                "to": "s3://exports/q2/",
            },
        },
    )
    Api(reviewer.token).approve(earlier, "fine for Q2")
    Api(second.token).approve(earlier, "ok")
    console.ids["earlier"] = earlier
    # The repeat: more rows, a person's e-mail to notify, a new destination.
    console.ids["export"] = file(
        etl,
        {
            **export,
            "payload": {
                "query": "SELECT id, plan, email FROM customers WHERE churned",
                "rows": 50000,
                "to": "s3://exports/q3/finance-share-with-a-rather-long-prefix/churned-customers-full-export.parquet",
                "notify": "lee.chan@example.com",
                "phone": "+1 415 555 0134",
            },
        },
    )
    console.ids["rotate"] = file(
        deploy,
        {
            "action": "secrets.rotate",
            "resource": "vault://prod/payments/stripe",
            "environment": "production",
            "justification": "Key leaked in a CI log.",
            "payload": {"old_key": "AKIAIOSFODNN7EXAMPLE", "password": "hunter2-but-longer"},
            "context": {"run_id": "run-91b2", "pipeline": "rotate-keys"},
        },
    )
    console.ids["restart"] = file(
        deploy,
        {
            "action": "cluster.restart",
            "resource": "k8s://staging/api",
            "environment": "staging",
            "justification": "Roll out the new config.",
        },
    )
    # Decided requests over the last days, for the dashboard.
    now = timezone.now()
    for days, verdict in ((1, "approve"), (2, "deny"), (3, "approve"), (5, "deny"), (6, "approve")):
        action_id = file(
            deploy,
            {
                "action": "cluster.scale",
                "resource": f"k8s://staging/web-{days}",
                "environment": "staging",
            },
        )
        if verdict == "approve":
            Api(reviewer.token).approve(action_id)
        else:
            Api(reviewer.token).deny(action_id, "not during the freeze")
        filed = now - timedelta(days=days, minutes=40 * days)
        ActionRequest.objects.filter(pk=action_id).update(
            created_at=filed, decided_at=filed + timedelta(minutes=7 * days)
        )
    # An old request still pending, for "pending by age".
    console.ids["old"] = file(
        deploy,
        {"action": "dns.update", "resource": "dns://example.com/www", "environment": "staging"},
    )
    ActionRequest.objects.filter(pk=console.ids["old"]).update(
        created_at=now - timedelta(hours=5), expires_at=now + timedelta(minutes=50)
    )
    # The owner tries to approve their own agent's request: refused and audited.
    refused = Api(owner.token).approve(console.ids["restart"])
    assert refused.status_code == 403, refused.content

    from audit.services import sign_checkpoint

    sign_checkpoint()
    return console
