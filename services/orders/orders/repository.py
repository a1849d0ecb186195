"""Every CQL statement of the orders service."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from kit import clock
from kit.cassandra import CassandraDB, Row

from orders.lifecycle import Status

ORDER_COLUMNS = "id, user_id, status, items, total, created_at, updated_at, history"

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class OrderItem:
    """An `order_item` (the UDT; bound as a tuple in field order)."""

    product_id: uuid.UUID
    name: str
    unit_price: Decimal
    quantity: int


@dataclass(frozen=True)
class OrderRecord:
    """An `orders` row."""

    id: uuid.UUID
    user_id: str
    status: Status
    items: list[OrderItem]
    total: Decimal
    created_at: datetime
    updated_at: datetime
    history: dict[Status, datetime]  # when the order entered each status it has been in

    @classmethod
    def from_row(cls, row: Row) -> OrderRecord:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            status=Status(row["status"]),
            items=[
                OrderItem(i.product_id, i.name, i.unit_price, i.quantity)
                for i in row.get("items") or []
            ],
            total=row["total"],
            created_at=clock.utc(row["created_at"]),
            updated_at=clock.utc(row["updated_at"]),
            history={Status(s): clock.utc(at) for s, at in (row.get("history") or {}).items()},
        )


@dataclass(frozen=True)
class OrderRef:
    """An `orders_by_user` row: where a user's order sits in their list."""

    created_at: datetime
    order_id: uuid.UUID


@dataclass(frozen=True)
class DueStep:
    """A `lifecycle_due` row: the order's step out of `status` falls due at `due_at`."""

    bucket: int
    due_at: datetime
    order_id: uuid.UUID
    status: Status


@dataclass(frozen=True)
class OrderEvent:
    """An `order_events` row (the audit log)."""

    at: datetime
    status: Status
    previous: Status | None
    actor: str


class OrdersRepository:
    def __init__(self, db: CassandraDB) -> None:
        self.db = db

    # --- orders -----------------------------------------------------------------------------

    async def insert_order(
        self,
        order_id: uuid.UUID,
        user_id: str,
        items: Sequence[OrderItem],
        total: Decimal,
        created_at: datetime,
    ) -> bool:
        """Create the order unless it exists; whether this call created it."""
        applied, _ = await self.db.applied(
            "INSERT INTO orders (id, user_id, status, items, total, created_at, updated_at, "
            "history) VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS",
            (order_id, user_id, Status.PENDING, [astuple(i) for i in items], total, created_at,
             created_at, {Status.PENDING: created_at}),
            name="order_insert",
        )  # fmt: skip
        return applied

    async def get(self, order_id: uuid.UUID) -> OrderRecord | None:
        row = await self.db.one(
            f"SELECT {ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,), name="order_get"
        )
        return OrderRecord.from_row(row) if row else None

    async def transition(
        self, order_id: uuid.UUID, current: Status, target: Status, at: datetime
    ) -> bool:
        """Compare-and-set the status; the new status's time goes into history atomically."""
        applied, _ = await self.db.applied(
            "UPDATE orders SET status = ?, updated_at = ?, history[?] = ? "
            "WHERE id = ? IF status = ?",
            (target, at, target, at, order_id, current),
            name="order_transition",
        )
        return applied

    async def page_all(self, limit: int, after: uuid.UUID | None) -> list[OrderRecord]:
        """Every order in token order, `limit` at a time, continuing after order `after`."""
        if after is None:
            rows = await self.db.rows(
                f"SELECT {ORDER_COLUMNS} FROM orders LIMIT ?", (limit,), name="orders_all"
            )
        else:
            rows = await self.db.rows(
                f"SELECT {ORDER_COLUMNS} FROM orders WHERE token(id) > token(?) LIMIT ?",
                (after, limit),
                name="orders_all",
            )
        return [OrderRecord.from_row(row) for row in rows]

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
    ) -> list[OrderRef]:
        """A user's order keys newest first, continuing after (created_at, order_id)."""
        if after is None:
            rows = await self.db.rows(
                "SELECT created_at, order_id FROM orders_by_user WHERE user_id = ? LIMIT ?",
                (user_id, limit),
                name="orders_by_user",
            )
        else:
            rows = await self.db.rows(
                "SELECT created_at, order_id FROM orders_by_user "
                "WHERE user_id = ? AND (created_at, order_id) < (?, ?) LIMIT ?",
                (user_id, after[0], after[1], limit),
                name="orders_by_user",
            )
        return [OrderRef(clock.utc(row["created_at"]), row["order_id"]) for row in rows]

    # --- audit log --------------------------------------------------------------------------

    async def record_event(
        self, order_id: uuid.UUID, at: datetime, status: Status, previous: Status | None, actor: str
    ) -> None:
        await self.db.execute(
            "INSERT INTO order_events (order_id, at, status, previous, actor) "
            "VALUES (?, ?, ?, ?, ?)",
            (order_id, at, status, previous, actor),
            name="order_event",
        )

    async def events(self, order_id: uuid.UUID) -> list[OrderEvent]:
        rows = await self.db.rows(
            "SELECT at, status, previous, actor FROM order_events WHERE order_id = ?",
            (order_id,),
            name="order_events",
        )
        return [
            OrderEvent(
                clock.utc(r["at"]),
                Status(r["status"]),
                Status(r["previous"]) if r["previous"] is not None else None,
                r["actor"],
            )
            for r in rows
        ]

    # --- the lifecycle schedule ---------------------------------------------------------------

    async def schedule(self, step: DueStep) -> None:
        await self.db.execute(
            "INSERT INTO lifecycle_due (bucket, due_at, order_id, status) VALUES (?, ?, ?, ?)",
            astuple(step),
            name="schedule_insert",
        )

    async def unschedule(self, step: DueStep) -> None:
        await self.db.execute(
            "DELETE FROM lifecycle_due WHERE bucket = ? AND due_at = ? AND order_id = ? "
            "AND status = ?",
            astuple(step),
            name="schedule_delete",
        )

    async def due(self, bucket: int, until: datetime, limit: int) -> list[DueStep]:
        rows = await self.db.rows(
            "SELECT bucket, due_at, order_id, status FROM lifecycle_due "
            "WHERE bucket = ? AND due_at <= ? LIMIT ?",
            (bucket, until, limit),
            name="schedule_due",
        )
        return [
            DueStep(r["bucket"], clock.utc(r["due_at"]), r["order_id"], Status(r["status"]))
            for r in rows
        ]
