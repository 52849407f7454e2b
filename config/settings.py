"""Settings, read from the environment (12-factor).

With nothing set, the project runs on embedded defaults: SQLite under ./var and a Celery broker
that keeps its messages in files, so one machine needs no servers. Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FEDERATION_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable (or DEBUG=1 for development)."
        )
    SECRET_KEY = "development-only-key-not-for-production-use-0123456789abcdefghijklmnop"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.apps.FederationAdminConfig",  # django.contrib.admin with our branded site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mozilla_django_oidc",
    "axes",
    "events",
    "federation",
    "marketplace",
    "accounting",
    "providers",
    "notifications",
    "webhooks",
    "waldur_provider",
    "portal",
    "apel",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.row_hints.row_hints",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it turns a locked-out login at any door into a 429 (see common.login_security).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'federation.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the visibility subqueries make PostgreSQL estimate costs high enough to compile
    # queries that then run in milliseconds, and the compiling took up to 1.5 s of a portal page.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Transactions take the write lock when they begin, so a writer waits its turn (up to `timeout`
    # seconds) instead of failing at once when two read-then-write transactions meet; WAL lets
    # readers go on while one writes. The embedded database of `make run` serves web and workers.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "federation.User"

AUTHENTICATION_BACKENDS = [
    # First: refuses locked-out (username, address) pairs before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "federation.oidc.FederationOIDCBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "portal-login"
LOGIN_REDIRECT_URL = "portal-home"
LOGOUT_REDIRECT_URL = "portal-home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served by WhiteNoise from STATIC_ROOT after `collectstatic` (the Docker image runs it).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Caches hold login throttling counters; use Redis when several web processes run.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "common.cache.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually on port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS, usually on port 465
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))  # seconds; a send holds its rows' locks this long at most
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "federation@localhost")

# --- Security (production defaults; DEBUG relaxes them for local development) ---
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Reverse proxies in front of the web process that append the client address to X-Forwarded-For.
# 0: the header is ignored and the socket address is the client's (common.login_security.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): pages load scripts, styles, images and fonts from our own origin
# only; no inline script or style anywhere (the portal and the Swagger UI keep theirs in static files).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "federation.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every viewset: signed in, and read-only accounts (global support) refused every write.
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "federation.api.permissions.SupportIsReadOnly",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.api.pagination.LinkHeaderPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["common.api.filtering.FilterBackend"],
    # Bodies are bounded in size (DATA_UPLOAD_MAX_MEMORY_SIZE) and JSON in nesting depth.
    "DEFAULT_PARSER_CLASSES": [
        "common.api.parsers.BoundedJSONParser",
        "common.api.parsers.BoundedFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "common.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "common.api.schema.FederationAutoSchema",
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("LOGIN_THROTTLE_RATE", "20/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Federation orchestrator API",
    "DESCRIPTION": "Allocator API (Puhuri Core / Waldur compatible) of the research-computing federation.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name with another one get a name of their own.
    "ENUM_NAME_OVERRIDES": {
        "PolicyScopeTypeEnum": "accounting.policies.models.PolicyScope",
        "ScopeTypeEnum": "events.services.CONCERNS",  # the webhooks' (its name before policies had one)
        # Offerings and resources are served twice (Waldur's consumer and provider APIs): one enum each.
        "OfferingStateEnum": "marketplace.models.OfferingState",
        "ResourceStateEnum": "marketplace.models.ResourceState",
    },
}

# API tokens: stored hashed, valid for TOKEN_LIFETIME seconds after issue (0 = no expiry).
TOKEN_LIFETIME = timedelta(seconds=env_int("TOKEN_LIFETIME", 7 * 24 * 3600))
# Seconds a token that authenticated is kept in the cache, so that later requests query nothing for it
# (0: off). Deleting a token or changing its user drops it at once, in every process: the cache must
# be one they all share, hence on by default with CACHE_URL only (federation.token_cache).
TOKEN_CACHE_SECONDS = env_int("TOKEN_CACHE_SECONDS", 60 if CACHE_URL else 0)
if TOKEN_CACHE_SECONDS > 0 and not CACHE_URL:
    raise ImproperlyConfigured("TOKEN_CACHE_SECONDS needs CACHE_URL: a cache every web process shares.")
# Failed password logins for one username from one client address within the window (seconds)
# before that pair is locked out until the window has passed (API, portal and admin alike).
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900)
# django-axes keeps the failures; the numbers above stay the source (see common.login_security).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = "common.login_security.failure_limit"
AXES_COOLOFF_TIME = "common.login_security.cooloff_time"
AXES_CLIENT_IP_CALLABLE = "common.login_security.client_ip"
AXES_LOCKOUT_CALLABLE = "common.login_security.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not logged row by row (the table would only grow)

# --- Identity registry (CUID lookups for /api/remote-eduteams/) ---
IDENTITY_REGISTRY_URL = os.environ.get("IDENTITY_REGISTRY_URL", "")
IDENTITY_REGISTRY_TOKEN = os.environ.get("IDENTITY_REGISTRY_TOKEN", "")
IDENTITY_REGISTRY_TIMEOUT = float(os.environ.get("IDENTITY_REGISTRY_TIMEOUT", "5"))

# --- OIDC login for the portal (mozilla-django-oidc) ---
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_CUID_CLAIM = os.environ.get("OIDC_CUID_CLAIM", "sub")
# When set, the ID token's `iss` must equal it (mozilla-django-oidc does not check the issuer itself).
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID and OIDC_OP_AUTHORIZATION_ENDPOINT)

# --- Celery ---
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # Everything the file broker writes stays under var/ (kombu keeps its exchange tables in the
    # control folder, `./control` unless told otherwise).
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "deactivate-expired-roles": {
        "task": "federation.tasks.deactivate_expired_roles",
        "schedule": 300.0,
    },
    "terminate-expired-resources": {
        "task": "marketplace.tasks.terminate_expired_resources",
        "schedule": 24 * 3600.0,
    },
    "events-dispatch": {"task": "events.dispatch", "schedule": float(os.environ.get("EVENT_DISPATCH_INTERVAL", "30"))},
    "events-prune": {"task": "events.prune", "schedule": 3600.0},
    "announce-ending-projects": {"task": "federation.tasks.announce_ending_projects", "schedule": 24 * 3600.0},
    "announce-ending-resources": {"task": "marketplace.tasks.announce_ending_resources", "schedule": 24 * 3600.0},
}

# --- Invoices (docs/invoices.md) ---
CURRENCY = os.environ.get("CURRENCY", "EUR")  # of every plan price and invoice
CELERY_BEAT_SCHEDULE["accounting-recompute-invoices"] = {
    "task": "accounting.recompute_invoices",
    "schedule": float(os.environ.get("INVOICE_RECOMPUTE_INTERVAL", "300")),
}
CELERY_BEAT_SCHEDULE["accounting-close-invoices"] = {"task": "accounting.close_invoices", "schedule": 3600.0}
# Policies (docs/policies.md): firings of ended periods are undone within this many seconds of the rollover.
CELERY_BEAT_SCHEDULE["accounting-expire-policy-firings"] = {
    "task": "accounting.expire_policy_firings",
    "schedule": float(os.environ.get("POLICY_EXPIRE_INTERVAL", "600")),
}

# --- Shares (docs/shares.md) ---
# How far the project shares cut from one customer share may add up beyond it: 1.0 gives out at most
# the share itself, 1.5 lets the customer's owners promise half as much again, counting on projects
# not all using theirs (combined usage stays capped at the customer's share whatever this says).
SHARE_OVERALLOCATION_FACTOR = Decimal(os.environ.get("SHARE_OVERALLOCATION_FACTOR", "1.0"))

# --- Events ---
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", 365)  # older events are pruned by beat
EVENT_DISPATCH_BATCH = env_int("EVENT_DISPATCH_BATCH", 500)  # events handed to notifications/webhooks per transaction
# Days before a project's or resource's end date that its ending is announced (once each).
PROJECT_END_WARNING_DAYS = [int(days) for days in env_list("PROJECT_END_WARNING_DAYS", "30,7,1")]

# --- Notifications (docs/notifications.md) ---
NOTIFICATION_DIGEST_WINDOW = env_int("NOTIFICATION_DIGEST_WINDOW", 60)  # seconds mail to one person is held to combine
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 8)  # SMTP failures before a notification is failed
NOTIFICATION_RETRY_BASE = float(os.environ.get("NOTIFICATION_RETRY_BASE", "60"))  # seconds; doubles per attempt
NOTIFICATION_RETRY_CAP = float(os.environ.get("NOTIFICATION_RETRY_CAP", "3600"))
NOTIFICATION_SEND_BATCH = env_int("NOTIFICATION_SEND_BATCH", 200)  # people mailed per run; more run again
CELERY_BEAT_SCHEDULE["notifications-send-due"] = {
    "task": "notifications.send_due",
    "schedule": float(os.environ.get("NOTIFICATION_SEND_INTERVAL", "60")),
}

# --- Webhooks (docs/webhooks.md) ---
# Hosts a hook may send to although they resolve to internal addresses (comma list; the tests' receivers).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "5"))  # seconds to connect, and to wait for the answer
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8)  # then the delivery is failed
WEBHOOK_DISABLE_AFTER = env_int("WEBHOOK_DISABLE_AFTER", 20)  # failed attempts in a row before the hook is disabled
WEBHOOK_RETRY_BASE = float(os.environ.get("WEBHOOK_RETRY_BASE", "10"))  # seconds; doubles per attempt, with jitter
WEBHOOK_RETRY_CAP = float(os.environ.get("WEBHOOK_RETRY_CAP", "3600"))
WEBHOOK_BATCH_SIZE = env_int("WEBHOOK_BATCH_SIZE", 10)  # deliveries claimed at a time by one run
WEBHOOK_DELIVERY_RETENTION_DAYS = env_int("WEBHOOK_DELIVERY_RETENTION_DAYS", 30)  # delivered and failed ones
CELERY_BEAT_SCHEDULE["webhooks-deliver-due"] = {
    "task": "webhooks.deliver_due",
    "schedule": float(os.environ.get("WEBHOOK_DELIVER_INTERVAL", "5")),
}
CELERY_BEAT_SCHEDULE["webhooks-prune"] = {"task": "webhooks.prune", "schedule": 3600.0}

# --- Event mode for Waldur site agents (docs/waldur-site-agent.md): off unless both are set ---
# RabbitMQ's management API and AMQP, as an administrator; agents read over its Web-STOMP plugin.
AGENT_EVENTS_BROKER_API = os.environ.get("AGENT_EVENTS_BROKER_API", "")  # http://user:password@host:15672
AGENT_EVENTS_BROKER_URL = os.environ.get("AGENT_EVENTS_BROKER_URL", "")  # amqp://user:password@host:5672
AGENT_EVENTS_BATCH = env_int("AGENT_EVENTS_BATCH", 200)  # messages claimed at a time by one send
AGENT_EVENTS_RETENTION_DAYS = env_int("AGENT_EVENTS_RETENTION_DAYS", 7)  # sent messages kept this long
CELERY_BEAT_SCHEDULE["waldur-provider-send-agent-messages"] = {
    "task": "waldur_provider.send_agent_messages",
    "schedule": float(os.environ.get("AGENT_EVENTS_SEND_INTERVAL", "10")),
}
CELERY_BEAT_SCHEDULE["waldur-provider-sweep-agent-tokens"] = {
    "task": "waldur_provider.sweep_agent_tokens",
    "schedule": float(os.environ.get("AGENT_EVENTS_TOKEN_SWEEP_INTERVAL", "60")),
}
CELERY_BEAT_SCHEDULE["waldur-provider-prune-agent-messages"] = {
    "task": "waldur_provider.prune_agent_messages",
    "schedule": 3600.0,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# --- Provider federation ---
# Our id in the provider protocol (`iss` of our tokens, `aud` of theirs) and our public base URL.
FEDERATION_ID = os.environ.get("FEDERATION_ID", "federation")
FEDERATION_URL = os.environ.get("FEDERATION_URL", "http://127.0.0.1:8000")
PROVIDER_TIMEOUT = float(os.environ.get("PROVIDER_TIMEOUT", "10"))  # seconds per call to a provider
# The call a person waits for (POST /api/providers/<id>/connect/) holds a web process: a short bound.
PROVIDER_CONNECT_TIMEOUT = float(os.environ.get("PROVIDER_CONNECT_TIMEOUT", "3"))
# Celery time limits (soft; the hard one is 30 s later) of one pull of one provider, and of one relay run.
PROVIDER_PULL_TIME_LIMIT = env_int("PROVIDER_PULL_TIME_LIMIT", 120)
PROVIDER_DELIVERY_TIME_LIMIT = env_int("PROVIDER_DELIVERY_TIME_LIMIT", 300)
PROVIDER_TOKEN_LIFETIME = env_int("PROVIDER_TOKEN_LIFETIME", 120)  # seconds our tokens live
PROVIDER_TOKEN_MAX_LIFETIME = env_int("PROVIDER_TOKEN_MAX_LIFETIME", 300)  # longest we accept
PROVIDER_BATCH_SIZE = env_int("PROVIDER_BATCH_SIZE", 100)
PROVIDER_MAX_ATTEMPTS = env_int("PROVIDER_MAX_ATTEMPTS", 8)  # then the order is erred
PROVIDER_RETRY_BASE = float(os.environ.get("PROVIDER_RETRY_BASE", "1"))
PROVIDER_RETRY_CAP = float(os.environ.get("PROVIDER_RETRY_CAP", "60"))
PROVIDER_FAILURE_THRESHOLD = env_int("PROVIDER_FAILURE_THRESHOLD", 5)  # failures in a row → unavailable
PROVIDER_STUCK_AFTER = env_int("PROVIDER_STUCK_AFTER", 900)  # seconds executing before we ask
PROVIDER_SCHEDULE = {
    "deliver": float(os.environ.get("PROVIDER_DELIVER_INTERVAL", "10")),
    "manifest": float(os.environ.get("PROVIDER_MANIFEST_INTERVAL", "300")),
    "usage": float(os.environ.get("PROVIDER_USAGE_INTERVAL", "300")),
    "verify": float(os.environ.get("PROVIDER_VERIFY_INTERVAL", "3600")),
    "sweep": float(os.environ.get("PROVIDER_SWEEP_INTERVAL", "300")),
}
CELERY_BEAT_SCHEDULE.update(
    {
        "providers-deliver-all-due": {"task": "providers.deliver_all_due", "schedule": PROVIDER_SCHEDULE["deliver"]},
        "providers-pull-manifests": {"task": "providers.pull_manifests", "schedule": PROVIDER_SCHEDULE["manifest"]},
        "providers-pull-usage": {"task": "providers.pull_usage", "schedule": PROVIDER_SCHEDULE["usage"]},
        "providers-verify": {"task": "providers.verify", "schedule": PROVIDER_SCHEDULE["verify"]},
        "providers-sweep-stuck-orders": {
            "task": "providers.sweep_stuck_orders",
            "schedule": PROVIDER_SCHEDULE["sweep"],
        },
        "providers-purge-seen-tokens": {"task": "providers.purge_seen_tokens", "schedule": 600.0},
    }
)
# Pulls run on a queue of their own, served by its own worker (`-Q pulls`): a hung provider's pulls
# can then never take the processes that deliver orders. Calls to other outside parties that may
# hang (webhook receivers, the SMTP server) share that queue for the same reason, and so does handing
# events on to them (fan-out is work the order path must not wait behind). Everything else, order
# deliveries included, stays on the default queue (`celery`).
CELERY_TASK_ROUTES = {
    name: {"queue": "pulls"}
    for name in (
        "providers.pull_manifest",
        "providers.pull_manifests",
        "providers.pull_provider_usage",
        "providers.pull_usage",
        "providers.verify_provider",
        "providers.verify",
        "providers.sweep_provider_orders",
        "providers.sweep_stuck_orders",
        "events.dispatch",
        "webhooks.deliver_due",
        "notifications.send_due",
        "waldur_provider.send_agent_messages",
        "waldur_provider.sweep_agent_tokens",
    )
}

# APEL (EGI accounting): the VO of a project with neither its own VO nor a backend_id, when its
# offering's mapping names none.
APEL_DEFAULT_VO = os.environ.get("APEL_DEFAULT_VO", "")
