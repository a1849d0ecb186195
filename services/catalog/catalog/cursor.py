"""Listing cursors: the position of the last scanned row of a sorted listing.

A cursor is base64url(JSON) of {"v": version, "s": sort, "k": sort value, "i": id}. It
carries no filter, only a position, so the next page starts right after the last row the
previous request looked at, whatever it returned. A cursor of another sort is rejected.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

from catalog.errors import InvalidCursor

VERSION = 1
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Position:
    """A row of a listing table: its sort value (name_key or price) and product id."""

    key: str | Decimal
    id: UUID


def encode(sort: str, position: Position) -> str:
    payload = {"v": VERSION, "s": sort, "k": str(position.key), "i": str(position.id)}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(sort: str, cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("Invalid cursor: not one this API issued") from exc
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise InvalidCursor("Invalid cursor: unknown version")
    if payload.get("s") != sort:
        raise InvalidCursor(f"Invalid cursor: it belongs to another sort than {sort!r}")
    key, ident = payload.get("k"), payload.get("i")
    if not isinstance(key, str) or not isinstance(ident, str):
        raise InvalidCursor("Invalid cursor: malformed position")
    try:
        product_id = UUID(ident)
        if sort.lstrip("-") == "price":
            price = Decimal(key)
            # A listing key is a price in cents; any other number (1e-3000000000 has a
            # scale Cassandra's decimal cannot carry) never came from this API.
            if not price.is_finite() or price != price.quantize(CENT):
                raise InvalidCursor("Invalid cursor: malformed price")
            return Position(price, product_id)
        key.encode()  # JSON may carry lone surrogates ("\ud800"), which no text column holds
    except (ValueError, InvalidOperation) as exc:  # UnicodeEncodeError is a ValueError
        raise InvalidCursor("Invalid cursor: malformed position") from exc
    return Position(key, product_id)
