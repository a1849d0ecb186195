"""Orders' domain errors: kit errors with the orders' wording (mapped to HTTP by the kit)."""

from __future__ import annotations

from kit.errors import BadRequest, Conflict, NotFound


class OrderNotFound(NotFound):
    def __init__(self, order_id: object) -> None:
        super().__init__(f"Order {order_id} not found")


class InvalidTransition(Conflict):
    def __init__(self, current: str, target: str) -> None:
        super().__init__(
            f"Order is {current}; it cannot become {target}", status_now=current, target=target
        )


class OrderMismatch(Conflict):
    def __init__(self, order_id: object) -> None:
        super().__init__(f"Order {order_id} already exists with different contents")


class ReservationGone(Conflict):
    def __init__(self, order_id: object) -> None:
        super().__init__(f"The stock reservation of order {order_id} is no longer held")


class BadTotal(BadRequest):
    status, title = 422, "Unprocessable content"

    def __init__(self, expected: object, given: object) -> None:
        super().__init__(f"Order total {given} does not match its items ({expected})")
