"""Administrator bootstrap at startup and the users-admin command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from users.cli import admin_main
from users.config import UsersSettings
from users.main import create_app

from tests.support.apps import serve
from tests.support.users import ADMIN_USERNAME, login, new_account, unique

pytestmark = pytest.mark.integration


async def test_bootstrap_is_idempotent_and_never_promotes(
    client: httpx.AsyncClient, settings: UsersSettings, tmp_path: Path
) -> None:
    squatter = await new_account(client)
    password_file = tmp_path / "admin-password"
    password_file.write_text("file-password-0123\n")
    restarted = settings.model_copy(
        update={
            # The configured admin exists already: nothing happens to it.
            "admin_password": SecretStr("a different password"),
        }
    )
    async with serve(create_app(restarted)):
        pass
    await login(client, ADMIN_USERNAME, "admin-password-0123")  # password unchanged

    # A name somebody registered is not turned into an administrator.
    hijack = settings.model_copy(
        update={"admin_username": squatter.username, "admin_email": "x@example.com"}
    )
    async with serve(create_app(hijack)):
        pass
    me = await client.get("/me", headers=squatter.headers)
    assert me.json()["role"] == "user"

    # A new admin from a password file.
    name = unique("boot")
    from_file = settings.model_copy(
        update={
            "admin_username": name,
            "admin_email": f"{name}@example.com",
            "admin_password": None,
            "admin_password_file": password_file,
        }
    )
    async with serve(create_app(from_file)):
        pass
    pair = await login(client, name, "file-password-0123")
    me = await client.get("/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json()["role"] == "admin"


async def test_users_admin_cli(
    client: httpx.AsyncClient,
    settings: UsersSettings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USERS_CASSANDRA_KEYSPACE", settings.cassandra_keyspace)
    monkeypatch.setenv("USERS_ARGON2_MEMORY_COST", "8192")
    password_file = tmp_path / "pw"
    password_file.write_text("cli-password-0123\n")
    name = unique("cli")

    def run(*argv: str) -> Any:
        return asyncio.to_thread(admin_main, list(argv))

    def create(username: str, email: str) -> Any:
        password = ("--password-file", str(password_file))
        return run("create", "--username", username, "--email", email, *password)

    assert await create(name, f"{name}@example.com") == 0
    pair = await login(client, name, "cli-password-0123")
    me = await client.get("/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.json()["role"] == "admin"
    # Taken username, invalid email, role changes.
    assert await create(name, f"other-{name}@example.com") == 1
    assert await create(unique("cli"), "nope") == 2
    user = await new_account(client)
    assert await run("set-role", "--username", user.username, "--role", "admin") == 0
    refreshed = await client.post("/refresh", json={"refresh_token": user.refresh_token})
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await client.get("/users", headers=headers)).status_code == 200
    assert await run("set-role", "--username", unique("ghost"), "--role", "admin") == 1
