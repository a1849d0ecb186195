"""Every CQL statement of the orders service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from kit.cassandra import CassandraDB, Row

# An order item as the driver binds the order_item UDT: a tuple in field order.
ItemTuple = tuple[uuid.UUID, str, Decimal, int]


class OrdersRepository:
    def __init__(self, db: CassandraDB) -> None:
        self.db = db

    # --- orders -----------------------------------------------------------------------------

    async def insert_order(
        self,
        order_id: uuid.UUID,
        user_id: str,
        items: Sequence[ItemTuple],
        total: Decimal,
        created_at: datetime,
    ) -> tuple[bool, Row]:
        """Create the order unless it exists; returns (created, the existing row if not)."""
        return await self.db.applied(
            "INSERT INTO orders (id, user_id, status, items, total, created_at, updated_at, "
            "history) VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) IF NOT EXISTS",
            (order_id, user_id, list(items), total, created_at, created_at,
             {"pending": created_at}),
            name="order_insert",
        )  # fmt: skip

    async def get(self, order_id: uuid.UUID) -> Row | None:
        return await self.db.one(
            "SELECT id, user_id, status, items, total, created_at, updated_at, history "
            "FROM orders WHERE id = ?",
            (order_id,),
            name="order_get",
        )

    async def transition(
        self, order_id: uuid.UUID, current: str, target: str, at: datetime
    ) -> tuple[bool, Row]:
        """Compare-and-set the status; the new status's time goes into history atomically."""
        return await self.db.applied(
            "UPDATE orders SET status = ?, updated_at = ?, history[?] = ? "
            "WHERE id = ? IF status = ?",
            (target, at, target, at, order_id, current),
            name="order_transition",
        )

    async def page_all(self, limit: int, after: uuid.UUID | None) -> list[Row]:
        """Every order in token order, `limit` at a time, continuing after order `after`."""
        columns = "id, user_id, status, items, total, created_at, updated_at, history"
        if after is None:
            return await self.db.rows(
                f"SELECT {columns} FROM orders LIMIT ?", (limit,), name="orders_all"
            )
        return await self.db.rows(
            f"SELECT {columns} FROM orders WHERE token(id) > token(?) LIMIT ?",
            (after, limit),
            name="orders_all",
        )

    # --- a user's orders --------------------------------------------------------------------

    async def index_for_user(self, user_id: str, created_at: datetime, order_id: uuid.UUID) -> None:
        await self.db.execute(
            "INSERT INTO orders_by_user (user_id, created_at, order_id) VALUES (?, ?, ?)",
            (user_id, created_at, order_id),
            name="order_index",
        )

    async def unindex_for_user(
        self, user_id: str, created_at: datetime, order_id: uuid.UUID
    ) -> None:
        await self.db.execute(
            "DELETE FROM orders_by_user WHERE user_id = ? AND created_at = ? AND order_id = ?",
            (user_id, created_at, order_id),
            name="order_unindex",
        )

    async def page_for_user(
        self, user_id: str, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[Row]:
        """A user's order keys newest first, continuing after (created_at, order_id)."""
        if after is None:
            return await self.db.rows(
                "SELECT created_at, order_id FROM orders_by_user WHERE user_id = ? LIMIT ?",
                (user_id, limit),
                name="orders_by_user",
            )
        return await self.db.rows(
            "SELECT created_at, order_id FROM orders_by_user "
            "WHERE user_id = ? AND (created_at, order_id) < (?, ?) LIMIT ?",
            (user_id, after[0], after[1], limit),
            name="orders_by_user",
        )

    # --- audit log --------------------------------------------------------------------------

    async def record_event(
        self, order_id: uuid.UUID, at: datetime, status: str, previous: str | None, actor: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO order_events (order_id, at, status, previous, actor) "
            "VALUES (?, ?, ?, ?, ?)",
            (order_id, at, status, previous, actor),
            name="order_event",
        )

    async def events(self, order_id: uuid.UUID) -> list[Row]:
        return await self.db.rows(
            "SELECT at, status, previous, actor FROM order_events WHERE order_id = ?",
            (order_id,),
            name="order_events",
        )

    # --- the lifecycle schedule ---------------------------------------------------------------

    async def schedule(
        self, bucket: int, due_at: datetime, order_id: uuid.UUID, status: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO lifecycle_due (bucket, due_at, order_id, status) VALUES (?, ?, ?, ?)",
            (bucket, due_at, order_id, status),
            name="schedule_insert",
        )

    async def unschedule(
        self, bucket: int, due_at: datetime, order_id: uuid.UUID, status: str
    ) -> None:
        await self.db.execute(
            "DELETE FROM lifecycle_due WHERE bucket = ? AND due_at = ? AND order_id = ? "
            "AND status = ?",
            (bucket, due_at, order_id, status),
            name="schedule_delete",
        )

    async def due(self, bucket: int, until: datetime, limit: int) -> list[Row]:
        return await self.db.rows(
            "SELECT bucket, due_at, order_id, status FROM lifecycle_due "
            "WHERE bucket = ? AND due_at <= ? LIMIT ?",
            (bucket, until, limit),
            name="schedule_due",
        )


def item_tuple(item: Any) -> ItemTuple:
    return (item.product_id, item.name, item.unit_price, item.quantity)
