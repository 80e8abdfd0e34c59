"""Inbound chat callbacks: Slack's interactions and events, Teams' activities.

Slack: the signature (v0, a five-minute window) is checked on the raw body before
anything is parsed, and a request already seen is a replay. Teams: the Bot Framework
token is checked (``teams_auth``) and the tenant must be ours before the activity is
acted on. Every refusal is audited (CC6.1, CC7.2)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from slack_bolt.adapter.django import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from audit import catalogue
from audit.services import record
from notifications import slack_app, teams_auth, teams_bot
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


def _teams_refused(
    request: HttpRequest, reason: str, activity: dict[str, Any] | None, status: int
) -> HttpResponse:
    data: dict[str, Any] = {"reason": reason, "path": request.path[:100]}
    if isinstance(activity, dict):
        data["activity_type"] = str(activity.get("type") or "")[:40]
        if reason == "other_tenant":
            data["tenant_id"] = str(teams_bot.tenant_of(activity) or "")[:64]
    record(catalogue.INTEGRATION_ACTIVITY_REFUSED, "teams", "integration:teams", data)
    return HttpResponse(status=status, content=b"activity refused")


@csrf_exempt
@require_POST
def teams(request: HttpRequest) -> HttpResponse:
    """The Airlock bot's messaging endpoint (the Azure Bot's messaging endpoint)."""
    conf = settings.TEAMS
    if not conf["APP_ID"]:
        return HttpResponse(status=404, content=b"the Teams bot is not configured")
    authorization = request.headers.get("Authorization", "")
    try:
        activity = json.loads(request.body)
    except ValueError:
        activity = None
    try:
        if not authorization.strip():
            raise teams_auth.Refused("unsigned")
        if not isinstance(activity, dict):
            raise teams_auth.Refused("malformed", "the body is not a JSON object")
        teams_auth.validate(authorization, activity)
    except teams_auth.Refused as exc:
        # The keys could not be had: not the caller's fault, and worth a retry.
        status = 503 if exc.reason == "keys_unavailable" else 401
        return _teams_refused(request, exc.reason, activity, status)
    if teams_bot.tenant_of(activity) != conf["TENANT_ID"]:
        return _teams_refused(request, "other_tenant", activity, 403)
    status, body = teams_bot.handle(activity)
    if body is None:
        return HttpResponse(status=status)
    return JsonResponse(body, status=status)
