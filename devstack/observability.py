"""Gateway and observability processes of the local stack: nginx, its exporter, Prometheus,
Alertmanager and Jaeger.

Each function renders its config from the templates next to this file into
`var/<name>/` and returns a `Proc`; nothing starts until `.start()`. All settings come
from environment variables (see `Config.from_env`); tests override fields with
`dataclasses.replace` and use their own `name` so they never collide with a running stack.

    python -m devstack.observability up|down|render      # the whole set, in order
    python -m devstack.observability swagger DIR         # Swagger UI assets (for images)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from kit.topology import TOPOLOGY

from devstack import jaeger as jaeger_build
from devstack.cli import dispatch
from devstack.procs import ROOT, VAR, Proc, http_ok, port_open
from devstack.templates import render

HERE = Path(__file__).resolve().parent
SERVICES = TOPOLOGY.names
# Swagger UI files we serve; the source maps and ES bundles are not needed by the page.
SWAGGER_ASSETS = (
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-ui.css",
    "index.css",
    "favicon-16x16.png",
    "favicon-32x32.png",
    "oauth2-redirect.html",
    "oauth2-redirect.js",
)


# What `Config.url` can name: each has a `<name>_port` field.
Component = Literal[
    "gateway", "nginx_exporter", "prometheus", "alertmanager", "jaeger_ui", "jaeger_otlp_http",
    "jaeger_metrics", "jaeger_health",
]  # fmt: skip


@dataclass(frozen=True)
class Config:
    """Every address and knob of the gateway and observability processes."""

    gateway_port: int = TOPOLOGY.gateway.port
    upstreams: Mapping[str, str] = field(
        default_factory=lambda: {s.name: f"127.0.0.1:{s.port}" for s in TOPOLOGY}
    )
    gateway_workers: str = "1"
    gateway_rate: str = "50r/s"
    gateway_burst: int = 100
    gateway_auth_rate: str = "5r/s"
    gateway_auth_burst: int = 10
    trusted_proxy: str = "unix:"  # nobody's X-Forwarded-For is believed locally
    docs_root: Path = ROOT / "site"
    nginx_exporter_port: int = 9113
    prometheus_port: int = 9090
    alertmanager_port: int = 9093
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    cassandra_metrics: str = "127.0.0.1:7070"
    # The JMX exporter walks every table's MBeans: a scrape can take seconds on a busy node,
    # and Prometheus needs it to finish within the job's interval.
    cassandra_scrape_interval: str = "15s"
    telegram_api_url: str = ""  # "": Telegram's own API, but only once a bot is configured
    telegram_token_file: Path | None = None
    telegram_chat_id: str = ""
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    jaeger_ui_port: int = 16686
    jaeger_query_grpc_port: int = 16685
    jaeger_otlp_grpc_port: int = 4317
    jaeger_otlp_http_port: int = 4318
    jaeger_metrics_port: int = 8888
    jaeger_spanmetrics_port: int = 8889
    jaeger_health_port: int = 13133

    def url(self, component: Component) -> str:
        """Where `component` answers HTTP on this machine: `cfg.url("prometheus")`."""
        port: int = getattr(self, f"{component}_port")
        return f"http://127.0.0.1:{port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Config:
        """Defaults overridden by the variables in ENV_NAMES (and STORE_<SVC>_UPSTREAM)."""
        d = cls()
        overrides: dict[str, Any] = {}
        for name, key in ENV_NAMES.items():
            if value := env.get(key):
                kind = Path if name.endswith(("_file", "_root")) else type(getattr(d, name))
                overrides[name] = kind(value)
        upstreams = {s: env.get(f"STORE_{s.upper()}_UPSTREAM") or d.upstreams[s] for s in SERVICES}
        return replace(d, upstreams=upstreams, **overrides)


ENV_NAMES = {
    "gateway_port": "STORE_GATEWAY_PORT",
    "gateway_workers": "STORE_GATEWAY_WORKERS",
    "gateway_rate": "STORE_GATEWAY_RATE",
    "gateway_burst": "STORE_GATEWAY_BURST",
    "gateway_auth_rate": "STORE_GATEWAY_AUTH_RATE",
    "gateway_auth_burst": "STORE_GATEWAY_AUTH_BURST",
    "trusted_proxy": "STORE_GATEWAY_TRUSTED_PROXY",
    "docs_root": "STORE_DOCS_ROOT",
    "nginx_exporter_port": "STORE_NGINX_EXPORTER_PORT",
    "prometheus_port": "STORE_PROMETHEUS_PORT",
    "alertmanager_port": "STORE_ALERTMANAGER_PORT",
    "scrape_interval": "STORE_SCRAPE_INTERVAL",
    "evaluation_interval": "STORE_EVALUATION_INTERVAL",
    "cassandra_metrics": "STORE_CASSANDRA_METRICS",
    "cassandra_scrape_interval": "STORE_CASSANDRA_SCRAPE_INTERVAL",
    "telegram_api_url": "TELEGRAM_API_URL",
    "telegram_token_file": "TELEGRAM_BOT_TOKEN_FILE",
    "telegram_chat_id": "TELEGRAM_CHAT_ID",
    "jaeger_ui_port": "STORE_JAEGER_UI_PORT",
    "jaeger_query_grpc_port": "STORE_JAEGER_QUERY_GRPC_PORT",
    "jaeger_otlp_grpc_port": "STORE_JAEGER_OTLP_GRPC_PORT",
    "jaeger_otlp_http_port": "STORE_JAEGER_OTLP_HTTP_PORT",
    "jaeger_metrics_port": "STORE_JAEGER_METRICS_PORT",
    "jaeger_spanmetrics_port": "STORE_JAEGER_SPANMETRICS_PORT",
    "jaeger_health_port": "STORE_JAEGER_HEALTH_PORT",
}


def _which(*names: str) -> str:
    for name in names:
        if found := shutil.which(name) or (
            Path("/usr/sbin", name).exists() and f"/usr/sbin/{name}"
        ):
            return str(found)
    raise FileNotFoundError(f"none of {names} on PATH (Debian packages must be installed)")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- gateway


def swagger_assets(dest: Path) -> Path:
    """Swagger UI 5 from the swagger-ui-bundle-v2 wheel plus our page over the four specs:
    the gateway works offline and its CSP can stay `script-src 'self'`."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError as exc:  # pragma: no cover - a dependency problem, said plainly
        raise RuntimeError("install the PyPI package swagger-ui-bundle-v2") from exc
    dest.mkdir(parents=True, exist_ok=True)
    for name in SWAGGER_ASSETS:
        shutil.copyfile(Path(str(swagger_ui_path)) / name, dest / name)
    for own in (HERE / "gateway" / "swagger").iterdir():
        shutil.copyfile(own, dest / own.name)
    return dest


