"""Test helpers shared by every service's tests: a real Cassandra node, test tokens, app clients.

Used as a pytest plugin from the root conftest.py. Nothing here fakes a component: the
Cassandra node is real (started through devstack when not already up), tokens are signed
with a real Ed25519 key published as a JWKS file that the real verifier reads.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from kit.auth import Role


class TokenMinter:
    """Signs access tokens like the users service does, with a key published as a JWKS file."""

    def __init__(self, directory: Path, issuer: str = "product-store") -> None:
        self.issuer = issuer
        self.kid = f"test-{uuid.uuid4().hex[:8]}"
        self.key = Ed25519PrivateKey.generate()
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        self.jwks_path = directory / "jwks.json"
        self.jwks_path.write_text(json.dumps({"keys": [{**jwk, "kid": self.kid, "use": "sig"}]}))

    @property
    def jwks_url(self) -> str:
        return f"file://{self.jwks_path}"

    def token(
        self, role: Role = "user", *, sub: str | None = None, ttl: int = 900, **claims: Any
    ) -> str:
        now = int(time.time())
        payload = {
            "sub": sub or str(uuid.uuid4()),
            "name": claims.pop("name", f"{role}-tester"),
            "role": role,
            "iss": self.issuer,
            "aud": "product-store",
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(payload, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, role: Role = "user", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}"}


def test_keyspace(service: str) -> str:
    """A keyspace of its own per test session, so reruns and parallel runs never collide."""
    return f"test_{service}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


@asynccontextmanager
async def serve(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's real lifespan (Cassandra connect, migrations) and talk to it in-process."""
    async with LifespanManager(app, startup_timeout=180, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


AppFactory = Callable[..., FastAPI]


class HostRouter(httpx.AsyncBaseTransport):
    """Sends each request to the transport registered for its host: wires several apps
    together in one process (`ServiceClient(..., transport=HostRouter({...}))`)."""

    def __init__(self, routes: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.routes = routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.routes.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no route to {request.url.host}", request=request)
        return await transport.handle_async_request(request)


def service_token_transport(minter: TokenMinter) -> httpx.MockTransport:
    """A stand-in for the users service's POST /oauth/token: service tokens from `minter`."""

    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=", 1) for x in request.content.decode().split("&") if "=" in x)
        client_id = form.get("client_id", "service")
        token = minter.token("service", sub=f"service:{client_id}", name=client_id)
        return httpx.Response(200, json={"access_token": token, "expires_in": 300})

    return httpx.MockTransport(handler)


# --- the permissions matrix (docs/permissions.md at the repository root) --------------------

GATEWAY_PREFIXES = {
    "catalog": "/api",
    "cart": "/cart-api",
    "orders": "/order-api",
    "users": "/user-api",
}
CALLERS = ("guest", "user", "admin", "service")
OUTCOMES = ("✓", "✓ own", "401", "403")


@dataclass(frozen=True)
class Permission:
    """One cell of the matrix: what `caller` gets from `method path` of `service`."""

    endpoint: str  # the row as documented: "GET /api/products/{product_id}", "GET */metrics"
    service: str
    method: str
    path: str  # the service's own path (gateway prefix stripped), query string included
    caller: str  # guest, user, admin or service
    expected: str  # one of OUTCOMES

    @property
    def allowed(self) -> bool:
        return self.expected.startswith("✓")

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path.partition("?")[0]


def parse_permissions(text: str) -> list[Permission]:
    """The cells of the table between `<!-- matrix:start -->` and `<!-- matrix:end -->`.

    Columns: service, endpoint, one per caller, notes. An endpoint is the gateway path
    (`/api/...`), an `/internal/...` path (never routed by the gateway), or `*/...` with
    service `every`: the same route on each of the four services."""
    block = text.split("<!-- matrix:start -->", 1)[1].split("<!-- matrix:end -->", 1)[0]
    cells: list[Permission] = []
    for line in block.strip().splitlines()[2:]:  # skip the header and the rule
        columns = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(columns) != 3 + len(CALLERS):
            raise ValueError(f"bad matrix row: {line}")
        service, endpoint, outcomes = columns[0], columns[1].strip("`"), columns[2:-1]
        match = re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) (\S+)", endpoint)
        if not match or any(o not in OUTCOMES for o in outcomes):
            raise ValueError(f"bad matrix row: {line}")
        method, path = match[1], match[2]
        services: Iterable[str] = GATEWAY_PREFIXES if service == "every" else (service,)
        for name in services:
            prefix = GATEWAY_PREFIXES[name]
            if path.startswith("*/") and service == "every":
                own = path[1:]
            elif path.startswith("/internal/"):
                own = path
            elif path.startswith(f"{prefix}/"):
                own = path.removeprefix(prefix)
            else:
                raise ValueError(f"{path} is not a path of {service}: {line}")
            for caller, expected in zip(CALLERS, outcomes, strict=True):
                cells.append(Permission(endpoint, name, method, own, caller, expected))
    return cells


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, the routes hidden from OpenAPI included."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path is not None
        for method in route.methods or ()
        if method != "HEAD"
    }
