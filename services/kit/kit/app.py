"""The app factory of every service: lifespan, errors, request ids, health, metrics, tracing
(and, opt-in for local work, request profiling)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from kit import health
from kit.auth import JWKSVerifier
from kit.cassandra import CassandraDB
from kit.context import RequestIdMiddleware, configure_logging
from kit.errors import install_error_handlers
from kit.metrics import install_metrics
from kit.migrations import migrate
from kit.profiling import ProfilingMiddleware
from kit.settings import ServiceSettings
from kit.tracing import setup_tracing, shutdown_tracing

log = logging.getLogger("kit.app")
Resources = Callable[[FastAPI], AbstractAsyncContextManager[None]]


@retry(
    retry=retry_if_exception_type(Exception),
    wait=wait_exponential(multiplier=0.5, max=5),
    stop=stop_after_delay(120),
    reraise=True,
)
async def connect_with_retry(db: CassandraDB) -> None:
    """Connect, retrying for up to two minutes (the database may still be starting)."""
    await db.connect_async()


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    migrations: Path | None = None,
    resources: Resources | None = None,
    public_prefix: str = "",
) -> FastAPI:
    """Build a service app.

    `migrations` is the service's folder of `.cql` files (None: the service has no keyspace);
    `resources` opens and closes whatever else the service needs (clients, workers);
    `public_prefix` is where the gateway exposes the service, for OpenAPI's servers list.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level)
        if migrations is not None:
            db = CassandraDB(settings)
            await connect_with_retry(db)
            if settings.migrate_on_start:
                applied = await migrate(db, migrations)
                log.info("migrations applied: %s", applied or "none pending")
            app.state.db = db
            app.state.readiness["cassandra"] = db.ping
        try:
            if resources is None:
                yield
            else:
                async with resources(app):
                    yield
        finally:
            if migrations is not None:
                app.state.db.close()
            shutdown_tracing()

    servers = [{"url": public_prefix}] if public_prefix else None
    app = FastAPI(
        title=title,
        description=description,
        lifespan=lifespan,
        servers=servers,
        # The kit traces (kit.tracing) and meters (kit.metrics) requests itself; FastAPI's
        # native OpenTelemetry layer would only look the global providers up again on every
        # request (2-3 % of a cached listing's CPU in py-spy) to find it has nothing to do.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.readiness = {}
    app.state.verifier = JWKSVerifier(
        settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)
    if settings.metrics_enabled:
        install_metrics(app)
    setup_tracing(app, settings.service_name, settings.otel_exporter_otlp_endpoint)
    if settings.profiling_enabled:  # opt-in, never in production: see kit/profiling.py
        # Added last, so outermost of the app's middleware: the profile covers them too.
        app.add_middleware(ProfilingMiddleware)
    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    return app
