from django.urls import path

from audit import views

urlpatterns = [
    path("audit/events", views.AuditEventList.as_view(), name="audit-events"),
    path("audit/events/<int:seq>/proof", views.AuditProof.as_view(), name="audit-proof"),
    path("audit/export", views.AuditExport.as_view(), name="audit-export"),
    path("audit/verify", views.AuditVerify.as_view(), name="audit-verify"),
    path("audit/sequencer", views.sequencer_health, name="audit-sequencer"),
]
