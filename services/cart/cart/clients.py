"""The two upstreams of the cart: the catalog (products, stock reservations) and orders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
from kit.errors import AppError, ServiceUnavailable
from kit.http import ServiceClient

from cart.errors import CheckoutFailed, InsufficientStock, ProductNotFound, ProductsGone


@dataclass(frozen=True)
class Product:
    id: uuid.UUID
    name: str
    price: Decimal
    stock: int


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail) if detail is not None else response.text[:200]


def _unexpected(upstream: str, response: httpx.Response) -> AppError:
    if response.status_code in (401, 403):
        # Our service identity is refused: a deployment problem, not the customer's.
        return ServiceUnavailable(f"{upstream} refused this service's identity")
    return CheckoutFailed(f"{upstream} refused: {_detail(response)}")


class CatalogClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def product(self, product_id: uuid.UUID) -> Product:
        response = await self.client.request("GET", f"/products/{product_id}", idempotent=True)
        if response.status_code == 404:
            raise ProductNotFound(product_id)
        if response.status_code != 200:
            raise _unexpected("catalog", response)
        body = response.json()
        return Product(
            id=uuid.UUID(body["id"]),
            name=str(body["name"]),
            price=Decimal(str(body["price"])),
            stock=int(body["stock"]),
        )

    async def reserve(
        self, order_id: uuid.UUID, items: dict[uuid.UUID, int], ttl_seconds: int
    ) -> dict[str, Any]:
        """Hold the items for the order (idempotent on the order id)."""
        response = await self.client.request(
            "POST",
            "/internal/reservations",
            idempotent=True,
            json={
                "order_id": str(order_id),
                "items": [{"product_id": str(p), "quantity": q} for p, q in items.items()],
                "ttl_seconds": ttl_seconds,
            },
        )
        if response.status_code in (200, 201):
            body: dict[str, Any] = response.json()
            return body
        if response.status_code == 409:
            body = response.json()
            if body.get("short_items"):
                raise InsufficientStock(body["short_items"])
        if response.status_code == 404:
            raise ProductsGone(_detail(response))
        raise _unexpected("catalog", response)

    async def commit(self, order_id: uuid.UUID) -> None:
        response = await self.client.request(
            "POST", f"/internal/reservations/{order_id}/commit", idempotent=True
        )
        if response.status_code not in (200, 201, 204):
            raise _unexpected("catalog", response)

    async def release(self, order_id: uuid.UUID) -> None:
        response = await self.client.request(
            "POST", f"/internal/reservations/{order_id}/release", idempotent=True
        )
        if response.status_code not in (200, 201, 204, 404):
            raise _unexpected("catalog", response)


class OrdersClient:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def create(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create the order (idempotent on its id); returns the order."""
        response = await self.client.request(
            "POST", "/internal/orders", idempotent=True, json=payload
        )
        if response.status_code in (200, 201):
            body: dict[str, Any] = response.json()
            return body
        raise _unexpected("orders", response)
