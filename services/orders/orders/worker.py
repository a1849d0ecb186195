"""The lifecycle worker: a background task that runs due schedule rows.

Its whole state is the `lifecycle_due` table, so it resumes after a restart; any number of
replicas may run it at once (see OrdersService.run_due).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kit import clock

from orders.config import OrdersSettings
from orders.repository import DueStep
from orders.service import OrdersService

log = logging.getLogger("orders.worker")


class LifecycleWorker:
    def __init__(self, service: OrdersService, settings: OrdersSettings, concurrency: int = 8):
        self.repo = service.repo
        self.service = service
        self.buckets = settings.schedule_buckets
        self.poll_seconds = settings.worker_poll_seconds
        self.batch = settings.worker_batch
        self.limit = asyncio.Semaphore(concurrency)

    async def run_once(self) -> int:
        """Run every row due now, in all buckets; returns how many were run."""
        now = clock.now()
        rows = []
        for bucket in range(self.buckets):
            rows.extend(await self.repo.due(bucket, now, self.batch))

        async def run(row: DueStep) -> None:
            async with self.limit:
                try:
                    await self.service.run_due(row)
                except Exception:
                    log.exception("lifecycle step %s failed; it stays due", row)

        await asyncio.gather(*(run(row) for row in rows))
        return len(rows)

    async def run_forever(self) -> None:
        log.info("lifecycle worker started (%d buckets)", self.buckets)
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("lifecycle poll failed")
            await asyncio.sleep(self.poll_seconds)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        task = asyncio.create_task(self.run_forever(), name="lifecycle-worker")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
