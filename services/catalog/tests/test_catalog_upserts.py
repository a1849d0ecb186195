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


async def test_upserts_of_new_and_existing_products_together(catalog: Catalog) -> None:
    """One request mixing new products (grouped writes) and existing ones whose listing
    keys change (a logged batch each): every listing shows each product once, where it is."""
    tag = uuid.uuid4().hex[:8]
    a, b, c = (uuid.uuid4() for _ in range(3))

    def item(pid: uuid.UUID, name: str, category: str, price: str) -> dict[str, object]:
        return {"id": str(pid), "name": f"{name} {tag}", "category": category,
                "price": price, "stock": 2}  # fmt: skip

    async def put(*items: dict[str, object]) -> None:
        response = await catalog.client.put(
            "/internal/products", json={"items": list(items)}, headers=catalog.system
        )
        assert response.status_code == 200, response.text

    async def listed(**params: str) -> list[str]:
        page = (await catalog.client.get("/products", params={"q": tag, **params})).json()
        return [p["id"] for p in page["items"]]

    await put(item(a, "Alpha", f"Old {tag}", "5.00"), item(b, "Beta", f"Old {tag}", "6.00"))
    await put(item(a, "Gamma", f"New {tag}", "7.00"), item(c, "Delta", f"New {tag}", "8.00"))
    assert await listed(category=f"Old {tag}") == [str(b)]
    assert await listed(category=f"New {tag}", sort="price") == [str(a), str(c)]
    assert await listed(sort="name") == [str(b), str(c), str(a)]  # Beta, Delta, Gamma
    assert await listed(sort="-price") == [str(c), str(a), str(b)]
