"""HTTP routes of the orders service: thin, the rules live in service.py."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from kit.auth import AdminUser, CurrentUser, ServiceCaller

from orders.schemas import CreateOrder, Order, OrderPage, StatusChange
from orders.service import OrdersService


def get_service(request: Request) -> OrdersService:
    service: OrdersService = request.app.state.orders
    return service


Service = Annotated[OrdersService, Depends(get_service)]

router = APIRouter(tags=["orders"])
internal = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@internal.post(
    "/orders",
    response_model=Order,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The order already existed (replay)", "model": Order}},
)
async def create_order(
    body: CreateOrder, service: Service, _caller: ServiceCaller, response: Response
) -> Order:
    """Create an order for the checkout saga; idempotent on `order_id`."""
    order, created = await service.create(body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return order


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    user: CurrentUser,
    service: Service,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    all: Annotated[bool, Query(description="Admins: every order (storage order)")] = False,
    user_id: Annotated[
        str | None, Query(max_length=200, description="Admins: this user's orders")
    ] = None,
) -> OrderPage:
    """Your orders, newest first. Admins may pass `user_id` (that user's orders, newest
    first) or `all=true` (every order of the store, in storage order)."""
    return await service.list_orders(user, limit, cursor, everyone=all, user_id=user_id)


@router.get("/orders/{order_id}", response_model=Order)
async def get_order(order_id: uuid.UUID, user: CurrentUser, service: Service) -> Order:
    return await service.get(user, order_id)


@router.post("/orders/{order_id}/cancel", response_model=Order)
async def cancel_order(order_id: uuid.UUID, user: CurrentUser, service: Service) -> Order:
    """Cancel a pending or paid order (its owner or an admin); the stock goes back."""
    return await service.cancel(user, order_id)


@router.patch("/orders/{order_id}/status", response_model=Order)
async def set_status(
    order_id: uuid.UUID, body: StatusChange, admin: AdminUser, service: Service
) -> Order:
    """Admins: take the next lifecycle step now, or cancel."""
    return await service.set_status(admin, order_id, body.status)
