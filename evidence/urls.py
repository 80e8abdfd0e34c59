from django.urls import path

from evidence import views

urlpatterns = [
    path("reports", views.ReportCollection.as_view(), name="reports"),
    path("reports/<uuid:report_id>", views.ReportDetail.as_view(), name="report-detail"),
    path(
        "reports/<uuid:report_id>/download", views.ReportDownload.as_view(), name="report-download"
    ),
]
