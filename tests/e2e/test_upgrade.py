"""`helm upgrade` to a new image tag while shoppers keep buying: no request fails, no order
is lost, and the upgrade's migrations ran in its hook Jobs, not in the new pods."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from kit.topology import TOPOLOGY

from devstack.docker import docker
from k8s import cluster as kind
from k8s.log import progress
from tests.e2e.conftest import KindStore
from tests.e2e.shop import ShoppingLoop, all_orders, create_product, log_in, sign_up

SHOPPERS = 3


@pytest.fixture
def new_tag() -> Iterator[str]:
    """A tag for the same images (what a new build of the store would be); untagged again
    afterwards, so repeated runs leave no images behind in Docker."""
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    yield tag
    docker("rmi", *(with_tag(ref, tag) for ref in kind.store_images()), check=False, capture=True)


def with_tag(ref: str, tag: str) -> str:
    return f"{ref.rsplit(':', 1)[0]}:{tag}"


def test_upgrade_under_load_loses_nothing(kind_store: KindStore, new_tag: str) -> None:
    cassandra = kind_store.fullname("cassandra")
    running = kind_store.kubectl(
        "get", "statefulset", cassandra, "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )
    with kind_store.client() as client:
        creds = kind_store.admin_credentials()
        admin = log_in(client, creds["username"], creds["password"])
        product = create_product(client, admin, category="e2e-upgrade", price="2.50", stock=100_000)
        shoppers = [sign_up(client) for _ in range(SHOPPERS)]
    before = {s.name: kind_store.schema_migrations(s.name) for s in TOPOLOGY}

    tag = new_tag
    images = [ref for ref in kind.store_images() if "/cassandra:" not in ref]
    for ref in images:
        docker("tag", ref, with_tag(ref, tag))
    kind.load_images(kind_store.cluster, [with_tag(ref, tag) for ref in images])
    loop = ShoppingLoop(kind_store.base_url, product["id"], shoppers)
    with loop.running():
        loop.wait_for_orders(SHOPPERS * 2)
        progress("e2e", f"helm upgrade to image tag {tag} while {SHOPPERS} shoppers buy")
        # The database keeps its image: one Cassandra node restarting is an outage.
        kind.install(
            kind_store.cluster,
            kind_store.release,
            "--set",
            f"image.tag={tag}",
            "--set",
            f"cassandra.statefulset.tag={running.rsplit(':', 1)[1]}",
        )
        kind_store.wait_all_ready()
        loop.wait_for_orders(SHOPPERS * 2)
    progress("e2e", f"upgrade: {loop.requests} requests, {loop.completed()} orders")

    assert loop.failures == [], loop.failures[:10]
    assert all(c.order_id for c in loop.checkouts)
    for service in TOPOLOGY:
        image = kind_store.kubectl(
            "get",
            "deployment",
            kind_store.fullname(service.name),
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        )
        assert image.endswith(f":{tag}"), image
    assert (
        kind_store.kubectl(
            "get",
            "statefulset",
            cassandra,
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        )
        == running
    )

    # Every order the shoppers were given is there.
    with kind_store.client() as client:
        stored = {order["id"] for order in all_orders(client, admin)}
    assert {c.order_id for c in loop.checkouts} <= stored

    # The pre-upgrade hook Jobs migrated (nothing was pending); the new pods found nothing
    # to do either, and no version was applied again.
    assert {s.name: kind_store.schema_migrations(s.name) for s in TOPOLOGY} == before
    for service in TOPOLOGY:
        for pod in kind_store.pods(service.name):
            log = kind_store.kubectl("logs", pod, "-c", service.name)
            assert "migrations applied: none pending" in log, f"{pod}:\n{log[-2000:]}"
