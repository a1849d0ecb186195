"""X-Request-ID (kit/context.py): taken from the client when it is printable ASCII, echoed,
and forwarded on calls to other services; anything else is replaced, never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from kit.app import create_app
from kit.context import incoming_request_id, request_id
from kit.http import ServiceClient
from kit.settings import ServiceSettings

from tests.support.apps import serve

FRESH = re.compile(r"[0-9a-f]{32}")

upstream = FastAPI()


@upstream.get("/seen")
async def seen(request: Request) -> dict[str, str | None]:
    return {"x-request-id": request.headers.get("x-request-id")}


router = APIRouter()


@router.get("/relay")
async def relay(request: Request) -> dict[str, str | None]:
    """Calls another service, as the cart's checkout calls the catalog and orders."""
    client: ServiceClient = request.app.state.upstream
    response = await client.request("GET", "/seen", idempotent=True)
    return {"mine": request_id.get(), "upstream saw": response.json()["x-request-id"]}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="relay",
        otel_exporter_otlp_endpoint=None,
        jwks_url="file:///nonexistent/jwks.json",
    )
    app = create_app(settings, title="t", description="t", routers=[router], migrations=None)
    app.state.upstream = ServiceClient(
        "upstream", "http://upstream", transport=httpx.ASGITransport(app=upstream)
    )
    async with serve(app) as client:
        yield client
    await app.state.upstream.aclose()


async def test_a_printable_id_is_echoed_and_forwarded(client: httpx.AsyncClient) -> None:
    response = await client.get("/relay", headers={"X-Request-ID": "abc-123 retry/2"})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == "abc-123 retry/2"
    assert response.json() == {"mine": "abc-123 retry/2", "upstream saw": "abc-123 retry/2"}


@pytest.mark.parametrize("raw", [b"caf\xe9", b"\xff\xfe", b"id-\xa0-x"])
async def test_a_non_ascii_id_is_replaced_not_a_500(client: httpx.AsyncClient, raw: bytes) -> None:
    """Regression: a latin-1 X-Request-ID was forwarded as is, and httpx (ASCII headers)
    raised UnicodeEncodeError: a 500 on every endpoint that calls another service."""
    response = await client.get("/relay", headers={b"X-Request-ID": raw})
    assert response.status_code == 200, response.text
    rid = response.headers["x-request-id"]
    assert FRESH.fullmatch(rid)
    assert response.json() == {"mine": rid, "upstream saw": rid}


def test_incoming_request_id() -> None:
    assert incoming_request_id(b"req-1") == "req-1"
    assert incoming_request_id(b"x" * 300) == "x" * 128
    for bad in (b"", b"caf\xe9", b"tab\there", b"\x7f"):
        assert FRESH.fullmatch(incoming_request_id(bad)), bad
