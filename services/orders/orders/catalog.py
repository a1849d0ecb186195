"""The catalog's internal stock API, as the orders service uses it."""

from __future__ import annotations

import logging
import uuid
from enum import Enum

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
        response = await self.client.request(
            "POST", f"/internal/reservations/{order_id}/commit", idempotent=True
        )
        if response.status_code in (200, 201, 204):
            return Outcome.DONE
        if response.status_code in (404, 409, 410):
            log.info("commit of %s refused: %s %s", order_id, response.status_code, response.text)
            return Outcome.GONE
        raise ServiceUnavailable(f"catalog answered {response.status_code} to a commit")

    async def release(self, order_id: uuid.UUID) -> Outcome:
        """Give the order's units back (idempotent). Raises ServiceUnavailable."""
        response = await self.client.request(
            "POST", f"/internal/reservations/{order_id}/release", idempotent=True
        )
        if response.status_code in (200, 201, 204):
            return Outcome.DONE
        if response.status_code in (404, 409, 410):
            return Outcome.GONE  # nothing to give back
        raise ServiceUnavailable(f"catalog answered {response.status_code} to a release")
