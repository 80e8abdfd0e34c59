"""The reviewer console: the live queue and the request page. Thin adapters over
the approvals selectors and services, the same gate as the API."""

from __future__ import annotations

import difflib
import json
import re
import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import AGENT_NAME_RE, Agent, User
from airlock.errors import DomainError
from approvals import duties, selectors, services
from approvals.models import ActionRequest, ActionStatus, Verdict
from audit import catalogue
from audit import selectors as audit_selectors
from audit.selectors import events_for_target
from frontend import dashboard

PAGE_SIZE = 50
_NOTHING = object()  # "nothing revealed" (None is a payload that can be revealed)


class SignIn(auth_views.LoginView):
    """Local accounts (unless AIRLOCK_LOCAL_LOGIN is off) and the OIDC button."""

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["local_login"] = settings.LOCAL_LOGIN
        if settings.OIDC["SERVER_URL"]:
            context["oidc_name"] = settings.OIDC["PROVIDER_NAME"]
            context["oidc_url"] = reverse("openid_connect_login", kwargs={"provider_id": "oidc"})
        return context

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not settings.LOCAL_LOGIN:
            return HttpResponse("Local sign-in is turned off; use single sign-on.", status=403)
        return super().post(request, *args, **kwargs)


QUEUE_SORTS = {
    "expiry": (F("expires_at").asc(nulls_last=True), "created_at"),
    "newest": ("-created_at",),
    "oldest": ("created_at",),
}


_FILTER_VALUE = {
    "environment": re.compile(r"^[^\x00-\x1f\x7f]{1,64}$"),
    "data_class": re.compile(r"^[A-Z][A-Z0-9_]{0,63}$"),
    "rule": re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$"),
    "agent": re.compile(AGENT_NAME_RE),
}


def _choice(request: HttpRequest, name: str) -> str:
    """A filter value from the query string, or "" when it cannot be one."""
    value = request.GET.get(name, "")
    return value if _FILTER_VALUE[name].match(value) else ""


