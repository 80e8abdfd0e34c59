from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from airlock import health
from approvals.grant_views import jwks
from audit.views import published_keys

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path(".well-known/jwks.json", jwks, name="grant-jwks"),
    path(".well-known/airlock-audit-keys", published_keys, name="audit-keys"),
    path("api/v1/", include("approvals.urls")),
    path("api/v1/", include("audit.urls")),
    path("api/v1/", include("policies.urls")),
    path("api/v1/", include("notifications.urls")),
    path("integrations/", include("notifications.integration_urls")),
    path("api/v1/", include("evidence.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("frontend.urls")),
]