def gateway_values(cfg: Config, var: Path) -> dict[str, object]:
    return {
        "GATEWAY_PORT": cfg.gateway_port,
        **{f"{s.upper()}_UPSTREAM": cfg.upstreams[s] for s in SERVICES},
        "GATEWAY_VAR": var,
        "GATEWAY_ACCESS_LOG": var / "access.log",
        "GATEWAY_WORKERS": cfg.gateway_workers,
        "GATEWAY_RATE": cfg.gateway_rate,
        "GATEWAY_BURST": cfg.gateway_burst,
        "GATEWAY_AUTH_RATE": cfg.gateway_auth_rate,
        "GATEWAY_AUTH_BURST": cfg.gateway_auth_burst,
        "GATEWAY_TRUSTED_PROXY": cfg.trusted_proxy,
        "SWAGGER_ROOT": var / "swagger",
        "DOCS_ROOT": cfg.docs_root,
    }


def gateway_argv(var: Path, conf: Path) -> list[str]:
    # `daemon off` goes on the command line, not in the template: the nginx image of the
    # chart already passes it with -g, and nginx rejects the directive twice. As root,
    # workers would otherwise run as `nobody`, who may not traverse a checkout under /root.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    return [_which("nginx"), "-p", str(var), "-c", str(conf), "-e", "stderr", "-g", directives]


def gateway(cfg: Config | None = None, name: str = "gateway") -> Proc:
    cfg = cfg or Config.from_env()
    var = _mkdir(VAR / name)
    _mkdir(var / "tmp")
    swagger_assets(var / "swagger")
    conf = render(
        HERE / "gateway" / "nginx.conf.template", var / "nginx.conf", gateway_values(cfg, var)
    )
    return Proc(name, gateway_argv(var, conf), lambda: port_open(cfg.gateway_port))


