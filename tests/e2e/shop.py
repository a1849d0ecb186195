"""Shopping through the Ingress, as the public contract describes it (docs/contract.md):
sign-ups, the admin's products, checkouts, and a loop of shoppers running in threads while
a test upgrades or breaks the cluster under them."""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

Headers = Mapping[str, str]

RENEW_BEFORE = 60.0  # seconds before its access token expires that a session signs in again


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


class Session(Mapping[str, str]):
    """The Authorization header of a signed-in user, usable wherever headers go. It signs in
    again shortly before the access token expires: a test may outlast a token (the pod-kill
    test waits out holds; the access token lives 15 minutes)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self._base_url, self._credentials = base_url, {"username": username, "password": password}
        self._headers: Headers = {}
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def headers(self) -> Headers:
        with self._lock:
            if time.monotonic() >= self._renew_at:
                with httpx.Client(base_url=self._base_url, timeout=30) as client:
                    login = client.post("/user-api/login", json=self._credentials)
                assert login.status_code == 200, login.text
                body = login.json()
                self._headers = bearer(body["access_token"])
                self._renew_at = time.monotonic() + int(body["expires_in"]) - RENEW_BEFORE
            return self._headers

    def __getitem__(self, name: str) -> str:
        return self.headers()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers())

    def __len__(self) -> int:
        return len(self.headers())


def log_in(client: httpx.Client, username: str, password: str) -> Session:
    session = Session(str(client.base_url), username, password)
    session.headers()  # sign in now: a wrong password fails here, not at first use
    return session


def sign_up(client: httpx.Client) -> Session:
    name = f"e2e{uuid.uuid4().hex[:12]}"
    password = secrets.token_urlsafe(12)
    user = {"username": name, "email": f"{name}@example.com", "password": password}
    registered = client.post("/user-api/register", json=user)
    assert registered.status_code == 201, registered.text
    return log_in(client, name, password)


def create_product(
    client: httpx.Client, admin: Headers, *, category: str, price: str, stock: int, name: str = ""
) -> dict[str, Any]:
    body = {
        "name": name or f"e2e product {uuid.uuid4().hex[:8]}",
        "description": "made by the kind e2e",
        "category": category,
        "price": price,
        "stock": stock,
    }
    created = client.post("/api/products", json=body, headers=admin)
    assert created.status_code == 201, created.text
    product: dict[str, Any] = created.json()
    return product


def add_to_cart(client: httpx.Client, user: Headers, product_id: str, quantity: int) -> None:
    added = client.post(
        "/cart-api/cart/items", json={"product_id": product_id, "quantity": quantity}, headers=user
    )
    assert added.status_code in (200, 201), added.text


def checkout(client: httpx.Client, user: Headers, key: str) -> httpx.Response:
    return client.post("/cart-api/cart/checkout", headers={**user, "Idempotency-Key": key})


def walk(
    client: httpx.Client, path: str, params: dict[str, Any], headers: Headers | None = None
) -> list[dict[str, Any]]:
    """Every item of a paginated list ({items, next_cursor}), following the cursors."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(1000):
        page = client.get(
            path, params={**params, "cursor": cursor} if cursor else params, headers=headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError(f"the cursors of {path} did not end")


def all_orders(client: httpx.Client, admin: Headers) -> list[dict[str, Any]]:
    """Every order of the store (admin, `all=true`)."""
    return walk(client, "/order-api/orders", {"all": "true", "limit": 100}, admin)


@dataclass
class Failure:
    what: str
    status: int | None
    detail: str


@dataclass
class Checkout:
    key: str
    user: Headers
    quantity: int
    order_id: str | None = None  # set once a checkout answered 201


@dataclass
class ShoppingLoop:
    """Shoppers in threads: each adds the product to its cart and checks out with a fresh
    Idempotency-Key, again and again, until stopped (or `max_rounds` each). Every request
    that does not answer as the contract says is kept in `failures`."""

    base_url: str
    product_id: str
    shoppers: Sequence[Headers]
    pause: float = 0.2  # between a shopper's rounds: stays far below the gateway's rate limit
    max_rounds: int = 2000
    checkouts: list[Checkout] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _fail(self, what: str, response: httpx.Response | None, error: str = "") -> None:
        with self._lock:
            self.failures.append(
                Failure(
                    what,
                    response.status_code if response is not None else None,
                    response.text[:300] if response is not None else error,
                )
            )

    def _request(self, client: httpx.Client, what: str, method: str, url: str, **kw: Any) -> Any:
        with self._lock:
            self.requests += 1
        try:
            response = client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self._fail(what, None, repr(exc))
            return None
        return response

    def _shop(self, user: Headers) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for _ in range(self.max_rounds):
                if self._stop.is_set():
                    return
                added = self._request(
                    client,
                    "add to cart",
                    "POST",
                    "/cart-api/cart/items",
                    json={"product_id": self.product_id, "quantity": 1},
                    headers=user,
                )
                if added is None or added.status_code not in (200, 201):
                    if added is not None:
                        self._fail("add to cart", added)
                    time.sleep(self.pause)
                    continue
                attempt = Checkout(uuid.uuid4().hex, user, 1)
                with self._lock:
                    self.checkouts.append(attempt)
                done = self._request(
                    client,
                    "checkout",
                    "POST",
                    "/cart-api/cart/checkout",
                    headers={**user, "Idempotency-Key": attempt.key},
                )
                if done is not None and done.status_code == 201:
                    attempt.order_id = done.json()["id"]
                elif done is not None:
                    self._fail("checkout", done)
                time.sleep(self.pause)

    @contextmanager
    def running(self) -> Iterator[ShoppingLoop]:
        threads = [threading.Thread(target=self._shop, args=(user,)) for user in self.shoppers]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            for thread in threads:
                thread.join(timeout=120)

    def completed(self) -> int:
        return sum(1 for c in self.checkouts if c.order_id)

    def wait_for_orders(self, count: int, timeout: float = 300) -> None:
        """Until `count` more checkouts than now have completed (the loop makes progress)."""
        target = self.completed() + count
        deadline = time.monotonic() + timeout
        while self.completed() < target:
            assert time.monotonic() < deadline, (
                f"the shoppers completed {self.completed()} of {target} checkouts; "
                f"failures: {self.failures[-5:]}"
            )
            time.sleep(0.5)


def money(value: str) -> Decimal:
    return Decimal(value)
