"""HTTP routes: thin adapters from requests to CatalogService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from kit.auth import AdminUser, ServiceCaller

from catalog.schemas import (
    CategoryList,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    ProductQuery,
    Reservation,
    ReservationRequest,
    SweepResult,
)
from catalog.service import CatalogService


async def get_service(request: Request) -> CatalogService:
    service: CatalogService = request.app.state.catalog
    return service


Catalog = Annotated[CatalogService, Depends(get_service)]

public = APIRouter(tags=["catalog"])
# Internal endpoints stay out of the public OpenAPI document (the gateway serves it).
internal = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


@public.get("/products", response_model=ProductPage)
async def list_products(catalog: Catalog, query: Annotated[ProductQuery, Query()]) -> ProductPage:
    """Products sorted by `sort`, filtered; walk `next_cursor` until it is null."""
    return await catalog.list_products(query)


@public.get("/products/{product_id}", response_model=Product)
async def get_product(catalog: Catalog, product_id: UUID) -> Product:
    return await catalog.get_product(product_id)


@public.get("/categories", response_model=CategoryList)
async def list_categories(catalog: Catalog) -> CategoryList:
    """Categories that have products, with their product counts (cached a few seconds)."""
    return CategoryList(items=await catalog.categories())


@public.post("/products", response_model=Product, status_code=status.HTTP_201_CREATED)
async def create_product(
    catalog: Catalog, _admin: AdminUser, body: ProductCreate, response: Response
) -> Product:
    product = await catalog.create_product(body)
    response.headers["Location"] = f"/products/{product.id}"
    return product


@public.put("/products/{product_id}", response_model=Product)
async def replace_product(
    catalog: Catalog, _admin: AdminUser, product_id: UUID, body: ProductCreate
) -> Product:
    return await catalog.replace_product(product_id, body)


@public.patch("/products/{product_id}", response_model=Product)
async def update_product(
    catalog: Catalog, _admin: AdminUser, product_id: UUID, body: ProductPatch
) -> Product:
    return await catalog.update_product(product_id, body)


@public.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_product(catalog: Catalog, _admin: AdminUser, product_id: UUID) -> Response:
    await catalog.delete_product(product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- internal: stock reservations (service tokens only; never routed by the gateway) --------


@internal.post(
    "/reservations",
    response_model=Reservation,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The same order and items again: the existing hold"}},
)
async def reserve(
    catalog: Catalog, _caller: ServiceCaller, body: ReservationRequest, response: Response
) -> Reservation:
    """Hold every item for the order, or nothing (409 naming the short items)."""
    reservation, created = await catalog.reserve(body.order_id, body.quantities(), body.ttl_seconds)
    if not created:
        response.status_code = status.HTTP_200_OK
    return reservation


@internal.post("/reservations/sweep", response_model=SweepResult)
async def sweep(catalog: Catalog, _caller: ServiceCaller) -> SweepResult:
    """Release the reservations whose hold time is over."""
    return SweepResult(released=await catalog.release_expired())


@internal.get("/reservations/{order_id}", response_model=Reservation)
async def get_reservation(catalog: Catalog, _caller: ServiceCaller, order_id: UUID) -> Reservation:
    return await catalog.get_reservation(order_id)


@internal.post("/reservations/{order_id}/release", response_model=Reservation)
async def release(catalog: Catalog, _caller: ServiceCaller, order_id: UUID) -> Reservation:
    return await catalog.release(order_id)


@internal.post("/reservations/{order_id}/commit", response_model=Reservation)
async def commit(catalog: Catalog, _caller: ServiceCaller, order_id: UUID) -> Reservation:
    return await catalog.commit(order_id)
