"""HTTP routes: thin adapters from requests to CatalogService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from kit.auth import AdminUser, ServiceCaller

from catalog.render import JSONBytes
from catalog.schemas import (
    CategoryList,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    ProductQuery,
    ProductUpserts,
    Reservation,
    ReservationRequest,
    SweepResult,
    UpsertResult,
)
from catalog.service import CatalogService


async def get_service(request: Request) -> CatalogService:
    service: CatalogService = request.app.state.catalog
    return service


Service = Annotated[CatalogService, Depends(get_service)]

public = APIRouter(tags=["catalog"])
# Internal endpoints stay out of the public OpenAPI document (the gateway serves it).
internal = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


# These two return their JSON already serialized (catalog/render.py); response_model still
# documents them.
@public.get("/products", response_model=ProductPage)
async def list_products(service: Service, query: Annotated[ProductQuery, Query()]) -> Response:
    """Products sorted by `sort`, filtered; walk `next_cursor` until it is null."""
    return JSONBytes(service.rendered.page(await service.listing.list_products(query)))


@public.get("/products/{product_id}", response_model=Product)
async def get_product(service: Service, product_id: UUID) -> Response:
    return JSONBytes(service.rendered.json(await service.get_product(product_id)))


@public.get("/categories", response_model=CategoryList)
async def list_categories(service: Service) -> CategoryList:
    """Categories that have products, with their product counts (cached a few seconds)."""
    return CategoryList(items=await service.listing.categories())


@public.post("/products", response_model=Product, status_code=status.HTTP_201_CREATED)
async def create_product(
    service: Service, _admin: AdminUser, body: ProductCreate, response: Response
) -> Product:
    product = await service.create_product(body)
    response.headers["Location"] = f"/products/{product.id}"
    return product


@public.put("/products/{product_id}", response_model=Product)
async def replace_product(
    service: Service, _admin: AdminUser, product_id: UUID, body: ProductCreate
) -> Product:
    return await service.replace_product(product_id, body)


@public.patch("/products/{product_id}", response_model=Product)
async def update_product(
    service: Service, _admin: AdminUser, product_id: UUID, body: ProductPatch
) -> Product:
    return await service.update_product(product_id, body)


@public.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_product(service: Service, _admin: AdminUser, product_id: UUID) -> Response:
    await service.delete_product(product_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- internal: stock reservations (service tokens only; never routed by the gateway) --------


@internal.post(
    "/reservations",
    response_model=Reservation,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The same order and items again: the existing hold"}},
)
async def reserve(
    service: Service, _caller: ServiceCaller, body: ReservationRequest, response: Response
) -> Reservation:
    """Hold every item for the order, or nothing (409 naming the short items)."""
    reservation, created = await service.reservations.reserve(
        body.order_id, body.quantities(), body.ttl_seconds
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return reservation


@internal.post("/reservations/sweep", response_model=SweepResult)
async def sweep(service: Service, _caller: ServiceCaller) -> SweepResult:
    """Release the reservations whose hold time is over."""
    return SweepResult(released=await service.reservations.release_expired())


@internal.get("/reservations/{order_id}", response_model=Reservation)
async def get_reservation(service: Service, _caller: ServiceCaller, order_id: UUID) -> Reservation:
    return await service.reservations.get_reservation(order_id)


@internal.post("/reservations/{order_id}/release", response_model=Reservation)
async def release(service: Service, _caller: ServiceCaller, order_id: UUID) -> Reservation:
    return await service.reservations.release(order_id)


@internal.post("/reservations/{order_id}/commit", response_model=Reservation)
async def commit(service: Service, _caller: ServiceCaller, order_id: UUID) -> Reservation:
    return await service.reservations.commit(order_id)


@internal.put("/products", response_model=UpsertResult)
async def upsert_products(
    service: Service, _caller: ServiceCaller, body: ProductUpserts
) -> UpsertResult:
    """Create or overwrite products by id, idempotently (the operator's catalog seeding)."""
    await service.upsert_products(
        [(item.id, ProductCreate(**item.model_dump(exclude={"id"}))) for item in body.items]
    )
    return UpsertResult(written=len(body.items))
