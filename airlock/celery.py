"""The Celery app (``celery -A airlock worker``).

Without ``REDIS_URL`` tasks run eagerly in the calling process, so the embedded
default needs no worker.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")

app = Celery("airlock")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
