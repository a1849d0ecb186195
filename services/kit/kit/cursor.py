"""Opaque list cursors: base64url(JSON) of where the next page starts.

Validated on the way in (never a raw driver paging state: a forged one would reach
Cassandra); each service checks the fields it put in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from kit.errors import BadRequest


class InvalidCursor(BadRequest):
    def __init__(self, why: str = "pass back a next_cursor this API returned") -> None:
        super().__init__(f"Invalid cursor: {why}")


def encode(payload: Mapping[str, Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> dict[str, Any]:
    """The payload of a cursor `encode` made; InvalidCursor (400) for anything else."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if not isinstance(payload, dict):
        raise InvalidCursor()
    return payload
