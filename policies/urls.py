from django.urls import path

from policies import views

urlpatterns = [
    path("policies", views.PolicyCollection.as_view(), name="policies"),
    path("policies/simulate", views.PolicySimulate.as_view(), name="policy-simulate"),
    path("policies/<int:version>", views.PolicyDetail.as_view(), name="policy-detail"),
    path("policies/<int:version>/approve", views.PolicyApprove.as_view(), name="policy-approve"),
    path("policies/<int:version>/reject", views.PolicyReject.as_view(), name="policy-reject"),
]
