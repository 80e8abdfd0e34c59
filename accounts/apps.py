from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Identities"

    def ready(self) -> None:
        from accounts import schema  # noqa: F401 - registers the OpenAPI extension
