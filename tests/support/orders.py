"""Test support: the handle the orders tests get from their fixture."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from orders.worker import LifecycleWorker

from tests.support.apps import TokenMinter


@dataclass
class OrdersEnv:
    orders: httpx.AsyncClient
    catalog: httpx.AsyncClient
    app: FastAPI
    minter: TokenMinter

    def worker(self) -> LifecycleWorker:
        service = self.app.state.orders
        fast = service.settings.model_copy(update={"worker_poll_seconds": 0.1, "worker_batch": 100})
        return LifecycleWorker(service, fast)
