"""HTTP routes of the cart service: thin, the rules live in service.py."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response, status
from fastapi.responses import JSONResponse
from kit.auth import CurrentUser

from cart.schemas import AddItem, Cart, CheckoutOrder, SetQuantity
from cart.service import CartService


def get_service(request: Request) -> CartService:
    service: CartService = request.app.state.cart
    return service


Service = Annotated[CartService, Depends(get_service)]
router = APIRouter(prefix="/cart", tags=["cart"])


@router.get("", response_model=Cart)
async def get_cart(user: CurrentUser, service: Service) -> Cart:
    """Your cart: each line with the price seen when it was added, and the total."""
    return await service.get(user)


@router.post("/items", response_model=Cart, status_code=status.HTTP_201_CREATED)
async def add_item(body: AddItem, user: CurrentUser, service: Service) -> Cart:
    """Add units of a product (on top of any already in the cart). 404 unknown product,
    409 more than in stock."""
    return await service.add(user, body.product_id, body.quantity)


@router.patch("/items/{product_id}", response_model=Cart)
async def set_quantity(
    product_id: uuid.UUID, body: SetQuantity, user: CurrentUser, service: Service
) -> Cart:
    """Set the quantity of a product already in the cart."""
    return await service.set_quantity(user, product_id, body.quantity)


@router.delete("/items/{product_id}", response_model=Cart)
async def remove_item(product_id: uuid.UUID, user: CurrentUser, service: Service) -> Cart:
    return await service.remove(user, product_id)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def clear_cart(user: CurrentUser, service: Service) -> Response:
    await service.clear(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


CHECKOUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {
        "model": CheckoutOrder,
        "description": "The order (the same order again for a repeated Idempotency-Key)",
    },
    409: {"description": "Insufficient stock (short_items named; nothing reserved, cart "
          "kept), empty cart, or a checkout with this key still running"},
    422: {"description": "The Idempotency-Key was used for a different cart"},
    503: {"description": "The catalog or orders service is unavailable; nothing is kept"},
}  # fmt: skip


@router.post("/checkout", status_code=status.HTTP_201_CREATED, responses=CHECKOUT_RESPONSES)
async def checkout(
    user: CurrentUser,
    service: Service,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description="Repeat a checkout safely: the same key returns the same order",
        ),
    ] = None,
) -> JSONResponse:
    """Check the cart out: reserve its stock, create the order, empty the cart."""
    result = await service.checkout(user, idempotency_key)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(result.body, status_code=result.status_code, headers=headers)
