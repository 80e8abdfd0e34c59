from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path, re_path

from frontend import views


def not_offered(request: HttpRequest, *args: object) -> HttpResponse:
    raise Http404(
        "not offered: passwords and e-mail addresses are managed by operators and the IdP"
    )


urlpatterns = [
    path("", views.home, name="home"),
    path("mine/", views.my_requests, name="my-requests"),
    path("history/", views.history, name="history"),
    path("audit/", views.audit_log, name="audit-log"),
    path("actions/<uuid:action_id>/", views.action_detail, name="action-page"),
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
