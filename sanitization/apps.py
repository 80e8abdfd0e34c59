from django.apps import AppConfig


class SanitizationConfig(AppConfig):
    name = "sanitization"
    verbose_name = "Payload screening"

    def ready(self) -> None:
        from sanitization import checks  # noqa: F401  (registers the model check)
