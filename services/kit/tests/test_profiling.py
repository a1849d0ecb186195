"""Request profiling (kit/profiling.py) on a small app built by the kit's own factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, Request
from kit.app import create_app
from kit.profiling import split_profile_param
from kit.settings import ServiceSettings

from tests.support.apps import serve

router = APIRouter()


def spin_a_while(seconds: float) -> int:
    """CPU work long enough for the sampler (1 ms interval) to catch many times."""
    deadline, rounds = time.perf_counter() + seconds, 0
    while time.perf_counter() < deadline:
        rounds += sum(i * i for i in range(200)) & 1
    return rounds


@router.get("/busy")
async def busy_handler(request: Request) -> dict[str, object]:
    spin_a_while(0.03)
    return {"ok": True, "query": request.url.query}


async def _client(profiling: bool) -> AsyncIterator[httpx.AsyncClient]:
    settings = ServiceSettings(
        service_name="profiled",
        profiling_enabled=profiling,
        otel_exporter_otlp_endpoint=None,
        jwks_url="file:///nonexistent/jwks.json",
    )
    app = create_app(settings, title="t", description="t", routers=[router], migrations=None)
    async with serve(app) as client:
        yield client


@pytest.fixture(scope="module")
async def enabled() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(profiling=True):
        yield client


@pytest.fixture(scope="module")
async def disabled() -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(profiling=False):
        yield client


async def test_profile_param_answers_with_the_html_report(enabled: httpx.AsyncClient) -> None:
    r = await enabled.get("/busy", params={"profile": "1", "x": "y"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.text.lstrip().startswith("<!DOCTYPE html>")
    assert "pyinstrumentHTMLRenderer" in r.text
    assert "busy_handler" in r.text and "spin_a_while" in r.text
    assert r.headers["x-profiled-status"] == "200"
    assert 0.02 < float(r.headers["x-profile-duration"]) < 10
    assert int(r.headers["x-profile-samples"]) > 0
    assert r.headers["x-request-id"]
    assert r.headers["cache-control"] == "no-store"


async def test_header_and_speedscope(enabled: httpx.AsyncClient) -> None:
    r = await enabled.get("/busy", headers={"X-Profile": "1"})
    assert r.headers["content-type"].startswith("text/html") and "busy_handler" in r.text
    r = await enabled.get("/busy?profile=speedscope")
    assert r.headers["content-type"].startswith("application/json")
    report = r.json()
    assert "speedscope" in report["$schema"]
    names = {frame["name"] for frame in report["shared"]["frames"]}
    assert "busy_handler" in names


async def test_the_app_never_sees_the_profile_param(enabled: httpx.AsyncClient) -> None:
    r = await enabled.get("/busy?a=1&profile=0&b=%20two")
    assert r.json() == {"ok": True, "query": "a=1&b=%20two"}
    r = await enabled.get("/busy?a=1")
    assert r.json() == {"ok": True, "query": "a=1"}


async def test_unknown_profile_value_is_a_problem(enabled: httpx.AsyncClient) -> None:
    r = await enabled.get("/busy?profile=flamegraph")
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert "flamegraph" in r.json()["detail"]


async def test_errors_are_profiled_too(enabled: httpx.AsyncClient) -> None:
    r = await enabled.get("/missing?profile=1")
    assert r.status_code == 200 and r.headers["x-profiled-status"] == "404"


async def test_disabled_by_default_and_the_param_is_ignored(
    disabled: httpx.AsyncClient,
) -> None:
    assert ServiceSettings.model_fields["profiling_enabled"].default is False
    for headers in ({}, {"X-Profile": "1"}):
        r = await disabled.get("/busy?profile=1", headers=headers)
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/json"
        assert r.json() == {"ok": True, "query": "profile=1"}
        assert "x-profile-duration" not in r.headers


@pytest.mark.parametrize(
    ("query", "value", "rest"),
    [
        (b"", None, b""),
        (b"a=1&b=2", None, b"a=1&b=2"),
        (b"profile=1", "1", b""),
        (b"profile", "", b""),
        (b"a=%2F&profile=speedscope&b=x+y", "speedscope", b"a=%2F&b=x+y"),
        (b"profiles=3&profile=1", "1", b"profiles=3"),
    ],
)
def test_split_profile_param(query: bytes, value: str | None, rest: bytes) -> None:
    assert split_profile_param(query) == (value, rest)
