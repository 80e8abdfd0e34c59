"""One answer to "who may review this request": ``may_review`` for one person and one
request, ``reviewable_by`` for one person over all requests, and ``audience`` for one
request over all people agree for every persona, whatever their groups and ties."""

from __future__ import annotations

import itertools

import pytest

from accounts.services import create_agent
from approvals import duties, selectors, services
from approvals.models import ActionRequest
from tests.factories import apply_policy, make_person

pytestmark = pytest.mark.django_db

POLICY = """
default: {effect: require_approval, approvals: 2, reviewers: [sre]}
rules:
  - name: dba-too
    match: {action: "db.*"}
    effect: require_approval
    reviewers: [dba]
"""


@pytest.fixture
def cast():
    """Everyone who could be in the audience of a request, and everyone who must not."""
    apply_policy(POLICY)
    people = {
        "owner": make_person("owner@example.com", groups=["sre"]),
        "former_owner": make_person("former@example.com", groups=["sre"]),
        "on_behalf": make_person("carol@example.com", groups=["dba"]),
        "filer": make_person("filer@example.com", groups=["sre", "dba"]),
        "sre": make_person("sre@example.com", groups=["sre"]),
        "dba": make_person("dba@example.com", groups=["dba"]),
        "both": make_person("both@example.com", groups=["sre", "dba"]),
        "outsider": make_person("outsider@example.com", groups=["sales"]),
        "inactive": make_person("gone@example.com", groups=["sre"]),
    }
    people["inactive"].user.is_active = False
    people["inactive"].user.save()
    agent, _ = create_agent(name="etl-bot", owner_email="former@example.com")
    requests = [
        services.submit(
            actor=agent,
            data={
                "action": "db.migrate",
                "resource": "pg://x",
                "on_behalf_of": "carol@example.com",
            },
        ).action,
        services.submit(actor=agent, data={"action": "key.rotate", "resource": "kms://k"}).action,
        services.submit(
            actor=people["filer"].user, data={"action": "db.vacuum", "resource": "pg://y"}
        ).action,
    ]
    # The agent changes hands: its old owner and its new one both answer for it.
    agent.owner = people["owner"].user
    agent.save()
    return {name: identity.user for name, identity in people.items()}, requests


def test_the_three_answers_agree_for_every_person_and_request(cast):
    people, requests = cast
    for person, action in itertools.product(people.values(), requests):
        action = ActionRequest.objects.get(pk=action.pk)
        may = duties.may_review(person, action)
        listed = selectors.reviewable_by(person).filter(pk=action.pk).exists()
        in_audience = duties.audience(action).filter(pk=person.pk).exists()
        assert may == listed, (person.email, action.action)
        # A pending request nobody has reviewed: the audience is exactly who may review.
        assert in_audience == may == duties.in_audience(action, person), (
            person.email,
            action.action,
        )


def test_the_audience_excludes_everyone_on_the_requester_side(cast):
    _people, (migrate, rotate, vacuum) = cast
    # db.* needs dba only; carol (on behalf of whom it was filed) is a dba, and out.
    assert [u.email for u in duties.audience(migrate)] == [
        "both@example.com",
        "dba@example.com",
        "filer@example.com",
    ]
    assert [u.email for u in duties.audience(rotate)] == [
        "both@example.com",
        "filer@example.com",
        "sre@example.com",
    ]
    # Filed by a person who is a dba: they are out of their own request; carol is in,
    # since this one was not filed on her behalf.
    assert [u.email for u in duties.audience(vacuum)] == [
        "both@example.com",
        "carol@example.com",
        "dba@example.com",
    ]


def test_a_reviewer_leaves_the_queue_but_not_the_audience_once_they_reviewed(cast):
    people, (migrate, _rotate, _vacuum) = cast
    services.approve(action_id=migrate.pk, actor=people["both"])
    migrate = ActionRequest.objects.get(pk=migrate.pk)
    assert not duties.may_review(people["both"], migrate)
    assert not selectors.reviewable_by(people["both"]).filter(pk=migrate.pk).exists()
    # Still theirs for the live queue: they must see it change and leave their list.
    assert duties.in_audience(migrate, people["both"])
    assert duties.audience(migrate).filter(pk=people["both"].pk).exists()
