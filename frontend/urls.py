from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path, re_path

from frontend import evidence_views, views
from frontend import management_views as manage
from frontend import notification_views as notify


def not_offered(request: HttpRequest, *args: object) -> HttpResponse:
    raise Http404(
        "not offered: passwords and e-mail addresses are managed by operators and the IdP"
    )


urlpatterns = [
    path("", views.home, name="home"),
    path("mine/", views.my_requests, name="my-requests"),
    path("history/", views.history, name="history"),
    path("audit/", views.audit_log, name="audit-log"),
    path("dashboard/", views.dashboard_page, name="dashboard"),
    path("evidence/", evidence_views.evidence, name="evidence-page"),
    path(
        "evidence/<uuid:report_id>/download",
        evidence_views.evidence_download,
        name="evidence-download",
    ),
    path("agents/", manage.agents, name="agents"),
    path("agents/<str:name>/revoke", manage.agent_revoke, name="agent-revoke"),
    path("tokens/", manage.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke", manage.token_revoke, name="token-revoke"),
    path("policies/", manage.policies, name="policies-page"),
    path("policies/<int:version>/", manage.policy_page, name="policy-page"),
    path(
        "policies/<int:version>/approve",
        manage.policy_decide,
        {"verdict": "approve"},
        name="policy-page-approve",
    ),
    path(
        "policies/<int:version>/reject",
        manage.policy_decide,
        {"verdict": "reject"},
        name="policy-page-reject",
    ),
    path("notifications/", notify.channels, name="notification-channels"),
    path(
        "notifications/channels/<int:channel_id>/delete",
        notify.channel_delete,
        name="notification-channel-delete",
    ),
    path(
        "notifications/deliveries/<int:delivery_id>/retry",
        notify.delivery_retry,
        name="notification-delivery-retry",
    ),
    path("notifications/link/slack", notify.chat_link, name="chat-link"),
    path(
        "notifications/link/teams",
        notify.chat_link,
        {"provider": "teams"},
        name="chat-link-teams",
    ),
    path("actions/<uuid:action_id>/", views.action_detail, name="action-page"),
    path("actions/<uuid:action_id>/reveal", views.reveal, name="action-page-reveal"),
    path(
        "actions/<uuid:action_id>/approve",
        views.decide,
        {"verdict": "approve"},
        name="action-page-approve",
    ),
    path(
        "actions/<uuid:action_id>/deny", views.decide, {"verdict": "deny"}, name="action-page-deny"
    ),
    path("accounts/login/", views.SignIn.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # allauth serves the OIDC flow (/accounts/oidc/<provider>/login/ and its callback).
    # Its password-reset and e-mail pages are not offered: no mail goes out of Airlock.
    re_path(r"^accounts/(password|email|confirm-email|reauthenticate)/", not_offered),
    path("accounts/", include("allauth.urls")),
]
