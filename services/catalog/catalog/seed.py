"""Deterministic, realistic catalog data: `uv run catalog-seed --count 20000`.

Product i always gets the id uuid5(NAMESPACE, "product-i") and the same fields for a given
`--seed`, so reruns upsert the same rows. Writes go through CatalogService.upsert_products,
the path of POST /products and of the operator's upserts, with a bounded number of products
in flight.
Settings come from the environment (CATALOG_ prefix), like the service itself.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import time
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from kit.app import connect_with_retry
from kit.cassandra import CassandraDB
from kit.migrations import migrate
from tqdm import tqdm

from catalog.config import CatalogSettings
from catalog.repository import MIGRATIONS, CatalogRepository
from catalog.schemas import ProductCreate
from catalog.service import CatalogService

NAMESPACE = uuid.UUID("5f1d7a52-3c4b-4e8e-9a51-0c6f3f0b7a10")


@dataclass(frozen=True)
class CategorySpec:
    brands: tuple[str, ...]
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    price_range: tuple[int, int]  # whole currency units


# The vocabulary lives in a data file; its order is part of the deterministic catalog.
CATALOG: dict[str, CategorySpec] = {
    category: CategorySpec(
        tuple(spec["brands"]),
        tuple(spec["adjectives"]),
        tuple(spec["nouns"]),
        (spec["price_range"][0], spec["price_range"][1]),
    )
    for category, spec in tomllib.loads(
        (Path(__file__).parent / "seed_catalog.toml").read_text()
    ).items()
}

DESCRIPTIONS = (
    "The {brand} {adjective} {noun} is built for everyday use and designed to last. {extra}",
    "Meet the {adjective} {noun} from {brand}: {extra}",
    "{brand} brings you a {adjective_lower} {noun_lower} that customers love. {extra}",
    "A {adjective_lower} {noun_lower} by {brand}, model {model}. {extra}",
)
EXTRAS = (
    "Backed by a two-year warranty.",
    "Ships in recyclable packaging.",
    "Rated 4.6 out of 5 by verified buyers.",
    "A favourite for gifts.",
    "Easy to clean and simple to set up.",
    "Now in a refreshed design.",
)
ENDINGS = (Decimal("0.99"), Decimal("0.99"), Decimal("0.49"), Decimal("0.00"))


def product_id(i: int) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"product-{i}")


def generate(count: int, seed: int = 42) -> list[tuple[uuid.UUID, ProductCreate]]:
    """The first `count` products of the deterministic catalog for `seed`."""
    rng = random.Random(seed)
    categories = list(CATALOG)
    products = []
    for i in range(count):
        category = categories[rng.randrange(len(categories))]
        spec = CATALOG[category]
        brand = rng.choice(spec.brands)
        adjective = rng.choice(spec.adjectives)
        noun = rng.choice(spec.nouns)
        model = f"{rng.choice('ABCDEFGHKLMNPRSTVXZ')}{rng.randint(10, 999)}"
        low, high = spec.price_range
        # Skewed towards the cheap end, like real catalogs.
        whole = int(low + (high - low) * rng.random() ** 2.2)
        price = Decimal(whole) + rng.choice(ENDINGS)
        stock = 0 if rng.random() < 0.08 else rng.randint(1, 500)
        description = rng.choice(DESCRIPTIONS).format(
            brand=brand,
            adjective=adjective,
            noun=noun,
            adjective_lower=adjective.lower(),
            noun_lower=noun.lower(),
            model=model,
            extra=rng.choice(EXTRAS),
        )
        data = ProductCreate(
            name=f"{brand} {adjective} {noun} {model}",
            description=description,
            category=category,
            price=max(price, Decimal("0.49")),
            stock=stock,
        )
        products.append((product_id(i), data))
    return products


@dataclass(frozen=True)
class SeedResult:
    written: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


async def seed(
    db: CassandraDB,
    count: int,
    seed: int = 42,
    *,
    concurrency: int = 200,
    settings: CatalogSettings | None = None,
    progress: bool = True,
) -> SeedResult:
    """Upsert the first `count` products of the deterministic catalog into `db`'s keyspace."""
    service = CatalogService(CatalogRepository(db), settings or CatalogSettings())
    products = generate(count, seed)
    bar = tqdm(total=count, unit="product", disable=not progress, file=sys.stderr, mininterval=0.5)
    started = time.perf_counter()
    try:
        await service.upsert_products(products, concurrency=concurrency, written=bar.update)
    finally:
        bar.close()
    return SeedResult(written=count, seconds=time.perf_counter() - started)


async def run(args: argparse.Namespace) -> int:
    settings = CatalogSettings()
    db = CassandraDB(settings)
    await connect_with_retry(db)
    try:
        await migrate(db, MIGRATIONS)
        if args.if_empty and await CatalogRepository(db).has_products():
            print(f"catalog keyspace {settings.cassandra_keyspace} has products: nothing to do")
            return 0
        result = await seed(
            db, args.count, args.seed, concurrency=args.concurrency, settings=settings
        )
        print(
            f"seeded {result.written} products into {settings.cassandra_keyspace} in "
            f"{result.seconds:.1f} s: {result.per_second:.0f} products/s"
        )
        return 0
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="catalog-seed", description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="products (default 20000)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--concurrency", type=int, default=200, help="products in flight")
    parser.add_argument(
        "--if-empty", action="store_true", help="do nothing when the catalog has products"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
