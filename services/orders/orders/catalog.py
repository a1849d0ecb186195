"""The catalog's internal stock API, as the orders service uses it."""

from __future__ import annotations

import logging
import uuid
from enum import Enum
from typing import Literal

from kit.errors import ServiceUnavailable
from kit.http import ServiceClient

log = logging.getLogger("orders.catalog")


class Outcome(Enum):
    DONE = "done"  # the catalog did it (or had already done it)
    GONE = "gone"  # no held reservation to act on: released, expired or never made


class CatalogStock:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    async def commit(self, order_id: uuid.UUID) -> Outcome:
        """Turn the order's hold into a sale (idempotent). Raises ServiceUnavailable."""
        return await self._reservation_step(order_id, "commit")

    async def release(self, order_id: uuid.UUID) -> Outcome:
        """Give the order's units back (idempotent). Raises ServiceUnavailable."""
        return await self._reservation_step(order_id, "release")

    async def _reservation_step(
        self, order_id: uuid.UUID, step: Literal["commit", "release"]
    ) -> Outcome:
        response = await self.client.request(
            "POST", f"/internal/reservations/{order_id}/{step}", idempotent=True
        )
        if response.status_code in (200, 201, 204):
            return Outcome.DONE
        if response.status_code in (404, 409, 410):
            log.info("%s of %s refused: %s %s", step, order_id, response.status_code, response.text)
            return Outcome.GONE
        raise ServiceUnavailable(f"catalog answered {response.status_code} to a {step}")
