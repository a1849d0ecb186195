"""The permissions matrix of docs/permissions.md, walked against the four services as real
processes: every cell (endpoint x caller), the owner-only cells, and the coverage of every
route each service serves."""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.service_stack import Stack, fill
from tests.support.permissions import GATEWAY_PREFIXES, Permission, parse_permissions, served_routes

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
CELLS = parse_permissions(MATRIX.read_text())
PASSWORD = "permissions-matrix-0123"


def cell_id(cell: Permission) -> str:
    return f"{cell.service} {cell.method} {cell.path} as {cell.caller}"


@dataclass
class World:
    """Real callers and real resources, so that allowed calls can succeed."""

    stack: Stack
    headers: dict[str, dict[str, str]]  # per caller
    emails: dict[str, str]  # per caller: PATCH /me sets the current one again
    ids: dict[str, dict[str, str]]  # per service: path parameters naming the user's own
    foreign: dict[str, dict[str, str]]  # per service: the same, naming another user's
    spare: str  # an account signing in with PASSWORD (login, refresh, logout)
    order: dict[str, Any]  # POST /internal/orders: a replay of the user's order
    hold: dict[str, Any]  # POST /internal/reservations: a replay of an existing hold

    async def refresh_token(self) -> str:
        """A fresh one: presenting a used refresh token is a 401 of its own."""
        async with self.stack.client("users") as users:
            login = await users.post("/login", json={"username": self.spare, "password": PASSWORD})
            assert login.status_code == 200, login.text
            return str(login.json()["refresh_token"])


@pytest_asyncio.fixture(scope="module")
async def world(stack: Stack) -> World:
    service = await stack.service_headers("cart")
    admin = await stack.admin_headers()
    product = await stack.new_product(stock=1000)
    spare = f"p{uuid.uuid4().hex[:12]}"
    async with stack.client("users") as users, stack.client("cart") as cart:
        user, other = await stack.new_user(users), await stack.new_user(users)
        orders = []
        for buyer in (user, other):
            await fill(cart, buyer, product, 1)
            checkout = await cart.post("/cart/checkout", headers=buyer)
            assert checkout.status_code == 201, checkout.text
            orders.append(checkout.json())
        me, admin_me = [(await users.get("/me", headers=h)).json() for h in (user, admin)]
        account = {"username": spare, "email": f"{spare}@example.com", "password": PASSWORD}
        assert (await users.post("/register", json=account)).status_code == 201
    hold_id = str(uuid.uuid4())  # a hold of no order: the internal reservation routes' own
    hold = {
        "order_id": hold_id,
        "items": [{"product_id": product, "quantity": 1}],
        "ttl_seconds": 3600,
    }
    async with stack.client("catalog") as catalog:
        held = await catalog.post("/internal/reservations", json=hold, headers=service)
        assert held.status_code == 201, held.text
    mine = orders[0]
    fields = ("product_id", "name", "unit_price", "quantity")
    replay = {
        "order_id": mine["id"],
        "user_id": mine["user_id"],
        "items": [{k: item[k] for k in fields} for item in mine["items"]],
        "total": mine["total"],
    }
    return World(
        stack=stack,
        headers={"guest": {}, "user": user, "admin": admin, "service": service},
        emails={"user": me["email"], "admin": admin_me["email"]},
        ids={
            "catalog": {"product_id": product, "order_id": hold_id},
            "cart": {"product_id": product},
            "orders": {"order_id": mine["id"], "user_id": me["id"]},
            "users": {"user_id": me["id"]},
        },
        foreign={"orders": {"order_id": orders[1]["id"]}},
        spare=spare,
        order=replay,
        hold=hold,
    )


async def request_for(w: World, cell: Permission, params: Mapping[str, str]) -> dict[str, Any]:
    """httpx arguments of a valid request for the cell: real ids, well-formed bodies."""
    url = cell.path.format(**params)
    name = f"p{uuid.uuid4().hex[:12]}"
    product = {"name": name, "category": "it", "price": "9.99", "stock": 100}
    if cell.endpoint == "DELETE /api/products/{product_id}":  # a product of its own
        url = f"/products/{await w.stack.new_product(stock=1)}"
    if cell.endpoint in ("POST /user-api/refresh", "POST /user-api/logout"):
        return {"url": url, "json": {"refresh_token": await w.refresh_token()}}
    bodies: dict[str, dict[str, Any]] = {
        "POST /api/products": {"json": product},
        "PUT /api/products/{product_id}": {"json": product},
        "PATCH /api/products/{product_id}": {"json": {"price": "9.99"}},
        "POST /internal/reservations": {"json": w.hold},
        "POST /cart-api/cart/items": {"json": {"product_id": params.get("product_id")}},
        "PATCH /cart-api/cart/items/{product_id}": {"json": {"quantity": 2}},
        "PATCH /order-api/orders/{order_id}/status": {"json": {"status": "shipped"}},
        "POST /internal/orders": {"json": w.order},
        "POST /user-api/register": {
            "json": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        },
        "POST /user-api/login": {"json": {"username": w.spare, "password": PASSWORD}},
        "POST /user-api/login/form": {"data": {"username": w.spare, "password": PASSWORD}},
        "PATCH /user-api/me": {"json": {"email": w.emails.get(cell.caller, "x@example.com")}},
        "PATCH /user-api/users/{user_id}/role": {"json": {"role": "user"}},
        "POST /user-api/oauth/token": {
            "data": {
                "grant_type": "client_credentials",
                "client_id": "cart",
                "client_secret": w.stack["cart"].env["CART_CLIENT_SECRET"],
            }
        },
    }
    return {"url": url, **bodies.get(cell.endpoint, {})}


async def send(w: World, cell: Permission, url: str, **kwargs: Any) -> httpx.Response:
    """The request straight to the service (the gateway prefix is already stripped)."""
    async with w.stack.client(cell.service) as client:
        return await client.request(cell.method, url, headers=w.headers[cell.caller], **kwargs)


@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
async def test_permission(world: World, cell: Permission) -> None:
    request = await request_for(world, cell, world.ids.get(cell.service, {}))
    response = await send(world, cell, **request)
    if cell.allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
        return
    assert response.status_code == int(cell.expected), response.text
    # Role dependencies run before FastAPI validates ids and bodies: nonsense is refused
    # the same way (the admin-only query parameters of GET /orders are checked later).
    if "?" not in cell.path and ("{" in cell.path or "json" in request):
        url = re.sub(r"\{\w+\}", "not-an-id", cell.path)
        nonsense = await send(world, cell, url, json={} if "json" in request else None)
        assert nonsense.status_code == response.status_code, nonsense.text


@pytest.mark.parametrize("cell", [c for c in CELLS if c.expected == "✓ own"], ids=cell_id)
async def test_others_resources_are_not_found(world: World, cell: Permission) -> None:
    request = await request_for(world, cell, world.foreign[cell.service])
    response = await send(world, cell, **request)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("service", GATEWAY_PREFIXES)
async def test_matrix_lists_every_route(stack: Stack, service: str) -> None:
    """Every operation of the service's OpenAPI document, and every route it serves
    (the internal ones, /metrics and the docs pages are hidden from OpenAPI)."""
    documented = {c.route for c in CELLS if c.service == service}
    async with stack.client(service) as client:
        spec = (await client.get("/openapi.json")).json()
    public = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    served = served_routes(importlib.import_module(f"{service}.main").app)
    assert public - documented == set(), "in the OpenAPI document, missing from the matrix"
    assert served - documented == set(), "served, missing from the matrix"
    assert documented - served == set(), "in the matrix, not served"
