"""kit.clock: the timestamps services write and read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from kit.clock import now, utc


def test_now_is_aware_utc_at_millisecond_precision() -> None:
    value = now()
    assert value.tzinfo is UTC
    assert value.microsecond % 1000 == 0


def test_utc_marks_naive_driver_values_and_converts_aware_ones() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5, 6000)
    assert utc(naive) == naive.replace(tzinfo=UTC) and utc(naive).tzinfo is UTC
    paris = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    converted = utc(paris)
    assert converted.tzinfo is UTC and converted.hour == 3 and converted == paris
