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

from airlock.settings import *  # noqa: E402, F403
from airlock.settings import AIRLOCK, DATABASES  # noqa: E402

# Hashing a password is deliberately slow; tests create many people.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["NAME"] = os.environ.get("SQLITE_PATH", "var/test.sqlite3")
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_PATH", "var/test_airlock.sqlite3")}

# Long-polls re-read the database often in tests so that a test of the notification
# path is not passed by the fallback: tests that measure latency set this themselves.
AIRLOCK["WAIT_RECHECK_SECONDS"] = 1.0
