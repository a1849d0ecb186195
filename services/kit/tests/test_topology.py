"""The one topology file is consistent, and the checks catch what would make it not."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from kit import topology
from kit.topology import TOPOLOGY, TopologyError


def test_the_topology_file_is_consistent() -> None:
    topology.check(TOPOLOGY)  # load() checks too; this names the property under test
    assert TOPOLOGY.names == ("catalog", "cart", "orders", "users")
    ports = [s.port for s in TOPOLOGY] + [TOPOLOGY.gateway.port]
    assert len(set(ports)) == len(ports)
    assert len({s.prefix for s in TOPOLOGY}) == len(TOPOLOGY.services)
    assert all(called in TOPOLOGY.services for s in TOPOLOGY for called in s.calls)


def test_the_issuer_starts_first_and_callers_after_what_they_call() -> None:
    order = [s.name for s in TOPOLOGY.start_order()]
    assert order[0] == TOPOLOGY.token_issuer
    for service in TOPOLOGY:
        assert all(order.index(c) < order.index(service.name) for c in service.calls)


def test_names_derive_from_the_service() -> None:
    cart = TOPOLOGY.service("cart")
    assert cart.url_env("catalog") == "CART_CATALOG_URL"
    assert cart.env("jwks_url") == "CART_JWKS_URL"
    assert cart.image == "product-store/cart"
    assert cart.local_url == f"http://127.0.0.1:{cart.port}"
    assert {s.name for s in TOPOLOGY.callers_of("catalog")} == {"cart", "orders"}


def test_unknown_service_is_named() -> None:
    with pytest.raises(KeyError, match="no service 'basket'"):
        TOPOLOGY.service("basket")


def _raw() -> dict[str, Any]:
    return dict(yaml.safe_load(Path(topology.__file__).with_name("topology.yaml").read_text()))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["services"]["cart"].update(port=8000), "duplicate port: 8000"),
        (lambda d: d["gateway"].update(port=8003), "duplicate port: 8003"),
        (lambda d: d["services"]["cart"].update(prefix="/api"), "duplicate prefix: /api"),
        (lambda d: d["services"]["cart"].update(keyspace="users"), "duplicate keyspace"),
        (lambda d: d["services"]["cart"].update(calls=["basket"]), "cart calls 'basket'"),
        (lambda d: d["services"]["cart"].update(calls=["cart"]), "cart calls 'cart'"),
        (lambda d: d["services"]["cart"].update(prefix="/cart-api/"), "no trailing slash"),
        (lambda d: d["services"]["cart"].update(env_prefix="cart"), "must be UPPER_"),
        (lambda d: d.update(token_issuer="auth"), "token_issuer 'auth'"),
        (lambda d: d["services"]["catalog"].update(calls=["cart"]), "cycle"),
    ],
)
def test_contradictions_are_rejected(edit: Any, message: str) -> None:
    data = copy.deepcopy(_raw())
    edit(data)
    with pytest.raises(TopologyError, match=message):
        topology.parse(data)
