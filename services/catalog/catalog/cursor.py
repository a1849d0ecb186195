"""Listing cursors: the position of the last scanned row of a sorted listing.

A cursor is base64url(JSON) of {"v": version, "s": sort, "k": sort value, "i": id}. It
carries no filter, only a position, so the next page starts right after the last row the
previous request looked at, whatever it returned. A cursor of another sort is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

from kit import cursor as codec
from kit.cursor import InvalidCursor
from kit.money import money

VERSION = 1


@dataclass(frozen=True)
class Position:
    """A row of a listing table: its sort value (name_key or price) and product id."""

    key: str | Decimal
    id: UUID


def encode(sort: str, position: Position) -> str:
    return codec.encode({"v": VERSION, "s": sort, "k": str(position.key), "i": str(position.id)})


def decode(sort: str, cursor: str) -> Position:
    payload = codec.decode(cursor)
    if payload.get("v") != VERSION:
        raise InvalidCursor("unknown version")
    if payload.get("s") != sort:
        raise InvalidCursor(f"it belongs to another sort than {sort!r}")
    key, ident = payload.get("k"), payload.get("i")
    if not isinstance(key, str) or not isinstance(ident, str):
        raise InvalidCursor("malformed position")
    try:
        product_id = UUID(ident)
        if sort.lstrip("-") == "price":
            price = Decimal(key)
            # A listing key is a price in cents; any other number (1e-3000000000 has a
            # scale Cassandra's decimal cannot carry) never came from this API.
            if not price.is_finite() or price != money(price):
                raise InvalidCursor("malformed price")
            return Position(price, product_id)
        key.encode()  # JSON may carry lone surrogates ("\ud800"), which no text column holds
    except (ValueError, InvalidOperation) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidCursor("malformed position") from exc
    return Position(key, product_id)
