from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
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
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
