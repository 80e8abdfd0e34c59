from django.contrib import admin

from approvals.models import ActionRequest, Review


class ReviewInline(admin.TabularInline):
    model = Review
    extra = 0
    can_delete = False
    readonly_fields = ["reviewer", "verdict", "comment", "via", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ActionRequest)
class ActionRequestAdmin(admin.ModelAdmin):
    """Read-only: decisions go through the services, never through the admin."""

    list_display = ["id", "action", "resource", "status", "created_at"]
    list_filter = ["status", "environment"]
    search_fields = ["action", "resource"]
    inlines = [ReviewInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
