from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "evidence"

    def ready(self) -> None:
        # Registered now, not on Celery's lazy autodiscovery: the service enqueues the
        # build by name, and an eager (embedded) Celery must know the name at once.
        from evidence import tasks  # noqa: F401