def _with_chosen(facets: dict[str, list[str]], chosen: dict[str, str]) -> dict[str, list[str]]:
    plural = {"environment": "environments", "data_class": "data_classes", "rule": "rules"}
    for name, key in {**plural, "agent": "agents"}.items():
        if chosen[name] and chosen[name] not in facets[key]:
            facets[key] = sorted([*facets[key], chosen[name]])
    return facets


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What waits for this person's review, soonest deadline first, filtered by
    environment, data class, rule and agent. The page's script swaps in
    ``?fragment=1`` when the live queue says something changed."""
    started = time.perf_counter()
    queue = selectors.reviewable_by(request.user)  # type: ignore[arg-type]
    chosen = {name: _choice(request, name) for name in _FILTER_VALUE}
    sort = request.GET.get("sort", "")
    chosen["sort"] = sort if sort in QUEUE_SORTS else "expiry"
    filtered = selectors.filter_requests(
        queue, environment=chosen["environment"] or None, agent=chosen["agent"] or None
    )
    if chosen["data_class"]:
        filtered = selectors.with_data_class(filtered, chosen["data_class"])
    if chosen["rule"]:
        filtered = selectors.with_rule(filtered, chosen["rule"])
    # A row shows no payload, context or justification: leave them in the database.
    rows = filtered.defer("payload", "context", "justification", "outcome_detail")
    page = Paginator(rows.order_by(*QUEUE_SORTS[chosen["sort"]]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    fragment = bool(request.GET.get("fragment"))
    context = {
        "page": page,
        # The choices on offer: what the queue holds, and what is chosen now.
        "facets": None if fragment else _with_chosen(selectors.queue_facets(queue), chosen),
        "chosen": chosen,
        "filtered": any(chosen[k] for k in ("environment", "data_class", "rule", "agent")),
    }
    template = "frontend/_queue_rows.html" if fragment else "frontend/home.html"
    response = render(request, template, context)
    # The view's own time (queries and rendering), read by benchmarks/console.py.
    response["Server-Timing"] = f"queue;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


@login_required
def action_detail(request: HttpRequest, action_id: UUID) -> HttpResponse:
    return _action_page(request, action_id)


def _payload_text(action: ActionRequest) -> str | None:
    """The masked payload as the page shows it, or None while it is withheld."""
    if not action.screened_at or action.screening_note:
        return None
    return json.dumps(action.payload, indent=2, ensure_ascii=False, sort_keys=True)


def _changes_since(action: ActionRequest, user: User) -> dict[str, Any] | None:
    """What changed in the (masked) payload since the last approved request for the
    same action on the same resource: a repeat is judged by its difference."""
    earlier = selectors.previous_approved(action, user)
    if earlier is None:
        return None
    now_text, then_text = _payload_text(action), _payload_text(earlier)
    if now_text is None or then_text is None:
        return None
    lines = list(
        difflib.unified_diff(
            then_text.splitlines(), now_text.splitlines(), "approved", "this request", lineterm=""
        )
    )[2:]
    kinds = {"+": "add", "-": "del", "@": "hunk"}
    return {
        "earlier": earlier,
        "same": not lines,
        "lines": [{"kind": kinds.get(line[:1], "same"), "text": line} for line in lines],
    }


def _action_page(request: HttpRequest, action_id: UUID, revealed: Any = _NOTHING) -> HttpResponse:
    action = selectors.visible_action(request.user, action_id)  # type: ignore[arg-type]
    if action is None:
        raise Http404("no such action request")
    user = request.user
    reviews = list(action.reviews.all())
    progress = action.progress(reviews)
    for requirement in progress:
        requirement["met"] = requirement["approved"] >= requirement["approvals"]
    context = {
        "action": action,
        "payload": _payload_text(action),
        "progress": progress,
        "reviews": reviews,
        "context_items": sorted((action.context or {}).items()),
        "changes": _changes_since(action, user),  # type: ignore[arg-type]
        "timeline": events_for_target(action.audit_target)[:200],
        "approve_refusal": duties.refusal(action, user, Verdict.APPROVE),  # type: ignore[arg-type]
        "deny_refusal": duties.refusal(action, user, Verdict.DENY),  # type: ignore[arg-type]
        # Offered to whom the service would let reveal; it checks again, and audits.
        "can_reveal": duties.reveal_refusal(action, user) is None,  # type: ignore[arg-type]
    }
    if revealed is not _NOTHING:
        context["revealed"] = json.dumps(revealed, indent=2, ensure_ascii=False, sort_keys=True)
    response = render(request, "frontend/action.html", context)
    if revealed is not _NOTHING:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def reveal(request: HttpRequest, action_id: UUID) -> HttpResponse:
    """Show the original payload once, in this response only: audited, with the reason."""
    try:
        original = services.reveal(
            action_id=action_id,
            actor=request.user,  # type: ignore[arg-type]
            reason=request.POST.get("reason", "")[:2000],
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("action-page", action_id=action_id)
    return _action_page(request, action_id, revealed=original)


@login_required
@require_POST
def decide(request: HttpRequest, action_id: UUID, verdict: str) -> HttpResponse:
    try:
        if verdict == Verdict.APPROVE:
            services.approve(
                action_id=action_id,
                actor=request.user,  # type: ignore[arg-type]
                comment=request.POST.get("comment", "")[:2000],
                via="console",
            )
        else:
            services.deny(
                action_id=action_id,
                actor=request.user,  # type: ignore[arg-type]
                reason=request.POST.get("reason", "")[:2000],
                via="console",
            )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("action-page", action_id=action_id)
    messages.success(request, "Approved." if verdict == Verdict.APPROVE else "Denied.")
    return redirect("home")


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    """What I asked for: filed by me, by my agents, or on my behalf."""
    mine = selectors.requested_by(request.user)  # type: ignore[arg-type]
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "frontend/requests.html", {"page": page, "title": "My requests"})


@login_required
def history(request: HttpRequest) -> HttpResponse:
    """Every request this person may see, newest first, with filters."""
    status = request.GET.get("status", "")
    filters: dict[str, str | None] = {}
    for name in ("action", "agent"):
        try:
            filters[name] = selectors.checked_filter(name, request.GET.get(name) or None)
        except DomainError as exc:
            filters[name] = None
            messages.error(request, f"{name}: {'; '.join(exc.details.get(name, [exc.message]))}")
    queryset = selectors.filter_requests(
        selectors.requests_visible_to(request.user),  # type: ignore[arg-type]
        statuses=[status] if status in ActionStatus.values else None,
        action_glob=filters["action"],
        agent=filters["agent"],
    )
    search = request.GET.get("q", "").strip()
    if search:
        queryset = queryset.filter(resource__icontains=search)
    page = Paginator(queryset.order_by("-created_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "title": "History",
        "filters": True,
        "statuses": ActionStatus.values,
        "agents": Agent.objects.order_by("name").values_list("name", flat=True)[:500],
    }
    return render(request, "frontend/requests.html", context)


def _require_audit_reader(request: HttpRequest) -> None:
    if not roles.can_read_audit(request.user):
        raise Http404("for airlock-auditors and airlock-admins")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log for auditors and admins, newest first, filtered like the API,
    with the chain's verification and its latest signed checkpoint."""
    _require_audit_reader(request)
    event_type = request.GET.get("type") or None
    events = audit_selectors.events(
        # Only a type from the catalogue filters; anything else shows every type.
        event_type=event_type if event_type in catalogue.CATALOGUE else None,
        actor=request.GET.get("actor") or None,
        target=request.GET.get("target") or None,
    ).order_by("-seq")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "event_types": [catalogue.get(name) for name in catalogue.names()],
        "chain": dashboard.chain_status(),
        "checkpoint": dashboard.latest_checkpoint(),
    }
    return render(request, "frontend/audit.html", context)


@login_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    """Figures for admins and auditors: volume, speed of decisions, what waits, who
    asks most, and refused self-approvals."""
    _require_audit_reader(request)
    return render(request, "frontend/dashboard.html", dashboard.summary())
