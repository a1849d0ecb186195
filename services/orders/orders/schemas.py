"""Request and response bodies. Money is an exact Decimal, serialized as a string."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from kit.money import Money
from pydantic import BaseModel, ConfigDict, Field

from orders.lifecycle import Status

# Amounts the checkout sends: whole cents, at most 14 digits.
Amount = Annotated[Money, Field(ge=0, max_digits=14, decimal_places=2)]


class OrderItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    name: str = Field(min_length=1, max_length=300)
    unit_price: Amount
    quantity: int = Field(ge=1, le=10_000)


class CreateOrder(BaseModel):
    """Internal: the cart's checkout saga creates the order (idempotent on order_id)."""

    model_config = ConfigDict(extra="forbid")

    order_id: uuid.UUID
    user_id: str = Field(min_length=1, max_length=200)
    items: list[OrderItemIn] = Field(min_length=1, max_length=200)
    total: Amount


class OrderItemOut(BaseModel):
    product_id: uuid.UUID
    name: str
    unit_price: Amount
    quantity: int
    line_total: Amount


class HistoryEntry(BaseModel):
    status: Status
    at: datetime


class Order(BaseModel):
    id: uuid.UUID
    user_id: str
    status: Status
    items: list[OrderItemOut]
    total: Amount
    created_at: datetime
    updated_at: datetime
    history: list[HistoryEntry]


class OrderPage(BaseModel):
    items: list[Order]
    next_cursor: str | None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status
