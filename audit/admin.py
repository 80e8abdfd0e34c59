from django.contrib import admin

from airlock.admin import ReadOnlyAdmin
from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["seq", "at", "event_type", "actor", "target"]
    list_filter = ["event_type"]
    search_fields = ["actor", "target"]
