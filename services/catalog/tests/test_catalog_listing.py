"""Cursor walks over seeded data: every matching product exactly once, in order."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from catalog.listing import Listing
from catalog.schemas import ProductQuery

from tests.support.catalog import Catalog, Seeded, uuid_order

SORTS = ["name", "-name", "price", "-price"]


def expected(products: list[Seeded], sort: str) -> list[str]:
    def key(p: Seeded) -> tuple[Any, ...]:
        value: Any = p.name.lower() if sort.lstrip("-") == "name" else p.price
        return (value, uuid_order(p.id))

    return [str(p.id) for p in sorted(products, key=key, reverse=sort.startswith("-"))]


async def walk(catalog: Catalog, params: dict[str, Any], limit: int) -> tuple[list[str], int]:
    ids: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await catalog.client.get("/products", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        ids += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, pages
        assert pages < 500, "the walk does not end"


def _largest_category(seeded: list[Seeded]) -> str:
    return Counter(p.category for p in seeded).most_common(1)[0][0]


@pytest.mark.parametrize("sort", SORTS)
async def test_walk_a_category(catalog: Catalog, seeded: list[Seeded], sort: str) -> None:
    category = _largest_category(seeded)
    want = expected([p for p in seeded if p.category == category], sort)
    assert len(want) > 30
    got, pages = await walk(catalog, {"category": category, "sort": sort}, limit=7)
    assert len(got) == len(set(got)), "a product came twice"
    assert got == want
    assert pages >= len(want) // 7


FILTERS: list[tuple[str, dict[str, Any], Callable[[Seeded], bool]]] = [
    ("in_stock", {"in_stock": "true"}, lambda p: p.stock > 0),
    ("sold_out", {"in_stock": "false"}, lambda p: p.stock == 0),
    (
        "price_range",
        {"min_price": "20", "max_price": "150.49"},
        lambda p: Decimal("20") <= p.price <= Decimal("150.49"),
    ),
    (
        "everything",
        {"min_price": "10.00", "max_price": "400", "in_stock": "true", "q": "a"},
        lambda p: Decimal(10) <= p.price <= Decimal(400) and p.stock > 0 and "a" in p.name.lower(),
    ),
]


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize(("label", "params", "keep"), FILTERS, ids=[f[0] for f in FILTERS])
async def test_walk_a_category_with_filters(
    catalog: Catalog,
    seeded: list[Seeded],
    sort: str,
    label: str,
    params: dict[str, Any],
    keep: Callable[[Seeded], bool],
) -> None:
    category = _largest_category(seeded)
    want = expected([p for p in seeded if p.category == category and keep(p)], sort)
    got, _ = await walk(catalog, {"category": category, "sort": sort, **params}, limit=7)
    assert got == want, label


@pytest.mark.parametrize("sort", SORTS)
async def test_walk_everything_by_name_search(
    catalog: Catalog, seeded: list[Seeded], sort: str
) -> None:
    brand = "Voltra"  # a seeded brand; no test product carries it
    want = expected([p for p in seeded if brand.lower() in p.name.lower()], sort)
    assert want
    got, _ = await walk(catalog, {"q": brand.upper(), "sort": sort}, limit=7)
    assert got == want


@pytest.mark.parametrize("sort", ["name", "-price"])
async def test_short_pages_when_the_scan_budget_runs_out(
    catalog: Catalog, seeded: list[Seeded], sort: str
) -> None:
    """A rare match makes pages short or empty, but the walk still finds each exactly once."""
    settings = catalog.settings.model_copy(update={"list_scan_budget": 100})
    listing = Listing(catalog.service.repo, settings, catalog.service.reads)
    word = "Quill & Co"  # one Books brand among ~600 products
    want = expected([p for p in seeded if word.lower() in p.name.lower()], sort)
    assert want
    got: list[str] = []
    cursor = None
    short_pages = 0
    for _ in range(200):
        page = await listing.list_products(ProductQuery(q=word, sort=sort, limit=5, cursor=cursor))
        got += [str(p.id) for p in page.items]
        short_pages += len(page.items) < 5 and page.next_cursor is not None
        cursor = page.next_cursor
        if cursor is None:
            break
    assert got == want
    assert short_pages > 0, "the budget never ran out: the test does not test the budget"


async def test_walk_sees_edits_without_duplicates(catalog: Catalog) -> None:
    """Products renamed or repriced during a walk never show up twice."""
    category = f"t-walk-{uuid.uuid4().hex[:6]}"
    made = [
        await catalog.create(name=f"Item {i:02d}", category=category, price=f"{i + 1}.00")
        for i in range(12)
    ]
    first = (
        await catalog.client.get("/products", params={"category": category, "limit": 5})
    ).json()
    # Move an already-seen product to the end, and one not yet seen to the front.
    await catalog.client.patch(
        f"/products/{made[0]['id']}", json={"name": "Zz Item 00"}, headers=catalog.admin
    )
    await catalog.client.patch(
        f"/products/{made[11]['id']}", json={"name": "Aa Item 11"}, headers=catalog.admin
    )
    ids = [p["id"] for p in first["items"]]
    rest, _ = await walk(catalog, {"category": category}, limit=5)  # fresh walk for sanity
    assert len(rest) == 12 and len(set(rest)) == 12
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await catalog.client.get(
                "/products", params={"category": category, "limit": 5, "cursor": cursor}
            )
        ).json()
        ids += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
    counts = Counter(ids)
    assert counts[made[0]["id"]] == 2  # seen before its rename, and again at its new place
    assert max(c for pid, c in counts.items() if pid != made[0]["id"]) == 1
    assert made[11]["id"] not in ids  # moved behind the cursor: expected for a live listing
