"""Pure logic: cursors, validation, scan filters, the seeder's data."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal

import pytest
from catalog import cursor
from catalog.listing import ScanPlan
from catalog.repository import HoldState, ListingRow, ProductRecord, StockState
from catalog.reservations import HoldOutcome, hold_outcome
from catalog.schemas import (
    ProductCreate,
    ProductPatch,
    ProductQuery,
    Reservation,
    ReservationRequest,
    ReservationStatus,
)
from catalog.seed import CATALOG, generate, product_id
from kit import clock
from kit.cursor import InvalidCursor
from pydantic import ValidationError


def test_cursor_round_trip_name_and_price() -> None:
    pid = uuid.uuid4()
    for sort, key in (("name", "red kettle"), ("-name", "ä ünïcode"), ("price", Decimal("19.99"))):
        token = cursor.encode(sort, cursor.Position(key, pid))
        assert "=" not in token and "/" not in token and "+" not in token
        assert cursor.decode(sort, token) == cursor.Position(key, pid)
    position = cursor.decode(
        "-price", cursor.encode("-price", cursor.Position(Decimal("5.00"), pid))
    )
    assert position.key == Decimal("5.00") and isinstance(position.key, Decimal)


@pytest.mark.parametrize(
    "token",
    [
        "garbage!!",
        "",
        base64.urlsafe_b64encode(b"not json").decode(),
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(
            json.dumps({"v": 9, "s": "name", "k": "a", "i": "x"}).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps({"v": 1, "s": "name", "k": "a", "i": "not-a-uuid"}).encode()
        ).decode(),
        base64.urlsafe_b64encode(
            json.dumps({"v": 1, "s": "name", "k": 5, "i": str(uuid.uuid4())}).encode()
        ).decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_cursor_rejects_garbage(token: str) -> None:
    with pytest.raises(InvalidCursor):
        cursor.decode("name", token)


def test_cursor_of_another_sort_is_rejected() -> None:
    token = cursor.encode("name", cursor.Position("abc", uuid.uuid4()))
    with pytest.raises(InvalidCursor):
        cursor.decode("-name", token)
    with pytest.raises(InvalidCursor):
        cursor.decode("price", token)


def test_price_cursor_with_bad_number() -> None:
    raw = {"v": 1, "s": "price", "k": "NaN", "i": str(uuid.uuid4())}
    token = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    with pytest.raises(InvalidCursor):
        cursor.decode("price", token)
    raw["k"] = "twelve"
    token = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    with pytest.raises(InvalidCursor):
        cursor.decode("price", token)


@pytest.mark.parametrize(
    ("sort", "key"),
    [("price", "1e-3000000000"), ("price", "1E+3000000000"), ("-price", "0.001"),
     ("name", "\ud800"), ("-name", "x\udc00y")],
)  # fmt: skip
def test_cursor_rejects_positions_cassandra_cannot_take(sort: str, key: str) -> None:
    raw = {"v": 1, "s": sort, "k": key, "i": str(uuid.uuid4())}
    token = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode()
    with pytest.raises(InvalidCursor):
        cursor.decode(sort, token)


def test_scan_plan_bounds_are_whole_cents() -> None:
    """Prices are whole cents: rounding min up and max down selects the same products."""
    plan = ScanPlan.of(ProductQuery(min_price="1.231", max_price="1.239"))
    assert (plan.min_price, plan.max_price) == (Decimal("1.24"), Decimal("1.23"))
    tiny = ScanPlan.of(ProductQuery(min_price="1e-3000000000", max_price="999999.999"))
    assert (tiny.min_price, tiny.max_price) == (Decimal("0.01"), Decimal("999999.99"))
    exact = ScanPlan.of(ProductQuery(min_price="5", max_price="7.5"))
    assert (exact.min_price, exact.max_price) == (Decimal("5.00"), Decimal("7.50"))
    assert ScanPlan.of(ProductQuery()).min_price is None


def test_product_validation() -> None:
    ok = ProductCreate(name="  Kettle ", category="Home", price=Decimal("19.9"), stock=0)
    assert ok.name == "Kettle" and ok.price == Decimal("19.90") and str(ok.price) == "19.90"
    assert ProductCreate(name="x", category="y", price=5).price.as_tuple().exponent == -2
    bad = [
        {"name": "", "category": "c", "price": "1.00"},
        {"name": "x" * 201, "category": "c", "price": "1.00"},
        {"name": "n", "category": "", "price": "1.00"},
        {"name": "n", "category": "c" * 81, "price": "1.00"},
        {"name": "n", "category": "c", "price": "0"},
        {"name": "n", "category": "c", "price": "-1"},
        {"name": "n", "category": "c", "price": "1.999"},
        {"name": "n", "category": "c", "price": "NaN"},
        {"name": "n", "category": "c", "price": "Infinity"},
        {"name": "n", "category": "c", "price": "1.00", "stock": -1},
        {"name": "n", "category": "c", "price": "1.00", "colour": "red"},
    ]
    for body in bad:
        with pytest.raises(ValidationError):
            ProductCreate.model_validate(body)


def test_patch_rejects_explicit_nulls() -> None:
    assert ProductPatch.model_validate({"price": "2.50"}).model_fields_set == {"price"}
    with pytest.raises(ValidationError):
        ProductPatch.model_validate({"name": None})


def test_query_validation() -> None:
    assert ProductQuery().sort == "name" and ProductQuery().limit == 20
    blank = ProductQuery.model_validate({"category": " ", "q": "", "utm_source": "x"})
    assert blank.category is None and not blank.q
    for params in (
        {"sort": "rating"},
        {"limit": 0},
        {"limit": 101},
        {"min_price": "10", "max_price": "5"},
        {"min_price": "-1"},
    ):
        with pytest.raises(ValidationError):
            ProductQuery.model_validate(params)


def test_reservation_request_merges_duplicates() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    request = ReservationRequest.model_validate(
        {
            "order_id": str(uuid.uuid4()),
            "items": [
                {"product_id": str(a), "quantity": 1},
                {"product_id": str(b), "quantity": 2},
                {"product_id": str(a), "quantity": 3},
            ],
        }
    )
    assert request.quantities() == {a: 4, b: 2}
    with pytest.raises(ValidationError):
        ReservationRequest.model_validate({"order_id": str(a), "items": []})
    with pytest.raises(ValidationError):
        ReservationRequest.model_validate(
            {"order_id": str(a), "items": [{"product_id": str(b), "quantity": 0}]}
        )


def _record(name: str, category: str, price: str) -> ProductRecord:
    now = clock.now()
    return ProductRecord(uuid.uuid4(), name, "", category, Decimal(price), now, now)


def test_scan_plan_filters() -> None:
    plan = ScanPlan.of(
        ProductQuery(category="Toys", q="ROBOT", min_price=Decimal("5"), max_price=Decimal("50"))
    )
    assert plan.scope == "Toys" and plan.field == "name" and not plan.descending
    record = _record("Tiny Robot Kit", "Toys", "19.99")
    row = ListingRow(record.name_key, record.id, record.name, record.price)
    assert plan.row_matches(row) and plan.product_matches(row, record)
    assert not plan.row_matches(ListingRow("tiny robot", record.id, "Tiny Robot", Decimal("60")))
    assert not plan.row_matches(ListingRow("puzzle", record.id, "Puzzle", Decimal("10")))
    # A stale row (the product was renamed, moved or deleted since) never matches.
    assert not plan.product_matches(row, None)
    moved = ProductRecord(**{**record.__dict__, "category": "Books"})
    assert not plan.product_matches(row, moved)
    renamed = ProductRecord(**{**record.__dict__, "name": "Big Robot Kit"})
    assert not plan.product_matches(row, renamed)
    assert ScanPlan.of(ProductQuery(in_stock=True)).stock_matches(1)
    assert not ScanPlan.of(ProductQuery(in_stock=True)).stock_matches(0)
    assert ScanPlan.of(ProductQuery(in_stock=False)).stock_matches(0)
    assert ScanPlan.of(ProductQuery()).stock_matches(0)
    desc = ScanPlan.of(ProductQuery(sort="-price"))
    assert desc.field == "price" and desc.descending and desc.scope == "*"


def test_seed_data_is_deterministic_and_realistic() -> None:
    first, again = generate(300, 42), generate(300, 42)
    assert first == again
    assert generate(10, 7) != generate(10, 42)
    assert [pid for pid, _ in first[:3]] == [product_id(i) for i in range(3)]
    categories = {p.category for _, p in first}
    assert categories <= set(CATALOG) and len(categories) == len(CATALOG)
    for _, p in first:
        cents = p.price - int(p.price)
        assert cents in (Decimal("0.99"), Decimal("0.49"), Decimal("0.00")), p.price
        low, high = CATALOG[p.category].price_range
        assert Decimal(low) <= p.price <= Decimal(high) + 1
        assert 0 <= p.stock <= 500 and p.description
    assert any(p.stock == 0 for _, p in first)


@pytest.mark.parametrize(
    ("hold", "available", "outcome"),
    [
        (None, 5, None),  # no hold yet, enough units: take them
        (None, 1, HoldOutcome.SHORT),
        (HoldState.HELD, 0, HoldOutcome.HELD),
        (HoldState.COMMITTED, 0, HoldOutcome.HELD),
        (HoldState.RELEASED, 5, HoldOutcome.CLOSED),
    ],
)
def test_hold_outcome(hold: HoldState | None, available: int, outcome: HoldOutcome | None) -> None:
    assert hold_outcome(StockState(available, hold, 2 if hold else 0), 2) is outcome
    assert hold_outcome(None, 2) is HoldOutcome.UNKNOWN


def test_statuses_keep_their_stored_and_public_values() -> None:
    assert [s.value for s in ReservationStatus] == [
        "pending", "held", "committed", "released", "rejected"
    ]  # fmt: skip
    assert [s.value for s in HoldState] == ["held", "committed", "released"]
    assert Reservation.model_json_schema()["$defs"]["ReservationStatus"]["enum"] == list(
        ReservationStatus
    )
