"""End to end: real Prometheus evaluates the real alert rules, real Alertmanager routes to
a Telegram stand-in; plus the nginx exporter scraped by Prometheus."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import httpx
import pytest

from tests.observability.standins import BOT_TOKEN, CHAT_ID, AlertingStack, metrics_target
from tests.polling import wait_for

pytestmark = pytest.mark.integration


def query(stack: AlertingStack, promql: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.cfg.url('prometheus')}/api/v1/query", params={"query": promql})
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    return result


def telegram_messages(stack: AlertingStack, *needles: str) -> list[dict[str, Any]]:
    return [m for m in stack.telegram.messages if all(n in m["text"] for n in needles)]


def test_nginx_exporter_is_scraped(alerting_stack: AlertingStack) -> None:
    # Each target has its own scrape offset within the interval: wait for each.
    for promql in (
        'nginx_up{job="gateway"} == 1',
        'nginx_connections_accepted{job="gateway"} > 0',
        'up{job="prometheus"} == 1',
        'up{job="alertmanager"} == 1',
    ):
        wait_for(promql, partial(query, alerting_stack, promql), timeout=30)


def test_service_down_reaches_telegram_then_resolves(alerting_stack: AlertingStack) -> None:
    firing = wait_for(
        "a Telegram message about catalog being down",
        lambda: telegram_messages(alerting_stack, "FIRING", "ServiceDown", "catalog is down"),
    )
    message = firing[0]
    assert message["path"] == f"/bot{BOT_TOKEN}/sendMessage"
    assert str(message["chat_id"]) == CHAT_ID
    assert f"127.0.0.1:{alerting_stack.catalog_port}" in message["text"]
    assert "[CRITICAL]" in message["text"]
    assert not message.get("parse_mode")  # plain text: label values cannot break markup

    # The catalog comes back: a RESOLVED message follows (send_resolved).
    server = metrics_target(alerting_stack.catalog_port)
    try:
        wait_for(
            "a RESOLVED message for catalog",
            lambda: telegram_messages(alerting_stack, "RESOLVED", "ServiceDown", "catalog is down"),
            timeout=90,
        )
    finally:
        server.shutdown()
        server.server_close()


def test_service_down_inhibits_the_alerts_it_causes(alerting_stack: AlertingStack) -> None:
    """Alerts posted straight to Alertmanager: ServiceDown{service=users} must silence the
    breaker that cart opened against users, but not one against another service."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def alert(**labels: str) -> dict[str, object]:
        return {"labels": labels, "startsAt": now, "annotations": {"summary": "posted by a test"}}

    alerts = [
        alert(alertname="ServiceDown", job="users", service="users", severity="critical"),
        alert(alertname="CircuitBreakerOpen", job="cart", upstream="users", service="users"),
        alert(alertname="CircuitBreakerOpen", job="cart", upstream="ledger", service="ledger"),
    ]
    alertmanager = alerting_stack.cfg.url("alertmanager")
    httpx.post(f"{alertmanager}/api/v2/alerts", json=alerts).raise_for_status()

    def breaker_states() -> dict[str, str] | None:
        got = httpx.get(
            f"{alertmanager}/api/v2/alerts",
            params={"filter": "alertname=CircuitBreakerOpen"},
        ).json()
        states = {a["labels"]["upstream"]: a["status"]["state"] for a in got}
        return states if len(states) == 2 and "unprocessed" not in states.values() else None

    states = wait_for("both breaker alerts processed", breaker_states)
    assert states == {"users": "suppressed", "ledger": "active"}
