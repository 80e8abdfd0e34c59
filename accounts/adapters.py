"""django-allauth adapters: who may sign in with OIDC, and what their groups are.

Local accounts are created by an operator (``create_user``), never by sign-up. A
person signing in through the OIDC provider is let in only with a verified e-mail
in one of ``OIDC_ALLOWED_DOMAINS``; their groups are set from the provider's
groups claim on every sign-in, so removing someone from a group at the provider
takes effect at their next sign-in.
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import render

from audit import catalogue as events
from audit.services import record


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


def email_domain_allowed(email: str) -> bool:
    domain = email.rpartition("@")[2].lower()
    return bool(domain) and domain in settings.OIDC["ALLOWED_DOMAINS"]


def claims_of(sociallogin: Any) -> dict[str, Any]:
    data = sociallogin.account.extra_data or {}
    # allauth keeps the userinfo response, and for openid_connect the id token's claims
    return {**data.get("id_token", {}), **data.get("userinfo", {}), **data}


class OIDCAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return True  # pre_social_login has already refused whoever may not come in

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        claims = claims_of(sociallogin)
        email = str(claims.get("email") or "").strip().lower()
        reason = None
        if not email:
            reason = "the provider sent no e-mail address"
        elif claims.get("email_verified") is not True:
            reason = "the provider has not verified this e-mail address"
        elif not email_domain_allowed(email):
            reason = "this e-mail domain may not sign in to Airlock"
        if reason is not None:
            record(
                events.AUTH_OIDC_REFUSED,
                f"oidc:{sociallogin.account.uid}",
                "auth:oidc",
                {"reason": reason, "email_domain": email.rpartition("@")[2]},
            )
            raise ImmediateHttpResponse(
                render(request, "frontend/signin_refused.html", {"reason": reason}, status=403)
            )
        sociallogin.user.email = email
        existing = type(sociallogin.user).objects.filter(email=email).first()
        if existing is not None and not sociallogin.is_existing:
            # A local account with the same verified address: the same person.
            sociallogin.connect(request, existing)

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        user.email = str(data.get("email") or user.email).strip().lower()
        return user


def sync_groups(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """On every OIDC sign-in, the person's groups become those of the groups claim."""
    from accounts.services import upsert_user

    sociallogin = kwargs.get("sociallogin")
    if sociallogin is None:
        return
    claim = claims_of(sociallogin).get(str(settings.OIDC["GROUPS_CLAIM"]), [])
    groups = [str(group) for group in claim] if isinstance(claim, list) else []
    upsert_user(email=user.email, groups=groups, actor=f"oidc:{sociallogin.account.uid}")


def record_sign_up(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """A person created by their first OIDC sign-in is audited like one created by
    an operator."""
    sociallogin = kwargs.get("sociallogin")
    actor = f"oidc:{sociallogin.account.uid}" if sociallogin is not None else "system"
    record(events.USER_CREATED, actor, f"user:{user.email}", {"created": True, "via": "oidc"})
