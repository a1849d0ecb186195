"""Security metrics of the users service (the reason of a failed sign-in is only ever here)."""

from __future__ import annotations

from kit.metrics import labelled_counter
from prometheus_client import Counter

REGISTRATIONS = Counter("store_registrations_total", "Accounts created")
LOGINS = labelled_counter(
    "store_logins_total", "Sign-in attempts by result", "result", ("success", "failure")
)
LOGIN_FAILURES = labelled_counter(
    "store_login_failures_total",
    "Failed sign-ins by reason",
    "reason",
    ("unknown_user", "bad_password"),
)
TOKEN_REFRESHES = Counter("store_token_refreshes_total", "Refresh tokens rotated")
REFRESH_REUSE = Counter(
    "store_refresh_reuse_detected_total",
    "Used refresh tokens presented again (their family is revoked)",
)
SERVICE_TOKENS = labelled_counter(
    "store_service_tokens_total",
    "Client-credentials token requests by result",
    "result",
    ("success", "failure"),
)
