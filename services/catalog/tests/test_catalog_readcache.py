"""The read cache's rules, on its pure core (a dict stands in for Cassandra)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from catalog.readcache import TimedCache


class Store:
    """Values by id, counting the fetches; `gate` holds a fetch until it is set."""

    def __init__(self) -> None:
        self.values: dict[UUID, int] = {}
        self.fetches = 0
        self.gate: asyncio.Event | None = None

    async def fetch(self, ids: list[UUID]) -> dict[UUID, int]:
        self.fetches += 1
        seen = {i: self.values[i] for i in ids if i in self.values}
        if self.gate is not None:
            await self.gate.wait()
        return seen


async def test_values_are_kept_for_the_bound_only() -> None:
    store, key = Store(), uuid4()
    store.values[key] = 1
    cache: TimedCache[UUID, int] = TimedCache(seconds=0.2, size=10)
    assert await cache.get_many([key], store.fetch) == {key: 1}
    store.values[key] = 2  # another replica's write: not seen within the bound
    assert await cache.get_many([key], store.fetch) == {key: 1}
    assert store.fetches == 1
    await asyncio.sleep(0.25)
    assert await cache.get_many([key], store.fetch) == {key: 2}


async def test_a_dropped_key_is_read_again_at_once() -> None:
    store, key = Store(), uuid4()
    store.values[key] = 1
    cache: TimedCache[UUID, int] = TimedCache(seconds=60, size=10)
    await cache.get_many([key], store.fetch)
    store.values[key] = 2
    cache.drop([key])  # this process's write
    assert await cache.get_many([key], store.fetch) == {key: 2}


async def test_a_read_under_way_during_a_write_does_not_keep_its_older_value() -> None:
    store, key = Store(), uuid4()
    store.values[key] = 1
    cache: TimedCache[UUID, int] = TimedCache(seconds=60, size=10)
    store.gate = asyncio.Event()
    slow = asyncio.create_task(cache.get_many([key], store.fetch))  # reads 1, then waits
    await asyncio.sleep(0.01)
    store.values[key] = 2
    cache.drop([key])
    store.gate.set()
    assert await slow == {key: 1}  # that request saw the value before the write
    store.gate = None
    assert await cache.get_many([key], store.fetch) == {key: 2}  # but nobody after it


async def test_missing_products_are_not_kept_and_the_size_is_bounded() -> None:
    store = Store()
    keys = [uuid4() for _ in range(5)]
    store.values = {k: i for i, k in enumerate(keys)}
    cache: TimedCache[UUID, int] = TimedCache(seconds=60, size=3)
    unknown = uuid4()
    assert await cache.get_many([*keys, unknown], store.fetch) == store.values
    assert await cache.get_many(keys[2:], store.fetch) == {k: store.values[k] for k in keys[2:]}
    assert store.fetches == 1  # the three newest stayed
    await cache.get_many([unknown], store.fetch)
    assert store.fetches == 2


async def test_clearing_forgets_everything_and_reads_under_way_keep_nothing() -> None:
    store, key = Store(), uuid4()
    store.values[key] = 1
    cache: TimedCache[UUID, int] = TimedCache(seconds=60, size=10)
    await cache.get_many([key], store.fetch)
    store.values[key] = 2
    cache.clear()  # a product was written: every listing slice may have changed
    store.gate = asyncio.Event()
    under_way = asyncio.create_task(cache.get_many([key], store.fetch))
    await asyncio.sleep(0.01)
    store.values[key] = 3
    cache.clear()
    store.gate.set()
    assert await under_way == {key: 2}
    store.gate = None
    assert await cache.get_many([key], store.fetch) == {key: 3}
