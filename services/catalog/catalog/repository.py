"""Every CQL statement of the catalog lives here; the service above holds the rules.

Tables (see docs/services/catalog.md): `products` (source of truth, SAI on category),
`categories`, the listing tables `products_by_name` / `products_by_price` (one partition
per scope: '*' and each category), `stock` (static `available` + one row per order hold,
written only with lightweight transactions) and `reservations`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from cassandra.query import BatchStatement, BatchType, PreparedStatement
from kit import clock
from kit.cassandra import CassandraDB, Row

from catalog.cursor import Position
from catalog.schemas import ReservationStatus

MIGRATIONS = Path(__file__).parent / "migrations"
ALL = "*"  # the scope of the listing partitions that hold every product
SortField = Literal["name", "price"]


class HoldState(StrEnum):
    """An order's hold on one product's stock (the `stock` row's `state`)."""

    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"


class RejectReason(StrEnum):
    """Why a reservation was rejected."""

    INSUFFICIENT = "insufficient"
    UNKNOWN_PRODUCT = "unknown_product"


EPOCH = datetime.fromtimestamp(0, UTC)  # for a row missing its timestamps
# Rows per unlogged batch of the bulk writes: under Cassandra's 5 KiB batch size warning.
BULK_BATCH_ROWS = 25


@dataclass(frozen=True)
class ProductRecord:
    """A `products` row (stock is separate)."""

    id: UUID
    name: str
    description: str
    category: str
    price: Decimal
    created_at: datetime
    updated_at: datetime

    @property
    def name_key(self) -> str:
        return name_key(self.name)

    @classmethod
    def from_row(cls, row: Row) -> ProductRecord:
        return cls(
            id=row["id"],
            name=row["name"] or "",
            description=row["description"] or "",
            category=row["category"] or "",
            price=row["price"],
            created_at=clock.utc(row["created_at"] or EPOCH),
            updated_at=clock.utc(row["updated_at"] or EPOCH),
        )


def name_key(name: str) -> str:
    """The sort key of the name listing: case-insensitive."""
    return name.lower()


@dataclass(frozen=True)
class ListingRow:
    """A row of a listing table, in the table's order."""

    key: str | Decimal  # name_key or price
    id: UUID
    name: str
    price: Decimal

    @property
    def position(self) -> Position:
        return Position(self.key, self.id)


@dataclass(frozen=True)
class StockState:
    """A product's available units, and this order's hold on it if there is one."""

    available: int
    hold_state: HoldState | None
    hold_quantity: int


@dataclass(frozen=True)
class ReservationRecord:
    """A `reservations` row."""

    order_id: UUID
    items: dict[UUID, int]
    status: ReservationStatus
    reason: RejectReason | None  # why it was rejected
    details: str | None  # the rejection's JSON: the short items, or the unknown product ids
    created_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> ReservationRecord:
        return cls(
            order_id=row["order_id"],
            items=dict(row.get("items") or {}),
            status=ReservationStatus(row["status"]),
            reason=RejectReason(row["reason"]) if row.get("reason") else None,
            details=row.get("short_items"),
            created_at=clock.utc(row["created_at"] or EPOCH),
            expires_at=clock.utc(row["expires_at"] or EPOCH),
        )


def _status(row: Row) -> ReservationStatus | None:
    """The status a failed conditional statement sent back (None: no such reservation)."""
    status = row.get("status")
    return ReservationStatus(status) if status is not None else None


def _observed(rows: list[Row], order_id: UUID) -> StockState | None:
    """The stock state a failed conditional statement sent back (None: no stock)."""
    available: int | None = None
    state: HoldState | None = None
    quantity = 0
    for row in rows:
        if row.get("available") is not None:
            available = int(row["available"])
        if row.get("order_id", order_id) == order_id and row.get("state") is not None:
            state = HoldState(row["state"])
            quantity = int(row.get("quantity") or 0)
    return None if available is None else StockState(available, state, quantity)


class CatalogRepository:
    def __init__(self, db: CassandraDB) -> None:
        self.db = db

    # --- products -------------------------------------------------------------------------

    _PRODUCT_COLUMNS = "id, name, description, category, price, created_at, updated_at"

    async def get_product(self, product_id: UUID) -> ProductRecord | None:
        row = await self.db.one(
            f"SELECT {self._PRODUCT_COLUMNS} FROM products WHERE id = ?",
            (product_id,),
            name="product_get",
        )
        return ProductRecord.from_row(row) if row else None

    async def get_products(self, ids: Sequence[UUID]) -> dict[UUID, ProductRecord]:
        if not ids:
            return {}
        rows = await self.db.rows(
            f"SELECT {self._PRODUCT_COLUMNS} FROM products WHERE id IN ?",
            (list(ids),),
            name="products_by_ids",
        )
        return {row["id"]: ProductRecord.from_row(row) for row in rows}

    async def has_products(self) -> bool:
        return await self.db.one("SELECT id FROM products LIMIT 1", name="products_any") is not None

    async def save_product(self, new: ProductRecord, old: ProductRecord | None) -> None:
        """Write the product, its four listing rows and its category in one logged batch.

        Listing rows whose key changed are deleted. A row that keeps its key is only
        overwritten: a delete and an insert of one key in one batch share a timestamp, and
        then the tombstone would win.
        """
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        batch.add(
            await self.db.prepare(
                f"INSERT INTO products ({self._PRODUCT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                new.id,
                new.name,
                new.description,
                new.category,
                new.price,
                new.created_at,
                new.updated_at,
            ),
        )
        batch.add(
            await self.db.prepare("INSERT INTO categories (name) VALUES (?)"), (new.category,)
        )
        new_scopes = (ALL, new.category)
        by_name_del = await self.db.prepare(
            "DELETE FROM products_by_name WHERE scope = ? AND name_key = ? AND id = ?"
        )
        by_price_del = await self.db.prepare(
            "DELETE FROM products_by_price WHERE scope = ? AND price = ? AND id = ?"
        )
        if old is not None:
            for scope in {ALL, old.category}:
                if scope not in new_scopes or old.name_key != new.name_key:
                    batch.add(by_name_del, (scope, old.name_key, old.id))
                if scope not in new_scopes or old.price != new.price:
                    batch.add(by_price_del, (scope, old.price, old.id))
        by_name_ins = await self.db.prepare(
            "INSERT INTO products_by_name (scope, name_key, id, name, price) VALUES (?, ?, ?, ?, ?)"
        )
        by_price_ins = await self.db.prepare(
            "INSERT INTO products_by_price (scope, price, id, name) VALUES (?, ?, ?, ?)"
        )
        for scope in new_scopes:
            batch.add(by_name_ins, (scope, new.name_key, new.id, new.name, new.price))
            batch.add(by_price_ins, (scope, new.price, new.id, new.name))
        await self.db.execute(batch, name="product_save")

    async def save_new_products(self, records: Sequence[ProductRecord]) -> None:
        """Write products that have no record yet in far fewer writes than a logged batch
        each (the bulk upserts): their listing rows and categories first, grouped into small
        unlogged batches of one partition each, then the products rows.

        Not atomic per product: a listing row whose product row is missing is skipped by the
        listing (it checks each row against its product), and upserting the product again,
        which still finds no record, writes everything again.
        """
        by_name = await self.db.prepare(
            "INSERT INTO products_by_name (scope, name_key, id, name, price) VALUES (?, ?, ?, ?, ?)"
        )
        by_price = await self.db.prepare(
            "INSERT INTO products_by_price (scope, price, id, name) VALUES (?, ?, ?, ?)"
        )
        category = await self.db.prepare("INSERT INTO categories (name) VALUES (?)")
        rows: dict[tuple[str, str], list[tuple[PreparedStatement, tuple[Any, ...]]]] = {}
        for r in records:
            for scope in (ALL, r.category):
                rows.setdefault(("name", scope), []).append(
                    (by_name, (scope, r.name_key, r.id, r.name, r.price))
                )
                rows.setdefault(("price", scope), []).append(
                    (by_price, (scope, r.price, r.id, r.name))
                )
        batches = []
        for group in rows.values():
            for start in range(0, len(group), BULK_BATCH_ROWS):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for statement, values in group[start : start + BULK_BATCH_ROWS]:
                    batch.add(statement, values)
                batches.append(self.db.execute(batch, name="products_bulk_listing"))
        categories = {r.category for r in records}
        batches += [self.db.execute(category, (c,), name="category_save") for c in categories]
        await asyncio.gather(*batches)
        product = await self.db.prepare(
            f"INSERT INTO products ({self._PRODUCT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        await asyncio.gather(
            *(
                self.db.execute(
                    product,
                    (r.id, r.name, r.description, r.category, r.price, r.created_at, r.updated_at),
                    name="products_bulk_save",
                )
                for r in records
            )
        )

    async def delete_product(self, old: ProductRecord) -> None:
        batch = BatchStatement(batch_type=BatchType.LOGGED)
        batch.add(await self.db.prepare("DELETE FROM products WHERE id = ?"), (old.id,))
        by_name = await self.db.prepare(
            "DELETE FROM products_by_name WHERE scope = ? AND name_key = ? AND id = ?"
        )
        by_price = await self.db.prepare(
            "DELETE FROM products_by_price WHERE scope = ? AND price = ? AND id = ?"
        )
        for scope in (ALL, old.category):
            batch.add(by_name, (scope, old.name_key, old.id))
            batch.add(by_price, (scope, old.price, old.id))
        await self.db.execute(batch, name="product_delete")

    # --- categories -----------------------------------------------------------------------

    async def category_names(self) -> list[str]:
        rows = await self.db.rows("SELECT name FROM categories", name="categories_list")
        return [row["name"] for row in rows]

    async def count_in_category(self, category: str) -> int:
        row = await self.db.one(
            "SELECT COUNT(*) AS n FROM products WHERE category = ?",
            (category,),
            name="category_count",
        )
        return int(row["n"]) if row else 0

    # --- listings -------------------------------------------------------------------------

    async def scan(
        self,
        field: SortField,
        descending: bool,
        scope: str,
        *,
        after: Position | None,
        lower: Decimal | None,
        upper: Decimal | None,
        size: int,
    ) -> list[ListingRow]:
        """Up to `size` rows of one listing partition, after `after`, in sort order.

        `lower`/`upper` bound the price listing (inclusive); the name listing ignores them.
        """
        table, column = (
            ("products_by_name", "name_key") if field == "name" else ("products_by_price", "price")
        )
        select = "SELECT name_key, id, name, price" if field == "name" else "SELECT price, id, name"
        where = ["scope = ?"]
        params: list[Any] = [scope]
        if field == "price" and after is not None:
            # Cassandra takes one restriction per bound: keep the stricter of the cursor
            # and the price bound on the side the scan starts from.
            start = upper if descending else lower
            key = Decimal(after.key)
            behind = start is not None and (key > start if descending else key < start)
            if behind:
                after = None
            elif descending:
                upper = None
            else:
                lower = None
        if after is not None:
            where.append(f"({column}, id) {'<' if descending else '>'} (?, ?)")
            params += [after.key, after.id]
        if field == "price":
            if lower is not None:
                where.append(f"({column}) >= (?)")
                params.append(lower)
            if upper is not None:
                where.append(f"({column}) <= (?)")
                params.append(upper)
        order = f" ORDER BY {column} DESC, id DESC" if descending else ""
        cql = f"{select} FROM {table} WHERE {' AND '.join(where)}{order} LIMIT ?"
        params.append(size)
        rows = await self.db.rows(cql, params, name=f"list_by_{field}")
        return [
            ListingRow(key=row[column], id=row["id"], name=row["name"] or "", price=row["price"])
            for row in rows
        ]

    # --- stock ----------------------------------------------------------------------------

    async def stock_levels(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """Available units by product; products without stock (unknown, deleted) are absent."""
        if not ids:
            return {}
        rows = await self.db.rows(
            "SELECT product_id, available FROM stock WHERE product_id IN ? PER PARTITION LIMIT 1",
            (list(ids),),
            name="stock_levels",
        )
        return {r["product_id"]: r["available"] for r in rows if r["available"] is not None}

    async def available(self, product_id: UUID) -> int | None:
        """The product's available units at SERIAL (the value a compare-and-set sees)."""
        row = await self.db.one(
            "SELECT available FROM stock WHERE product_id = ? LIMIT 1",
            (product_id,),
            name="stock_read_serial",
            serial=True,
        )
        return None if row is None or row["available"] is None else int(row["available"])

    async def stock_for_order(self, product_id: UUID, order_id: UUID) -> StockState | None:
        """Available units and this order's hold, read at SERIAL; None: no such product."""
        available, hold = await asyncio.gather(
            self.available(product_id), self._hold(product_id, order_id, serial=True)
        )
        if available is None:
            return None
        if hold is None or hold["state"] is None:
            return StockState(available, None, 0)
        return StockState(available, hold["state"], int(hold["quantity"] or 0))

    async def hold_state(self, product_id: UUID, order_id: UUID) -> HoldState | None:
        """The order's hold on the product, read plainly (it may lag an LWT in flight)."""
        hold = await self._hold(product_id, order_id, serial=False)
        return HoldState(hold["state"]) if hold and hold["state"] else None

    async def _hold(self, product_id: UUID, order_id: UUID, *, serial: bool) -> Row | None:
        return await self.db.one(
            "SELECT quantity, state FROM stock WHERE product_id = ? AND order_id = ?",
            (product_id, order_id),
            name="hold_read_serial" if serial else "hold_read",
            serial=serial,
        )

    async def create_stock(self, product_id: UUID, available: int) -> int | None:
        """Create the stock partition; the count it has afterwards (None: unknown)."""
        applied, row = await self.db.applied(
            "INSERT INTO stock (product_id, available) VALUES (?, ?) IF NOT EXISTS",
            (product_id, available),
            name="stock_create",
        )
        return available if applied else row.get("available")

    async def cas_available(self, product_id: UUID, old: int, new: int) -> int | None:
        """`available` from old to new; the count it has afterwards (None: unknown)."""
        applied, row = await self.db.applied(
            "UPDATE stock SET available = ? WHERE product_id = ? IF available = ?",
            (new, product_id, old),
            name="stock_cas",
        )
        return new if applied else row.get("available")

    async def delete_stock(self, product_id: UUID) -> None:
        """Drop the product's count (a partition delete is not allowed conditionally here);
        a null `available` reads as "no such product". Old hold rows stay as history."""
        await self.db.applied(
            "DELETE available FROM stock WHERE product_id = ? IF EXISTS",
            (product_id,),
            name="stock_delete",
        )

    async def hold(
        self, product_id: UUID, order_id: UUID, quantity: int, old: int, now: datetime
    ) -> StockState | None:
        """Take `quantity` units for the order: the decrement and the hold row commit together.

        One single-partition conditional batch: it applies only if `available` is still
        `old` and the order has no hold on this product yet. Returns the state afterwards:
        when the batch does not apply, the current values Cassandra sends back.
        """
        batch = BatchStatement(batch_type=BatchType.UNLOGGED)
        batch.add(
            await self.db.prepare(
                "UPDATE stock SET available = ? WHERE product_id = ? IF available = ?"
            ),
            (old - quantity, product_id, old),
        )
        batch.add(
            await self.db.prepare(
                "INSERT INTO stock (product_id, order_id, quantity, state, created_at) "
                "VALUES (?, ?, ?, 'held', ?) IF NOT EXISTS"
            ),
            (product_id, order_id, quantity, now),
        )
        rows = await self.db.rows(batch, name="stock_hold")
        if rows and rows[0].get("[applied]"):
            return StockState(old - quantity, HoldState.HELD, quantity)
        return _observed(rows, order_id)

    async def release_hold(
        self, product_id: UUID, order_id: UUID, quantity: int, old: int, state: HoldState
    ) -> StockState | None:
        """Give the hold's units back and mark it released, if nothing moved meanwhile.
        Returns the state afterwards (when nothing applied, what Cassandra sends back)."""
        rows = await self.db.rows(
            "UPDATE stock SET available = ?, state = 'released' "
            "WHERE product_id = ? AND order_id = ? IF available = ? AND state = ?",
            (old + quantity, product_id, order_id, old, state),
            name="stock_release",
        )
        if rows and rows[0].get("[applied]"):
            return StockState(old + quantity, HoldState.RELEASED, quantity)
        observed = _observed(rows, order_id)
        if observed is not None and observed.hold_state is not None:
            observed = StockState(observed.available, observed.hold_state, quantity)
        return observed

    async def commit_hold(self, product_id: UUID, order_id: UUID) -> None:
        await self.db.applied(
            "UPDATE stock SET state = 'committed' "
            "WHERE product_id = ? AND order_id = ? IF state = 'held'",
            (product_id, order_id),
            name="stock_commit",
        )

    # --- reservations ---------------------------------------------------------------------

    _RESERVATION_COLUMNS = (
        "order_id, items, status, reason, short_items, created_at, updated_at, expires_at"
    )

    async def create_reservation(
        self, order_id: UUID, items: dict[UUID, int], now: datetime, expires_at: datetime
    ) -> ReservationRecord | None:
        """Insert a 'pending' reservation; None when it applied, else the existing one."""
        applied, row = await self.db.applied(
            "INSERT INTO reservations (order_id, items, status, created_at, updated_at, "
            "expires_at) VALUES (?, ?, 'pending', ?, ?, ?) IF NOT EXISTS",
            (order_id, items, now, now, expires_at),
            name="reservation_create",
        )
        return None if applied else ReservationRecord.from_row(row)

    async def close_unknown_reservation(
        self, order_id: UUID, now: datetime
    ) -> ReservationRecord | None:
        """Record the order as released before any reservation of it exists (no items);
        None when it applied, else the reservation that exists after all."""
        applied, row = await self.db.applied(
            "INSERT INTO reservations (order_id, status, created_at, updated_at, expires_at) "
            "VALUES (?, 'released', ?, ?, ?) IF NOT EXISTS",
            (order_id, now, now, now),
            name="reservation_close_unknown",
        )
        return None if applied else ReservationRecord.from_row(row)

    async def get_reservation(
        self, order_id: UUID, *, serial: bool = False
    ) -> ReservationRecord | None:
        row = await self.db.one(
            f"SELECT {self._RESERVATION_COLUMNS} FROM reservations WHERE order_id = ?",
            (order_id,),
            name="reservation_get",
            serial=serial,
        )
        return ReservationRecord.from_row(row) if row else None

    async def transition(
        self, order_id: UUID, expected: ReservationStatus, new: ReservationStatus, now: datetime
    ) -> tuple[bool, ReservationStatus | None]:
        """Move a reservation from `expected` to `new`; (applied, the status it has now)."""
        applied, row = await self.db.applied(
            "UPDATE reservations SET status = ?, updated_at = ? WHERE order_id = ? IF status = ?",
            (new, now, order_id, expected),
            name="reservation_transition",
        )
        return applied, (new if applied else _status(row))

    async def reject(
        self, order_id: UUID, now: datetime, reason: RejectReason, details: str
    ) -> tuple[bool, ReservationStatus | None]:
        """pending -> rejected, keeping why (replays of the order get the same answer)."""
        applied, row = await self.db.applied(
            "UPDATE reservations SET status = 'rejected', updated_at = ?, reason = ?, "
            "short_items = ? WHERE order_id = ? IF status = 'pending'",
            (now, reason, details, order_id),
            name="reservation_reject",
        )
        return applied, (ReservationStatus.REJECTED if applied else _status(row))

    async def expired_reservations(
        self, status: ReservationStatus, now: datetime, limit: int
    ) -> list[UUID]:
        """Orders whose reservation in `status` expired before `now`."""
        rows = await self.db.rows(
            "SELECT order_id FROM reservations WHERE status = ? AND expires_at < ? LIMIT ?",
            (status, now, limit),
            name="reservations_expired",
        )
        return [row["order_id"] for row in rows]
