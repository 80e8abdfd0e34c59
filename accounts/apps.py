from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Identities"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in, user_signed_up

        from accounts import schema  # noqa: F401 - registers the OpenAPI extension
        from accounts.adapters import record_sign_up, sync_groups

        user_signed_up.connect(record_sign_up, dispatch_uid="airlock-oidc-sign-up")
        user_logged_in.connect(sync_groups, dispatch_uid="airlock-oidc-groups")
