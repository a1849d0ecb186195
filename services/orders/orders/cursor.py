"""Opaque list cursors: the position after the last item of a page, validated on the way in
(never a raw driver paging state: a forged one would reach Cassandra)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime

from kit.errors import BadRequest


class InvalidCursor(BadRequest):
    def __init__(self) -> None:
        super().__init__("Invalid cursor: pass back a next_cursor this API returned")


def _encode(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> dict[str, object]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(data, dict):
        raise InvalidCursor()
    return data


def user_cursor(created_at: datetime, order_id: uuid.UUID) -> str:
    millis = int(created_at.replace(tzinfo=created_at.tzinfo or UTC).timestamp() * 1000)
    return _encode({"k": "user", "t": millis, "id": str(order_id)})


def parse_user_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    data = _decode(cursor)
    try:
        if data.get("k") != "user" or not isinstance(data.get("t"), int):
            raise ValueError
        at = datetime.fromtimestamp(int(str(data["t"])) / 1000, UTC)
        return at, uuid.UUID(str(data["id"]))
    except (KeyError, ValueError, OverflowError, OSError) as exc:
        raise InvalidCursor() from exc


def all_cursor(order_id: uuid.UUID) -> str:
    return _encode({"k": "all", "id": str(order_id)})


def parse_all_cursor(cursor: str) -> uuid.UUID:
    data = _decode(cursor)
    try:
        if data.get("k") != "all":
            raise ValueError
        return uuid.UUID(str(data["id"]))
    except (KeyError, ValueError) as exc:
        raise InvalidCursor() from exc
