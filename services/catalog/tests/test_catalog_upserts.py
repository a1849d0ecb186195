"""PUT /internal/products: idempotent upserts by id, for service identities only."""

from __future__ import annotations

import uuid

from tests.support.catalog import Catalog


def _body(pid: uuid.UUID, price: str) -> dict[str, object]:
    item = {"id": str(pid), "name": "Upserted lamp", "category": "Lamps", "price": price}
    return {"items": [{**item, "stock": 3}]}


async def test_upsert_creates_then_overwrites(catalog: Catalog) -> None:
    pid = uuid.uuid4()
    for price in ("10.00", "12.50"):
        response = await catalog.client.put(
            "/internal/products", json=_body(pid, price), headers=catalog.system
        )
        assert response.status_code == 200, response.text
        assert response.json() == {"written": 1}
    product = (await catalog.client.get(f"/products/{pid}")).json()
    assert (product["price"], product["stock"]) == ("12.50", 3)


async def test_upsert_needs_a_service_token_and_valid_products(catalog: Catalog) -> None:
    body = _body(uuid.uuid4(), "1.00")
    assert (await catalog.client.put("/internal/products", json=body)).status_code == 401
    admin = catalog.minter.headers("admin")
    assert (
        await catalog.client.put("/internal/products", json=body, headers=admin)
    ).status_code == 403
    bad = {"items": [{"id": "not-a-uuid", "name": "x", "category": "y", "price": "-1"}]}
    response = await catalog.client.put("/internal/products", json=bad, headers=catalog.system)
    assert response.status_code == 422
