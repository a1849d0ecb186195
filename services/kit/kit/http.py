"""Calls between services: timeouts, bounded retries on idempotent calls, a circuit breaker
per upstream (its state exported as a metric), service-identity tokens and request ids.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from circuitbreaker import STATE_CLOSED, STATE_HALF_OPEN, STATE_OPEN, CircuitBreaker
from prometheus_client import Gauge, Histogram
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from kit.context import HEADER as REQUEST_ID_HEADER
from kit.context import request_id
from kit.errors import ServiceUnavailable
from kit.settings import CallerSettings

BREAKER_STATE = Gauge(
    "store_circuit_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 open, 2 half-open",
    ["upstream"],
)
UPSTREAM_SECONDS = Histogram(
    "store_upstream_request_duration_seconds",
    "Latency of calls to other services",
    ["upstream", "method", "outcome"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STATE_VALUE = {STATE_CLOSED: 0, STATE_OPEN: 1, STATE_HALF_OPEN: 2}


class UpstreamError(Exception):
    """The upstream failed (transport error or 5xx): counts against its breaker."""


class ServiceTokens:
    """Client-credentials tokens from the users service, cached until shortly before expiry."""

    def __init__(self, token_url: str, client_id: str, client_secret: str) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def get(self, client: httpx.AsyncClient) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() > self._expires_at - 30:
                response = await client.post(
                    self.token_url,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                    },
                )
                if response.status_code != 200:
                    raise UpstreamError(f"service token refused: {response.status_code}")
                body = response.json()
                self._token = str(body["access_token"])
                self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
            return self._token

    def invalidate(self) -> None:
        self._token = None


class ServiceClient:
    """An httpx client for one upstream service, with its own circuit breaker."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        tokens: ServiceTokens | None = None,
        timeout: float = 3.0,
        retries: int = 2,
        failure_threshold: int = 5,
        recovery_timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.tokens = tokens
        self.retries = retries
        self.breaker = CircuitBreaker(
            failure_threshold=failure_threshold,
            recovery_timeout=recovery_timeout,
            expected_exception=UpstreamError,
            name=name,
        )
        self.http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        BREAKER_STATE.labels(name).set(0)

    async def aclose(self) -> None:
        await self.http.aclose()

    @property
    def state(self) -> str:
        state: str = self.breaker.state
        return state

    async def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send a request; 4xx responses are returned, 5xx and transport errors raise.

        Raises ServiceUnavailable (a 503 for our own caller) when the breaker is open or
        the upstream keeps failing.
        """
        BREAKER_STATE.labels(self.name).set(STATE_VALUE[self.state])
        if self.breaker.opened:
            raise ServiceUnavailable(f"{self.name} is unavailable (circuit open)")
        attempts = 1 + (self.retries if idempotent else 0)
        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception_type(UpstreamError),
                stop=stop_after_attempt(attempts),
                wait=wait_exponential_jitter(multiplier=0.05, max=0.5),
                reraise=True,
            ):
                with attempt:
                    response: httpx.Response = await self.breaker.call_async(
                        self._send, method, path, json, params, headers
                    )
                    return response
        except UpstreamError as exc:
            raise ServiceUnavailable(f"{self.name} is unavailable: {exc}") from exc
        finally:
            BREAKER_STATE.labels(self.name).set(STATE_VALUE[self.state])
        raise AssertionError("unreachable")

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        outgoing = dict(headers or {})
        if rid := request_id.get():
            outgoing.setdefault(REQUEST_ID_HEADER, rid)
        started = time.perf_counter()
        outcome = "error"
        try:
            if self.tokens is not None:
                outgoing["Authorization"] = f"Bearer {await self.tokens.get(self.http)}"
            response = await self.http.request(
                method, path, json=json, params=params, headers=outgoing
            )
            if response.status_code == 401 and self.tokens is not None:
                self.tokens.invalidate()  # a rotated key or expired token: fetch anew once
                outgoing["Authorization"] = f"Bearer {await self.tokens.get(self.http)}"
                response = await self.http.request(
                    method, path, json=json, params=params, headers=outgoing
                )
            outcome = str(response.status_code)
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            UPSTREAM_SECONDS.labels(self.name, method, outcome).observe(
                time.perf_counter() - started
            )
        if response.status_code >= 500:
            raise UpstreamError(f"{method} {path} answered {response.status_code}")
        return response


def upstream_clients(
    settings: CallerSettings,
    urls: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, ServiceClient]:
    """One client per upstream, sharing this service's identity token."""
    if settings.client_secret is None:
        prefix = str(settings.model_config.get("env_prefix", ""))
        raise RuntimeError(f"{prefix}CLIENT_SECRET is required to call {', '.join(urls)}")
    tokens = ServiceTokens(
        settings.token_url, settings.client_id, settings.client_secret.get_secret_value()
    )
    return {
        name: ServiceClient(
            name,
            url,
            tokens=tokens,
            timeout=settings.upstream_timeout,
            retries=settings.upstream_retries,
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_seconds,
            transport=transport,
        )
        for name, url in urls.items()
    }


def breaker_closed(client: ServiceClient) -> Callable[[], Awaitable[bool]]:
    """Readiness of an upstream without calling it: down while its breaker is open."""

    async def check() -> bool:
        return not client.breaker.opened

    return check
