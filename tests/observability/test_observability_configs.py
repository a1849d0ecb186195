"""Static checks of the Prometheus and Alertmanager files with the real tools."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from kit.topology import TOPOLOGY

from devstack import observability as obs
from devstack.procs import VAR
from devstack.templates import render

pytestmark = pytest.mark.integration

PROM = obs.HERE / "prometheus"


def run(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_rule_files_are_valid() -> None:
    out = run(
        "promtool",
        "check",
        "rules",
        str(PROM / "recording_rules.yml"),
        str(PROM / "alert_rules.yml"),
    )
    assert "SUCCESS" in out


@pytest.mark.parametrize("unit_test", sorted((PROM / "tests").glob("*.yml")), ids=lambda p: p.name)
def test_rule_unit_tests(unit_test: Path) -> None:
    assert "SUCCESS" in run("promtool", "test", "rules", unit_test.name, cwd=unit_test.parent)


def test_rendered_prometheus_config_is_valid() -> None:
    proc = obs.prometheus(obs.Config(), name="test-prometheus-config")
    run("promtool", "check", "config", str(VAR / proc.name / "prometheus.yml"))


def test_rendered_alertmanager_config_is_valid(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("42:secret-token\n")
    cfg = replace(obs.Config(), telegram_token_file=token, telegram_chat_id="-100777")
    proc = obs.alertmanager(cfg, name="test-alertmanager-config")
    rendered = VAR / proc.name / "alertmanager.yml"
    out = run("amtool", "check-config", str(rendered))
    assert "1 receivers" in out and "2 inhibit rules" in out
    assert rendered.stat().st_mode & 0o077 == 0  # it may hold the bot token
    text = rendered.read_text()
    assert "chat_id: -100777" in text and "send_resolved: true" in text
    assert f"api_url: {obs.TELEGRAM_API}" in text
    assert 'bot_token: "42:secret-token"' in text or f"bot_token_file: {token}" in text


def test_alertmanager_without_a_bot_loads_and_never_calls_out() -> None:
    proc = obs.alertmanager(obs.Config(), name="test-alertmanager-nobot")
    rendered = VAR / proc.name / "alertmanager.yml"
    run("amtool", "check-config", str(rendered))
    assert f"api_url: {obs.UNCONFIGURED_API}" in rendered.read_text()


def test_render_refuses_an_unknown_placeholder(tmp_path: Path) -> None:
    template = tmp_path / "t.conf"
    template.write_text("listen ${GATEWAY_PORT}; set $x $host; ${TYPO_HERE}\n")
    with pytest.raises(KeyError, match="TYPO_HERE"):
        render(template, tmp_path / "out.conf", {"GATEWAY_PORT": 1})
    template.write_text("listen ${GATEWAY_PORT}; set $x $host;\n")
    out = render(template, tmp_path / "out.conf", {"GATEWAY_PORT": 1, "host": "no"})
    assert out.read_text() == "listen 1; set $x $host;\n"  # nginx's own variables untouched


def test_gateway_template_only_uses_known_placeholders(tmp_path: Path) -> None:
    proc = obs.gateway(obs.Config(), name="test-gateway-config")
    assert obs.check_gateway(proc).returncode == 0


def test_config_from_env_overrides_defaults() -> None:
    cfg = obs.Config.from_env(
        {
            "STORE_GATEWAY_PORT": "9999",
            "STORE_CART_UPSTREAM": "cart:8001",
            "STORE_GATEWAY_AUTH_RATE": "2r/s",
            "TELEGRAM_BOT_TOKEN_FILE": "/run/secrets/bot-token",
        }
    )
    assert cfg.gateway_port == 9999 and cfg.gateway_auth_rate == "2r/s"
    assert cfg.url("gateway") == "http://127.0.0.1:9999"
    assert cfg.url("jaeger_ui") == f"http://127.0.0.1:{cfg.jaeger_ui_port}"
    assert cfg.upstreams["cart"] == "cart:8001"
    assert cfg.upstreams["catalog"] == f"127.0.0.1:{TOPOLOGY.service('catalog').port}"
    assert cfg.telegram_token_file == Path("/run/secrets/bot-token")
    assert obs.Config.from_env({}) == obs.Config()


def test_prometheus_scrapes_each_service_of_the_topology_as_its_job() -> None:
    template = (obs.HERE / "prometheus" / "prometheus.yml.template").read_text()
    for s in TOPOLOGY:
        target = f'[{{targets: ["${{{s.name.upper()}_UPSTREAM}}"]}}]'
        job = f"  - job_name: {s.name}\n    static_configs: {target}"
        assert job in template, f"no scrape job {s.name} in prometheus.yml.template"
