"""The browse mix: the requests people make while browsing, as paths for wrk to draw from.

Random categories, sorts, price caps, `in_stock`, name search, deep cursor pages (found by
walking listings up to `depth` pages), product pages of random products and /categories,
in the proportions of loadtest/'s Guest. Many distinct paths: no single page dominates.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import urlencode

import httpx

SORTS = ("name", "-name", "price", "-price")
WORDS = ("pro", "smart", "set", "organic", "classic", "mini", "wood", "kit", "pack")


def listing(rng: random.Random, categories: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": 20}
    if rng.random() < 0.7:
        params["category"] = rng.choice(categories)
    if rng.random() < 0.5:
        params["sort"] = rng.choice(SORTS)
    if rng.random() < 0.2:
        params["max_price"] = rng.choice((10, 25, 50, 100, 250))
    if rng.random() < 0.15:
        params["in_stock"] = "true"
    return params


def build(catalog: str, size: int = 3000, depth: int = 10, seed: int = 7) -> list[str]:
    """`size` paths of the mix against the catalog service at `catalog` (no prefix)."""
    rng = random.Random(seed)
    with httpx.Client(base_url=catalog, timeout=60) as client:
        categories = [c["name"] for c in client.get("/categories").json()["items"]]
        ids: list[str] = []
        deep: list[str] = []
        # Cursor walks: the later pages of random listings, as a reader paging on would ask.
        while len(deep) < size // 8:
            params = listing(rng, categories)
            for _ in range(rng.randint(2, depth)):
                page = client.get("/products", params=params).json()
                ids += [p["id"] for p in page["items"]]
                if not page["next_cursor"]:
                    break
                params["cursor"] = page["next_cursor"]
                deep.append(f"/products?{urlencode(params)}")
    paths = []
    for _ in range(size):
        roll = rng.random()
        if roll < 0.30:
            paths.append(f"/products?{urlencode(listing(rng, categories))}")
        elif roll < 0.45:
            paths.append(f"/products?{urlencode({'q': rng.choice(WORDS), 'limit': 20})}")
        elif roll < 0.57:
            paths.append(rng.choice(deep))
        elif roll < 0.95:
            paths.append(f"/products/{rng.choice(ids)}")
        else:
            paths.append("/categories")
    return paths
