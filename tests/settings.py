"""Test settings: the real settings with the few changes a test run needs.

DATABASE_URL and REDIS_URL pass through, so the same suite runs on the embedded
defaults and on PostgreSQL and Redis.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("AIRLOCK_RATE_LIMIT", "100000/min")
# Each event sequenced in its writer's transaction, so a test that reads the log sees
# it sequenced (a test's transaction never commits, so nothing after commit would
# run). The sequencer's deferred mode has its own tests in tests/audit.
os.environ.setdefault("AUDIT_SEQUENCER", "inline")
# A fixed test key: base64 of 32 bytes of 0x07. Tests that rotate keys set their own.
os.environ.setdefault("AUDIT_SIGNING_KEY", "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
os.environ.setdefault("AUDIT_SIGNING_KEY_SINCE", "2026-01-01T00:00:00Z")
# The grant signing key: base64 of 32 bytes of 0x09. The rotation tests set their own.
os.environ.setdefault("GRANT_SIGNING_KEY", "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=")

from airlock.settings import *  # noqa: F403
from airlock.settings import BASE_DIR, DATABASES

# Every test client builds the middleware anew, and ServeStatic indexes STATIC_ROOT
# each time: an empty directory of its own keeps that cheap (and quiet).
STATIC_ROOT = BASE_DIR / "var" / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# The browser tests load the console's script; serve app static files straight from
# their apps, looked up per request rather than indexed up front.
SERVESTATIC_USE_FINDERS = True
SERVESTATIC_AUTOREFRESH = True

# Celery tasks run in the test process (the worker tests start real workers of their
# own), so screening really happens when a test commits a filing.
CELERY_TASK_ALWAYS_EAGER = True

# Hashing a password is deliberately slow; tests create many people.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that threads in the race and live-server tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test_airlock.sqlite3")}

# The hashed-manifest storage needs collectstatic; the CI smoke run covers that.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