def check_gateway(proc: Proc) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the config a `gateway()` Proc was rendered with."""
    return subprocess.run([*proc.argv, "-t"], capture_output=True, text=True, check=False)


def nginx_exporter(cfg: Config | None = None, name: str = "nginx-exporter") -> Proc:
    cfg = cfg or Config.from_env()
    url = f"{cfg.url('nginx_exporter')}/metrics"
    argv = [
        _which("prometheus-nginx-exporter", "nginx-prometheus-exporter"),
        f"-nginx.scrape-uri={cfg.url('gateway')}/nginx_status",
        f"-web.listen-address=127.0.0.1:{cfg.nginx_exporter_port}",
        # It exits at start when nginx is not up yet; retry instead of racing the gateway.
        "-nginx.retries=30",
        "-nginx.retry-interval=1s",
    ]
    return Proc(name, argv, lambda: http_ok(url))


# ---------------------------------------------------------------- Prometheus


def prometheus(
    cfg: Config | None = None, name: str = "prometheus", rule_files: list[Path] | None = None
) -> Proc:
    """`rule_files` defaults to the shared recording and alert rules."""
    cfg = cfg or Config.from_env()
    var = _mkdir(VAR / name)
    rules = var / "rules"
    shutil.rmtree(rules, ignore_errors=True)
    rules.mkdir()
    for rule_file in rule_files or [
        HERE / "prometheus" / f for f in ("recording_rules.yml", "alert_rules.yml")
    ]:
        shutil.copyfile(rule_file, rules / rule_file.name)
    values = {
        "SCRAPE_INTERVAL": cfg.scrape_interval,
        "EVALUATION_INTERVAL": cfg.evaluation_interval,
        "RULES_DIR": rules,
        "ALERTMANAGER_ADDR": f"127.0.0.1:{cfg.alertmanager_port}",
        **{f"{s.upper()}_UPSTREAM": cfg.upstreams[s] for s in SERVICES},
        "NGINX_EXPORTER_ADDR": f"127.0.0.1:{cfg.nginx_exporter_port}",
        "CASSANDRA_METRICS_ADDR": cfg.cassandra_metrics,
        "CASSANDRA_SCRAPE_INTERVAL": cfg.cassandra_scrape_interval,
        "JAEGER_METRICS_ADDR": f"127.0.0.1:{cfg.jaeger_metrics_port}",
        "JAEGER_SPANMETRICS_ADDR": f"127.0.0.1:{cfg.jaeger_spanmetrics_port}",
        "PROMETHEUS_ADDR": f"127.0.0.1:{cfg.prometheus_port}",
    }
    conf = render(HERE / "prometheus" / "prometheus.yml.template", var / "prometheus.yml", values)
    argv = [
        _which("prometheus"),
        f"--config.file={conf}",
        f"--storage.tsdb.path={var / 'data'}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address=127.0.0.1:{cfg.prometheus_port}",
        "--web.enable-lifecycle",  # POST /-/reload after editing rules
    ]
    return Proc(name, argv, lambda: http_ok(f"{cfg.url('prometheus')}/-/ready"))


# ---------------------------------------------------------------- Alertmanager

TELEGRAM_API = "https://api.telegram.org"
UNCONFIGURED_API = "http://127.0.0.1:9"  # discard port: nothing listens, nothing leaves


def _alertmanager_version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def render_alertmanager(cfg: Config, var: Path, binary: str) -> Path:
    templates = _mkdir(var / "templates")
    shutil.copyfile(HERE / "alertmanager" / "telegram.tmpl", templates / "telegram.tmpl")
    token_file, api_url = cfg.telegram_token_file, cfg.telegram_api_url or TELEGRAM_API
    if token_file is None:
        # No bot configured: a dummy token keeps the config loadable, and notifications go
        # to a closed loopback port (logged as failed) rather than to the internet.
        token_file = var / "telegram-token.unset"
        token_file.write_text("0:unset\n")
        api_url = cfg.telegram_api_url or UNCONFIGURED_API
    chat_id = cfg.telegram_chat_id or "-1"  # Alertmanager rejects a missing or zero chat_id
    values = {
        "TELEGRAM_API_URL": api_url,
        "TELEGRAM_BOT_TOKEN_FILE": token_file,
        "TELEGRAM_CHAT_ID": chat_id,
        "TEMPLATES_DIR": templates,
        "GROUP_WAIT": cfg.group_wait,
        "GROUP_INTERVAL": cfg.group_interval,
        "REPEAT_INTERVAL": cfg.repeat_interval,
    }
    conf = render(
        HERE / "alertmanager" / "alertmanager.yml.template", var / "alertmanager.yml", values
    )
    if _alertmanager_version(binary) < (0, 26):  # bot_token_file arrived in 0.26
        line = f"bot_token_file: {token_file}"
        text = conf.read_text()
        if line not in text:
            raise ValueError(f"{conf}: expected {line!r} to inline the token")
        # A JSON string is a valid YAML scalar: quoting is safe whatever the token holds.
        token = json.dumps(token_file.read_text().strip())
        conf.write_text(text.replace(line, f"bot_token: {token}"))
    conf.chmod(0o600)
    return conf


def alertmanager(cfg: Config | None = None, name: str = "alertmanager") -> Proc:
    cfg = cfg or Config.from_env()
    var = _mkdir(VAR / name)
    binary = _which("prometheus-alertmanager", "alertmanager")
    conf = render_alertmanager(cfg, var, binary)
    argv = [
        binary,
        f"--config.file={conf}",
        f"--storage.path={var / 'data'}",
        f"--web.listen-address=127.0.0.1:{cfg.alertmanager_port}",
        "--cluster.listen-address=",  # single instance: no gossip port to collide on
    ]
    return Proc(name, argv, lambda: http_ok(f"{cfg.url('alertmanager')}/-/ready"))


# ---------------------------------------------------------------- Jaeger


def jaeger(cfg: Config | None = None, name: str = "jaeger") -> Proc:
    """Jaeger v2 all-in-one with in-memory storage; builds the binary first if missing."""
    cfg = cfg or Config.from_env()
    var = _mkdir(VAR / name)
    values = {
        "JAEGER_UI_PORT": cfg.jaeger_ui_port,
        "JAEGER_QUERY_GRPC_PORT": cfg.jaeger_query_grpc_port,
        "JAEGER_OTLP_GRPC_PORT": cfg.jaeger_otlp_grpc_port,
        "JAEGER_OTLP_HTTP_PORT": cfg.jaeger_otlp_http_port,
        "JAEGER_METRICS_PORT": cfg.jaeger_metrics_port,
        "JAEGER_SPANMETRICS_PORT": cfg.jaeger_spanmetrics_port,
        "JAEGER_HEALTH_PORT": cfg.jaeger_health_port,
    }
    conf = render(HERE / "jaeger" / "config.yaml", var / "config.yaml", values)
    binary = jaeger_build.ensure()
    health = f"{cfg.url('jaeger_health')}/status"
    return Proc(name, [str(binary), "--config", str(conf)], lambda: http_ok(health))


# ---------------------------------------------------------------- CLI


def all_procs(cfg: Config | None = None) -> list[Proc]:
    """Start order: receivers of data before their senders."""
    cfg = cfg or Config.from_env()
    return [jaeger(cfg), alertmanager(cfg), gateway(cfg), nginx_exporter(cfg), prometheus(cfg)]


def _swagger(directory: str) -> None:
    print(swagger_assets(Path(directory)))


def _render() -> None:
    for proc in all_procs():
        print(proc.name, " ".join(proc.argv))


def _up() -> None:
    for proc in all_procs():
        print(f"{proc.name}: ready in {proc.start():.1f}s")


def _down() -> None:
    # By name only: stopping must not render configs or build Jaeger.
    for name in ("prometheus", "nginx-exporter", "gateway", "alertmanager", "jaeger"):
        stopped = Proc(name, (), lambda: True).stop()
        print(f"{name}: {'stopped' if stopped else 'not running'}")


def main(argv: list[str]) -> int:
    return dispatch(
        argv, {"swagger": _swagger, "render": _render, "up": _up, "down": _down}, __doc__
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
