"""The compare-and-set retry loop every change of stock goes through.

A stock cell is only written with lightweight transactions. A lost round sends back the
current values, so each retry costs one Paxos round; a round whose outcome is unknown is
followed by a SERIAL read, which finishes any in-progress round, so a write that did apply
is then seen as applied.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from cassandra import OperationTimedOut, WriteTimeout

from catalog.errors import StockContention

CAS_WRITE_UNKNOWN = 0x1700  # protocol v5 error code the driver has no class for

S = TypeVar("S")
R = TypeVar("R")


def is_cas_timeout(exc: Exception) -> bool:
    """A Paxos round whose outcome is unknown (timed out, or CAS_WRITE_UNKNOWN)."""
    if isinstance(exc, WriteTimeout | OperationTimedOut):
        return True
    return getattr(exc, "code", None) == CAS_WRITE_UNKNOWN


async def compare_and_set(
    product_id: UUID,
    state: S,
    *,
    settled: Callable[[S], R | None],
    write: Callable[[S], Awaitable[S]],
    reread: Callable[[], Awaitable[S]],
    deadline: float,
) -> R:
    """Write from `state` until `settled` says the state needs nothing more; return that.

    `write` makes one conditional write based on the state it is given and returns the
    state afterwards: the new one if it applied, the one Cassandra sent back if not.
    `reread` reads the state at SERIAL after a round of unknown outcome. Between rounds
    lost to a concurrent writer it backs off, up to `deadline` (then StockContention).
    """
    attempt = 0
    while (result := settled(state)) is None:
        if attempt:
            if time.monotonic() >= deadline:
                raise StockContention(product_id)
            await asyncio.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
        attempt += 1
        try:
            state = await write(state)
        except Exception as exc:
            if not is_cas_timeout(exc):
                raise
            state = await reread()
    return result
