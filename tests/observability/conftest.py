"""Real Prometheus, Alertmanager, nginx + exporter and Jaeger on random loopback ports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devstack import observability as obs
from devstack.procs import free_port
from tests.observability.standins import BOT_TOKEN, CHAT_ID, AlertingStack, TelegramStandIn


def fast_alert_rules(dest: Path) -> Path:
    """The real alert rules with every `for:` at 0s, so a test sees them fire at once."""
    text = (obs.HERE / "prometheus" / "alert_rules.yml").read_text()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "alert_rules.yml").write_text(re.sub(r"(?m)^(\s+for:) \S+$", r"\1 0s", text))
    return dest / "alert_rules.yml"


@pytest.fixture(scope="session")
def telegram() -> Iterator[TelegramStandIn]:
    standin = TelegramStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def alerting_stack(
    telegram: TelegramStandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AlertingStack]:
    """Every service target is a closed port (so ServiceDown fires); the gateway and its
    exporter are real, so Prometheus scrapes live nginx metrics too."""
    tmp = tmp_path_factory.mktemp("alerting")
    token_file = tmp / "bot-token"
    token_file.write_text(BOT_TOKEN + "\n")
    cfg = replace(
        obs.Config(),
        gateway_port=free_port(),
        upstreams={name: f"127.0.0.1:{free_port()}" for name in obs.SERVICES},
        nginx_exporter_port=free_port(),
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        cassandra_metrics=f"127.0.0.1:{free_port()}",
        jaeger_metrics_port=free_port(),
        scrape_interval="1s",
        cassandra_scrape_interval="5s",
        evaluation_interval="1s",
        telegram_api_url=telegram.url,
        telegram_token_file=token_file,
        telegram_chat_id=CHAT_ID,
        group_wait="1s",
        group_interval="2s",
        repeat_interval="1h",
    )
    rules = [obs.HERE / "prometheus" / "recording_rules.yml", fast_alert_rules(tmp / "rules")]
    procs = [
        obs.alertmanager(cfg, name="test-alertmanager"),
        obs.gateway(cfg, name="test-obs-gateway"),
        obs.nginx_exporter(cfg, name="test-nginx-exporter"),
        obs.prometheus(cfg, name="test-prometheus", rule_files=rules),
    ]
    try:
        for proc in procs:
            proc.start()
        yield AlertingStack(cfg, telegram)
    finally:
        for proc in reversed(procs):
            proc.stop()
