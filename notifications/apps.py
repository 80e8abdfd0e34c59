from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Registers this app's dispatch consumer (approvals never imports us).
        from notifications import consumers  # noqa: F401
