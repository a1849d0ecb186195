"""Shared by every service's tests: test tokens, a keyspace per session, in-process apps.

Nothing here fakes a component: tokens are signed with a real Ed25519 key published as a
JWKS file that the real verifier reads; apps run their real lifespan (Cassandra, migrations).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
from asgi_lifespan import LifespanManager
from cassandra.query import SimpleStatement
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI


class TokenMinter:
    """Signs access tokens like the users service does, with a key published as a JWKS file.
    The role is the claim as written: a `kit.auth.Role` value, or any string to test refusals."""

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
        self, role: str = "user", *, sub: str | None = None, ttl: int = 900, **claims: Any
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

    def headers(self, role: str = "user", **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}"}


def unique_keyspace(service: str) -> str:
    """A keyspace of its own per test session, so reruns and parallel runs never collide."""
    return f"test_{service}_{os.getpid()}_{uuid.uuid4().hex[:6]}"


def caller_settings(service: str, minter: TokenMinter) -> dict[str, Any]:
    """Settings of a service under test that calls others: a keyspace of its own, the test
    JWKS, and its upstreams addressed by host name (a `HostRouter` delivers them)."""
    return {
        "cassandra_keyspace": unique_keyspace(service),
        "jwks_url": minter.jwks_url,
        "catalog_url": "http://catalog",
        "users_url": "http://users",
        "client_secret": "test-secret",
    }


async def drop_keyspace(app: FastAPI) -> None:
    """Drop the keyspace of an app `serve` runs (its settings and db are on `app.state`)."""
    keyspace = app.state.settings.cassandra_keyspace
    await app.state.db.execute(SimpleStatement(f"DROP KEYSPACE IF EXISTS {keyspace}"))


@asynccontextmanager
async def serve(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's real lifespan (Cassandra connect, migrations) and talk to it in-process."""
    async with LifespanManager(app, startup_timeout=180, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


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


def upstreams(minter: TokenMinter, **apps: FastAPI) -> HostRouter:
    """In-process apps by host name (`catalog=app`), and "users" as the service-token
    stand-in; add more to `.routes` as they are created."""
    routes: dict[str, httpx.AsyncBaseTransport] = {"users": service_token_transport(minter)}
    routes |= {host: httpx.ASGITransport(app=app) for host, app in apps.items()}
    return HostRouter(routes)


def service_token_transport(minter: TokenMinter) -> httpx.MockTransport:
    """A stand-in for the users service's POST /oauth/token: service tokens from `minter`."""

    def handler(request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=", 1) for x in request.content.decode().split("&") if "=" in x)
        client_id = form.get("client_id", "service")
        token = minter.token("service", sub=f"service:{client_id}", name=client_id)
        return httpx.Response(200, json={"access_token": token, "expires_in": 300})

    return httpx.MockTransport(handler)
