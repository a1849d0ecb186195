"""Products through the HTTP API on the real Cassandra node: CRUD, auth, validation, filters."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.support.catalog import Catalog


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert "detail" in body
    return body


async def test_create_get_update_delete(catalog: Catalog) -> None:
    created = await catalog.create(
        name="Copper Kettle", description="Boils water", category="t-crud", price="24.5", stock=7
    )
    assert created["price"] == "24.50" and created["stock"] == 7
    assert set(created) == {
        "id", "name", "description", "category", "price", "stock", "created_at", "updated_at"
    }  # fmt: skip
    assert created["created_at"].endswith(("Z", "+00:00"))
    pid = created["id"]

    got = (await catalog.client.get(f"/products/{pid}")).json()
    assert got == created

    put = await catalog.client.put(
        f"/products/{pid}",
        json={"name": "Steel Kettle", "description": "", "category": "t-crud-2", "price": "30",
              "stock": 3},
        headers=catalog.admin,
    )  # fmt: skip
    assert put.status_code == 200, put.text
    assert put.json()["name"] == "Steel Kettle" and put.json()["price"] == "30.00"
    assert put.json()["stock"] == 3 and put.json()["created_at"] == created["created_at"]

    patch = await catalog.client.patch(
        f"/products/{pid}", json={"price": "12.99"}, headers=catalog.admin
    )
    assert patch.status_code == 200, patch.text
    assert patch.json()["price"] == "12.99" and patch.json()["name"] == "Steel Kettle"
    assert patch.json()["stock"] == 3

    stock_only = await catalog.client.patch(
        f"/products/{pid}", json={"stock": 0}, headers=catalog.admin
    )
    assert stock_only.json()["stock"] == 0
    assert (await catalog.client.get(f"/products/{pid}")).json()["stock"] == 0

    # The listings follow every change: old category and old price are gone.
    old_cat = (await catalog.client.get("/products", params={"category": "t-crud"})).json()
    assert old_cat["items"] == []
    new_cat = (await catalog.client.get("/products", params={"category": "t-crud-2"})).json()
    assert [p["id"] for p in new_cat["items"]] == [pid]
    by_price = (
        await catalog.client.get(
            "/products",
            params={"category": "t-crud-2", "sort": "price", "min_price": "30", "max_price": "30"},
        )
    ).json()
    assert by_price["items"] == []

    deleted = await catalog.client.delete(f"/products/{pid}", headers=catalog.admin)
    assert deleted.status_code == 204 and deleted.content == b""
    _problem(await catalog.client.get(f"/products/{pid}"), 404)
    _problem(await catalog.client.delete(f"/products/{pid}", headers=catalog.admin), 404)
    gone = (await catalog.client.get("/products", params={"category": "t-crud-2"})).json()
    assert gone["items"] == []


async def test_unknown_and_malformed_ids(catalog: Catalog) -> None:
    missing = uuid.uuid4()
    _problem(await catalog.client.get(f"/products/{missing}"), 404)
    _problem(
        await catalog.client.put(
            f"/products/{missing}",
            json={"name": "n", "category": "c", "price": "1.00", "stock": 1},
            headers=catalog.admin,
        ),
        404,
    )
    _problem(
        await catalog.client.patch(f"/products/{missing}", json={}, headers=catalog.admin), 404
    )
    _problem(await catalog.client.get("/products/not-a-uuid"), 422)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "category": "c", "price": "1.00"},
        {"name": "x" * 201, "category": "c", "price": "1.00"},
        {"name": "n", "category": "c" * 81, "price": "1.00"},
        {"name": "n", "category": "c", "price": "0"},
        {"name": "n", "category": "c", "price": "-3.00"},
        {"name": "n", "category": "c", "price": "1.234"},
        {"name": "n", "category": "c", "price": "abc"},
        {"name": "n", "category": "c", "price": "1.00", "stock": -1},
        {"name": "n", "category": "c", "price": "1.00", "stock": "many"},
        {"category": "c", "price": "1.00"},
        {"name": "n", "category": "c", "price": "1.00", "unknown": 1},
    ],
)
async def test_create_validation_errors(catalog: Catalog, body: dict[str, Any]) -> None:
    problem = _problem(
        await catalog.client.post("/products", json=body, headers=catalog.admin), 422
    )
    assert problem["errors"]


async def test_patch_validation_and_bad_json(catalog: Catalog) -> None:
    pid = (await catalog.create())["id"]
    for body in ({"price": "0.001"}, {"name": None}, {"stock": -5}, {"bogus": True}):
        _problem(
            await catalog.client.patch(f"/products/{pid}", json=body, headers=catalog.admin), 422
        )
    raw = await catalog.client.post(
        "/products",
        content=b"{not json",
        headers={**catalog.admin, "content-type": "application/json"},
    )
    _problem(raw, 422)


async def test_writes_are_admin_only(catalog: Catalog) -> None:
    body = {"name": "Guarded", "category": "t-auth", "price": "1.00", "stock": 1}
    _problem(await catalog.client.post("/products", json=body), 401)
    _problem(
        await catalog.client.post(
            "/products", json=body, headers={"Authorization": "Bearer x.y.z"}
        ),
        401,
    )
    _problem(
        await catalog.client.post("/products", json=body, headers=catalog.minter.headers("user")),
        403,
    )
    _problem(await catalog.client.post("/products", json=body, headers=catalog.system), 403)
    created = await catalog.client.post("/products", json=body, headers=catalog.admin)
    assert created.status_code == 201
    pid = created.json()["id"]
    user = catalog.minter.headers("user")
    _problem(await catalog.client.patch(f"/products/{pid}", json={"stock": 9}, headers=user), 403)
    _problem(await catalog.client.put(f"/products/{pid}", json=body, headers=user), 403)
    _problem(await catalog.client.delete(f"/products/{pid}", headers=user), 403)
    _problem(await catalog.client.delete(f"/products/{pid}"), 401)
    # Guests browse.
    assert (await catalog.client.get(f"/products/{pid}")).status_code == 200
    assert (await catalog.client.get("/products")).status_code == 200
    assert (await catalog.client.get("/categories")).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "rating"},
        {"sort": ""},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"min_price": "10", "max_price": "5"},
        {"min_price": "-1"},
        {"max_price": "cheap"},
        {"in_stock": "perhaps"},
    ],
)
async def test_list_parameter_errors(catalog: Catalog, params: dict[str, str]) -> None:
    _problem(await catalog.client.get("/products", params=params), 422)


async def test_bad_cursors(catalog: Catalog) -> None:
    for token in ("garbage", "eyJ2IjoxfQ", "%%%", "a" * 3000):
        response = await catalog.client.get("/products", params={"cursor": token})
        assert response.status_code in (400, 422), response.text
        _problem(response, response.status_code)
    page = (await catalog.client.get("/products", params={"limit": 2})).json()
    assert page["next_cursor"]
    other_sort = await catalog.client.get(
        "/products", params={"cursor": page["next_cursor"], "sort": "price"}
    )
    _problem(other_sort, 400)


def _cursor(sort: str, key: str) -> str:
    raw = json.dumps({"v": 1, "s": sort, "k": key, "i": str(uuid.uuid4())}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("price", "1e-3000000000"),  # a scale past Cassandra's 32 bits
        ("-price", "1e3000000000"),
        ("price", "0.001"),  # not a listing key: prices are whole cents
        ("name", "\ud800"),  # a lone surrogate: JSON carries it, no text column does
        ("-name", "abc\udfff"),
    ],
)
async def test_forged_cursor_positions_are_refused(catalog: Catalog, sort: str, key: str) -> None:
    """Regression (found by fuzzing): these positions reached Cassandra and failed there
    (TypeError binding the decimal, UnicodeEncodeError binding the text): a 500."""
    response = await catalog.client.get(
        "/products", params={"sort": sort, "cursor": _cursor(sort, key)}
    )
    _problem(response, 400)


async def test_price_bounds_of_any_precision(catalog: Catalog) -> None:
    """Regression (found by fuzzing): a bound like 1e-3000000000 is a valid number in range,
    and the price listing bound it as a Cassandra decimal (32-bit scale): a 500. Bounds now
    select exactly the whole-cent prices they select numerically."""
    category = f"t-bounds-{uuid.uuid4().hex[:6]}"
    for name, price in (("One Cent", "0.01"), ("Two", "1.23"), ("Three", "1.24")):
        await catalog.create(name=name, category=category, price=price, stock=1)

    async def names(**params: str) -> list[str]:
        response = await catalog.client.get("/products", params={"category": category, **params})
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["items"]]

    for sort in ("price", "-price", "name"):
        assert set(await names(sort=sort, min_price="1e-3000000000")) == {
            "One Cent",
            "Two",
            "Three",
        }
        assert await names(sort=sort, max_price="1e-3000000000") == []
        assert await names(sort=sort, min_price="0E-3000000000", max_price="0.01") == ["One Cent"]
        assert await names(sort=sort, min_price="1.2300001", max_price="1.24") == ["Three"]
        assert await names(sort=sort, min_price="1.231", max_price="1.239") == []
        assert await names(sort=sort, min_price="0.011", max_price="1.2399999") == ["Two"]


async def test_filters_and_sorts(catalog: Catalog) -> None:
    category = f"t-filter-{uuid.uuid4().hex[:6]}"
    specs = [
        ("banana Slicer", "3.49", 5),
        ("Apple Peeler", "12.00", 0),
        ("cherry Pitter", "7.99", 2),
        ("Apple Corer", "7.99", 0),
        ("Date Roller", "25.00", 9),
    ]
    made = {
        name: await catalog.create(name=name, category=category, price=price, stock=stock)
        for name, price, stock in specs
    }

    async def names(**params: Any) -> list[str]:
        response = await catalog.client.get("/products", params={"category": category, **params})
        assert response.status_code == 200, response.text
        return [p["name"] for p in response.json()["items"]]

    assert await names() == ["Apple Corer", "Apple Peeler", "banana Slicer", "cherry Pitter",
                             "Date Roller"]  # fmt: skip
    assert await names(sort="-name") == list(reversed(await names()))
    by_price = await names(sort="price")
    assert by_price[0] == "banana Slicer" and by_price[-1] == "Date Roller"
    assert set(by_price[1:3]) == {"cherry Pitter", "Apple Corer"}
    assert await names(sort="-price") == list(reversed(by_price))
    assert await names(q="APPLE") == ["Apple Corer", "Apple Peeler"]
    assert await names(q="pitt") == ["cherry Pitter"]
    assert await names(q="nothing-like-this") == []
    assert await names(in_stock="true") == ["banana Slicer", "cherry Pitter", "Date Roller"]
    assert await names(in_stock="false") == ["Apple Corer", "Apple Peeler"]
    assert await names(min_price="7.99", max_price="12") == ["Apple Corer", "Apple Peeler",
                                                             "cherry Pitter"]  # fmt: skip
    assert await names(sort="price", min_price="7.99", max_price="12") == [
        n for n in by_price if n in {"Apple Corer", "Apple Peeler", "cherry Pitter"}
    ]
    desc_cheap = await names(sort="-price", max_price="7.99")
    assert desc_cheap[-1] == "banana Slicer" and set(desc_cheap) == {
        "cherry Pitter", "Apple Corer", "banana Slicer"
    }  # fmt: skip
    assert await names(sort="price", min_price="8") == ["Apple Peeler", "Date Roller"]
    assert await names(q="apple", in_stock="true") == []
    assert await names(q="e", in_stock="true", sort="-price", min_price="5") == [
        "Date Roller", "cherry Pitter"
    ]  # fmt: skip
    # Every listed product carries its stock and full fields.
    listed = (await catalog.client.get("/products", params={"category": category})).json()
    for item in listed["items"]:
        assert item == made[item["name"]]
    assert listed["next_cursor"] is None


async def test_categories_count_products(catalog: Catalog) -> None:
    category = f"t-cats-{uuid.uuid4().hex[:6]}"
    ids = [(await catalog.create(category=category))["id"] for _ in range(3)]
    body = (await catalog.client.get("/categories")).json()
    counts = {c["name"]: c["product_count"] for c in body["items"]}
    assert counts[category] == 3
    assert counts["Electronics"] > 0  # seeded
    names = [c["name"] for c in body["items"]]
    assert names == sorted(names)
    await catalog.client.delete(f"/products/{ids[0]}", headers=catalog.admin)
    counts = {
        c["name"]: c["product_count"]
        for c in (await catalog.client.get("/categories")).json()["items"]
    }
    assert counts[category] == 2


async def test_money_is_exact(catalog: Catalog) -> None:
    created = await catalog.create(price="0.30")
    assert created["price"] == "0.30"
    as_number = await catalog.client.post(
        "/products",
        json={"name": "Numeric price", "category": "t-money", "price": 19.99, "stock": 1},
        headers=catalog.admin,
    )
    assert as_number.status_code == 201 and as_number.json()["price"] == "19.99"
    assert Decimal(as_number.json()["price"]) == Decimal("19.99")


async def test_view_metric_and_health(catalog: Catalog) -> None:
    pid = (await catalog.create())["id"]
    await catalog.client.get(f"/products/{pid}")
    metrics = (await catalog.client.get("/metrics")).text
    assert "store_product_views_total" in metrics
    assert 'store_stock_reservations_total{result="reserved"}' in metrics
    ready = await catalog.client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["checks"]["cassandra"] == "ok"
