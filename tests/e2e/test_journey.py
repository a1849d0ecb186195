"""A shopper's and the admin's journey on kind, through the Ingress on 127.0.0.1: the store
as `make deploy` (and skaffold) installs it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import yaml
from kit.topology import TOPOLOGY

from k8s.cluster import ROOT
from tests.e2e.conftest import KindStore
from tests.e2e.shop import add_to_cart, checkout, create_product, log_in, money, sign_up, walk
from tests.polling import wait_for


def browse(client: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    return walk(client, "/api/products", params)


def test_shopping_journey_through_the_ingress(kind_store: KindStore) -> None:
    with kind_store.client() as client:
        # The entry is the Ingress (Traefik) on 127.0.0.1, then the gateway.
        assert client.get("/api/categories").status_code == 200
        assert client.get("/swagger/").status_code == 200

        # The admin the chart made creates a category of its own, with five products.
        creds = kind_store.admin_credentials()
        admin = log_in(client, creds["username"], creds["password"])
        category = f"e2e-{uuid.uuid4().hex[:8]}"
        prices = ["3.50", "7.25", "12.00", "19.99", "42.00"]
        products = [
            create_product(client, admin, category=category, price=price, stock=10)
            for price in prices
        ]
        sold_out = create_product(client, admin, category=category, price="5.00", stock=0)

        user = sign_up(client)
        # A shopper is not an admin.
        refused = client.post(
            "/api/products",
            json={"name": "x", "category": category, "price": "1.00"},
            headers=user,
        )
        assert refused.status_code == 403, refused.text

        # Browse: a category, walked two at a time; every product exactly once.
        listed = browse(client, {"category": category, "limit": 2})
        assert sorted(p["id"] for p in listed) == sorted(p["id"] for p in [*products, sold_out])
        by_price = browse(client, {"category": category, "sort": "-price", "limit": 2})
        assert [money(p["price"]) for p in by_price] == sorted(
            (money(p["price"]) for p in by_price), reverse=True
        )
        in_range = browse(
            client,
            {"category": category, "min_price": "7", "max_price": "20", "in_stock": "true"},
        )
        assert sorted(p["price"] for p in in_range) == ["12.00", "19.99", "7.25"]
        in_stock = browse(client, {"category": category, "in_stock": "true", "limit": 3})
        assert sold_out["id"] not in {p["id"] for p in in_stock}
        assert len(in_stock) == len(products)

        # Cart and checkout with an Idempotency-Key; the replay returns the same order and
        # reserves nothing more.
        first, second = products[0], products[1]
        add_to_cart(client, user, first["id"], 2)
        cart = client.get("/cart-api/cart", headers=user).json()
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(first["id"], 2)]
        key = uuid.uuid4().hex
        placed = checkout(client, user, key)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        replay = checkout(client, user, key)
        assert replay.status_code in (200, 201), replay.text
        assert replay.json()["id"] == order["id"]
        assert money(order["total"]) == 2 * money(first["price"])
        wait_for(
            "the first product's stock to show the order",
            lambda: client.get(f"/api/products/{first['id']}").json()["stock"] == 8,
            timeout=30,
        )

        # Another order, cancelled: its stock comes back.
        add_to_cart(client, user, second["id"], 3)
        other = checkout(client, user, uuid.uuid4().hex)
        assert other.status_code == 201, other.text
        cancelled = client.post(f"/order-api/orders/{other.json()['id']}/cancel", headers=user)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        wait_for(
            "the cancelled order's stock to come back",
            lambda: client.get(f"/api/products/{second['id']}").json()["stock"] == 10,
            timeout=30,
        )

        # The lifecycle worker advances the first order (dev profile: seconds per step).
        seen: set[str] = set()

        def delivered() -> bool:
            got = client.get(f"/order-api/orders/{order['id']}", headers=user)
            assert got.status_code == 200, got.text
            status: str = got.json()["status"]
            seen.add(status)
            return status == "delivered"

        wait_for("the order to be delivered", delivered, timeout=180)
        assert {"paid", "shipped", "delivered"} <= seen, seen
        mine = client.get("/order-api/orders", headers=user).json()["items"]
        assert {o["id"]: o["status"] for o in mine} == {
            order["id"]: "delivered",
            other.json()["id"]: "cancelled",
        }


def test_migrations_run_as_hook_jobs_and_each_version_once(kind_store: KindStore) -> None:
    """The release migrates through its hook Jobs (one per service, before every upgrade;
    tests/e2e/test_upgrade.py shows the pods of an upgrade find nothing left to do), and
    each service's keyspace records every version of its migrations exactly once."""
    hooks = [
        doc
        for doc in yaml.safe_load_all(kind_store.helm("get", "hooks", kind_store.release.name))
        if doc and doc["kind"] == "Job"
    ]
    assert sorted(job["metadata"]["name"] for job in hooks) == sorted(
        kind_store.fullname(f"{service.name}-migrate") for service in TOPOLOGY
    )
    for job in hooks:
        assert "pre-upgrade" in job["metadata"]["annotations"]["helm.sh/hook"]
    for service in TOPOLOGY:
        files = sorted(
            (ROOT / "services" / service.name / service.name / "migrations").glob("*.cql")
        )
        recorded = kind_store.schema_migrations(service.name)
        assert sorted(recorded) == [int(f.name[:4]) for f in files], service.name
