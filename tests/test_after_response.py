"""Side effects of a change are handed on after commit and, inside a request, after
its response has been sent (airlock.after_response): a WSGI server writes the body,
then calls the response's close(), and only then does the hand-off run."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from django.core.wsgi import get_wsgi_application

from airlock import after_response
from approvals.models import ActionRequest, OutboxEvent


def test_outside_a_request_it_runs_at_once():
    ran: list[str] = []
    after_response.defer(lambda: ran.append("now"))
    assert ran == ["now"]


def _environ(token: str, body: bytes) -> dict[str, object]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/actions",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }


@pytest.mark.django_db(transaction=True)
def test_a_held_request_is_answered_before_its_side_effects_run(requester_agent):
    app = get_wsgi_application()
    statuses: list[str] = []
    body = json.dumps({"action": "data.export", "resource": "db://x"}).encode()
    response = app(_environ(requester_agent.token, body), lambda s, h, e=None: statuses.append(s))
    answer = json.loads(b"".join(response))
    # The whole answer is out, committed; the hand-off has not run yet.
    assert statuses == ["201 Created"]
    assert answer["status"] == "pending"
    event = OutboxEvent.objects.get(action_id=answer["id"])
    assert event.delivered_at is None
    response.close()  # what the server does once the last byte is written
    event.refresh_from_db()
    assert event.delivered_at is not None
    assert ActionRequest.objects.get(pk=answer["id"]).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_a_failing_hand_off_does_not_break_the_next_one(requester_agent, caplog):
    app = get_wsgi_application()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("a consumer's bug")

    logging.getLogger("airlock.after_response").addHandler(caplog.handler)
    body = json.dumps({"action": "data.export", "resource": "db://x"}).encode()
    response = app(_environ(requester_agent.token, body), lambda s, h, e=None: None)
    after_response.defer(broken)  # as a hand-off registered during the request would be
    after_response.defer(lambda: ran.append("second"))
    b"".join(response)
    response.close()
    logging.getLogger("airlock.after_response").removeHandler(caplog.handler)
    assert ran == ["second"]
    failed = [r for r in caplog.records if r.name == "airlock.after_response"]
    assert [r.levelname for r in failed] == ["ERROR"]
    assert "a consumer's bug" in str(failed[0].exc_info[1])
    assert OutboxEvent.objects.get().delivered_at is not None
