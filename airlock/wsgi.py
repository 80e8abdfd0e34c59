"""WSGI entry point, for tooling only: Airlock is served over ASGI (long-poll, websockets)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")

application = get_wsgi_application()
