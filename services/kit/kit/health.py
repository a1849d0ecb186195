"""Liveness, readiness and the aggregated readiness that the gateway's /health serves."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

log = logging.getLogger("kit.health")
ReadinessCheck = Callable[[], Awaitable[bool]]
router = APIRouter(prefix="/health", tags=["health"])


async def _run(check: ReadinessCheck) -> bool:
    try:
        return await asyncio.wait_for(check(), timeout=2.0)
    except Exception as exc:  # any failure means not ready
        log.info("readiness check failed: %r", exc)
        return False


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    checks: dict[str, ReadinessCheck] = request.app.state.readiness
    results = await asyncio.gather(*(_run(c) for c in checks.values()))
    status = dict(zip(checks, ("ok" if r else "down" for r in results), strict=True))
    ok = all(results)
    return JSONResponse({"status": "ok" if ok else "down", "checks": status}, 200 if ok else 503)


@router.get("/aggregate")
async def aggregate(request: Request) -> JSONResponse:
    """Readiness of every service of the store, for the gateway's /health."""
    peers: dict[str, str] = request.app.state.settings.health_peers

    async def probe(client: httpx.AsyncClient, url: str) -> str:
        try:
            return "ok" if (await client.get(url)).status_code == 200 else "down"
        except httpx.HTTPError:
            return "down"

    async with httpx.AsyncClient(timeout=2.0) as client:
        states = await asyncio.gather(*(probe(client, url) for url in peers.values()))
    services = dict(zip(peers, states, strict=True))
    ok = all(s == "ok" for s in states)
    return JSONResponse(
        {"status": "ok" if ok else "down", "services": services}, 200 if ok else 503
    )
