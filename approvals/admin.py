from django.contrib import admin

from airlock.admin import ReadOnlyAdmin
from approvals.models import ActionRequest, Review


class ReviewInline(ReadOnlyAdmin, admin.TabularInline):
    model = Review
    extra = 0
    can_delete = False
    readonly_fields = ["reviewer", "verdict", "comment", "via", "created_at"]


@admin.register(ActionRequest)
class ActionRequestAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: decisions go through the services, never through the admin."""

    list_display = ["id", "action", "resource", "status", "created_at"]
    list_filter = ["status", "environment"]
    search_fields = ["action", "resource"]
    inlines = [ReviewInline]
