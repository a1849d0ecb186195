"""The users service app: `uvicorn users.main:app`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from kit.app import create_app as create_service_app
from kit.auth import JWKSVerifier

from users.clients import ServiceClients
from users.config import ME, UsersSettings
from users.errors import EmailTaken
from users.keys import KeyRingSource
from users.passwords import Passwords
from users.repository import MIGRATIONS, UsersRepository
from users.routes import router
from users.service import UsersService
from users.tokens import TokenIssuer

log = logging.getLogger("users.main")

DESCRIPTION = """Accounts, sign-in and the store's signing keys.

Sign in with `POST /login` (or the Authorize button, through `/login/form`); access tokens
are EdDSA JWTs verified by every service against `/.well-known/jwks.json`."""


def key_ring(settings: UsersSettings) -> KeyRingSource:
    # Without a mounted Secret the service keeps its own ring so restarts keep tokens valid.
    return KeyRingSource(settings.signing_keys_dir, create_if_missing=settings.keys_dir is None)


async def bootstrap_admin(service: UsersService, settings: UsersSettings) -> None:
    username = settings.admin_username
    if not username:
        return
    password = await asyncio.to_thread(settings.admin_password_value)
    if not password:
        log.error("USERS_ADMIN_USERNAME is set without USERS_ADMIN_PASSWORD(_FILE): skipped")
        return
    email = settings.admin_email or f"{username}@example.com"
    try:
        await service.ensure_admin(username, email, password)
    except EmailTaken:
        log.error("bootstrap admin %r not created: email %s is taken", username, email)


async def watch_files(keys: KeyRingSource, clients: ServiceClients, interval: float) -> None:
    """Reload the key ring and the service clients when their mounted files change."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(keys.reload_if_changed)
            if clients.directory is not None:
                await asyncio.to_thread(clients.reload)
        except OSError as exc:
            log.error("cannot read mounted keys or clients: %s", exc)


def create_app(settings: UsersSettings | None = None) -> FastAPI:
    settings = settings or UsersSettings()
    keys = key_ring(settings)
    clients = ServiceClients(settings.service_clients, settings.service_clients_dir)

    @contextlib.asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(keys.load)
        passwords = await asyncio.to_thread(
            Passwords,
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.password_hash_concurrency,
        )
        issuer = TokenIssuer(keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
        service = UsersService(UsersRepository(app.state.db), passwords, issuer, clients, settings)
        app.state.users = service
        await bootstrap_admin(service, settings)
        watcher = asyncio.create_task(
            watch_files(keys, clients, settings.keys_poll_interval), name="users-file-watch"
        )
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            passwords.close()

    app = create_service_app(
        settings,
        title="Product Store: users",
        description=DESCRIPTION,
        routers=[router],
        migrations=MIGRATIONS,
        resources=resources,
        public_prefix=ME.prefix,
    )
    # The service verifies its own tokens against its in-memory ring (no HTTP round trip
    # to itself); the ring is local, so an unknown kid is looked up again at once and a
    # retired key stops verifying within one poll interval.
    app.state.verifier = JWKSVerifier(
        settings.jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        refetch_interval=0.0,
        max_age=settings.keys_poll_interval,
        loader=keys.jwks,
    )
    app.state.keys = keys
    app.state.clients = clients
    return app


app = create_app()
