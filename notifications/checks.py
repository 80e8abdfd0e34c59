"""System checks of the Teams settings (``manage.py check``)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def teams_settings(app_configs: Any, **kwargs: Any) -> list[Error]:
    problems = []
    conf = settings.TEAMS
    for name, key in (("TEAMS_TENANT_ID", "TENANT_ID"), ("TEAMS_APP_ID", "APP_ID")):
        value = conf[key]
        try:
            if value:
                uuid.UUID(value)
        except ValueError:
            problems.append(
                Error(f"{name} must be a GUID (as Entra ID shows it)", id="airlock.teams.E001")
            )
    return problems
