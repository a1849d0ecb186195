"""Catalog's domain errors; the kit maps each to problem+json with its status."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from kit.errors import Conflict, NotFound, ServiceUnavailable

from catalog.schemas import ShortItem


class ProductNotFound(NotFound):
    def __init__(self, product_ids: Iterable[UUID]) -> None:
        ids = [str(p) for p in product_ids]
        noun = "Product" if len(ids) == 1 else "Products"
        super().__init__(f"{noun} not found: {', '.join(ids)}", product_ids=ids)


class InsufficientStock(Conflict):
    """Some items of an order are short; the body names each with what is available."""

    def __init__(self, short_items: list[ShortItem]) -> None:
        names = ", ".join(
            f"{s.product_id} (requested {s.requested}, available {s.available})"
            for s in short_items
        )
        super().__init__(
            f"Insufficient stock: {names}",
            short_items=[s.model_dump(mode="json") for s in short_items],
        )
        self.short_items = short_items


class ReservationNotFound(NotFound):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(f"No reservation for order {order_id}", order_id=str(order_id))


class ReservationMismatch(Conflict):
    def __init__(self, order_id: UUID) -> None:
        super().__init__(
            f"Order {order_id} already has a reservation with different items",
            order_id=str(order_id),
        )


class ReservationClosed(Conflict):
    """The order's reservation is released or rejected: a new attempt needs a new order id."""

    def __init__(self, order_id: UUID, status: str) -> None:
        super().__init__(
            f"The reservation of order {order_id} is {status}",
            order_id=str(order_id),
            reservation_status=status,
        )


class StockContention(ServiceUnavailable):
    def __init__(self, product_id: UUID) -> None:
        super().__init__(
            f"Stock of product {product_id} is too contended right now, retry later",
            product_id=str(product_id),
        )
