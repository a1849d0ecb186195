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

import os
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack import jaeger as jaeger_build
from devstack.procs import ROOT, VAR, Proc, http_ok, port_open

HERE = Path(__file__).resolve().parent
SERVICES = ("catalog", "cart", "orders", "users")
DEFAULT_SERVICE_PORTS = {"catalog": 8000, "cart": 8001, "orders": 8002, "users": 8003}
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


def _env(env: Mapping[str, str], key: str, default: str) -> str:
    return env.get(key) or default


@dataclass(frozen=True)
class Config:
    """Every address and knob of the gateway and observability processes."""

    gateway_port: int = 8080
    upstreams: Mapping[str, str] = field(
        default_factory=lambda: {s: f"127.0.0.1:{p}" for s, p in DEFAULT_SERVICE_PORTS.items()}
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
    telegram_api_url: str = "https://api.telegram.org"
    telegram_token_file: Path | None = None
    telegram_chat_id: str = "0"
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    jaeger_ui_port: int = 16686
    jaeger_query_grpc_port: int = 16685
    jaeger_otlp_grpc_port: int = 4317
    jaeger_otlp_http_port: int = 4318
    jaeger_metrics_port: int = 8888
    jaeger_health_port: int = 13133

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Config:
        d = cls()
        token = env.get("TELEGRAM_BOT_TOKEN_FILE")
        return cls(
            gateway_port=int(_env(env, "STORE_GATEWAY_PORT", str(d.gateway_port))),
            upstreams={
                s: _env(env, f"STORE_{s.upper()}_UPSTREAM", d.upstreams[s]) for s in SERVICES
            },
            gateway_workers=_env(env, "STORE_GATEWAY_WORKERS", d.gateway_workers),
            gateway_rate=_env(env, "STORE_GATEWAY_RATE", d.gateway_rate),
            gateway_burst=int(_env(env, "STORE_GATEWAY_BURST", str(d.gateway_burst))),
            gateway_auth_rate=_env(env, "STORE_GATEWAY_AUTH_RATE", d.gateway_auth_rate),
            gateway_auth_burst=int(
                _env(env, "STORE_GATEWAY_AUTH_BURST", str(d.gateway_auth_burst))
            ),
            trusted_proxy=_env(env, "STORE_GATEWAY_TRUSTED_PROXY", d.trusted_proxy),
            docs_root=Path(_env(env, "STORE_DOCS_ROOT", str(d.docs_root))),
            nginx_exporter_port=int(
                _env(env, "STORE_NGINX_EXPORTER_PORT", str(d.nginx_exporter_port))
            ),
            prometheus_port=int(_env(env, "STORE_PROMETHEUS_PORT", str(d.prometheus_port))),
            alertmanager_port=int(_env(env, "STORE_ALERTMANAGER_PORT", str(d.alertmanager_port))),
            scrape_interval=_env(env, "STORE_SCRAPE_INTERVAL", d.scrape_interval),
            evaluation_interval=_env(env, "STORE_EVALUATION_INTERVAL", d.evaluation_interval),
            cassandra_metrics=_env(env, "STORE_CASSANDRA_METRICS", d.cassandra_metrics),
            telegram_api_url=_env(env, "TELEGRAM_API_URL", d.telegram_api_url),
            telegram_token_file=Path(token) if token else None,
            telegram_chat_id=_env(env, "TELEGRAM_CHAT_ID", d.telegram_chat_id),
            jaeger_ui_port=int(_env(env, "STORE_JAEGER_UI_PORT", str(d.jaeger_ui_port))),
            jaeger_otlp_grpc_port=int(
                _env(env, "STORE_JAEGER_OTLP_GRPC_PORT", str(d.jaeger_otlp_grpc_port))
            ),
            jaeger_otlp_http_port=int(
                _env(env, "STORE_JAEGER_OTLP_HTTP_PORT", str(d.jaeger_otlp_http_port))
            ),
            jaeger_metrics_port=int(
                _env(env, "STORE_JAEGER_METRICS_PORT", str(d.jaeger_metrics_port))
            ),
        )


class _Template(string.Template):
    # Case-sensitive UPPER_CASE only, so nginx's $lower_case variables and Go templates'
    # $labels are never touched (the default idpattern is case-insensitive).
    idpattern = r"[A-Z][A-Z0-9_]*"
    flags = re.ASCII


_LEFTOVER = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}")


