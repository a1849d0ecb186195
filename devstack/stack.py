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

from kit.topology import TOPOLOGY, Service

from devstack import cassandra, docs, observability
from devstack.cli import dispatch
from devstack.procs import ROOT, VAR, Proc, http_ok

# Start order: the token issuer first (the others verify against its JWKS), then each
# service after the ones it calls.
SERVICES = TOPOLOGY.start_order()
SECRETS = VAR / "secrets"


def available(service: Service) -> bool:
    """Services appear issue by issue; run the ones whose package exists."""
    return importlib.util.find_spec(f"{service.name}.main") is not None


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
    env = {
        service.env("jwks_url"): f"{TOPOLOGY.issuer.local_url}/.well-known/jwks.json",
        service.env("health_peers"): json.dumps(
            {s.name: f"{s.local_url}/health/ready" for s in TOPOLOGY}
        ),
        service.env("cassandra_port"): str(cassandra.cql_port()),
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        # `?profile=1` answers with a pyinstrument report (devstack/profile.py): local only.
        service.env("profiling_enabled"): "true",
    }
    # Whoever calls the token issuer signs in there with a client secret of its own.
    clients = {
        s.name: local_secret(f"client-{s.name}") for s in TOPOLOGY.callers_of(TOPOLOGY.token_issuer)
    }
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
    env |= {service.url_env(name): TOPOLOGY.service(name).local_url for name in service.calls}
    if service.name in clients:
        env |= {
            service.env("client_id"): service.name,
            service.env("client_secret"): clients[service.name],
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
    env = {**os.environ, **service_env(TOPOLOGY.service("catalog"))}
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
        if available(service):
            took = service_proc(service).start()
            print(
                f"[stack] {service.name}: ready in {took:.1f}s on {service.local_url}", flush=True
            )
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
    gateway = cfg.url("gateway")
    print("Product Store is running:")
    products = f"{gateway}{TOPOLOGY.service('catalog').prefix}/products"
    print(f"  store (gateway)  {products}   health {gateway}/health")
    print(f"  Swagger UI       {gateway}/swagger/")
    print(f"  Documentation    {gateway}/docs/")
    for service in SERVICES:
        if available(service):
            url = service.local_url
            print(f"  {service.name:<16} {url}   metrics {url}/metrics")
    print(f"  Prometheus       {cfg.url('prometheus')}")
    print(f"  Alertmanager     {cfg.url('alertmanager')}")
    print(f"  Jaeger           {cfg.url('jaeger_ui')}")
    print(f"  Cassandra        127.0.0.1:{cassandra.cql_port()} (CQL)")
    if available(TOPOLOGY.issuer):
        password = SECRETS / "admin-password"
        print(
            f"\nSign in as admin: POST {gateway}{TOPOLOGY.issuer.prefix}/login "
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
        state = "ready" if http_ok(f"{service.local_url}/health/ready") else "down"
        print(f"{service.name:<16} {state}")
    print(f"{'cassandra':<16} {'up' if cassandra.is_up() else 'down'}")


def main(argv: list[str]) -> int:
    return dispatch(argv, {"up": up, "down": down, "status": status, "urls": print_urls}, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
