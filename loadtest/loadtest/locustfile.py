"""Product Store shoppers for Locust: guests browsing, signed-in shoppers, one admin.

    uv run locust -f loadtest/loadtest/locustfile.py --host http://127.0.0.1:8080     # web UI
    uv run locust -f loadtest/loadtest/locustfile.py --config loadtest/profiles/smoke.conf

Weights follow a shop's traffic: most visitors browse, some buy, an admin now and then edits
the catalog. Expected business answers (409 for stock that ran out meanwhile, a cancel that
lost the race with the lifecycle worker) are successes; anything else unexpected, and a
replayed checkout that does not return the same order, is a failure. Hosts: hosts.py.
"""

from __future__ import annotations

import random
import uuid
from decimal import Decimal
from typing import Any

import gevent
from locust import HttpUser, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner

from loadtest.data import CatalogData, Credentials, prepare
from loadtest.hosts import Hosts

SORTS = ("name", "-name", "price", "-price")
SEARCH_WORDS = ("pro", "smart", "set", "organic", "classic", "mini", "wood", "kit", "pack")
_data: CatalogData | None = None
_hosts: Hosts | None = None


def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--think-time", default="0.5,2", env_var="STORE_THINK_SECONDS",
        help="seconds between a user's actions: 'min,max' (0,0: as fast as possible)",
    )  # fmt: skip
    parser.add_argument(
        "--min-products", type=int, default=50, env_var="STORE_MIN_PRODUCTS",
        help="create products through the admin API until the catalog has this many",
    )  # fmt: skip
    parser.add_argument(
        "--sample-products", type=int, default=1000, env_var="STORE_SAMPLE_PRODUCTS",
        help="in-stock products sampled for product pages and carts",
    )  # fmt: skip


def _setup(environment: Environment, **_: Any) -> None:
    global _data, _hosts
    _hosts = Hosts.from_env(environment.host)
    environment.host = environment.host or _hosts.catalog  # Locust insists on one base host
    if isinstance(environment.runner, MasterRunner):
        return  # the workers send the requests; each prepares its own pools
    opts = environment.parsed_options
    assert opts is not None
    _data = prepare(_hosts, Credentials.admin_from_env(), opts.min_products, opts.sample_products)


events.init_command_line_parser.add_listener(_options)
events.test_start.add_listener(_setup)


class StoreUser(HttpUser):
    abstract = True

    def wait_time(self) -> float:
        low, high = (float(x) for x in self.environment.parsed_options.think_time.split(","))
        return random.uniform(low, high)

    @property
    def hosts(self) -> Hosts:
        assert _hosts is not None, "test_start sets the hosts"
        return _hosts

    @property
    def data(self) -> CatalogData:
        assert _data is not None, "test_start prepares the data"
        return _data

    def headers(self) -> dict[str, str]:
        return {}

    def get(self, url: str, name: str, **kw: Any) -> Any:
        return self.client.get(url, name=name, headers=self.headers(), **kw)

    def browse_listing(self) -> None:
        """One listing page the way people ask for it: a category, a sort, maybe a price cap."""
        params: dict[str, Any] = {"limit": 20}
        if random.random() < 0.7:
            params["category"] = self.data.category()
        if random.random() < 0.5:
            params["sort"] = random.choice(SORTS)
        if random.random() < 0.2:
            cap = Decimal(random.randint(10, max(10, int(self.data.max_price))))
            params["max_price"] = str(cap)
        if random.random() < 0.15:
            params["in_stock"] = "true"
        name = "catalog: list filtered" if len(params) > 1 else "catalog: list"
        self.get(f"{self.hosts.catalog}/products", name, params=params)

    def view_product(self, product_id: str | None = None) -> None:
        self.get(
            f"{self.hosts.catalog}/products/{product_id or self.data.product()}",
            "catalog: product",
        )


class Guest(StoreUser):
    """A visitor without an account: listings, filters, search, deep pages, products."""

    weight = 12

    @task(4)
    def listing(self) -> None:
        self.browse_listing()

    @task(5)
    def product(self) -> None:
        self.view_product()

    @task(2)
    def search(self) -> None:
        params = {"q": random.choice(SEARCH_WORDS), "limit": 20}
        self.get(f"{self.hosts.catalog}/products", "catalog: search", params=params)

    @task(1)
    def cursor_walk(self) -> None:
        """Page through a listing, several pages deep, following next_cursor."""
        params: dict[str, Any] = {"limit": 20, "sort": random.choice(SORTS)}
        if random.random() < 0.5:
            params["category"] = self.data.category()
        for _ in range(random.randint(3, 8)):
            page = self.get(f"{self.hosts.catalog}/products", "catalog: cursor page", params=params)
            cursor = page.json().get("next_cursor") if page.ok else None
            if not cursor:
                return
            params["cursor"] = cursor

    @task(1)
    def categories(self) -> None:
        self.get(f"{self.hosts.catalog}/categories", "catalog: categories")


