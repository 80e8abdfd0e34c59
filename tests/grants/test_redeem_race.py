"""Single use under a race: twenty executors redeem one grant at the same moment,
each on its own thread with its own database connection. On PostgreSQL the
request's row lock and the unique jti decide; on SQLite writes are serialised."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from approvals.models import GrantRecord
from audit.models import AuditEvent
from tests.conftest import Api
from tests.grants.conftest import approved_grant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_twenty_concurrent_redemptions_give_exactly_one_200(
    grant_policy, agent_api, reviewer, executor
):
    action_id, token = approved_grant(agent_api, Api(reviewer.token))
    barrier = threading.Barrier(20)
    statuses: list[int] = [0] * 20
    codes: list[str] = [""] * 20

    def run(index: int) -> None:
        try:
            api = Api(executor.token)
            barrier.wait()
            response = api.client.post("/api/v1/grants/redeem", {"grant": token}, format="json")
            statuses[index] = response.status_code
            if response.status_code != 200:
                codes[index] = response.json()["error"]["code"]
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert Counter(statuses) == {200: 1, 409: 19}
    assert Counter(codes) == {"": 1, "already_redeemed": 19}
    assert GrantRecord.objects.filter(action_id=action_id).count() == 1
    events = AuditEvent.objects.filter(target=f"action:{action_id}")
    assert events.filter(event_type="grant.redeemed").count() == 1
    assert events.filter(event_type="grant.redeem_refused").count() == 19
