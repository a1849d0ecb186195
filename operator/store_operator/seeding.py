"""CatalogSeed: which products, how they travel to the catalog, and the status it shows.

The products come from the catalog's own generator (`catalog.seed.generate`, deterministic
ids) or from a ConfigMap; both are upserted by id through the catalog's internal
`PUT /internal/products` with a service token, so reseeding writes the same rows again.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx
from catalog.schemas import ProductCreate
from catalog.seed import NAMESPACE, generate
from pydantic import TypeAdapter, ValidationError

from store_operator.specs import SeedSpec, SpecError

Products = list[tuple[uuid.UUID, ProductCreate]]


class CatalogUnavailable(RuntimeError):
    """The catalog (or the token endpoint) cannot take writes yet: retry later."""


_LISTED = TypeAdapter(list[dict[str, Any]])


def products_from_json(text: str, source: str) -> Products:
    """A ConfigMap's JSON list of products. Products without an id get one derived from
    `source` and their name, so a reseed overwrites them instead of adding copies."""
    try:
        listed = _LISTED.validate_json(text)
        items = [(item.pop("id", None), ProductCreate.model_validate(item)) for item in listed]
        return [
            (uuid.UUID(str(pid)) if pid else uuid.uuid5(NAMESPACE, f"{source}/{data.name}"), data)
            for pid, data in items
        ]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{source}: {where}: {first['msg']}") from exc
    except ValueError as exc:  # a malformed id
        raise SpecError(f"{source}: {exc}") from exc


def products(spec: SeedSpec, config_maps: Callable[[str], Mapping[str, str] | None]) -> Products:
    """What `spec` asks for; `config_maps(name)` reads a ConfigMap's data (None: missing)."""
    if spec.generator:
        generated: Products = generate(spec.generator.count, spec.generator.seed)
        return generated
    assert spec.config_map is not None
    source = spec.config_map
    data = config_maps(source.name)
    if data is None:
        raise SpecError(f"ConfigMap {source.name} not found")
    if source.key not in data:
        raise SpecError(f"ConfigMap {source.name} has no key {source.key}")
    return products_from_json(data[source.key], f"configmap/{source.name}/{source.key}")


def batches(items: Sequence[tuple[uuid.UUID, ProductCreate]], size: int) -> Iterator[Products]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def upsert_body(batch: Products) -> dict[str, Any]:
    return {"items": [{"id": str(pid), **data.model_dump(mode="json")} for pid, data in batch]}


def backoff(retry: int) -> float:
    """Seconds before retry number `retry` (0-based) while the catalog is not ready."""
    return float(min(2**retry, 60))


async def service_token(client: httpx.AsyncClient, url: str, client_id: str, secret: str) -> str:
    """A service-role access token (OAuth2 client credentials at the users service)."""
    try:
        response = await client.post(
            url,
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "client_secret": secret},
        )  # fmt: skip
    except httpx.TransportError as exc:
        raise CatalogUnavailable(f"token endpoint {url}: {exc!r}") from exc
    if response.status_code in (401, 403):
        raise SpecError(f"the users service refused client {client_id!r}: {response.text}")
    if response.status_code != 200:
        raise CatalogUnavailable(f"token endpoint {url}: HTTP {response.status_code}")
    return str(response.json()["access_token"])


async def upsert(
    client: httpx.AsyncClient,
    catalog_url: str,
    token: Callable[[], Awaitable[str]],
    items: Products,
    batch_size: int,
    progress: Callable[[int], Awaitable[None]],
) -> int:
    """PUT every batch; `progress(written so far)` after each. A 401 (token expired while
    seeding) gets one fresh token; 5xx and connection errors mean: not ready, retry later."""
    written = 0
    bearer = await token()
    for batch in batches(items, batch_size):
        for attempt in (1, 2):
            try:
                response = await client.put(
                    f"{catalog_url}/internal/products",
                    json=upsert_body(batch),
                    headers={"Authorization": f"Bearer {bearer}"},
                )
            except httpx.TransportError as exc:
                raise CatalogUnavailable(f"catalog {catalog_url}: {exc!r}") from exc
            if response.status_code == 401 and attempt == 1:
                bearer = await token()
                continue
            break
        if response.status_code >= 500:
            raise CatalogUnavailable(f"catalog {catalog_url}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise SpecError(
                f"catalog refused the products: HTTP {response.status_code} {response.text}"
            )
        written += len(batch)
        await progress(written)
    return written
