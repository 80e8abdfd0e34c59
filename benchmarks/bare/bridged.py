"""The bare view in Airlock's shape: uvicorn, Django's WSGI handler on a thread pool
behind airlock.wsgi_bridge, persistent connections per thread. The ceiling of the
shape Airlock's own API calls are served in."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bare.settings")

from airlock.wsgi_bridge import BufferedWSGI

application = BufferedWSGI(get_wsgi_application(), threads=8, max_body=1024 * 1024)
