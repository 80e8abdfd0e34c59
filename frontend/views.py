"""The reviewer console: the live queue and the request page. Thin adapters over
the approvals selectors and services, the same gate as the API."""

from __future__ import annotations

import json
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from airlock.errors import DomainError
from approvals import duties, selectors, services
from approvals.models import Verdict
from audit.selectors import events_for_target

PAGE_SIZE = 50


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


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What waits for this person's review, soonest deadline first. The page's
    script swaps in ``?fragment=1`` when the live queue says something changed."""
    queue = selectors.reviewable_by(request.user).order_by("expires_at", "created_at")  # type: ignore[arg-type]
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "frontend/_queue_rows.html" if request.GET.get("fragment") else "frontend/home.html"
    return render(request, template, {"page": page})


@login_required
def action_detail(request: HttpRequest, action_id: UUID) -> HttpResponse:
    action = selectors.visible_action(request.user, action_id)  # type: ignore[arg-type]
    if action is None:
        raise Http404("no such action request")
    context = {
        "action": action,
        "payload": json.dumps(action.payload, indent=2, ensure_ascii=False, sort_keys=True),
        "progress": action.progress(action.reviews.all()),
        "timeline": events_for_target(action.audit_target)[:200],
        "approve_refusal": duties.refusal(action, request.user, Verdict.APPROVE),  # type: ignore[arg-type]
        "deny_refusal": duties.refusal(action, request.user, Verdict.DENY),  # type: ignore[arg-type]
    }
    return render(request, "frontend/action.html", context)


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
