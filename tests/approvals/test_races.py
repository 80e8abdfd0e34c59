"""Decisions are race-safe: threads with their own database connections review one
request at the same moment. On PostgreSQL the row lock serialises them; on SQLite
IMMEDIATE transactions do."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from approvals import services
from approvals.models import ActionRequest, Review
from audit.models import AuditEvent
from tests.factories import apply_policy, make_person, quorum_policy

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(calls: list[Callable[[], object]]) -> list[str]:
    """Run the calls on one thread each, released together; each result is "ok" or
    the error code it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[str] = [""] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
            results[index] = "ok"
        except Exception as exc:
            results[index] = getattr(exc, "code", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def file(requester_agent, approvals_required: int) -> ActionRequest:
    apply_policy(quorum_policy(approvals_required))
    submission = services.submit(
        actor=requester_agent.agent, data={"action": "key.rotate", "resource": "kms://prod/main"}
    )
    assert submission.action.approvals_required == approvals_required
    return submission.action


def transitions(action: ActionRequest) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            target=action.audit_target,
            event_type__in=["action.approved", "action.denied", "action.cancelled"],
        ).values_list("event_type", flat=True)
    )


def test_twenty_reviewers_racing_for_the_last_two_slots(requester_agent):
    action = file(requester_agent, approvals_required=2)
    reviewers = [make_person(groups=["reviewers"]).user for _ in range(20)]
    results = at_once(
        [lambda r=r: services.approve(action_id=action.pk, actor=r) for r in reviewers]
    )
    assert Counter(results) == {"ok": 2, "not_pending": 18}
    action.refresh_from_db()
    assert action.status == "approved"
    # No lost review: every reviewer told "ok" has a review, and nobody else does.
    approved_by = {r.email for r, result in zip(reviewers, results, strict=True) if result == "ok"}
    assert (
        set(Review.objects.filter(action=action).values_list("reviewer__email", flat=True))
        == approved_by
    )
    assert transitions(action) == ["action.approved"]
    assert (
        AuditEvent.objects.filter(target=action.audit_target, event_type="action.reviewed").count()
        == 2
    )
    assert (
        AuditEvent.objects.filter(
            target=action.audit_target, event_type="action.review_refused"
        ).count()
        == 18
    )


def test_approvers_and_deniers_racing_give_one_decision(requester_agent):
    action = file(requester_agent, approvals_required=3)
    people = [make_person(groups=["reviewers"]).user for _ in range(20)]
    calls = [
        (lambda p=p: services.approve(action_id=action.pk, actor=p))
        if i % 2
        else (lambda p=p: services.deny(action_id=action.pk, actor=p, reason="no"))
        for i, p in enumerate(people)
    ]
    results = at_once(calls)
    action.refresh_from_db()
    reviews = Counter(Review.objects.filter(action=action).values_list("verdict", flat=True))
    assert results.count("ok") == sum(reviews.values())
    assert len(transitions(action)) == 1
    if action.status == "approved":
        assert reviews == {"approve": 3}
    else:
        assert action.status == "denied"
        assert reviews["deny"] == 1
        assert reviews["approve"] <= 2


def test_the_same_reviewer_twice_at_once_counts_once(requester_agent, reviewer):
    action = file(requester_agent, approvals_required=2)
    results = at_once([lambda: services.approve(action_id=action.pk, actor=reviewer.user)] * 10)
    assert Counter(results) == {"ok": 1, "already_reviewed": 9}
    action.refresh_from_db()
    assert action.status == "pending"
    assert Review.objects.filter(action=action).count() == 1


@pytest.mark.parametrize("attempt", range(5))
def test_an_approve_racing_a_cancel_has_one_outcome(requester_agent, reviewer, attempt):
    action = file(requester_agent, approvals_required=1)
    results = at_once(
        [
            lambda: services.approve(action_id=action.pk, actor=reviewer.user),
            lambda: services.cancel(action_id=action.pk, actor=requester_agent.agent),
        ]
    )
    action.refresh_from_db()
    assert sorted(results) == ["not_pending", "ok"]
    assert action.status == ("approved" if results[0] == "ok" else "cancelled")
    assert len(transitions(action)) == 1
    assert Review.objects.filter(action=action).count() == (1 if action.status == "approved" else 0)
