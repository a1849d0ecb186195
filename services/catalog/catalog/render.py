"""Products as the API shows them, built and serialized once per record and stock level.

Most of what a cached listing page costs is building and validating twenty response models
and serializing them (docs/performance.md). The read cache hands out the same record object
until it reads the product again, so a product's model and JSON are kept beside that
record and reused while both the record (by identity) and its stock level are the same.
Pages are then joined from the products' JSON; FastAPI's response validation is skipped
for them, since they are built from the response models themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from fastapi import Response
from pydantic import TypeAdapter

from catalog.repository import ProductRecord
from catalog.schemas import Product, ProductPage

_CURSOR = TypeAdapter(str | None)


def to_product(record: ProductRecord, stock: int) -> Product:
    return Product(
        id=record.id,
        name=record.name,
        description=record.description,
        category=record.category,
        price=record.price,
        stock=stock,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


class JSONBytes(Response):
    """A body that is JSON already."""

    media_type = "application/json"


@dataclass(frozen=True)
class _Shown:
    record: ProductRecord
    stock: int
    product: Product
    json: bytes


class Rendered:
    """The Product model and JSON of each product, per (record object, stock level)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size  # entries; all are dropped when it is reached (a page rebuilds them)
        self._shown: dict[UUID, _Shown] = {}

    def product(self, record: ProductRecord, stock: int) -> Product:
        shown = self._shown.get(record.id)
        if shown is None or shown.record is not record or shown.stock != stock:
            shown = self._show(record, stock)
        return shown.product

    def json(self, product: Product) -> bytes:
        """`product` serialized: kept from when it was built here, else serialized now."""
        shown = self._shown.get(product.id)
        if shown is not None and shown.product is product:
            return shown.json
        return product.__pydantic_serializer__.to_json(product)

    def page(self, page: ProductPage) -> bytes:
        """The JSON of `page`, as `ProductPage` serializes it, joined from its products'."""
        items = b",".join(self.json(item) for item in page.items)
        return b'{"items":[%b],"next_cursor":%b}' % (items, _CURSOR.dump_json(page.next_cursor))

    def _show(self, record: ProductRecord, stock: int) -> _Shown:
        product = to_product(record, stock)
        shown = _Shown(record, stock, product, product.__pydantic_serializer__.to_json(product))
        if len(self._shown) >= self.size:
            self._shown.clear()
        self._shown[record.id] = shown
        return shown
