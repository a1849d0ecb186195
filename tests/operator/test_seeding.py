"""CatalogSeed's pure parts: the spec view, the products and the requests (no cluster)."""

from __future__ import annotations

import json
import uuid

import pytest
from catalog.seed import generate
from store_operator.seeding import backoff, batches, products, products_from_json, upsert_body
from store_operator.specs import SeedSpec, SpecError, parse

BASE = {
    "catalog": {"service": {"name": "store-catalog", "port": 8000}},
    "identity": {"tokenUrl": "http://store-users:8003/oauth/token", "secretName": "seeder"},
}


def test_generator_products_are_the_catalog_seeders() -> None:
    spec = parse(SeedSpec, {**BASE, "generator": {"count": 5, "seed": 3}})
    assert products(spec, lambda _: None) == generate(5, 3)
    assert spec.catalog.base_url("shop") == "http://store-catalog.shop.svc:8000"


def test_configmap_products_get_stable_ids() -> None:
    listed = json.dumps([{"name": "Mug", "category": "Kitchen", "price": "3.50"}])
    spec = parse(SeedSpec, {**BASE, "configMap": {"name": "extra"}})
    first = products(spec, lambda name: {"products.json": listed} if name == "extra" else None)
    again = products_from_json(listed, "configmap/extra/products.json")
    assert first == again and first[0][1].name == "Mug"
    explicit = str(uuid.uuid4())
    [(pid, _)] = products_from_json(json.dumps([{**json.loads(listed)[0], "id": explicit}]), "x")
    assert str(pid) == explicit


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (None, "not found"),
        ({"other": "[]"}, "no key products.json"),
        ({"products.json": '[{"name": "x"}]'}, "category"),
        ({"products.json": '[{"name": "x", "category": "c", "price": "-1"}]'}, "price"),
        ({"products.json": "{not json"}, "products.json"),
    ],
)
def test_bad_configmaps_name_the_problem(data: dict[str, str] | None, problem: str) -> None:
    spec = parse(SeedSpec, {**BASE, "configMap": {"name": "extra"}})
    with pytest.raises(SpecError, match=problem):
        products(spec, lambda _: data)


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({**BASE}, "exactly one of generator or configMap"),
        ({**BASE, "generator": {"count": 0}}, "generator.count"),
        ({**BASE, "catalog": {}, "generator": {"count": 1}}, "exactly one of service or url"),
    ],
)
def test_bad_seed_specs(spec: dict[str, object], problem: str) -> None:
    with pytest.raises(SpecError, match=problem):
        parse(SeedSpec, spec)


def test_requests_and_backoff() -> None:
    items = generate(5, 1)
    assert [len(b) for b in batches(items, 2)] == [2, 2, 1]
    body = upsert_body(items[:1])
    assert body["items"][0]["id"] == str(items[0][0])
    assert body["items"][0]["price"] == str(items[0][1].price)
    assert [backoff(n) for n in (0, 1, 5, 10)] == [1, 2, 32, 60]