def render(template: Path, dest: Path, values: Mapping[str, object]) -> Path:
    """Substitute ${UPPER} placeholders; refuse to leave one unrendered (a typo would
    otherwise surface as a confusing error of the program reading the file)."""
    text = _Template(template.read_text()).safe_substitute({k: str(v) for k, v in values.items()})
    if leftover := _LEFTOVER.findall(text):
        raise KeyError(f"{template.name}: no value for {sorted(set(leftover))}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text)
    return dest


def _which(*names: str) -> str:
    for name in names:
        if found := shutil.which(name) or (
            Path("/usr/sbin", name).exists() and f"/usr/sbin/{name}"
        ):
            return str(found)
    raise FileNotFoundError(f"none of {names} on PATH (Debian packages must be installed)")


def _fresh_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------- gateway


def swagger_assets(dest: Path) -> Path:
    """Swagger UI 5 from the swagger-ui-bundle-v2 wheel plus our page over the four specs:
    the gateway works offline and its CSP can stay `script-src 'self'`."""
    try:
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
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


def gateway_argv(var: Path, conf: Path, *extra: str) -> list[str]:
    # `daemon off` goes on the command line, not in the template: the nginx image of the
    # chart already passes it with -g, and nginx rejects the directive twice. As root,
    # workers would otherwise run as `nobody`, who may not traverse a checkout under /root.
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    return [
        _which("nginx"),
        "-p",
        str(var),
        "-c",
        str(conf),
        "-e",
        "stderr",
        "-g",
        directives,
        *extra,
    ]


def gateway(cfg: Config | None = None, name: str = "gateway") -> Proc:
    cfg = cfg or Config.from_env()
    var = _fresh_dir(VAR / name)
    _fresh_dir(var / "tmp")
    swagger_assets(var / "swagger")
    conf = render(
        HERE / "gateway" / "nginx.conf.template", var / "nginx.conf", gateway_values(cfg, var)
    )
    return Proc(name, gateway_argv(var, conf), lambda: port_open(cfg.gateway_port))


def check_gateway(proc: Proc) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on the config a `gateway()` Proc was rendered with."""
    argv = list(proc.argv)
    return subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)


def nginx_exporter(cfg: Config | None = None, name: str = "nginx-exporter") -> Proc:
    cfg = cfg or Config.from_env()
    url = f"http://127.0.0.1:{cfg.nginx_exporter_port}/metrics"
    argv = [
        _which("prometheus-nginx-exporter", "nginx-prometheus-exporter"),
        f"-nginx.scrape-uri=http://127.0.0.1:{cfg.gateway_port}/nginx_status",
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
    var = _fresh_dir(VAR / name)
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
        "JAEGER_METRICS_ADDR": f"127.0.0.1:{cfg.jaeger_metrics_port}",
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
    return Proc(name, argv, lambda: http_ok(f"http://127.0.0.1:{cfg.prometheus_port}/-/ready"))


# ---------------------------------------------------------------- Alertmanager


def _alertmanager_version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"version (\d+)\.(\d+)", out.stdout + out.stderr)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def render_alertmanager(cfg: Config, var: Path, binary: str) -> Path:
    templates = _fresh_dir(var / "templates")
    shutil.copyfile(HERE / "alertmanager" / "telegram.tmpl", templates / "telegram.tmpl")
    token_file = cfg.telegram_token_file
    if token_file is None:
        # No bot configured: a syntactically valid dummy keeps the config loadable; sends
        # fail (and are logged) until TELEGRAM_BOT_TOKEN_FILE and TELEGRAM_CHAT_ID are set.
        token_file = var / "telegram-token.unset"
        token_file.write_text("0:unset\n")
    values = {
        "TELEGRAM_API_URL": cfg.telegram_api_url,
        "TELEGRAM_BOT_TOKEN_FILE": token_file,
        "TELEGRAM_CHAT_ID": cfg.telegram_chat_id,
        "TEMPLATES_DIR": templates,
        "GROUP_WAIT": cfg.group_wait,
        "GROUP_INTERVAL": cfg.group_interval,
        "REPEAT_INTERVAL": cfg.repeat_interval,
    }
    conf = render(
        HERE / "alertmanager" / "alertmanager.yml.template", var / "alertmanager.yml", values
    )
    if _alertmanager_version(binary) < (0, 26):  # bot_token_file arrived in 0.26
        token = token_file.read_text().strip()
        text = conf.read_text().replace(f"bot_token_file: {token_file}", f"bot_token: '{token}'")
        conf.write_text(text)
    conf.chmod(0o600)
    return conf


def alertmanager(cfg: Config | None = None, name: str = "alertmanager") -> Proc:
    cfg = cfg or Config.from_env()
    var = _fresh_dir(VAR / name)
    binary = _which("prometheus-alertmanager", "alertmanager")
    conf = render_alertmanager(cfg, var, binary)
    argv = [
        binary,
        f"--config.file={conf}",
        f"--storage.path={var / 'data'}",
        f"--web.listen-address=127.0.0.1:{cfg.alertmanager_port}",
        "--cluster.listen-address=",  # single instance: no gossip port to collide on
    ]
    return Proc(name, argv, lambda: http_ok(f"http://127.0.0.1:{cfg.alertmanager_port}/-/ready"))


# ---------------------------------------------------------------- Jaeger


def jaeger(cfg: Config | None = None, name: str = "jaeger") -> Proc:
    """Jaeger v2 all-in-one with in-memory storage; builds the binary first if missing."""
    cfg = cfg or Config.from_env()
    var = _fresh_dir(VAR / name)
    values = {
        "JAEGER_UI_PORT": cfg.jaeger_ui_port,
        "JAEGER_QUERY_GRPC_PORT": cfg.jaeger_query_grpc_port,
        "JAEGER_OTLP_GRPC_PORT": cfg.jaeger_otlp_grpc_port,
        "JAEGER_OTLP_HTTP_PORT": cfg.jaeger_otlp_http_port,
        "JAEGER_METRICS_PORT": cfg.jaeger_metrics_port,
        "JAEGER_HEALTH_PORT": cfg.jaeger_health_port,
    }
    conf = render(HERE / "jaeger" / "config.yaml", var / "config.yaml", values)
    binary = jaeger_build.build()
    health = f"http://127.0.0.1:{cfg.jaeger_health_port}/status"
    return Proc(name, [str(binary), "--config", str(conf)], lambda: http_ok(health))


# ---------------------------------------------------------------- CLI


def all_procs(cfg: Config | None = None) -> list[Proc]:
    """Start order: receivers of data before their senders."""
    cfg = cfg or Config.from_env()
    return [jaeger(cfg), alertmanager(cfg), gateway(cfg), nginx_exporter(cfg), prometheus(cfg)]


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "up"
    if command == "swagger" and len(argv) == 2:
        print(swagger_assets(Path(argv[1])))
    elif command == "render":
        for proc in all_procs():
            print(proc.name, " ".join(proc.argv))
    elif command == "up":
        for proc in all_procs():
            print(f"{proc.name}: ready in {proc.start():.1f}s")
    elif command == "down":
        # By name only: stopping must not render configs or build Jaeger.
        for name in ("prometheus", "nginx-exporter", "gateway", "alertmanager", "jaeger"):
            stopped = Proc(name, (), lambda: True).stop()
            print(f"{name}: {'stopped' if stopped else 'not running'}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
