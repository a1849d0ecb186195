"""Request and response models of the catalog API.

Money is a `Decimal` with two places, serialized as a string ("19.99"); ids are UUIDs;
times are timezone-aware UTC and serialize as ISO 8601.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from kit.money import money
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

MAX_PRICE = Decimal("1000000")
MAX_STOCK = 1_000_000_000


Price = Annotated[
    Decimal,
    Field(gt=0, lt=MAX_PRICE, decimal_places=2, allow_inf_nan=False, examples=["19.99"]),
    AfterValidator(money),  # 19.9 and 19.90: one clustering value
]
# Filter bounds compare numerically and are not rounded (min_price=1.234 excludes 1.23); the
# scan uses the whole-cent bounds that select the same prices (listing.cents).
PriceBound = Annotated[Decimal, Field(ge=0, lt=MAX_PRICE, allow_inf_nan=False)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Description = Annotated[str, StringConstraints(max_length=5000)]
Stock = Annotated[int, Field(ge=0, le=MAX_STOCK)]
SortKey = Literal["name", "-name", "price", "-price"]


class ProductCreate(BaseModel):
    """A new product; PUT takes the same full shape."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    category: Category
    price: Price
    stock: Stock = 0


class ProductPatch(BaseModel):
    """A partial update: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    category: Category | None = None
    price: Price | None = None
    stock: Stock | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ProductPatch:
        for field in self.model_fields_set:
            if getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class Product(BaseModel):
    id: UUID
    name: str
    description: str
    category: str
    price: Decimal = Field(examples=["19.99"])
    stock: int
    created_at: datetime
    updated_at: datetime


class ProductPage(BaseModel):
    items: list[Product]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null when the listing is exhausted"
    )


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


class ProductQuery(BaseModel):
    """Query parameters of GET /products (unknown ones are ignored; blank ones are absent)."""

    model_config = ConfigDict(extra="ignore")

    category: Annotated[Category | None, BeforeValidator(_blank_is_none)] = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        default=None, description="Case-insensitive substring of the product name"
    )
    min_price: PriceBound | None = None
    max_price: PriceBound | None = None
    in_stock: bool | None = Field(
        default=None, description="true: only products in stock; false: only sold-out ones"
    )
    sort: SortKey = "name"
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _price_range(self) -> ProductQuery:
        if (
            self.min_price is not None
            and self.max_price is not None
            and self.min_price > self.max_price
        ):
            raise ValueError("min_price must not exceed max_price")
        return self


class CategoryCount(BaseModel):
    name: str
    product_count: int


class CategoryList(BaseModel):
    items: list[CategoryCount]


# --- internal stock API ---------------------------------------------------------------------


class ReservationStatus(StrEnum):
    """Where a reservation is (reservations.py draws the state machine)."""

    PENDING = "pending"
    HELD = "held"
    COMMITTED = "committed"
    RELEASED = "released"
    REJECTED = "rejected"


class ReservationItem(BaseModel):
    product_id: UUID
    quantity: Annotated[int, Field(ge=1, le=MAX_STOCK)]


class ReservationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: UUID
    items: Annotated[list[ReservationItem], Field(min_length=1, max_length=100)]
    ttl_seconds: Annotated[int, Field(ge=1, le=7 * 24 * 3600)] | None = None

    def quantities(self) -> dict[UUID, int]:
        """Items by product; the same product twice counts once with the sum."""
        merged: dict[UUID, int] = {}
        for item in self.items:
            merged[item.product_id] = merged.get(item.product_id, 0) + item.quantity
        return merged


class Reservation(BaseModel):
    order_id: UUID
    status: ReservationStatus
    items: list[ReservationItem]
    created_at: datetime
    expires_at: datetime


class ShortItem(BaseModel):
    product_id: UUID
    requested: int
    available: int


class SweepResult(BaseModel):
    released: int


# --- internal product upserts (the operator's CatalogSeed) ----------------------------------


class ProductUpsert(ProductCreate):
    id: UUID


class ProductUpserts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[ProductUpsert], Field(min_length=1, max_length=1000)]


class UpsertResult(BaseModel):
    written: int
