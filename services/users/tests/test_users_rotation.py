"""Key rotation under load: a real uvicorn server, a real key directory, no restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import uvicorn
from kit.auth import JWKSVerifier
from users import keys as keyring
from users.config import UsersSettings
from users.main import create_app

from devstack.procs import free_port
from tests.support.users import PASSWORD, unique

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def running(settings: UsersSettings) -> AsyncIterator[str]:
    """`uvicorn users.main:app` on a free port, in this event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings.model_copy(update={"port": port})),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(600):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def kid_of(token: str) -> str:
    kid: str = jwt.get_unverified_header(token)["kid"]
    return kid


async def test_rotation_while_requests_are_in_flight(
    cassandra_node: None, settings: UsersSettings, app: Any, tmp_path: Path
) -> None:
    ring_dir = tmp_path / "ring"
    files, old_kid = keyring.rotate({})
    keyring.write_ring(ring_dir, files)
    server_settings = settings.model_copy(update={"keys_dir": ring_dir, "keys_poll_interval": 0.2})

    async with (
        running(server_settings) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        username = unique("rot")
        registered = await http.post(
            "/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert registered.status_code == 201
        pair = (await http.post("/login", json={"username": username, "password": PASSWORD})).json()
        old_token = pair["access_token"]
        assert kid_of(old_token) == old_kid

        stop = asyncio.Event()
        failures: list[str] = []
        kids_seen: list[str] = []

        async def client_loop(refresh_token: str) -> None:
            """Fresh tokens (rotation through /refresh), each used at once, plus the old one."""
            while not stop.is_set():
                response = await http.post("/refresh", json={"refresh_token": refresh_token})
                if response.status_code != 200:
                    failures.append(f"refresh {response.status_code} {response.text}")
                    return
                fresh = response.json()
                refresh_token = fresh["refresh_token"]
                kids_seen.append(kid_of(fresh["access_token"]))
                for token in (fresh["access_token"], old_token):
                    me = await http.get("/me", headers={"Authorization": f"Bearer {token}"})
                    if me.status_code != 200:
                        failures.append(f"/me {me.status_code} {me.text} kid={kid_of(token)}")

        sessions = [
            (await http.post("/login", json={"username": username, "password": PASSWORD})).json()
            for _ in range(4)
        ]
        loops = [asyncio.create_task(client_loop(s["refresh_token"])) for s in sessions]
        await asyncio.sleep(0.5)
        assert not failures and kids_seen and set(kids_seen) == {old_kid}

        rotated, new_kid = keyring.rotate(keyring.read_ring_files(ring_dir))
        keyring.write_ring(ring_dir, rotated)
        switched_at = len(kids_seen)
        for _ in range(200):  # the server notices within a poll interval
            if new_kid in kids_seen[switched_at:]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # keep the load on across the switch
        stop.set()
        await asyncio.gather(*loops)

        assert failures == []
        assert new_kid in kids_seen
        # Once switched, every new token carries the new kid.
        first_new = kids_seen.index(new_kid)
        assert set(kids_seen[first_new:]) == {new_kid}
        assert kids_seen[-1] == new_kid

        jwks = (await http.get("/.well-known/jwks.json")).json()
        assert {key["kid"] for key in jwks["keys"]} == {old_kid, new_kid}

        # A verifier in another service (HTTP JWKS, kit defaults) accepts both generations.
        verifier = JWKSVerifier(
            f"{base_url}/.well-known/jwks.json", issuer="product-store", audience="product-store"
        )
        newest = (
            await http.post("/login", json={"username": username, "password": PASSWORD})
        ).json()
        assert kid_of(newest["access_token"]) == new_kid
        for token in (old_token, newest["access_token"]):
            assert (await verifier.verify(token)).username == username
        assert (
            await http.get("/me", headers={"Authorization": f"Bearer {old_token}"})
        ).status_code == 200

        # Retiring the old key (after the access-token lifetime) stops it verifying.
        keyring.write_ring(ring_dir, keyring.retire(rotated, old_kid), remove_missing=True)
        for _ in range(200):
            jwks = (await http.get("/.well-known/jwks.json")).json()
            if {key["kid"] for key in jwks["keys"]} == {new_kid}:
                break
            await asyncio.sleep(0.05)
        assert {key["kid"] for key in jwks["keys"]} == {new_kid}
        await asyncio.sleep(server_settings.keys_poll_interval)  # the verifier's max_age
        gone = await http.get("/me", headers={"Authorization": f"Bearer {old_token}"})
        assert gone.status_code == 401
        still = await http.get("/me", headers={"Authorization": f"Bearer {newest['access_token']}"})
        assert still.status_code == 200


async def test_a_restart_keeps_tokens_valid_with_a_local_ring(
    cassandra_node: None, settings: UsersSettings, app: Any, tmp_path: Path
) -> None:
    """Without a mounted Secret the service makes its own ring once and reuses it."""
    local = settings.model_copy(
        update={"keys_dir": None, "local_keys_dir": tmp_path / "var" / "users-keys"}
    )
    username = unique("restart")
    async with running(local) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        await http.post(
            "/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        token = (
            await http.post("/login", json={"username": username, "password": PASSWORD})
        ).json()["access_token"]
    assert keyring.active_kid(keyring.read_ring_files(tmp_path / "var" / "users-keys"))
    async with running(local) as base_url, httpx.AsyncClient(base_url=base_url) as http:
        me = await http.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["username"] == username
