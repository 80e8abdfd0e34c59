"""ActionSerializer renders a request with a plain function (the fast path's largest
cost was DRF building 25 field objects per request); its declared fields remain the
schema. Here the two are held to each other: for requests in every state, and for
the agent (who gets the grant) and a reviewer (who never does), the function's
answer equals DRF's own rendering of the declared fields, and the API answers it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from approvals import selectors
from approvals.models import ActionRequest
from approvals.serializers import ActionSerializer
from tests.conftest import Api
from tests.factories import apply_policy
from tests.grants.conftest import GRANT_POLICY

pytestmark = pytest.mark.django_db


def drf_rendering(action: ActionRequest, context: dict[str, Any]) -> dict[str, Any]:
    serializer = ActionSerializer(action, context=context)
    return dict(serializers.ModelSerializer.to_representation(serializer, action))


def _as(principal: Any) -> dict[str, Any]:
    request = APIRequestFactory().get("/")
    request.user = principal
    return {"request": request}


def test_the_fast_rendering_is_drf_rendering_in_every_state(
    agent_api, requester_agent, reviewer, second_reviewer
):
    apply_policy(GRANT_POLICY)
    reviewer_api, privacy_api = Api(reviewer.token), Api(second_reviewer.token)
    export = {"action": "data.export", "resource": "postgres://warehouse/customers"}
    ids = {
        "allowed with a grant spec": agent_api.file(
            {"action": "orders.read", "resource": "db/orders"}
        ).json()["id"],
        "pending": agent_api.file(export).json()["id"],
        "screened, with findings": agent_api.file(
            {**export, "payload": {"note": "mail jane.doe@example.com"}},
        ).json()["id"],
        "approved, grant issued": agent_api.file({**export, "payload": {"limit": 5}}).json()["id"],
        "denied": agent_api.file({**export, "on_behalf_of": "alice@example.com"}).json()["id"],
    }
    assert reviewer_api.approve(ids["approved, grant issued"], "fine").status_code == 200
    assert privacy_api.deny(ids["denied"], "not this week").status_code == 200
    outcome = agent_api.post(
        f"/api/v1/actions/{ids['approved, grant issued']}/outcome", {"result": "succeeded"}
    )
    assert outcome.status_code == 200, outcome.json()

    rendered_states = set()
    for label, action_id in ids.items():
        action = selectors.visible_action(requester_agent.agent, action_id)
        assert action is not None, label
        for principal in (requester_agent.agent, reviewer.user):
            context = _as(principal)
            fast = ActionSerializer(action, context=context).data
            assert fast == drf_rendering(action, context), label
            rendered_states.add(fast["status"])
        answered = agent_api.get(f"/api/v1/actions/{action_id}").json()
        assert answered == ActionSerializer(action, context=_as(requester_agent.agent)).data
    # The cases above really are different: grant, findings, reviews, outcome.
    assert rendered_states >= {"approved", "pending", "denied"}
    approved = agent_api.get(f"/api/v1/actions/{ids['approved, grant issued']}").json()
    assert approved["grant"]
    assert approved["grant_state"]["status"] == "issued"
    assert approved["reviews"][0]["reviewer"] == "carol@example.com"
    assert approved["outcome"]["result"] == "succeeded"


def test_a_new_request_is_rendered_without_reading_back_what_was_just_written(
    agent_api, django_assert_max_num_queries
):
    # Nothing read back after the insert: no reviews, reviewer groups or grant record.
    with django_assert_max_num_queries(50) as queries:
        filed = agent_api.file({"action": "data.export", "resource": "db://x"})
    assert filed.status_code == 201
    after_commit = [q["sql"] for q in queries.captured_queries]
    assert not any('FROM "approvals_review"' in sql for sql in after_commit)
    assert not any('FROM "approvals_grantrecord"' in sql for sql in after_commit)
    assert not any('FROM "approvals_actionreviewergroup"' in sql for sql in after_commit)
    assert filed.json()["reviewer_groups"] == ["reviewers"]


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-02T01:02:03+00:00",
        "2026-12-02T01:02:03.000450+00:00",
        "2026-12-02T01:02:03.5+01:00",
        "2026-06-30T23:59:59.999999-07:00",
    ],
)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_times_render_as_drf_renders_them(value, zone):
    from datetime import datetime

    from django.utils import timezone

    from approvals.serializers import _time

    moment = datetime.fromisoformat(value)
    with timezone.override(zone):
        assert _time(moment) == serializers.DateTimeField().to_representation(moment)
