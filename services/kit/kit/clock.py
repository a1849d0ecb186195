"""Time as Cassandra keeps it: aware UTC datetimes at millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Now, at the millisecond precision Cassandra timestamps keep (what is written reads
    back equal)."""
    current = datetime.now(UTC)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


def utc(value: datetime) -> datetime:
    """An aware UTC datetime: the driver hands back naive UTC ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
