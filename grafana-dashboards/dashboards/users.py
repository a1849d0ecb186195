"""Product Store / Users: registrations, sign-ins and token security signals."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import THIRD, Q, alert_steps, by_label, graph
from dashboards.common import single_stat as stat
from dashboards.promql import rate_sum
from dashboards.service import SERVICE, Service, service_dashboard, share_of

USERS = Service(
    name="users",
    title="Users",
    description="Accounts and tokens: HTTP, registrations, logins and failures, refresh-token "
    "rotation and reuse detection, service tokens, and Cassandra client latency.",
    identity_metric="store_registrations_total",
    calls_upstreams=False,
)

LOGINS = "store_logins_total"


def build() -> model.Dashboard:
    business = [
        graph(
            "Registrations",
            "ops",
            Q(rate_sum("store_registrations_total", SERVICE), "registrations/s"),
            description="Accounts created per second.",
            width=THIRD,
        ),
        by_label(
            "Logins by result",
            "ops",
            LOGINS,
            SERVICE,
            "result",
            description="Sign-in attempts per second by result.",
            width=THIRD,
        ),
        graph(
            "Login failure ratio",
            "percentunit",
            Q(share_of(LOGINS, 'result="failure"'), "failed / attempts"),
            description="Share of sign-in attempts that failed. A sudden rise suggests "
            "credential stuffing.",
            width=THIRD,
        ),
        by_label(
            "Login failures by reason",
            "ops",
            "store_login_failures_total",
            SERVICE,
            "reason",
            description="Failed sign-ins per second by reason (never revealed to clients).",
            width=THIRD,
        ),
        graph(
            "Token refreshes",
            "ops",
            Q(rate_sum("store_token_refreshes_total", SERVICE), "rotations/s"),
            Q(
                rate_sum("store_service_tokens_total", SERVICE, ["result"]),
                "service tokens {{result}}",
            ),
            description="Refresh-token rotations and client-credentials (service) token "
            "requests per second.",
            width=THIRD,
        ),
        stat(
            "Refresh token reuse (time range)",
            "short",
            Q(
                f"sum(increase(store_refresh_reuse_detected_total{SERVICE}[$__range]))",
                instant=True,
            ),
            description="Used refresh tokens presented again during the selected range; each "
            "revokes its token family. Anything above 0 deserves a look.",
            steps=alert_steps(red=1),
            width=THIRD,
            height=8,
            decimals=0,
        ),
    ]
    return service_dashboard(USERS, "Accounts and tokens", business)
