"""Security counters of the users service (default registry, served by kit's /metrics).

Failure reasons appear only here, never in a response."""

from __future__ import annotations

from prometheus_client import Counter

REGISTRATIONS = Counter("store_registrations_total", "Accounts created")
LOGINS = Counter("store_logins_total", "Sign-in attempts by result", ["result"])
LOGIN_FAILURES = Counter("store_login_failures_total", "Failed sign-ins by reason", ["reason"])
TOKEN_REFRESHES = Counter("store_token_refreshes_total", "Refresh tokens rotated")
REFRESH_REUSE = Counter(
    "store_refresh_reuse_detected_total",
    "Used refresh tokens presented again (their family is revoked)",
)
SERVICE_TOKENS = Counter(
    "store_service_tokens_total", "Client-credentials token requests by result", ["result"]
)

# Pre-create the label sets so dashboards show zeros instead of no data.
for _result in ("success", "failure"):
    LOGINS.labels(_result)
    SERVICE_TOKENS.labels(_result)
for _reason in ("unknown_user", "bad_password"):
    LOGIN_FAILURES.labels(_reason)
