"""The four services as real processes, for cross-service tests (see conftest.py).

Each service is the real app under uvicorn (devstack.procs.Proc: detached, one log file
under var/logs, ready when /health/ready answers 200), on a free port, with a test keyspace
of its own and its peers' URLs in its environment, exactly as the stack configures it.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import RoundRobinPolicy
from kit.topology import TOPOLOGY

from devstack import cassandra
from devstack.procs import Proc, free_port, http_ok

SERVICE_NAMES = tuple(s.name for s in TOPOLOGY.start_order())


@dataclass
class Service:
    """One running service process (`module` is the package: orders-b runs `orders`)."""

    name: str
    module: str
    port: int
    env: dict[str, str]
    tag: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def proc(self) -> Proc:
        argv = [sys.executable, "-m", "uvicorn", f"{self.module}.main:app"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        url = f"{self.url}/health/ready"
        return Proc(f"it-{self.tag}-{self.name}", argv, lambda: http_ok(url), self.env, timeout=180)

    def start(self) -> None:
        self.proc.start()

    def stop(self) -> None:
        self.proc.stop(grace=10)

    def kill(self) -> None:
        """kill -9 the process (a crash: no shutdown code runs), and reap it."""
        proc = self.proc
        pid = proc.pid()
        if pid is None:
            return
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while proc.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.pidfile.unlink(missing_ok=True)

    def running(self) -> bool:
        return self.proc.pid() is not None


@dataclass
class Stack:
    """The services of one test session and what tests need to drive them."""

    services: dict[str, Service]
    keyspaces: dict[str, str]
    admin_username: str
    admin_password: str
    _admin_token: str | None = field(default=None, repr=False)
    _admin_token_until: float = field(default=0.0, repr=False)  # time.monotonic()

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def url(self, name: str) -> str:
        return self.services[name].url

    def client(self, name: str, timeout: float = 30.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url(name), timeout=timeout)

    # --- people and products ----------------------------------------------------------------

    async def admin_headers(self) -> dict[str, str]:
        # The stack lives for the whole session, which outlasts an access token (the kind
        # e2e alone takes minutes): sign in again a minute before the token expires.
        if self._admin_token is None or time.monotonic() > self._admin_token_until:
            async with self.client("users") as users:
                response = await users.post(
                    "/login",
                    json={"username": self.admin_username, "password": self.admin_password},
                )
                response.raise_for_status()
                signed_in = response.json()
                self._admin_token = str(signed_in["access_token"])
                self._admin_token_until = time.monotonic() + int(signed_in["expires_in"]) - 60
        return {"Authorization": f"Bearer {self._admin_token}"}

    async def new_user(self, users: httpx.AsyncClient) -> dict[str, str]:
        """Register a fresh user and sign in; returns its Authorization header."""
        name = f"u{uuid.uuid4().hex[:12]}"
        password = secrets.token_urlsafe(12)
        registered = await users.post(
            "/register",
            json={"username": name, "email": f"{name}@example.com", "password": password},
        )
        assert registered.status_code == 201, registered.text
        login = await users.post("/login", json={"username": name, "password": password})
        assert login.status_code == 200, login.text
        return {"Authorization": f"Bearer {login.json()['access_token']}"}

    async def new_product(self, stock: int, price: str = "19.99") -> str:
        async with self.client("catalog") as catalog:
            response = await catalog.post(
                "/products",
                json={
                    "name": f"it-{uuid.uuid4().hex[:8]}",
                    "description": "integration test product",
                    "category": "it",
                    "price": price,
                    "stock": stock,
                },
                headers=await self.admin_headers(),
            )
            assert response.status_code == 201, response.text
            return str(response.json()["id"])

    async def service_headers(self, client_id: str = "cart") -> dict[str, str]:
        """A service-role token, as the cart (or orders) service gets one."""
        secret = self.services[client_id].env[TOPOLOGY.service(client_id).env("client_secret")]
        async with self.client("users") as users:
            response = await users.post(
                "/oauth/token",
                data={"grant_type": "client_credentials", "client_id": client_id,
                      "client_secret": secret},
            )  # fmt: skip
            response.raise_for_status()
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def stock(self, product_id: str) -> int:
        async with self.client("catalog") as catalog:
            response = await catalog.get(f"/products/{product_id}")
            response.raise_for_status()
            return int(response.json()["stock"])

    async def all_orders(self) -> list[dict[str, Any]]:
        """Every order of the store (admin listing), walking the cursors."""
        orders: list[dict[str, Any]] = []
        cursor: str | None = None
        async with self.client("orders") as client:
            while True:
                params: dict[str, Any] = {"all": "true", "limit": 100}
                if cursor:
                    params["cursor"] = cursor
                response = await client.get(
                    "/orders", params=params, headers=await self.admin_headers()
                )
                response.raise_for_status()
                page = response.json()
                orders.extend(page["items"])
                cursor = page["next_cursor"]
                if not cursor:
                    return orders

    async def metric(self, name: str, service: str, labels: Mapping[str, str]) -> float | None:
        """The value of one sample of a service's /metrics, or None."""
        async with self.client(service) as client:
            text = (await client.get("/metrics")).text
        wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
        for line in text.splitlines():
            if line.startswith(f"{name}{{{wanted}}} ") or (
                not labels and line.startswith(f"{name} ")
            ):
                return float(line.rsplit(" ", 1)[1])
        return None


