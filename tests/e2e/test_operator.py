"""The store operator's resources in the dev profile's release, on kind: the CatalogSeed's
status and its products served through the Ingress, and a signing-key rotation while
signed-in shoppers keep buying, with zero failed requests."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from catalog.seed import generate
from kit.topology import TOPOLOGY

from k8s.log import progress
from tests.e2e.conftest import KindStore
from tests.e2e.shop import Headers, ShoppingLoop, create_product, log_in, sign_up

T = TypeVar("T")
SHOPPERS = 3
ROTATE = "productstore.io/rotate"


def until(what: str, probe: Callable[[], T | None], timeout: float, every: float = 2.0) -> T:
    """The first truthy answer of `probe`, polling; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def resource(store: KindStore, kind: str, component: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        store.kubectl("get", kind, store.fullname(component), "-o", "json")
    )
    return found


def ready(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The Ready condition when it is True."""
    for condition in obj.get("status", {}).get("conditions", []):
        if condition["type"] == "Ready" and condition["status"] == "True":
            return dict(condition)
    return None


def token_kid(headers: Headers) -> str:
    token = headers["Authorization"].removeprefix("Bearer ")
    segment = token.split(".")[0]
    padded = segment + "=" * (-len(segment) % 4)
    header: dict[str, str] = json.loads(base64.urlsafe_b64decode(padded))
    return header["kid"]


def test_the_catalog_seed_is_ready_and_served_through_the_ingress(kind_store: KindStore) -> None:
    def seeded() -> dict[str, Any] | None:
        seed = resource(kind_store, "catalogseed", "catalog-seed")
        return seed if seed.get("status", {}).get("phase") == "Ready" else None

    seed = until("the CatalogSeed to be Ready", seeded, timeout=600)
    status, generator = seed["status"], seed["spec"]["generator"]
    progress("e2e", f"CatalogSeed: {status['progress']} at {status['lastSeedTime']}")
    assert status["seededCount"] == status["total"] == generator["count"]
    assert status["observedGeneration"] == seed["metadata"]["generation"]
    condition = ready(seed)
    assert condition is not None and condition["reason"] == "Seeded", status

    products = generate(generator["count"], generator["seed"])
    with kind_store.client() as client:
        for pid, expected in (products[0], products[len(products) // 2], products[-1]):
            served = client.get(f"{TOPOLOGY.service('catalog').prefix}/products/{pid}")
            assert served.status_code == 200, served.text
            body = served.json()
            assert (body["name"], body["category"]) == (expected.name, expected.category)
            assert Decimal(body["price"]) == expected.price


def test_a_key_rotation_while_shoppers_shop_fails_no_request(kind_store: KindStore) -> None:
    users = TOPOLOGY.issuer
    ring = until("the SigningKeyRing to be Ready", lambda: ready_ring(kind_store), timeout=300)
    old_kid = ring["status"]["activeKid"]
    with kind_store.client() as client:
        creds = kind_store.admin_credentials()
        admin = log_in(client, creds["username"], creds["password"])
        product = create_product(
            client, admin, category="e2e-rotation", price="1.25", stock=100_000
        )
        before = [sign_up(client) for _ in range(SHOPPERS)]
    assert {token_kid(h) for h in before} == {old_kid}

    loop = ShoppingLoop(kind_store.base_url, product["id"], before)
    with loop.running():
        loop.wait_for_orders(SHOPPERS)
        value = uuid.uuid4().hex
        progress("e2e", f"rotating the signing keys ({ROTATE}={value}) while {SHOPPERS} shop")
        kind_store.kubectl(
            "annotate", "signingkeyring", kind_store.fullname("signing-key-ring"),
            f"{ROTATE}={value}", "--overwrite",
        )  # fmt: skip

        def activated() -> str | None:
            kid = ring_status(kind_store).get("activeKid")
            return str(kid) if kid and kid != old_kid else None

        # published, then active after the ring's propagationDelay (2m in the dev profile)
        new_kid = until("the new key to become active", activated, timeout=420)
        progress("e2e", f"key {new_kid} active in the ring; waiting for the users pods")

        with kind_store.client() as client:

            def signing_with_new_key() -> Headers | None:
                headers = sign_up(client)
                return headers if token_kid(headers) == new_kid else None

            # the Secret volume's update reaches the pod (kubelet sync), then it reloads
            after = until("tokens of the new key", signing_with_new_key, timeout=300, every=5)
            jwks = client.get(f"{users.prefix}/.well-known/jwks.json").json()
        assert {old_kid, new_kid} <= {key["kid"] for key in jwks["keys"]}

        # the old tokens keep working beside new ones, in every service that verifies them
        with ShoppingLoop(kind_store.base_url, product["id"], [after]).running() as fresh:
            fresh.wait_for_orders(3)
            loop.wait_for_orders(SHOPPERS * 2)
    requests, orders = loop.requests + fresh.requests, loop.completed() + fresh.completed()
    progress("e2e", f"rotation: {requests} requests, {orders} orders")
    assert loop.failures == [] and fresh.failures == [], (loop.failures + fresh.failures)[:10]
    keys = {key["kid"]: key["state"] for key in ring_status(kind_store)["keys"]}
    assert keys[new_kid] == "active" and keys.get(old_kid) == "retiring", keys


def ready_ring(store: KindStore) -> dict[str, Any] | None:
    ring = resource(store, "signingkeyring", "signing-key-ring")
    return ring if ready(ring) and ring["status"].get("activeKid") else None


def ring_status(store: KindStore) -> dict[str, Any]:
    status: dict[str, Any] = resource(store, "signingkeyring", "signing-key-ring")["status"]
    return status
