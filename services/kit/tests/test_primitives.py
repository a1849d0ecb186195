"""The small primitives every service shares: clock, money, cursors."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pytest
from kit import cursor
from kit.clock import now, utc
from kit.money import Money, money
from pydantic import TypeAdapter


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


def test_money_is_whole_cents() -> None:
    assert str(money(Decimal("19.9"))) == "19.90"
    assert money(Decimal("0.125")) == Decimal("0.13")  # half up, as a till rounds
    assert money(Decimal("1.234"), ROUND_CEILING) == Decimal("1.24")
    assert money(Decimal("1.239"), ROUND_FLOOR) == Decimal("1.23")
    assert TypeAdapter(Money).dump_python(Decimal("5"), mode="json") == "5.00"


def test_cursor_round_trip() -> None:
    payload = {"k": "user", "t": 1_700_000_000_000, "id": "x"}
    token = cursor.encode(payload)
    assert "=" not in token and "/" not in token and "+" not in token
    assert cursor.decode(token) == payload


@pytest.mark.parametrize(
    "token",
    ["%%%", "", "AAAAAAAA", base64.urlsafe_b64encode(b"[1,2]").decode(), "\u00e9t\u00e9"],
)
def test_cursor_rejects_what_it_did_not_make(token: str) -> None:
    with pytest.raises(cursor.InvalidCursor) as caught:
        cursor.decode(token)
    assert caught.value.status == 400 and caught.value.detail.startswith("Invalid cursor")
