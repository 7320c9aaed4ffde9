"""Configuration defaults as plain data.

Precedence, lowest first: these defaults, `instance/config.py`, the unprefixed
`DATABASE_URL` / `RATELIMIT_STORAGE_URI` environment variables, `AVYCENNA_*`
environment variables, and finally the `test_config` given to `create_app`.
"""

VERSION = "1.0.0"

DEFAULTS = {
    # Where the data lives. None means SQLite in the instance folder.
    "DATABASE_URL": None,
    # Generated into instance/secret_key on first start when not configured.
    "SECRET_KEY": None,
    # Server (python app.py).
    "HOST": "127.0.0.1",
    "PORT": 8000,
    "THREADS": 8,
    # The URL people reach this server at (used in links such as checkout_url).
    "PUBLIC_BASE_URL": None,
    # How many reverse proxies in front of the server may set X-Forwarded-*.
    "TRUSTED_PROXIES": 0,
    # Largest request body accepted (bytes); some endpoints allow more, up to MAX_REQUEST_BODY_SIZE.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Largest body of any request (bytes), the server's own limit: waitress refuses a request
    # whose Content-Length is over it before reading its body (a plain-text 413). What the API
    # needs: the wearable batch. Large files come in pieces (resumable uploads, tus).
    "MAX_REQUEST_BODY_SIZE": 10 * 1024 * 1024,
    # Rate limiting (flask-limiter); memory:// per process, redis://… shared.
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_STRATEGY": "moving-window",
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_KEY_PREFIX": "avycenna",
    # If Redis goes away, keep limiting per process instead of failing requests: each process
    # then counts its own budget (so N processes allow up to N times it) until Redis answers.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # A rate-limit storage error that the fallback does not cover (Redis lost between a
    # route's check and its after-request count) is logged, never the request's 500.
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_ANONYMOUS": "60/minute",
    # Mail (SMTP). With no MAIL_HOST, messages are written to the server log.
    "MAIL_HOST": None,
    "MAIL_PORT": 25,
    "MAIL_USE_STARTTLS": False,
    "MAIL_USE_SSL": False,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_SENDER": "AVYCENNA <no-reply@localhost>",
    "MAIL_TIMEOUT": 10,
    # OpenAPI (flask-smorest).
    "API_TITLE": "AVYCENNA API",
    "API_VERSION": VERSION,
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/docs/assets/swagger-ui/",
    "OPENAPI_REDOC_PATH": "/redoc",
    "OPENAPI_REDOC_URL": "/docs/assets/redoc/redoc.standalone.js",
    "JSON_SORT_KEYS": False,
}

