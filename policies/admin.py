from django.contrib import admin

from policies.models import PolicyVersion


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    """Read-only: proposals and approvals go through the services (and the API)."""

    list_display = ["version", "status", "author_name", "created_at", "decided_by", "decided_at"]
    list_filter = ["status"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
