"""Catalog test helpers: an API client with tokens, products on demand, what the seeder wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import httpx
from catalog.config import CatalogSettings
from catalog.main import create_app
from catalog.service import CatalogService
from fastapi import FastAPI

from tests.support.apps import TokenMinter, unique_keyspace

SEEDED = 600  # products the seeder writes into the test keyspace


def catalog_app(minter: TokenMinter) -> FastAPI:
    """The real catalog in a keyspace of its own, as the upstream of the service under test."""
    settings = CatalogSettings(
        cassandra_keyspace=unique_keyspace("catalog"), jwks_url=minter.jwks_url
    )
    app: FastAPI = create_app(settings)
    return app


async def create_product(
    client: httpx.AsyncClient, minter: TokenMinter, **fields: Any
) -> dict[str, Any]:
    """POST /products as an admin: a fresh product, `fields` overriding the defaults."""
    body = {
        "name": f"Test Widget {uuid.uuid4().hex[:8]}",
        "description": "A widget made for tests",
        "category": f"test-{uuid.uuid4().hex[:8]}",
        "price": "9.99",
        "stock": 10,
        **fields,
    }
    response = await client.post("/products", json=body, headers=minter.headers("admin"))
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


class WithCatalog(Protocol):
    """A test handle that reaches a catalog app (the cart and orders tests' environments)."""

    catalog: httpx.AsyncClient
    minter: TokenMinter


async def new_product(env: WithCatalog, stock: int = 10, price: str = "19.99") -> str:
    """A fresh product in `env`'s catalog; its id."""
    product = await create_product(env.catalog, env.minter, stock=stock, price=price)
    return str(product["id"])


async def stock_of(env: WithCatalog, product_id: str) -> int:
    response = await env.catalog.get(f"/products/{product_id}")
    assert response.status_code == 200, response.text
    return int(response.json()["stock"])


@dataclass
class Catalog:
    client: httpx.AsyncClient
    app: FastAPI
    settings: CatalogSettings
    minter: TokenMinter

    @property
    def service(self) -> CatalogService:
        service: CatalogService = self.app.state.catalog
        return service

    @property
    def admin(self) -> dict[str, str]:
        return self.minter.headers("admin")

    @property
    def system(self) -> dict[str, str]:
        return self.minter.headers("service")

    async def create(self, **fields: Any) -> dict[str, Any]:
        return await create_product(self.client, self.minter, **fields)

    async def stock(self, product_id: str) -> int:
        response = await self.client.get(f"/products/{product_id}")
        assert response.status_code == 200, response.text
        return int(response.json()["stock"])

    async def reserve(
        self, order_id: uuid.UUID | str, items: dict[str, int], **extra: Any
    ) -> httpx.Response:
        body = {
            "order_id": str(order_id),
            "items": [{"product_id": p, "quantity": q} for p, q in items.items()],
            **extra,
        }
        return await self.client.post("/internal/reservations", json=body, headers=self.system)


@dataclass(frozen=True)
class Seeded:
    id: uuid.UUID
    name: str
    category: str
    price: Decimal
    stock: int


def uuid_order(value: uuid.UUID) -> tuple[int, bytes]:
    """Cassandra's `uuid` clustering order for non-time UUIDs: version, then unsigned bytes."""
    return (value.version or 0, value.bytes)
