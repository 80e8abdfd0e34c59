"""WSGI entry point, for tooling only: Airlock is served over ASGI (long-poll, websockets)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airlock.settings")

from airlock.handlers import AgentHandler, SplitWSGI

application = SplitWSGI(get_wsgi_application(), AgentHandler())
