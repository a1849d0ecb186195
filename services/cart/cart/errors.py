"""Cart's domain errors: kit errors with the cart's wording (mapped to HTTP by the kit)."""

from __future__ import annotations

import uuid
from typing import Any

from kit.errors import AppError, Conflict, NotFound


class ProductNotFound(NotFound):
    def __init__(self, product_id: uuid.UUID) -> None:
        super().__init__(f"Product {product_id} not found", product_id=str(product_id))


class ProductsGone(NotFound):
    def __init__(self, why: str) -> None:
        super().__init__(f"Some products of your cart no longer exist: {why}")


class NotInCart(NotFound):
    def __init__(self, product_id: uuid.UUID) -> None:
        super().__init__(f"Product {product_id} is not in your cart", product_id=str(product_id))


class NotEnoughStock(Conflict):
    def __init__(self, product_id: uuid.UUID, requested: int, available: int) -> None:
        super().__init__(
            f"Only {available} of product {product_id} in stock; the cart would hold {requested}",
            product_id=str(product_id),
            requested=requested,
            available=available,
        )


class CartFull(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(f"A cart holds at most {limit} different products")


class EmptyCart(Conflict):
    def __init__(self) -> None:
        super().__init__("Your cart is empty: add items before checking out")


class InsufficientStock(Conflict):
    def __init__(self, short_items: list[dict[str, Any]]) -> None:
        names = ", ".join(
            f"{s.get('product_id')} (requested {s.get('requested')}, "
            f"available {s.get('available')})"
            for s in short_items
        )
        super().__init__(
            f"Insufficient stock: {names}. Nothing was reserved; your cart is unchanged.",
            short_items=short_items,
        )


class KeyReused(AppError):
    status, title = 422, "Unprocessable content"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used for a checkout of a different cart")


class CheckoutInProgress(Conflict):
    def __init__(self) -> None:
        super().__init__("A checkout with this Idempotency-Key is still in progress; retry shortly")


class CheckoutFailed(AppError):
    """A saga step failed for a reason other than stock or availability."""

    status, title = 409, "Conflict"


class CheckoutReplayed(AppError):
    """The recorded failure of an earlier checkout with this Idempotency-Key, answered again
    (built with `from_problem`, so it keeps the original status and members)."""

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Idempotent-Replayed"] = "true"
