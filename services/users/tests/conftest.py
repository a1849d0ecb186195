"""The users service under test: a real Cassandra keyspace of its own, the real app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from cassandra.cluster import Cluster
from fastapi import FastAPI
from users import keys as keyring
from users.config import UsersSettings
from users.main import create_app

from tests.support.apps import serve, unique_keyspace
from tests.support.users import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    Account,
    login,
    make_settings,
    new_account,
)


@pytest.fixture(scope="session")
def keyspace() -> str:
    return unique_keyspace("users")


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("users-keys")
    files, _ = keyring.rotate({})
    keyring.write_ring(directory, files)
    return directory


@pytest.fixture(scope="session")
def settings(keyspace: str, keys_dir: Path) -> UsersSettings:
    return make_settings(keyspace, keys_dir)


@pytest_asyncio.fixture(scope="session")
async def app(cassandra_node: None, settings: UsersSettings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    try:
        async with serve(application) as client:
            application.state.test_client = client
            yield application
    finally:
        await asyncio.to_thread(drop_keyspace, settings)


def drop_keyspace(settings: UsersSettings) -> None:
    cluster = Cluster(settings.cassandra_hosts, port=settings.cassandra_port, protocol_version=5)
    try:
        session = cluster.connect()
        session.execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=60)
    finally:
        cluster.shutdown()


@pytest.fixture
def client(app: FastAPI) -> httpx.AsyncClient:
    test_client: httpx.AsyncClient = app.state.test_client
    return test_client


@pytest_asyncio.fixture
async def account(client: httpx.AsyncClient) -> Account:
    return await new_account(client)


@pytest_asyncio.fixture
async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    pair = await login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    return {"Authorization": f"Bearer {pair['access_token']}"}
