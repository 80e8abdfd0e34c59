from django.contrib import admin

from airlock.admin import ReadOnlyAdmin
from policies.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: proposals and approvals go through the services (and the API)."""

    list_display = ["version", "status", "author_name", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]
