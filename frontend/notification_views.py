"""Console pages for notifications: channels and failed deliveries (admins), and the
chat-account link a reviewer confirms after signing in. Thin adapters over
``notifications.services``; every change is audited there."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.models import User
from airlock.errors import DomainError
from notifications import chat, services, tasks
from notifications.models import Channel, ChatLink, Delivery, DeliveryStatus


def _me(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Http404("sign in first")
    return user


def _admin(request: HttpRequest) -> User:
    me = _me(request)
    if not roles.is_admin(me):
        raise Http404("notification channels are for airlock-admins")
    return me


@never_cache
@login_required
def channels(request: HttpRequest) -> HttpResponse:
    me = _admin(request)
    secret = None
    if request.method == "POST":
        try:
            channel, secret = services.create_channel(
                actor=me,
                kind=request.POST.get("kind", ""),
                name=request.POST.get("name", ""),
                target=request.POST.get("target", ""),
                groups=[g.strip() for g in request.POST.get("groups", "").split(",") if g.strip()],
                mode=request.POST.get("mode", "approve"),
            )
            messages.success(request, f"Channel {channel.name} added.")
        except DomainError as exc:
            details = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.details.items())
            messages.error(request, f"{exc.message} {details}".strip())
    context = {
        "channels": Channel.objects.order_by("name"),
        "failed": Delivery.objects.filter(status=DeliveryStatus.FAILED)
        .select_related("channel")
        .order_by("-id")[:100],
        "secret": secret,
    }
    return render(request, "notifications/channels.html", context)


@login_required
@require_POST
def channel_delete(request: HttpRequest, channel_id: int) -> HttpResponse:
    try:
        services.delete_channel(actor=_admin(request), channel_id=channel_id)
        messages.success(request, "Channel removed.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("notification-channels")


@login_required
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    try:
        delivery = services.retry(actor=_admin(request), delivery_id=delivery_id)
        transaction.on_commit(lambda: tasks.enqueue([delivery.pk]))
        messages.success(request, f"Delivery {delivery_id} queued again.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("notification-channels")


@never_cache
@login_required
def chat_link(request: HttpRequest, provider: str = "slack") -> HttpResponse:
    """Bind the chat identity named by a signed, short-lived token (shown only to that
    Slack or Teams user) to the person signed in here, once they confirm."""
    token = request.GET.get("token") or request.POST.get("token") or ""
    name = chat.PROVIDER_NAMES.get(provider, provider)  # type: ignore[call-overload]
    try:
        given, team_id, user_id = chat.read_link(token)
    except signing.BadSignature:
        given = ""
    if given != provider:
        messages.error(request, f"This link is not valid or has expired: click in {name} again.")
        return redirect("home")
    if request.method == "POST":
        try:
            services.link_chat_user(
                email=_me(request).email,
                provider=provider,
                team_id=team_id,
                chat_user_id=user_id,
                actor=_me(request),
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("home")
        messages.success(request, f"Your {name} account is linked.")
        return redirect("home")
    context = {
        "token": token,
        "team_id": team_id,
        "user_id": user_id,
        "provider_name": name,
        "team_word": "tenant" if provider == "teams" else "workspace",
        "links": ChatLink.objects.filter(user=_me(request)),
    }
    return render(request, "notifications/chat_link.html", context)
