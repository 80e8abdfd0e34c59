"""OIDC sign-in through django-allauth against a real OIDC provider started by the
test (oidc-provider-mock): discovery, PKCE, code exchange and userinfo all happen
over HTTP, with allauth's own client."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import User as ProviderUser
from oidc_provider_mock import run_server_in_thread

from accounts.models import User
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PEOPLE = [
    ProviderUser(
        sub="alice",
        claims={
            "email": "Alice@Example.com",
            "email_verified": True,
            "groups": ["reviewers", "privacy"],
        },
    ),
    ProviderUser(
        sub="eve",
        claims={"email": "eve@evil.test", "email_verified": True, "groups": ["reviewers"]},
    ),
    ProviderUser(sub="unverified", claims={"email": "bob@example.com", "email_verified": False}),
]


@pytest.fixture
def provider(settings):
    with run_server_in_thread(user_claims=PEOPLE) as server:
        issuer = f"http://localhost:{server.server_port}"
        settings.OIDC = {
            **settings.OIDC,
            "SERVER_URL": issuer,
            "PROVIDER_NAME": "Test IdP",
            "ALLOWED_DOMAINS": ["example.com"],
        }
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "oidc",
                        "name": "Test IdP",
                        "client_id": "airlock-test",
                        "secret": "client-secret",
                        "settings": {"server_url": issuer},
                    }
                ],
            }
        }
        yield issuer


def sign_in_as(client, sub: str):
    """The browser's part of the flow: start at Airlock, consent at the provider as
    ``sub``, come back to Airlock's callback."""
    start = client.post("/accounts/oidc/oidc/login/")
    assert start.status_code == 302, start.content
    authorize = start.headers["Location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"]  # PKCE is on
    consent = httpx.post(authorize, data={"sub": sub}, follow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    callback = urlsplit(consent.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_the_sign_in_page_offers_the_provider(client, provider):
    page = client.get("/accounts/login/")
    assert b"Sign in with Test IdP" in page.content


def test_a_person_signs_in_and_their_groups_are_synced(client, provider):
    response = sign_in_as(client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = User.objects.get(email="alice@example.com")
    assert user.group_names() == {"reviewers", "privacy"}
    assert client.get("/").status_code == 200  # signed in
    assert AuditEvent.objects.filter(
        event_type="user.created", target="user:alice@example.com"
    ).exists()


def test_groups_follow_the_provider_on_every_sign_in(client, provider, settings):
    sign_in_as(client, "alice")
    PEOPLE[0].claims["groups"] = ["reviewers"]
    try:
        client.logout()
        sign_in_as(client, "alice")
    finally:
        PEOPLE[0].claims["groups"] = ["reviewers", "privacy"]
    user = User.objects.get(email="alice@example.com")
    user.__dict__.pop("_group_names", None)
    assert user.group_names() == {"reviewers"}


def test_an_existing_local_account_is_the_same_person(client, provider):
    local = User.objects.create_user("alice@example.com")
    sign_in_as(client, "alice")
    assert User.objects.filter(email="alice@example.com").count() == 1
    assert local.socialaccount_set.count() == 1


def test_a_domain_not_allowed_is_refused(client, provider):
    response = sign_in_as(client, "eve")
    assert response.status_code == 403
    assert b"This e-mail domain may not sign in to Airlock." in response.content
    assert not User.objects.filter(email="eve@evil.test").exists()
    assert client.get("/").status_code == 302  # not signed in
    refused = AuditEvent.objects.get(event_type="auth.oidc_refused")
    assert refused.data == {
        "reason": "this e-mail domain may not sign in to Airlock",
        "email_domain": "evil.test",
    }


def test_an_unverified_email_is_refused(client, provider):
    response = sign_in_as(client, "unverified")
    assert response.status_code == 403
    assert not User.objects.filter(email="bob@example.com").exists()


def test_local_sign_in_can_be_turned_off(client, provider, settings):
    User.objects.create_user("carol@example.com", password="correct horse battery staple")
    settings.LOCAL_LOGIN = False
    page = client.get("/accounts/login/")
    assert b'name="password"' not in page.content
    response = client.post(
        "/accounts/login/",
        {"username": "carol@example.com", "password": "correct horse battery staple"},
    )
    assert response.status_code == 403
    assert client.get("/").status_code == 302


def test_self_sign_up_is_closed(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert re.search(rb"[Ss]ign [Uu]p [Cc]losed", response.content)


@pytest.mark.parametrize(
    "path", ["/accounts/password/reset/", "/accounts/password/change/", "/accounts/email/"]
)
def test_allauths_password_and_email_pages_are_not_offered(client, path):
    assert client.get(path).status_code == 404
