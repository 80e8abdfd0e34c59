"""Separation of duties: who may review a request, answered once.

A requester is anyone who answers for the request: the person who filed it, the
owner of the agent that filed it (then or now), and the ``on_behalf_of`` person.
None of them may approve it, and neither may an agent. Denying is the safe
direction: a requester who is also a reviewer may stop their own request.

The rule is written once, as ``REQUESTER_SIDE`` and the reviewer-group test, and
read three ways: for one request and one person (``check_review``, which every
review path calls: API, console, Slack, Teams), for one person over all requests
(``reviewable_q``, behind the queue and the API's lists), and for one request over
all people (``audience``: the live queue, notifications).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Agent, User
from approvals.exceptions import (
    AlreadyReviewed,
    NotAReviewer,
    NotPending,
    OriginalNotKept,
    RevealForbidden,
    ReviewRefused,
    SelfApproval,
)
from approvals.models import ActionRequest, ActionReviewerGroup, ActionStatus, Review, Verdict

# (field of the request, attribute of the person): the request's requester side is
# every person whose attribute equals the request's field.
REQUESTER_SIDE: tuple[tuple[str, str], ...] = (
    ("requester_user_id", "pk"),
    ("requester_owner_id", "pk"),
    ("requester_agent__owner_id", "pk"),
    ("on_behalf_of", "email"),
)


def _value(action: ActionRequest, field: str) -> Any:
    if field == "requester_agent__owner_id":
        agent = action.requester_agent
        return agent.owner_id if agent is not None else None
    return getattr(action, field)


def requester_side_q(person: User) -> Q:
    """Requests this person answers for (a filter on action requests)."""
    query = Q()
    for field, attribute in REQUESTER_SIDE:
        query |= Q(**{field: getattr(person, attribute)})
    return query


def _requester_people_q(action: ActionRequest) -> Q:
    """People who answer for this request (a filter on people)."""
    query = Q(pk__in=[])
    for field, attribute in REQUESTER_SIDE:
        value = _value(action, field)
        if value not in (None, ""):
            query |= Q(**{attribute: value})
    return query


def is_requester(action: ActionRequest, principal: User | Agent) -> bool:
    if isinstance(principal, Agent):
        return action.requester_agent_id == principal.pk
    return any(
        (value := _value(action, field)) not in (None, "")
        and value == _normal(getattr(principal, attribute))
        for field, attribute in REQUESTER_SIDE
    )


def _normal(value: Any) -> Any:
    # E-mail addresses are stored lower-cased; compare them the same way.
    return value.lower() if isinstance(value, str) else value


def reviewer_group_names(action: ActionRequest) -> set[str]:
    return {group.name for group in action.reviewer_groups.all()}


def _in_groups(action: ActionRequest, person: User) -> bool:
    return bool(person.group_names() & reviewer_group_names(action))


def in_reviewer_groups_q(person: User) -> Exists:
    return Exists(
        ActionReviewerGroup.objects.filter(action=OuterRef("pk"), name__in=person.group_names())
    )


def reviewed_by_q(person: User) -> Exists:
    return Exists(Review.objects.filter(action=OuterRef("pk"), reviewer=person))


def reviewable_q(person: User) -> Q:
    """Requests ``person`` may approve now: the queryset form of ``check_review``."""
    if not person.is_active:
        return Q(pk__in=[])
    return (
        Q(status=ActionStatus.PENDING)
        & Q(in_reviewer_groups_q(person))
        & ~requester_side_q(person)
        & ~Q(reviewed_by_q(person))
    )


def check_review(action: ActionRequest, principal: User | Agent, verdict: str) -> None:
    """Raise the reason ``principal`` may not give ``verdict`` on ``action`` now."""
    if isinstance(principal, Agent):
        if is_requester(action, principal) and verdict == Verdict.APPROVE:
            raise SelfApproval()
        raise NotAReviewer("agents cannot review requests")
    if verdict == Verdict.APPROVE and is_requester(action, principal):
        raise SelfApproval()
    if not principal.is_active or not _in_groups(action, principal):
        raise NotAReviewer()
    if Review.objects.filter(action=action, reviewer=principal).exists():
        raise AlreadyReviewed()
    if action.status != ActionStatus.PENDING:
        raise NotPending()


def refusal(action: ActionRequest, principal: User | Agent, verdict: str) -> ReviewRefused | None:
    """Why ``principal`` may not give ``verdict`` now, or None: for pages that show
    the reason instead of a button that would fail."""
    try:
        check_review(action, principal, verdict)
    except ReviewRefused as exc:
        return exc
    return None


def may_review(person: User | Agent, action: ActionRequest) -> bool:
    """Whether ``person`` may approve ``action`` now."""
    return refusal(action, person, Verdict.APPROVE) is None


def in_audience(action: ActionRequest, person: User | Agent) -> bool:
    """Whether ``action`` is one for ``person`` to review, whatever its status: in its
    reviewer groups and not on its requester side."""
    return (
        isinstance(person, User)
        and person.is_active
        and _in_groups(action, person)
        and not is_requester(action, person)
    )


def audience(action: ActionRequest) -> QuerySet[User]:
    """Everyone ``action`` is for to review: active, in one of its reviewer groups,
    not on its requester side. Who the queue shows it to and who is notified."""
    return (
        User.objects.filter(is_active=True, groups__name__in=reviewer_group_names(action))
        .exclude(_requester_people_q(action))
        .distinct()
        .order_by("email")
    )


def reveal_refusal(action: ActionRequest, principal: User | Agent) -> Exception | None:
    """Why ``principal`` may not see ``action``'s original payload, or None. The API's
    reveal and the console's reveal button both ask here."""
    if isinstance(principal, Agent) or is_requester(action, principal):
        return NotAReviewer("only a reviewer who is not the requester may reveal")
    if not _in_groups(action, principal):
        return NotAReviewer()
    if not action.reveal_allowed:
        return RevealForbidden()
    if not action.original_kept:
        return OriginalNotKept()
    return None
