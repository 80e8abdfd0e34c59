from django.urls import path

from approvals import grant_views, views
from approvals.longpoll import waitable

urlpatterns = [
    path("actions", waitable(views.ActionCollection.as_view()), name="actions"),
    path("actions/<uuid:action_id>", waitable(views.ActionDetail.as_view()), name="action-detail"),
    path("actions/<uuid:action_id>/approve", views.ActionApprove.as_view(), name="action-approve"),
    path("actions/<uuid:action_id>/deny", views.ActionDeny.as_view(), name="action-deny"),
    path("actions/<uuid:action_id>/cancel", views.ActionCancel.as_view(), name="action-cancel"),
    path("actions/<uuid:action_id>/outcome", views.ActionOutcome.as_view(), name="action-outcome"),
    path("actions/<uuid:action_id>/reveal", views.ActionReveal.as_view(), name="action-reveal"),
    path("grants/redeem", grant_views.GrantRedeem.as_view(), name="grant-redeem"),
    path(
        "actions/<uuid:action_id>/grant/revoke",
        grant_views.GrantRevoke.as_view(),
        name="grant-revoke",
    ),
    # Under policies/ in API.md; served here because it replays stored requests.
    path("policies/backtest", views.PolicyBacktest.as_view(), name="policy-backtest"),
]
