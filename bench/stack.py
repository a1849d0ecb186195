"""The benchmark's own services: the four apps as real uvicorn processes on free ports.

They run exactly as the tests' stack does (tests/service_stack.py: same environment, own
keyspaces `it_<service>_bench`), kept between runs so the 20,000-product catalog is seeded
once. Nothing here touches the `make up` stack, which may be serving someone meanwhile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from devstack.procs import ROOT, VAR, free_port
from tests.service_stack import Service, Stack, build_stack

KEYS = VAR / "bench" / "users-keys"


def extra_catalog(stack: Stack, name: str, **env: str) -> Service:
    """Another catalog process on the benchmark's keyspace, with `env` changed (obs off)."""
    base = stack["catalog"]
    return Service(name, "catalog", free_port(), base.env | env, base.tag)


@contextmanager
def bench_stack(tag: str = "bench", otlp_endpoint: str = "") -> Iterator[Stack]:
    """Start users, catalog, orders and cart; stop them on exit (the data stays)."""
    KEYS.mkdir(parents=True, exist_ok=True)
    stack = build_stack(tag, KEYS, otlp_endpoint=otlp_endpoint)
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
