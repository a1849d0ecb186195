"""Every CQL statement of the cart service."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from cassandra.query import BatchStatement, BatchType
from kit import clock
from kit.cassandra import CassandraDB, Row

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Line:
    """One product in a cart, with the name and price seen when it was added."""

    product_id: uuid.UUID
    name: str
    unit_price: Decimal
    quantity: int
    added_at: datetime


@dataclass(frozen=True)
class Attempt:
    """What a checkout attempt writes when it takes an idempotency key."""

    order_id: uuid.UUID
    fingerprint: str
    lines: str  # the cart snapshot, as saga.dump_lines writes it
    owner: uuid.UUID
    lease_until: datetime
    now: datetime
    ttl: int


class CartRepository:
    def __init__(self, db: CassandraDB) -> None:
        self.db = db

    # --- carts ------------------------------------------------------------------------------

    async def lines(self, user_id: str) -> list[Line]:
        rows = await self.db.rows(
            "SELECT product_id, name, unit_price, quantity, added_at FROM cart_items "
            "WHERE user_id = ?",
            (user_id,),
            name="cart_get",
        )
        return [Line(**{**row, "added_at": clock.utc(row["added_at"])}) for row in rows]

    async def save(
        self,
        user_id: str,
        lines: Sequence[Line],
        ttl: int,
        *,
        remove: Iterable[uuid.UUID] = (),
    ) -> None:
        """Write the whole cart with a fresh TTL (one partition, one batch), dropping `remove`."""
        insert = await self.db.prepare(
            "INSERT INTO cart_items (user_id, product_id, name, unit_price, quantity, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?) USING TTL ?"
        )
        delete = await self.db.prepare(
            "DELETE FROM cart_items WHERE user_id = ? AND product_id = ?"
        )
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        for product_id in remove:
            batch.add(delete, (user_id, product_id))
        for line in lines:
            batch.add(
                insert,
                (user_id, line.product_id, line.name, line.unit_price, line.quantity,
                 line.added_at, ttl),
            )  # fmt: skip
        if len(batch):
            await self.db.execute(batch, name="cart_save")

    async def remove(self, user_id: str, product_ids: Iterable[uuid.UUID]) -> None:
        await self.save(user_id, (), 0, remove=product_ids)

    async def clear(self, user_id: str) -> None:
        await self.db.execute(
            "DELETE FROM cart_items WHERE user_id = ?", (user_id,), name="cart_clear"
        )

    # --- checkout idempotency records -------------------------------------------------------

    _CHECKOUT_COLUMNS = (
        "order_id, fingerprint, lines, state, owner, lease_until, status_code, response"
    )

    async def checkout(self, user_id: str, key: str, *, serial: bool = False) -> Row | None:
        return await self.db.one(
            f"SELECT {self._CHECKOUT_COLUMNS} FROM checkouts "
            "WHERE user_id = ? AND idempotency_key = ?",
            (user_id, key),
            name="checkout_get",
            serial=serial,
        )

    async def claim(self, user_id: str, key: str, attempt: Attempt) -> tuple[bool, Row]:
        """Take the key for a new checkout; (False, the existing record) if it is taken."""
        a = attempt
        return await self.db.applied(
            "INSERT INTO checkouts (user_id, idempotency_key, order_id, fingerprint, lines, "
            "state, owner, lease_until, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) IF NOT EXISTS USING TTL ?",
            (user_id, key, a.order_id, a.fingerprint, a.lines, a.owner, a.lease_until, a.now,
             a.now, a.ttl),
            name="checkout_claim",
        )  # fmt: skip

    async def take_over(
        self,
        user_id: str,
        key: str,
        attempt: Attempt,
        *,
        previous_owner: uuid.UUID,
        previous_state: str,
    ) -> tuple[bool, Row]:
        """Take the key from a dead owner (lease over) or after a failed attempt."""
        a = attempt
        return await self.db.applied(
            "UPDATE checkouts USING TTL ? SET order_id = ?, fingerprint = ?, lines = ?, "
            "state = 'pending', owner = ?, lease_until = ?, status_code = null, "
            "response = null, updated_at = ? "
            "WHERE user_id = ? AND idempotency_key = ? IF owner = ? AND state = ?",
            (a.ttl, a.order_id, a.fingerprint, a.lines, a.owner, a.lease_until, a.now, user_id,
             key, previous_owner, previous_state),
            name="checkout_take_over",
        )  # fmt: skip

    async def finish(
        self,
        user_id: str,
        key: str,
        *,
        owner: uuid.UUID,
        state: str,
        status_code: int,
        response: str,
        now: datetime,
        ttl: int,
    ) -> bool:
        """Record how the checkout ended, if this attempt still owns the key."""
        applied, _ = await self.db.applied(
            "UPDATE checkouts USING TTL ? SET state = ?, status_code = ?, response = ?, "
            "updated_at = ? WHERE user_id = ? AND idempotency_key = ? IF owner = ?",
            (ttl, state, status_code, response, now, user_id, key, owner),
            name="checkout_finish",
        )
        return applied
