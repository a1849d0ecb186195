"""The compare-and-set retry loop, against a scripted stand-in for the stock cell."""

from __future__ import annotations

import time
import uuid

import pytest
from cassandra import WriteTimeout
from cassandra.policies import WriteType
from catalog.cas import compare_and_set
from catalog.errors import StockContention

PRODUCT = uuid.uuid4()


class Cell:
    """A counter that concurrent writers bump `lost` times before our write applies."""

    def __init__(self, value: int, lost: int = 0, timeouts: int = 0) -> None:
        self.value, self.lost, self.timeouts = value, lost, timeouts
        self.writes = self.rereads = 0

    async def write(self, seen: int) -> int:
        self.writes += 1
        if self.timeouts:
            self.timeouts -= 1
            self.value = seen + 1  # the round applied, but its outcome never came back
            raise WriteTimeout("timed out", write_type=WriteType.CAS)
        if self.lost:
            self.lost -= 1
            self.value += 10  # someone else won the round: we get the current value back
            return self.value
        if seen == self.value:
            self.value = seen + 1
        return self.value

    async def reread(self) -> int:
        self.rereads += 1
        return self.value


async def increment(cell: Cell, target: int, deadline: float | None = None) -> int:
    return await compare_and_set(
        PRODUCT,
        cell.value,
        settled=lambda value: value if value >= target else None,
        write=cell.write,
        reread=cell.reread,
        deadline=time.monotonic() + 5 if deadline is None else deadline,
    )


async def test_settled_state_writes_nothing() -> None:
    cell = Cell(7)
    assert await increment(cell, 7) == 7
    assert cell.writes == 0


async def test_lost_rounds_retry_from_the_state_sent_back() -> None:
    cell = Cell(0, lost=3)
    assert await increment(cell, 31) == 31
    assert cell.writes == 4 and cell.rereads == 0


async def test_unknown_outcome_rereads_and_sees_its_own_write() -> None:
    cell = Cell(0, timeouts=1)
    assert await increment(cell, 1) == 1
    assert cell.writes == 1 and cell.rereads == 1


async def test_contention_past_the_deadline_is_a_503() -> None:
    cell = Cell(0, lost=1000)
    with pytest.raises(StockContention):
        await increment(cell, 10_000, deadline=time.monotonic())
    assert cell.writes == 1  # the first round is always tried


async def test_other_errors_propagate() -> None:
    async def broken(_: int) -> int:
        raise RuntimeError("boom")

    cell = Cell(0)
    with pytest.raises(RuntimeError):
        await compare_and_set(
            PRODUCT, 0, settled=lambda v: v or None, write=broken, reread=cell.reread, deadline=0
        )
    assert cell.rereads == 0
