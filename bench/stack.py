"""The benchmark's own services: the four apps as real uvicorn processes on free ports.

They run exactly as the tests' stack does (tests/service_stack.py: same environment, own
keyspaces `it_<service>_bench`), kept between runs so the 20,000-product catalog is seeded
once. Nothing here touches the `make up` stack, which may be serving someone meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.procs import ROOT, VAR, Proc, free_port, http_ok
from tests.service_stack import Service, Stack, build_stack

KEYS = VAR / "bench" / "users-keys"


@dataclass(frozen=True)
class Catalog:
    """One more catalog process on the benchmark's keyspace."""

    label: str
    proc: Proc
    url: str


def extra_catalog(
    stack: Stack,
    label: str,
    checkout: Path | None = None,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
) -> Catalog:
    """A catalog with `env` changed (obs off), of this checkout or of another one whose
    .venv is synced (the code before a change, to measure both in one run), with `workers`
    uvicorn worker processes."""
    port = free_port()
    python = str(checkout / ".venv" / "bin" / "python") if checkout else sys.executable
    argv = [python, "-m", "uvicorn", "catalog.main:app", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--workers", str(workers)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    name = "bench-" + "-".join(label.replace(",", "").split())
    ready = lambda: http_ok(f"{url}/health/ready")  # noqa: E731
    # The stack's catalog made the schema: no schema change again on a busy node.
    env = {**stack["catalog"].env, "CATALOG_MIGRATE_ON_START": "false", **(env or {})}
    proc = Proc(name, argv, ready, env, cwd=checkout or ROOT, timeout=180)
    return Catalog(label, proc, url)


@contextmanager
def bench_stack(tag: str = "bench", otlp_endpoint: str = "") -> Iterator[Stack]:
    """Start users, catalog, orders and cart; stop them on exit (the data stays)."""
    KEYS.mkdir(parents=True, exist_ok=True)
    stack = build_stack(tag, KEYS, otlp_endpoint=otlp_endpoint)
    # The users keyspace outlives the run, and with it the admin made by the first run.
    password = KEYS.parent / "admin-password"
    if not password.exists():
        password.write_text(stack.admin_password)
    stack.admin_password = password.read_text()
    stack["users"].env["USERS_ADMIN_PASSWORD"] = stack.admin_password
    with running(stack):
        yield stack


@contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """Users, catalog, orders and cart started in that order; stopped on exit."""
    started: list[Service] = []
    try:
        for name in ("users", "catalog", "orders", "cart"):
            print(f"[bench] starting {name} on {stack[name].url}", flush=True)
            stack[name].start()
            started.append(stack[name])
        yield stack
    finally:
        for service in reversed(started):
            service.stop()


def seed(stack: Stack, count: int, keyspace: str | None = None) -> str:
    """Run catalog-seed into the stack's catalog keyspace (or `keyspace`); its summary line."""
    env = os.environ | stack["catalog"].env
    if keyspace:
        env["CATALOG_CASSANDRA_KEYSPACE"] = keyspace
    out = subprocess.run(
        [sys.executable, "-m", "catalog.seed", "--count", str(count)],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout  # fmt: skip
    return out.strip().splitlines()[-1]
