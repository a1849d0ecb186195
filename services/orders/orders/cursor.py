"""List cursors of orders: the position after the last item of a page (kit.cursor codec)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kit.clock import utc
from kit.cursor import InvalidCursor, decode, encode


def user_cursor(created_at: datetime, order_id: uuid.UUID) -> str:
    millis = int(utc(created_at).timestamp() * 1000)
    return encode({"k": "user", "t": millis, "id": str(order_id)})


def parse_user_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    data = decode(cursor)
    try:
        if data.get("k") != "user" or not isinstance(data.get("t"), int):
            raise ValueError
        at = datetime.fromtimestamp(int(str(data["t"])) / 1000, UTC)
        return at, uuid.UUID(str(data["id"]))
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        raise InvalidCursor() from exc


def all_cursor(order_id: uuid.UUID) -> str:
    return encode({"k": "all", "id": str(order_id)})


def parse_all_cursor(cursor: str) -> uuid.UUID:
    data = decode(cursor)
    try:
        if data.get("k") != "all":
            raise ValueError
        return uuid.UUID(str(data["id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidCursor() from exc