class Shopper(StoreUser):
    """Signs up once, then shops: browse, fill the cart, check out, look at orders."""

    weight = 6

    def on_start(self) -> None:
        name = f"lt{uuid.uuid4().hex[:14]}"
        self.credentials = Credentials(name, uuid.uuid4().hex)
        self.client.post(
            f"{self.hosts.users}/register",
            json={
                "username": name,
                "email": f"{name}@example.com",
                "password": self.credentials.password,
            },
            name="users: register",
        )
        self.token = ""
        self.orders: list[str] = []
        self.sign_in()

    def sign_in(self) -> None:
        response = self.client.post(
            f"{self.hosts.users}/login",
            json={"username": self.credentials.username, "password": self.credentials.password},
            name="users: login",
        )
        self.token = response.json()["access_token"] if response.ok else ""

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task(3)
    def browse(self) -> None:
        self.browse_listing()
        self.view_product()

    @task(4)
    def buy(self) -> None:
        """Add one to three products, check out with an Idempotency-Key, read the order."""
        for _ in range(random.choice((1, 1, 2, 3))):
            product = self.data.product()
            self.view_product(product)
            with self.client.post(
                f"{self.hosts.cart}/cart/items",
                json={"product_id": product, "quantity": random.choice((1, 1, 1, 2))},
                headers=self.headers(),
                name="cart: add item",
                catch_response=True,
            ) as added:
                if added.status_code == 409:  # sold out since the sample was taken
                    added.success()
                elif added.status_code == 401:
                    added.success()
                    self.sign_in()
                    return
        self.get(f"{self.hosts.cart}/cart", "cart: view")
        gevent.sleep(self.wait_time())  # think before paying
        self.checkout()

    def checkout(self) -> None:
        key = str(uuid.uuid4())
        headers = self.headers() | {"Idempotency-Key": key}
        url = f"{self.hosts.cart}/cart/checkout"
        with self.client.post(
            url, headers=headers, name="cart: checkout", catch_response=True
        ) as response:
            if response.status_code == 409:
                # Short stock (nothing reserved, cart kept) or an emptied cart: start over.
                response.success()
                self.client.delete(
                    f"{self.hosts.cart}/cart", headers=self.headers(), name="cart: clear"
                )
                return
            if response.status_code != 201:
                return  # counted as a failure by Locust
            order = response.json()["id"]
        self.orders.append(order)
        if random.random() < 0.1:
            # A client retrying after a lost response: the same order comes back.
            with self.client.post(
                url, headers=headers, name="cart: checkout replay", catch_response=True
            ) as replay:
                if replay.ok and replay.json()["id"] != order:
                    replay.failure(f"replay with key {key} made order {replay.json()['id']}")
        self.get(f"{self.hosts.orders}/orders/{order}", "orders: view")
        if random.random() < 0.15:
            with self.client.post(
                f"{self.hosts.orders}/orders/{order}/cancel",
                headers=self.headers(),
                name="orders: cancel",
                catch_response=True,
            ) as cancelled:
                if cancelled.status_code == 409:  # already shipped: the worker was faster
                    cancelled.success()

    @task(1)
    def my_orders(self) -> None:
        self.get(f"{self.hosts.orders}/orders", "orders: list", params={"limit": 10})


class Admin(StoreUser):
    """Now and then: adds a product, changes prices and stock of its own, removes one."""

    weight = 1

    def on_start(self) -> None:
        admin = Credentials.admin_from_env()
        if admin is None:
            raise SystemExit("the admin user needs STORE_ADMIN_PASSWORD[_FILE]")
        response = self.client.post(
            f"{self.hosts.users}/login",
            json={"username": admin.username, "password": admin.password},
            name="users: login",
        )
        self.token = response.json()["access_token"] if response.ok else ""
        self.mine: list[str] = []

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task(2)
    def create(self) -> None:
        response = self.client.post(
            f"{self.hosts.catalog}/products",
            json={
                "name": f"Admin pick {uuid.uuid4().hex[:8]}",
                "description": "added during a load test",
                "category": self.data.category(),
                "price": f"{random.randint(3, 200)}.99",
                "stock": random.randint(10, 500),
            },
            headers=self.headers(),
            name="admin: create product",
        )
        if response.status_code == 201:
            self.mine.append(response.json()["id"])

    @task(4)
    def edit(self) -> None:
        if not self.mine:
            return self.create()
        change = random.choice(
            ({"price": f"{random.randint(3, 200)}.49"}, {"stock": random.randint(0, 500)})
        )
        self.client.patch(
            f"{self.hosts.catalog}/products/{random.choice(self.mine)}",
            json=change,
            headers=self.headers(),
            name="admin: edit product",
        )

    @task(1)
    def delete(self) -> None:
        if len(self.mine) > 3:
            product = self.mine.pop(random.randrange(len(self.mine)))
            self.client.delete(
                f"{self.hosts.catalog}/products/{product}",
                headers=self.headers(),
                name="admin: delete product",
            )

    @task(1)
    def all_orders(self) -> None:
        self.get(
            f"{self.hosts.orders}/orders", "admin: all orders", params={"all": "true", "limit": 50}
        )
