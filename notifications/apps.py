from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        # Registers this app's dispatch consumer (approvals never imports us) and the
        # system checks of its settings.
        from notifications import checks, consumers  # noqa: F401
        from notifications.chat import link_entra_oid

        # An Entra ID sign-in links the person's Teams identity (its oid); accounts
        # sits below notifications, so the link is made from here.
        user_logged_in.connect(link_entra_oid, dispatch_uid="airlock-teams-oid-link")
