"""The baseline for the HTTP benchmarks: the least Django can do for a request that
reads the database once. Same Django, same psycopg, same PostgreSQL as Airlock; no
middleware, no apps, no DRF. ``benchmarks/http.sh`` serves it with gunicorn (WSGI)
and with uvicorn (ASGI), next to Airlock, in the same run."""

import os

SECRET_KEY = "benchmark-only-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "benchmarks.bare.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
USE_TZ = True
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BARE_DB", "postgres"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        # WSGI: a persistent connection per worker. ASGI: Django gives every request
        # a thread of its own, so connections come from psycopg's pool (as Airlock's).
        "CONN_MAX_AGE": 0 if os.environ.get("BARE_POOL") else None,
        "OPTIONS": {"pool": {"min_size": 2, "max_size": 20}} if os.environ.get("BARE_POOL") else {},
    }
}
