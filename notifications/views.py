"""Inbound chat callbacks: Slack's interactions and events. The signature (v0, a
five-minute window) is checked on the raw body before anything is parsed, and a
request already seen is a replay; every refusal is audited (CC7.2)."""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt.adapter.django import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from audit import catalogue
from audit.services import record
from notifications import slack_app
from notifications.models import SeenSignature

WINDOW_SECONDS = 300


def now() -> float:
    """The clock the window is measured by (tests move it)."""
    return time.time()


def _refused(request: HttpRequest, reason: str) -> HttpResponse:
    record(
        catalogue.INTEGRATION_SIGNATURE_REFUSED,
        "slack",
        "integration:slack",
        {"reason": reason, "path": request.path[:100]},
    )
    return HttpResponse(status=401, content=b"invalid request signature")


def signature_problem(body: bytes, timestamp: str, signature: str, secret: str) -> str | None:
    """Why this signed request is not acceptable, or None."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "malformed"
    if abs(now() - sent_at) > WINDOW_SECONDS:
        return "expired"
    expected = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body) or ""
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "forged"
    return None


@csrf_exempt
@require_POST
def slack(request: HttpRequest) -> HttpResponse:
    secret = settings.SLACK["SIGNING_SECRET"]
    if not secret:
        return HttpResponse(status=404, content=b"Slack is not configured")
    body = request.body
    signature = request.headers.get("X-Slack-Signature", "")
    problem = signature_problem(
        body, request.headers.get("X-Slack-Request-Timestamp", ""), signature, secret
    )
    if problem is None:
        try:
            with transaction.atomic():
                SeenSignature.objects.create(digest=hashlib.sha256(signature.encode()).hexdigest())
        except IntegrityError:
            problem = "replayed"
    if problem is not None:
        return _refused(request, problem)
    return SlackRequestHandler(slack_app.app()).handle(request)
