"""Startup check: the configured spaCy pipeline is installed (never downloaded)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from sanitization.engine import model_problem


@register()
def screening_model_installed(app_configs: Any, **kwargs: Any) -> list[Error]:
    problem = model_problem(settings.SCREENING["NLP_MODEL"])
    if problem:
        return [Error(problem, id="sanitization.E001")]
    return []
