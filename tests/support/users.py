"""Helpers for tests of the users service (and cross-service tests that need accounts)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from users.config import UsersSettings

ADMIN_USERNAME = "root-admin"
ADMIN_PASSWORD = "admin-password-0123"
SERVICE_CLIENTS = {"cart": "cart-secret-0123456789", "orders": "orders-secret-0123456789"}
PASSWORD = "correct horse battery"


def make_settings(keyspace: str, keys_dir: Path, **overrides: Any) -> UsersSettings:
    values: dict[str, Any] = {
        "cassandra_keyspace": keyspace,
        "keys_dir": keys_dir,
        "keys_poll_interval": 0.2,
        "admin_username": ADMIN_USERNAME,
        "admin_email": "root-admin@example.com",
        "admin_password": SecretStr(ADMIN_PASSWORD),
        "service_clients": {k: SecretStr(v) for k, v in SERVICE_CLIENTS.items()},
        # Cheaper argon2 than production: the tests hash hundreds of passwords on 2 cores.
        "argon2_time_cost": 1,
        "argon2_memory_cost": 8192,
        "argon2_parallelism": 1,
        **overrides,
    }
    return UsersSettings(**values)


@dataclass
class Account:
    id: str
    username: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post("/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def new_account(client: httpx.AsyncClient, prefix: str = "u") -> Account:
    username = unique(prefix)
    email = f"{username}@example.com"
    response = await client.post(
        "/register", json={"username": username, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    pair = await login(client, username, PASSWORD)
    return Account(
        response.json()["id"],
        username,
        email,
        PASSWORD,
        pair["access_token"],
        pair["refresh_token"],
    )


async def service_token(client: httpx.AsyncClient, client_id: str = "cart") -> str:
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": SERVICE_CLIENTS[client_id],
        },
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "request_id"}