# Environment variables read without the AVYCENNA_ prefix (twelve-factor names).
UNPREFIXED_ENV = ("DATABASE_URL", "RATELIMIT_STORAGE_URI")
DEFAULTS.update({
    "RATELIMIT_JWT": "100/minute",
    "RATELIMIT_API_KEY": "1000/minute",
    # JWT access tokens.
    "ACCESS_TOKEN_TTL": 15 * 60,
    "JWT_ISSUER": "avycenna",
    "JWT_AUDIENCE": "avycenna-api",
    "JWT_KEY_ID": "k1",
    "JWT_ACCEPTED_KEY_IDS": [],
    # Largest wearable ingest body (bytes); every other endpoint keeps MAX_CONTENT_LENGTH.
    "WEARABLES_MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    # Largest Apple Health export (bytes): a resumable (tus) upload's Upload-Length; the plain
    # multipart upload is held to MAX_REQUEST_BODY_SIZE too. Written to instance/imports/.
    "IMPORTS_MAX_CONTENT_LENGTH": 2 * 1024 ** 3,
    # Resumable uploads (tus): the largest PATCH body (bytes; at most MAX_REQUEST_BODY_SIZE),
    # seconds an unfinished upload is kept after its last change (then it and its bytes are
    # deleted), and unfinished uploads one account may hold at once.
    "IMPORTS_UPLOAD_CHUNK_SIZE": 8 * 1024 * 1024,
    "IMPORTS_UPLOAD_EXPIRES": 24 * 3600,
    "IMPORTS_UPLOADS_PER_ACCOUNT": 3,
    # How long (seconds) a running import's lease lasts; its worker renews it every few
    # seconds while it reads. One whose lease ran out lost its worker (a restart): the
    # sweep queues it again.
    "IMPORTS_STALE_SECONDS": 120,
    # Claims of one import (the first run and each resume after a restart) before the sweep
    # gives up on it: it ends `failed`, with the reason.
    "IMPORTS_MAX_ATTEMPTS": 3,
})
DEFAULTS.update({
    # Identity: refresh tokens, e-mail OTP sign-in, self sign-up, sign-in rate limits.
    "REFRESH_TOKEN_TTL": 30 * 24 * 3600,  # seconds
    "OTP_TTL": 10 * 60,  # seconds a code stays valid
    "RATELIMIT_LOGIN_ACCOUNT": "10/hour",  # failed password sign-ins per account (API and page together)
    "FRESH_SIGNIN_SECONDS": 5 * 60,  # a sign-in this recent proves the account for a password change
    "OTP_MAX_ATTEMPTS": 5,  # wrong codes before the code is burned
    "ALLOW_SIGNUP": True,  # first OTP verify of an unknown address creates a member
    "RATELIMIT_AUTH": "20/minute",  # per client IP on the sign-in endpoints under /auth
    "RATELIMIT_OTP_EMAIL": "5/hour",  # OTP sends per address
    "RATELIMIT_OTP_IP": "20/hour",  # OTP sends per client IP
    # Telehealth consent: patients consent to this text; changing the version asks again.
    "TELEHEALTH_CONSENT_VERSION": "2026-01",
    "TELEHEALTH_CONSENT_TEXT": (
        "I agree to receive medical care through telehealth from the clinic's physicians. I "
        "understand that a physician may not be able to examine me in person, that I should call "
        "emergency services for an emergency, and that my information is handled as the clinic's "
        "privacy notice describes."),
})
DEFAULTS.update({
    # The agent front door (POST /api/v1/agent/query and follow-up queries).
    "AGENT_QUERY_RATE_LIMIT": "5/hour;10/day",  # per user, else session_token, else IP hash
    "AGENT_QUERY_MIN_LENGTH": 500,
    "AGENT_QUERY_MAX_LENGTH": 10000,
    "ENCOUNTER_TOKEN_TTL": 72 * 3600,  # seconds from creation; also the checkout deadline
    "IDEMPOTENCY_TTL": 24 * 3600,  # how long an Idempotency-Key's first response is replayed
    # Billing (self-hosted, manual payments). Prices in minor units (cents).
    "BILLING_CURRENCY": "usd",
    "ENCOUNTER_PRICE": 4900,  # a one-off encounter without a subscription
    "BILLING_PLANS": [
        {"id": "monthly", "name": "Monthly", "price": 2900, "currency": "usd",
         "interval": "month", "included_encounters": 3},
        {"id": "yearly", "name": "Yearly", "price": 29000, "currency": "usd",
         "interval": "year", "included_encounters": 40},
    ],
})
DEFAULTS.update({
    # Browser pages (checkout, dashboard, console) use Flask's signed session cookie,
    # always HttpOnly and SameSite=Lax. Secure by default: a plain-HTTP LAN install must
    # set AVYCENNA_SESSION_COOKIE_SECURE=false or browsers will not keep the sign-in.
    "SESSION_COOKIE_SECURE": True,
    # How long a browser stays signed in (seconds).
    "PERMANENT_SESSION_LIFETIME": 12 * 60 * 60,
    # Page requests per minute, per signed-in user or else per client IP.
    "RATELIMIT_WEB": "300/minute",
})
DEFAULTS.update({
    # Background jobs (huey), in two queues with workers of their own: `default` (webhook
    # deliveries, housekeeping, short jobs) and `bulk` (imports, FHIR exports), so a long import
    # never holds up a delivery. No QUEUE_URL: jobs live in instance/jobs.sqlite3 and
    # instance/jobs-bulk.sqlite3 and `python app.py` runs the workers itself. QUEUE_URL=redis://…:
    # jobs are shared through Redis and `flask --app app worker` runs separate worker processes.
    "QUEUE_URL": None,
    "QUEUE_NAME": "avycenna",  # the bulk queue is QUEUE_NAME-bulk
    # Worker threads of the default queue, for the embedded consumer and `flask --app app worker`.
    "QUEUE_WORKERS": 2,
    # Worker threads of the bulk queue. An account runs one import at a time, so with 2 or more
    # another account's import starts while a long one runs.
    "QUEUE_BULK_WORKERS": 2,
    # Run the workers inside `python app.py`? None: yes when there is no QUEUE_URL.
    "QUEUE_EMBEDDED": None,
    # Seconds the Redis clients (rate limits, job queue) wait to connect and for an answer: a
    # Redis that is down or cut off costs a request at most about this long (the rate limits
    # then count in memory, jobs wait for the sweeps), never a hang. The queue's workers wait
    # one second more for their blocking reads.
    "REDIS_TIMEOUT": 1.0,
})
DEFAULTS.update({
    # SQLite durability: "full" syncs every commit (an acknowledged write survives a power
    # cut); "normal" is faster but may lose the last commits on power loss (never on a crash).
    "SQLITE_SYNCHRONOUS": "full",
})
DEFAULTS.update({
    # Webhooks. Targets must resolve to public addresses; these host names (or addresses)
    # on a clinic LAN are allowed anyway, e.g. ["ehr.clinic.lan"] or "ehr.clinic.lan,10.0.0.7".
    "WEBHOOK_ALLOWED_HOSTS": [],
    "WEBHOOK_TIMEOUT": 5,  # seconds for one delivery attempt (connect + response)
    # A PEM file of CA certificates to trust for https:// webhooks (a clinic's own CA);
    # None: the system's trusted CAs.
    "WEBHOOK_CA_BUNDLE": None,
    # Seconds to wait after each failed attempt; when they are used up the delivery is failed
    # and its endpoint marked failing. Default: the Standard Webhooks schedule, ~27 hours in all.
    "WEBHOOK_RETRY_SCHEDULE": [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
    # Seconds an endpoint's previous signing secret still signs after a rotation (deliveries
    # then carry both signatures); 0 ends it at once.
    "WEBHOOK_SECRET_OVERLAP": 24 * 3600,
    # Seconds a worker holds a delivery it is sending (more than WEBHOOK_TIMEOUT): a worker
    # killed mid-delivery leaves it to another worker once this has passed, with the same
    # `webhook-id` (a restarted worker looks again after this long).
    "WEBHOOK_LEASE_SECONDS": 60,
})
DEFAULTS.update({
    # Browser origins (besides this server's own) allowed to call /mcp, e.g. a web-based
    # MCP client: ["https://agent.example"]. Agents that are not browsers send no Origin.
    "MCP_ALLOWED_ORIGINS": [],
})
DEFAULTS.update({
    # FHIR Bulk Data export: seconds a finished export's ndjson files are kept, then deleted.
    "FHIR_EXPORT_TTL": 24 * 3600,
    # Polling hint (Retry-After seconds) while an export runs.
    "FHIR_EXPORT_RETRY_AFTER": 2,
})
DEFAULTS.update({
    # Shutting down (SIGTERM to `python app.py`): for this many seconds the process answers
    # /health/ready with 503 while it goes on serving, so a load balancer moves traffic away;
    # then it stops accepting connections and gives the requests still running as long again.
    # A second SIGTERM exits at once.
    "DRAIN_SECONDS": 5,
    # Parts of /health/ready that are reported but do not make the process unready:
    # any of "rate_limits" and "queue" (both on Redis in a larger set-up). Empty: every part counts.
    "READINESS_OPTIONAL_PARTS": [],
})
DEFAULTS.update({
    # The OAuth 2.1 authorization server (assistants connecting to /mcp by signing in).
    "OAUTH_ACCESS_TOKEN_TTL": 3600,  # seconds an access token lasts
    "OAUTH_REFRESH_TOKEN_TTL": 30 * 24 * 3600,  # seconds a refresh token lasts (each refresh issues a new one)
    "OAUTH_CONNECTION_TTL": 90 * 24 * 3600,  # seconds an approval lasts: no token outlives it
    "OAUTH_CODE_TTL": 300,  # seconds an authorization code may wait to be exchanged
    # The RSA key id_tokens (OpenID Connect, SMART's `openid fhirUser`) are signed with: a PEM
    # file. None: instance/oidc_signing_key.pem, made on first use. Several hosts share one file.
    "OIDC_SIGNING_KEY_FILE": None,
    # Assistants that name themselves by the URL of their metadata document (client_id = URL):
    # how long a fetched document is kept, hosts on a private network it may be fetched from
    # anyway, and CA certificates to trust for it (None: the system's).
    "OAUTH_CLIENT_DOCUMENT_TTL": 3600,
    "OAUTH_CLIENT_DOCUMENT_ALLOWED_HOSTS": [],
    "OAUTH_CLIENT_DOCUMENT_CA_BUNDLE": None,
    "OAUTH_REGISTER_RATE_LIMIT": "20/hour",  # dynamic client registrations per client IP
})