async def shoppers(stack: Stack, count: int) -> list[dict[str, str]]:
    limit = asyncio.Semaphore(8)
    async with stack.client("users") as users:

        async def one() -> dict[str, str]:
            async with limit:
                return await stack.new_user(users)

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def fill(cart: httpx.AsyncClient, headers: dict[str, str], product: str, qty: int) -> None:
    response = await cart.post(
        "/cart/items", json={"product_id": product, "quantity": qty}, headers=headers
    )
    assert response.status_code == 201, response.text


def units_in_orders(orders: list[dict[str, Any]], product_id: str) -> int:
    return sum(
        item["quantity"]
        for order in orders
        if order["status"] != "cancelled"
        for item in order["items"]
        if item["product_id"] == product_id
    )


@contextmanager
def cql_session(keyspace: str | None = None) -> Iterator[Session]:
    """A plain driver session on the test Cassandra node (for checks and cleanup)."""
    profile = ExecutionProfile(load_balancing_policy=RoundRobinPolicy())
    cluster = Cluster(
        ["127.0.0.1"],
        port=cassandra.cql_port(),
        protocol_version=5,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
    )
    try:
        yield cluster.connect(keyspace)
    finally:
        cluster.shutdown()


def build_stack(tag: str, keys_dir: Path, otlp_endpoint: str = "") -> Stack:
    """Ports, keyspaces, secrets and environments of a fresh set of services."""
    ports = {name: free_port() for name in (*SERVICE_NAMES, "orders-b")}
    keyspaces = {name: f"it_{name}_{tag}" for name in SERVICE_NAMES}
    # Service identities: the cart and orders services, and the operator's catalog seeding.
    secrets_ = {name: secrets.token_urlsafe(16) for name in ("cart", "orders", "operator")}
    admin_password = secrets.token_urlsafe(16)
    peers = {name: f"http://127.0.0.1:{ports[name]}" for name in SERVICE_NAMES}

    def base(name: str) -> dict[str, str]:
        s = TOPOLOGY.service(name)
        return {
            s.env("cassandra_keyspace"): keyspaces[name],
            s.env("cassandra_port"): str(cassandra.cql_port()),
            s.env("jwks_url"): f"{peers[TOPOLOGY.token_issuer]}/.well-known/jwks.json",
            s.env("log_level"): "INFO",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
        } | {s.url_env(called): peers[called] for called in s.calls}

    env = {
        "users": base("users")
        | {
            "USERS_SERVICE_CLIENTS": json.dumps(secrets_),
            "USERS_ADMIN_USERNAME": "admin",
            "USERS_ADMIN_EMAIL": "admin@example.com",
            "USERS_ADMIN_PASSWORD": admin_password,
            "USERS_LOCAL_KEYS_DIR": str(keys_dir),
            # cheap password hashing: 40+ sign-ups per run on a shared 2-core machine
            "USERS_ARGON2_TIME_COST": "1",
            "USERS_ARGON2_MEMORY_COST": "1024",
            "USERS_ARGON2_PARALLELISM": "1",
        },
        "catalog": base("catalog"),
        "orders": base("orders")
        | {
            "ORDERS_CLIENT_SECRET": secrets_["orders"],
            "ORDERS_LIFECYCLE_DELAYS": json.dumps({"pending": 2, "paid": 2, "shipped": 2}),
            "ORDERS_WORKER_POLL_SECONDS": "0.3",
            "ORDERS_WORKER_RETRY_SECONDS": "1",
            "ORDERS_BREAKER_RECOVERY_SECONDS": "2",
        },
        "cart": base("cart")
        | {
            "CART_CLIENT_SECRET": secrets_["cart"],
            "CART_RESERVATION_TTL_SECONDS": "10",
            "CART_SWEEP_INTERVAL_SECONDS": "1",
            "CART_BREAKER_RECOVERY_SECONDS": "2",
            "CART_UPSTREAM_TIMEOUT": "10",
        },
    }
    services = {name: Service(name, name, ports[name], env[name], tag) for name in SERVICE_NAMES}
    services["orders-b"] = Service("orders-b", "orders", ports["orders-b"], env["orders"], tag)
    return Stack(services, keyspaces, "admin", admin_password)


def money(value: str) -> Decimal:
    return Decimal(value)
