"""The whole local stack, up and down: Cassandra, the four services, the gateway and
observability, a seeded catalog. Same programs and settings (environment variables) as the
Helm chart uses, run as plain processes.

    uv run python -m devstack up | down | status
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass

from devstack import cassandra, docs, observability
from devstack.procs import ROOT, VAR, Proc, http_ok


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    public_prefix: str

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def available(self) -> bool:
        """Services appear issue by issue; run the ones whose package exists."""
        return importlib.util.find_spec(f"{self.name}.main") is not None


# Start order: users publishes the JWKS the others verify against.
SERVICES = (
    Service("users", 8003, "/user-api"),
    Service("catalog", 8000, "/api"),
    Service("orders", 8002, "/order-api"),
    Service("cart", 8001, "/cart-api"),
)
SECRETS = VAR / "secrets"


def local_secret(name: str, length: int = 24) -> str:
    """A random secret made on first use and kept under var/secrets (never a fixed default)."""
    path = SECRETS / name
    if not path.exists():
        SECRETS.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


def service_env(service: Service, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of one service in the local stack."""
    users = f"http://127.0.0.1:{SERVICES[0].port}"
    p = service.env_prefix
    env = {
        f"{p}JWKS_URL": f"{users}/.well-known/jwks.json",
        f"{p}HEALTH_PEERS": json.dumps({s.name: f"{s.url}/health/ready" for s in SERVICES}),
        f"{p}CASSANDRA_PORT": str(cassandra.cql_port()),
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        # `?profile=1` answers with a pyinstrument report (devstack/profile.py): local only.
        f"{p}PROFILING_ENABLED": "true",
    }
    clients = {"cart": local_secret("client-cart"), "orders": local_secret("client-orders")}
    if service.name == "users":
        admin_password = SECRETS / "admin-password"
        local_secret("admin-password")
        env |= {
            "USERS_SERVICE_CLIENTS": json.dumps(clients),
            "USERS_ADMIN_USERNAME": "admin",
            "USERS_ADMIN_EMAIL": "admin@example.com",
            "USERS_ADMIN_PASSWORD_FILE": str(admin_password),
            "USERS_LOCAL_KEYS_DIR": str(VAR / "users-keys"),
        }
    if service.name in clients:
        env |= {
            f"{p}CATALOG_URL": "http://127.0.0.1:8000",
            f"{p}ORDERS_URL": "http://127.0.0.1:8002",
            f"{p}USERS_URL": users,
            f"{p}CLIENT_ID": service.name,
            f"{p}CLIENT_SECRET": clients[service.name],
        }
    return env | dict(extra or {})


def service_proc(service: Service, port: int | None = None, **extra: str) -> Proc:
    port = port or service.port
    argv = [sys.executable, "-m", "uvicorn", f"{service.name}.main:app"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    return Proc(
        service.name,
        argv,
        ready=lambda: http_ok(f"http://127.0.0.1:{port}/health/ready"),
        env=service_env(service, extra),
        timeout=180,
    )


def seed_catalog() -> None:
    catalog = next(s for s in SERVICES if s.name == "catalog")
    env = {**os.environ, **service_env(catalog)}
    subprocess.run(
        [sys.executable, "-m", "catalog.seed", "--if-empty"], cwd=ROOT, env=env, check=True
    )


def up() -> None:
    began = time.monotonic()
    print(f"[stack] cassandra: ready in {cassandra.start(wait=True):.1f}s", flush=True)
    procs = observability.all_procs()
    jaeger, rest = procs[0], procs[1:]
    print(f"[stack] {jaeger.name}: ready in {jaeger.start():.1f}s", flush=True)
    for service in SERVICES:
        if service.available:
            took = service_proc(service).start()
            print(f"[stack] {service.name}: ready in {took:.1f}s on {service.url}", flush=True)
            if service.name == "catalog":
                seed_catalog()
    cfg = observability.Config.from_env()
    print(f"[stack] docs: site built in {docs.build(cfg.docs_root):.1f}s", flush=True)
    for proc in rest:
        print(f"[stack] {proc.name}: ready in {proc.start():.1f}s", flush=True)
    print(f"[stack] up in {time.monotonic() - began:.0f}s\n")
    print_urls()


def print_urls() -> None:
    cfg = observability.Config.from_env()
    gateway = f"http://127.0.0.1:{cfg.gateway_port}"
    print("Product Store is running:")
    print(f"  store (gateway)  {gateway}/api/products   health {gateway}/health")
    print(f"  Swagger UI       {gateway}/swagger/")
    print(f"  Documentation    {gateway}/docs/")
    for service in SERVICES:
        if service.available:
            print(f"  {service.name:<16} {service.url}   metrics {service.url}/metrics")
    print(f"  Prometheus       http://127.0.0.1:{cfg.prometheus_port}")
    print(f"  Alertmanager     http://127.0.0.1:{cfg.alertmanager_port}")
    print(f"  Jaeger           http://127.0.0.1:{cfg.jaeger_ui_port}")
    print(f"  Cassandra        127.0.0.1:{cassandra.cql_port()} (CQL)")
    if SERVICES[0].available:
        password = SECRETS / "admin-password"
        print(
            f"\nSign in as admin: POST {gateway}/user-api/login "
            f'{{"username": "admin", "password": "$(cat {password.relative_to(ROOT)})"}}'
        )
    print("Stop everything with: make down")


def down() -> None:
    names = [s.name for s in reversed(SERVICES)]
    for name in ("prometheus", "nginx-exporter", "gateway", *names, "alertmanager", "jaeger"):
        stopped = Proc(name, (), lambda: True).stop()
        print(f"[stack] {name}: {'stopped' if stopped else 'not running'}")
    print(f"[stack] cassandra: {'stopped' if cassandra.stop() else 'not running'}")


def status() -> None:
    for service in SERVICES:
        state = "ready" if http_ok(f"{service.url}/health/ready") else "down"
        print(f"{service.name:<16} {state}")
    print(f"{'cassandra':<16} {'up' if cassandra.is_up() else 'down'}")


def main(argv: list[str]) -> int:
    commands = {"up": up, "down": down, "status": status, "urls": print_urls}
    command = argv[0] if argv else "up"
    if command not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    commands[command]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
