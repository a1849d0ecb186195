"""Request and response bodies. Money is an exact Decimal, serialized as a string."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from orders.lifecycle import Status

CENT = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT)


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    PlainSerializer(lambda d: str(money(d)), return_type=str),
]


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    name: str = Field(min_length=1, max_length=300)
    unit_price: Money
    quantity: int = Field(ge=1, le=10_000)


class CreateOrder(BaseModel):
    """Internal: the cart's checkout saga creates the order (idempotent on order_id)."""

    model_config = ConfigDict(extra="forbid")

    order_id: uuid.UUID
    user_id: str = Field(min_length=1, max_length=200)
    items: list[OrderItemIn] = Field(min_length=1, max_length=200)
    total: Money


class OrderItemOut(BaseModel):
    product_id: uuid.UUID
    name: str
    unit_price: Money
    quantity: int
    line_total: Money


class HistoryEntry(BaseModel):
    status: Status
    at: datetime


class Order(BaseModel):
    id: uuid.UUID
    user_id: str
    status: Status
    items: list[OrderItemOut]
    total: Money
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
