"""CatalogSeed on a real API server against the real catalog and users services: the
generator's products land with their deterministic ids, ConfigMap products too, a catalog
that is not there yet means retries (status says so), a spec change reseeds."""

from __future__ import annotations

import json
from typing import Any

import httpx
import kubernetes
from catalog.seed import generate
from store_operator.specs import GROUP, VERSION

from devstack.procs import free_port
from tests.operator.conftest import core, create, custom, get, operator, put_secret, ready
from tests.polling import wait_for
from tests.service_stack import Stack

PLURAL = "catalogseeds"


def identity(namespace: str, stack: Stack) -> dict[str, str]:
    """A Secret with the operator's client credentials, and the spec part naming it."""
    secret = json.loads(stack["users"].env["USERS_SERVICE_CLIENTS"])["operator"]
    put_secret(namespace, "seeder", {"client-id": "operator", "client-secret": secret})
    return {"tokenUrl": f"{stack.url('users')}/oauth/token", "secretName": "seeder"}


def phase(namespace: str, name: str, wanted: str) -> dict[str, Any] | None:
    status: dict[str, Any] = get(namespace, PLURAL, name).get("status", {})
    return status if status.get("phase") == wanted else None


def product(stack: Stack, pid: object) -> dict[str, Any]:
    response = httpx.get(f"{stack.url('catalog')}/products/{pid}", timeout=10)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def events(namespace: str) -> list[str]:
    listed = core().list_namespaced_event(namespace)
    return [str(event.reason) for event in listed.items]


def test_generator_seed_lands_in_the_catalog(namespace: str, stack: Stack) -> None:
    spec = {
        "catalog": {"url": stack.url("catalog")},
        "identity": identity(namespace, stack),
        "generator": {"count": 30, "seed": 7},
        "batchSize": 8,
    }
    with operator(namespace):
        create(namespace, PLURAL, "CatalogSeed", "demo", spec)
        status = wait_for("seeding done", lambda: phase(namespace, "demo", "Ready"), 60)
        # kopf posts events from a queue of its own, after the status patch: wait for them
        # while the operator still runs.
        wait_for("the Seeded event", lambda: "Seeded" in events(namespace), 30)
    assert (status["seededCount"], status["progress"]) == (30, "30/30")
    assert status["observedGeneration"] == get(namespace, PLURAL, "demo")["metadata"]["generation"]
    assert (
        status["lastSeedTime"] and (ready(get(namespace, PLURAL, "demo")) or {})["status"] == "True"
    )
    for pid, data in generate(30, 7)[::10]:
        assert product(stack, pid)["name"] == data.name
    assert {"Seeding", "Seeded"} <= set(events(namespace))


def test_configmap_products(namespace: str, stack: Stack) -> None:
    listed: list[dict[str, str | int]] = [
        {"name": "Operator mug", "category": "Kitchen", "price": "9.50", "stock": 4},
        {"id": "0b7c4e8e-1a62-4d7e-9a1e-3c1d2f0e9a77", "name": "Operator cap",
         "category": "Clothing", "price": "15.00"},
    ]  # fmt: skip
    core().create_namespaced_config_map(
        namespace,
        kubernetes.client.V1ConfigMap(
            metadata=kubernetes.client.V1ObjectMeta(name="extra"),
            data={"products.json": json.dumps(listed)},
        ),
    )
    spec = {
        "catalog": {"url": stack.url("catalog")},
        "identity": identity(namespace, stack),
        "configMap": {"name": "extra"},
    }
    with operator(namespace):
        create(namespace, PLURAL, "CatalogSeed", "extra", spec)
        wait_for("seeding done", lambda: phase(namespace, "extra", "Ready"), 60)
    assert product(stack, listed[1]["id"])["price"] == "15.00"


def test_retries_while_the_catalog_is_away_then_reseeds_on_a_spec_change(
    namespace: str, stack: Stack
) -> None:
    spec = {
        "catalog": {"url": f"http://127.0.0.1:{free_port()}"},  # nothing listens there
        "identity": identity(namespace, stack),
        "generator": {"count": 5, "seed": 11},
    }
    with operator(namespace):
        create(namespace, PLURAL, "CatalogSeed", "later", spec)
        waiting = wait_for("retrying", lambda: phase(namespace, "later", "Retrying"), 60)
        assert "CatalogUnavailable" in json.dumps(waiting["conditions"])
        custom().patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "later",
            {"spec": {"catalog": {"url": stack.url("catalog")}}},
        )  # fmt: skip
        status = wait_for("seeded after the fix", lambda: phase(namespace, "later", "Ready"), 90)
    assert status["seededCount"] == 5
    assert "CatalogUnavailable" in events(namespace)


def test_a_missing_identity_secret_fails_with_a_reason(namespace: str, stack: Stack) -> None:
    spec = {
        "catalog": {"url": stack.url("catalog")},
        "identity": {"tokenUrl": f"{stack.url('users')}/oauth/token", "secretName": "absent"},
        "generator": {"count": 1},
    }
    with operator(namespace):
        create(namespace, PLURAL, "CatalogSeed", "orphan", spec)
        status = wait_for("failed", lambda: phase(namespace, "orphan", "Failed"), 60)
    assert "absent" in status["conditions"][0]["message"]
