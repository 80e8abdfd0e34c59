from django.contrib import admin

from evidence.models import EvidenceReport


@admin.register(EvidenceReport)
class EvidenceReportAdmin(admin.ModelAdmin):
    list_display = ("id", "period_from", "period_to", "status", "requested_by_name", "created_at")
    readonly_fields = [f.name for f in EvidenceReport._meta.fields]
