"""A shopper's session through the gateway, as the public contract describes it."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx


async def sign_up(gateway: httpx.AsyncClient) -> dict[str, str]:
    name = f"shopper{uuid.uuid4().hex[:10]}"
    password = secrets.token_urlsafe(12)
    user = {"username": name, "email": f"{name}@example.com", "password": password}
    assert (await gateway.post("/user-api/register", json=user)).status_code == 201
    login = await gateway.post("/user-api/login", json={"username": name, "password": password})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def checkout(
    gateway: httpx.AsyncClient, headers: dict[str, str], product_id: str, quantity: int = 1
) -> dict[str, Any]:
    added = await gateway.post(
        "/cart-api/cart/items",
        json={"product_id": product_id, "quantity": quantity},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    order = await gateway.post(
        "/cart-api/cart/checkout", headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert order.status_code == 201, order.text
    body: dict[str, Any] = order.json()
    return body
