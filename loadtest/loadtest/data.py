"""Data setup before a run: enough products to shop from, and the pools users draw from.

A stack seeded by `make up` (20,000 products) needs nothing; an empty one (a test stack, a
fresh cluster) gets `--min-products` products created through the admin API. Users then
pick products from a sample of in-stock listings and categories from GET /categories, so a
run only ever touches products that exist.
"""

from __future__ import annotations

import logging
import os
import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import requests

from loadtest.hosts import Hosts

log = logging.getLogger("loadtest")
SETUP_CATEGORIES = ("Books", "Toys", "Garden", "Music", "Sports")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    @classmethod
    def admin_from_env(cls) -> Credentials | None:
        """STORE_ADMIN_USERNAME (default admin) and STORE_ADMIN_PASSWORD, or the password in
        STORE_ADMIN_PASSWORD_FILE (default: the local stack's var/secrets/admin-password)."""
        password = os.environ.get("STORE_ADMIN_PASSWORD")
        if not password:
            path = Path(os.environ.get("STORE_ADMIN_PASSWORD_FILE", "var/secrets/admin-password"))
            password = path.read_text().strip() if path.is_file() else None
        if not password:
            return None
        return cls(os.environ.get("STORE_ADMIN_USERNAME", "admin"), password)


@dataclass(frozen=True)
class CatalogData:
    """What users draw from: in-stock product ids, categories and the price range seen."""

    product_ids: tuple[str, ...]
    categories: tuple[str, ...]
    max_price: Decimal

    def product(self) -> str:
        return random.choice(self.product_ids)

    def category(self) -> str:
        return random.choice(self.categories)


def login(session: requests.Session, hosts: Hosts, who: Credentials) -> str:
    response = session.post(
        f"{hosts.users}/login",
        json={"username": who.username, "password": who.password},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def product_count(session: requests.Session, hosts: Hosts) -> int:
    response = session.get(f"{hosts.catalog}/categories", timeout=30)
    response.raise_for_status()
    return sum(int(c["product_count"]) for c in response.json()["items"])


def create_products(
    session: requests.Session, hosts: Hosts, admin: Credentials, count: int
) -> None:
    headers = {"Authorization": f"Bearer {login(session, hosts, admin)}"}
    for i in range(count):
        response = session.post(
            f"{hosts.catalog}/products",
            json={
                "name": f"Loadtest {random.choice(SETUP_CATEGORIES)} {uuid.uuid4().hex[:8]}",
                "description": "made by the load test's data setup",
                "category": random.choice(SETUP_CATEGORIES),
                "price": f"{random.randint(2, 300)}.{random.choice(('00', '49', '99'))}",
                "stock": 100_000,
            },
            headers=headers,
            timeout=30,
        )
        response.raise_for_status()
        if (i + 1) % 100 == 0 or i + 1 == count:
            log.info("[setup] created %d/%d products", i + 1, count)


def sample_products(session: requests.Session, hosts: Hosts, size: int) -> list[dict[str, str]]:
    """Up to `size` in-stock products, walking the listing's cursors."""
    products: list[dict[str, str]] = []
    params: dict[str, str | int] = {"in_stock": "true", "limit": 100}
    while len(products) < size:
        response = session.get(f"{hosts.catalog}/products", params=params, timeout=30)
        response.raise_for_status()
        page = response.json()
        products.extend(page["items"])
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    return products[:size]


def prepare(hosts: Hosts, admin: Credentials | None, min_products: int, sample: int) -> CatalogData:
    """Make sure the catalog has `min_products`, then sample the pools users draw from."""
    with requests.Session() as session:
        have = product_count(session, hosts)
        if have < min_products:
            if admin is None:
                raise SystemExit(
                    f"the catalog has {have} products, fewer than --min-products {min_products},"
                    " and no admin password to create more (STORE_ADMIN_PASSWORD[_FILE])"
                )
            log.info("[setup] catalog has %d products: creating %d", have, min_products - have)
            create_products(session, hosts, admin, min_products - have)
        products = sample_products(session, hosts, sample)
        response = session.get(f"{hosts.catalog}/categories", timeout=30)
        response.raise_for_status()
        categories = [c["name"] for c in response.json()["items"]]
    if not products:
        raise SystemExit("no product in stock: nothing to shop for")
    log.info("[setup] %d products sampled, %d categories", len(products), len(categories))
    return CatalogData(
        product_ids=tuple(p["id"] for p in products),
        categories=tuple(categories),
        max_price=max(Decimal(p["price"]) for p in products),
    )
