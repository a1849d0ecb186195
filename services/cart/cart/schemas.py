"""Request and response bodies. Money is an exact Decimal, serialized as a string."""

from __future__ import annotations

import uuid
from datetime import datetime

from kit.money import Money
from pydantic import BaseModel, ConfigDict, Field


class AddItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: uuid.UUID
    quantity: int = Field(default=1, ge=1, le=1_000_000)


class SetQuantity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1, le=1_000_000)


class CartLine(BaseModel):
    product_id: uuid.UUID
    name: str
    unit_price: Money
    quantity: int
    line_total: Money


class Cart(BaseModel):
    items: list[CartLine]
    total: Money


class OrderLine(CartLine):
    pass


class OrderStatusEntry(BaseModel):
    status: str
    at: datetime


class CheckoutOrder(BaseModel):
    """The order a checkout created, as the orders service describes it (documentation)."""

    id: uuid.UUID
    user_id: str
    status: str
    items: list[OrderLine]
    total: Money
    created_at: datetime
    updated_at: datetime
    history: list[OrderStatusEntry]
