from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Action requests"

    def ready(self) -> None:
        # The dispatch consumers of this app (higher apps register their own).
        from approvals import side_effects  # noqa: F401
