"""Console pages for agents, personal tokens and policies. Thin adapters over the
accounts and policies services; every change is audited there."""

from __future__ import annotations

import difflib
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import Agent, ApiToken, User
from accounts.services import (
    create_agent,
    create_personal_token,
    revoke_agent,
    revoke_personal_token,
)
from airlock.errors import DomainError
from policies import selectors as policy_selectors
from policies import services as policy_services
from policies.decisions import RequestFacts

PAGE_SIZE = 50


def _me(request: HttpRequest) -> User:
    """The signed-in person (every view here is behind login_required)."""
    user = request.user
    if not isinstance(user, User):
        raise Http404("sign in first")
    return user


def _is_admin(request: HttpRequest) -> bool:
    return roles.is_admin(_me(request))


@never_cache
@login_required
def agents(request: HttpRequest) -> HttpResponse:
    """Admins see and manage every agent; a person sees the agents they own. A new
    agent's token is shown in this one response and never again."""
    token = None
    if request.method == "POST":
        if not roles.can_manage_agents(_me(request)):
            raise Http404("only airlock-admins create agents")
        try:
            agent, token = create_agent(
                name=request.POST.get("name", "").strip(),
                owner_email=request.POST.get("owner", "").strip() or _me(request).email,
                actor=_me(request),
            )
            messages.success(request, f"Agent {agent.name} created. Copy its token now.")
        except DomainError as exc:
            messages.error(request, exc.message)
    queryset = Agent.objects.select_related("owner").order_by("name")
    if not _is_admin(request):
        queryset = queryset.filter(owner=_me(request))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "token": token, "is_admin": _is_admin(request)}
    return render(request, "frontend/agents.html", context)


@login_required
@require_POST
def agent_revoke(request: HttpRequest, name: str) -> HttpResponse:
    agent = Agent.objects.filter(name=name).first()
    if agent is None or not roles.can_revoke_agent(_me(request), agent):
        raise Http404("no such agent")  # the service refuses too; here, say nothing more
    revoke_agent(name=name, actor=_me(request))
    messages.success(request, f"Agent {name} revoked: its token no longer works.")
    return redirect("agents")


@never_cache
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    token = None
    if request.method == "POST":
        _, token = create_personal_token(
            email=_me(request).email,
            name=request.POST.get("name", "")[:100],
            actor=_me(request),
        )
        messages.success(request, "Token created. Copy it now: it is not shown again.")
    mine = ApiToken.objects.filter(user=_me(request)).order_by("-created_at")
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "frontend/tokens.html", {"page": page, "token": token})


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    if not ApiToken.objects.filter(pk=token_id, user=_me(request)).exists():
        raise Http404("no such token")  # the console revokes only your own
    revoke_personal_token(token_id=token_id, actor=_me(request))
    messages.success(request, "Token revoked.")
    return redirect("tokens")


def _require_policy_reader(request: HttpRequest) -> None:
    if not roles.can_read_policies(request.user):
        raise Http404("policies are for airlock-admins and airlock-auditors")


@login_required
def policies(request: HttpRequest) -> HttpResponse:
    """Versions, a proposal form for admins, and a simulator for admins and auditors."""
    _require_policy_reader(request)
    decision = None
    if request.method == "POST":
        try:
            if request.POST.get("intent") == "propose":
                if not _is_admin(request):
                    raise Http404("only airlock-admins propose policies")
                policy = policy_services.propose(
                    document=request.POST.get("document", ""),
                    actor=_me(request),
                )
                messages.success(request, f"Version {policy.version} is {policy.status}.")
                return redirect("policy-page", version=policy.version)
            facts = json.loads(request.POST.get("request") or "{}")
            if not isinstance(facts, dict) or not {"action", "resource"} <= set(facts):
                raise ValueError("the request needs at least action and resource")
            decision = policy_services.simulate(
                document=request.POST.get("document") or None,
                facts=RequestFacts.from_mapping(facts),
            ).as_dict()
        except DomainError as exc:
            messages.error(request, f"{exc.message}: {json.dumps(exc.details)}")
        except (ValueError, TypeError) as exc:
            messages.error(request, f"The request is not valid JSON for a request: {exc}")
    page = Paginator(policy_selectors.versions(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "decision": decision, "is_admin": _is_admin(request)}
    return render(request, "frontend/policies.html", context)


@login_required
def policy_page(request: HttpRequest, version: int) -> HttpResponse:
    _require_policy_reader(request)
    policy = policy_selectors.version(version)
    if policy is None:
        raise Http404("no such policy version")
    previous = policy_selectors.version(version - 1)
    diff = "".join(
        difflib.unified_diff(
            previous.document.splitlines(keepends=True) if previous else [],
            policy.document.splitlines(keepends=True),
            fromfile=f"v{version - 1}" if previous else "(none)",
            tofile=f"v{version}",
        )
    )
    can_decide = (
        _is_admin(request) and policy.status == "proposed" and policy.author_id != _me(request).pk
    )
    context = {
        "policy": policy,
        "diff": diff,
        "can_decide": can_decide,
        "is_admin": _is_admin(request),
    }
    return render(request, "frontend/policy.html", context)


@login_required
@require_POST
def policy_decide(request: HttpRequest, version: int, verdict: str) -> HttpResponse:
    try:
        if verdict == "approve":
            policy_services.approve(version=version, actor=_me(request))
            messages.success(request, f"Version {version} is active.")
        else:
            policy_services.reject(
                version=version,
                actor=_me(request),
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, f"Version {version} was rejected.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("policy-page", version=version)
