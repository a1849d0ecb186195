"""The checkout saga's pure rules: totals, fingerprints, decisions and compensation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from cart import saga
from cart.repository import Line
from cart.saga import Decision, compensation, decide

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
P1, P2 = uuid.UUID(int=1), uuid.UUID(int=2)


def line(product_id: uuid.UUID, quantity: int, price: str = "19.99") -> Line:
    return Line(product_id, f"product {product_id.int}", Decimal(price), quantity, NOW)


def test_totals_are_exact_decimals() -> None:
    lines = [line(P1, 3, "0.10"), line(P2, 2, "19.99")]
    assert saga.line_total(lines[0]) == Decimal("0.30")
    assert saga.cart_total(lines) == Decimal("40.28")
    assert str(saga.cart_total([])) == "0.00"


def test_fingerprint_ignores_order_but_not_contents() -> None:
    a = saga.fingerprint([line(P1, 1), line(P2, 2)])
    assert a == saga.fingerprint([line(P2, 2), line(P1, 1)])
    assert a != saga.fingerprint([line(P1, 1), line(P2, 3)])
    assert a != saga.fingerprint([line(P1, 1), line(P2, 2, "1.00")])


def test_order_payload_matches_the_cart() -> None:
    order_id = uuid.uuid4()
    payload = saga.order_payload(order_id, "u1", [line(P2, 2, "1.25"), line(P1, 1, "3")])
    assert payload["order_id"] == str(order_id)
    assert payload["total"] == "5.50"
    assert [i["product_id"] for i in payload["items"]] == [str(P1), str(P2)]
    assert payload["items"][1]["unit_price"] == "1.25"


def test_snapshot_round_trips() -> None:
    lines = [line(P1, 1, "2.50"), line(P2, 4)]
    assert saga.load_lines(saga.dump_lines(lines)) == lines


def record(
    state: str, fingerprint: str = "fp", lease: timedelta = timedelta(seconds=30)
) -> dict[str, Any]:
    return {
        "state": state,
        "fingerprint": fingerprint,
        "lease_until": (NOW + lease).replace(tzinfo=None),  # as the driver returns it
    }


@pytest.mark.parametrize(
    ("rec", "cart_fp", "decision"),
    [
        (None, "fp", Decision.START),
        (None, None, Decision.EMPTY),
        (record("completed"), "fp", Decision.REPLAY),
        (record("completed"), None, Decision.REPLAY),  # the cart was cleared by the checkout
        (record("completed"), "other", Decision.KEY_REUSED),
        (record("pending"), "fp", Decision.WAIT),
        (record("pending"), None, Decision.WAIT),
        (record("pending"), "other", Decision.KEY_REUSED),
        (record("pending", lease=-timedelta(seconds=1)), "fp", Decision.TAKE_OVER),
        (record("failed"), "fp", Decision.RETRY),
        (record("failed"), "other", Decision.RETRY),
        (record("failed"), None, Decision.EMPTY),
    ],
)
def test_decide(rec: dict[str, Any] | None, cart_fp: str | None, decision: Decision) -> None:
    assert decide(rec, cart_fp, NOW) is decision


def test_compensation_plan() -> None:
    assert compensation("reserve", nothing_reserved=True) == ()
    assert compensation("reserve", nothing_reserved=False) == ("release",)
    assert compensation("create_order", nothing_reserved=False) == ("release",)
    for step in saga.STEPS[saga.STEPS.index(saga.POINT_OF_NO_RETURN) + 1 :]:
        assert compensation(step, nothing_reserved=False) == ()
    with pytest.raises(ValueError):
        compensation("teleport", nothing_reserved=False)


def test_an_unconfirmed_release_is_retried_with_backoff_while_the_hold_may_live() -> None:
    delays = saga.release_retry_delays(900)
    assert delays[:6] == [1, 2, 4, 8, 16, 30]
    assert set(delays[6:]) == {30}
    # Tries continue until the hold would have expired, and not a try longer.
    assert sum(delays) >= 900 > sum(delays[:-1])
    assert saga.release_retry_delays(0) == []
