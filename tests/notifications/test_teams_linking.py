"""How a Teams identity becomes a person: an Entra ID sign-in's oid (through a real
OIDC provider on localhost), or the operator's command. Never a display name or an
e-mail look-up."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from oidc_provider_mock import User as ProviderUser
from oidc_provider_mock import run_server_in_thread

from audit.models import AuditEvent
from notifications.models import ChatLink
from tests.accounts.test_oidc import sign_in_as
from tests.notifications.conftest import CAROL_OID, OTHER_TENANT, TENANT

pytestmark = pytest.mark.django_db

PEOPLE = [
    ProviderUser(
        sub="carol",
        claims={
            "email": "carol@example.com",
            "email_verified": True,
            "groups": ["reviewers"],
            "oid": CAROL_OID.upper(),  # Entra may send either case; Teams sends lower
            "tid": TENANT,
        },
    ),
    ProviderUser(
        sub="guest",
        claims={
            "email": "gus@example.com",
            "email_verified": True,
            "oid": "9e9e9e9e-0000-4000-8000-000000000001",
            "tid": OTHER_TENANT,  # a guest's home tenant is not ours
        },
    ),
    ProviderUser(sub="plain", claims={"email": "pat@example.com", "email_verified": True}),
]


@pytest.fixture
def entra(settings):
    """An OIDC provider standing in for Entra ID (it sends oid and tid)."""
    with run_server_in_thread(user_claims=PEOPLE) as server:
        issuer = f"http://localhost:{server.server_port}"
        settings.OIDC = {**settings.OIDC, "SERVER_URL": issuer, "ALLOWED_DOMAINS": ["example.com"]}
        settings.SOCIALACCOUNT_PROVIDERS = {
            "openid_connect": {
                "OAUTH_PKCE_ENABLED": True,
                "APPS": [
                    {
                        "provider_id": "oidc",
                        "name": "Entra ID",
                        "client_id": "airlock-test",
                        "secret": "client-secret",
                        "settings": {"server_url": issuer},
                    }
                ],
            }
        }
        settings.TEAMS = {**settings.TEAMS, "TENANT_ID": TENANT, "LINK_OIDC": True}
        yield issuer


def test_an_entra_sign_in_links_the_persons_teams_identity_once(client, entra):
    sign_in_as(client, "carol")
    link = ChatLink.objects.get()
    assert (link.user.email, link.provider, link.team_id, link.chat_user_id) == (
        "carol@example.com",
        "teams",
        TENANT,
        CAROL_OID,
    )
    linked = AuditEvent.objects.get(event_type="chat.user_linked")
    assert linked.actor == "oidc:carol"
    client.logout()
    sign_in_as(client, "carol")  # the same link again: nothing new, nothing audited
    assert ChatLink.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="chat.user_linked").count() == 1


def test_another_tenants_oid_and_a_sign_in_without_one_link_nothing(client, entra):
    sign_in_as(client, "guest")
    client.logout()
    sign_in_as(client, "plain")
    assert not ChatLink.objects.exists()


def test_without_teams_link_oidc_a_sign_in_links_nothing(client, entra, settings):
    settings.TEAMS = {**settings.TEAMS, "LINK_OIDC": False}
    sign_in_as(client, "carol")
    assert not ChatLink.objects.exists()


def test_link_chat_user_teams_binds_an_entra_identity_and_refuses_a_bad_one(reviewer):
    call_command("link_chat_user", reviewer.user.email, "--teams", f"{TENANT}:{CAROL_OID.upper()}")
    link = ChatLink.objects.get()
    assert (link.user, link.provider, link.team_id, link.chat_user_id) == (
        reviewer.user,
        "teams",
        TENANT,
        CAROL_OID,
    )
    for bad in ("not-a-guid", f"{TENANT}:", f"{TENANT}:29:1abcdef", f":{CAROL_OID}"):
        with pytest.raises(CommandError):
            call_command("link_chat_user", reviewer.user.email, "--teams", bad)
    assert ChatLink.objects.count() == 1
