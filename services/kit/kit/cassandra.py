"""Cassandra session handling with an asyncio bridge for cassandra-driver.

The driver runs its own I/O thread; `execute_async` returns a ResponseFuture whose callbacks
fire on that thread. The bridge hands results back to the event loop with
`call_soon_threadsafe`, so handlers await queries without blocking the loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    ResponseFuture,
    ResultSet,
    Session,
)
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import PreparedStatement, SimpleStatement, Statement, dict_factory
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import Histogram

from kit import tracing
from kit.settings import ServiceSettings

QUERY_SECONDS = Histogram(
    "store_cassandra_query_duration_seconds",
    "Cassandra query latency seen by the service",
    ["query"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

Row = dict[str, Any]
_query_seconds: dict[str, Any] = {}  # the histogram's child per query name, looked up once


def _observe(name: str, seconds: float) -> None:
    child = _query_seconds.get(name)
    if child is None:
        child = _query_seconds[name] = QUERY_SECONDS.labels(name)
    child.observe(seconds)


_tracer = trace.get_tracer("kit.cassandra")


def _bridge(response: ResponseFuture) -> asyncio.Future[ResultSet]:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[ResultSet] = loop.create_future()

    def set_result(result: ResultSet) -> None:
        if not future.done():
            future.set_result(result)

    def set_exception(exc: BaseException) -> None:
        if not future.done():
            future.set_exception(exc)

    def resolve(rows: Any) -> None:
        loop.call_soon_threadsafe(set_result, ResultSet(response, rows))

    def reject(exc: BaseException) -> None:
        loop.call_soon_threadsafe(set_exception, exc)

    response.add_callbacks(resolve, reject)
    return future


# Statements name their tables bare and the kit qualifies them with the service's keyspace:
# sessions never `USE` a keyspace (Cassandra warns about USE with prepared statements), and a
# test can run a service in a keyspace of its own.
_BARE_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+(?![\w\"]+\.)(?=[A-Za-z_\"])", re.IGNORECASE)


def qualify(cql: str, keyspace: str) -> str:
    """`cql` with every unqualified table after FROM, INTO or UPDATE put in `keyspace`."""
    return _BARE_TABLE.sub(lambda match: f"{match.group(0)}{keyspace}.", cql)


class CassandraDB:
    """One Cluster/Session per process, prepared statements cached by their CQL text."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.keyspace = settings.cassandra_keyspace
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}

    def connect(self) -> Session:
        s = self.settings
        profile = ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(
                DCAwareRoundRobinPolicy(local_dc=s.cassandra_local_dc)
            ),
            consistency_level=ConsistencyLevel.LOCAL_QUORUM,
            serial_consistency_level=ConsistencyLevel.LOCAL_SERIAL,
            request_timeout=s.cassandra_request_timeout,
            row_factory=dict_factory,
        )
        auth = (
            PlainTextAuthProvider(s.cassandra_username, s.cassandra_password)
            if s.cassandra_username
            else None
        )
        self._cluster = Cluster(
            contact_points=s.cassandra_hosts,
            port=s.cassandra_port,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            auth_provider=auth,
            protocol_version=5,
        )
        self._session = self._cluster.connect()
        return self._session

    async def connect_async(self) -> Session:
        return await asyncio.to_thread(self.connect)

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("Cassandra session is not connected")
        return self._session

    @property
    def cluster(self) -> Cluster:
        if self._cluster is None:
            raise RuntimeError("Cassandra cluster is not connected")
        return self._cluster

    def close(self) -> None:
        if self._cluster is not None:
            self._cluster.shutdown()
        self._cluster = self._session = None
        self._prepared.clear()

    async def prepare(self, cql: str) -> PreparedStatement:
        statement = self._prepared.get(cql)
        if statement is None:
            statement = await asyncio.to_thread(self.session.prepare, qualify(cql, self.keyspace))
            self._prepared[cql] = statement
        return statement

    async def execute(
        self,
        cql: str | Statement,
        params: Sequence[Any] | dict[str, Any] | None = None,
        *,
        name: str = "query",
        fetch_size: int | None = None,
        paging_state: bytes | None = None,
        serial: bool = False,
    ) -> ResultSet:
        """Run one statement on the event loop.

        Text is prepared once and cached (`?` markers); a Statement object runs as given
        (`%s` markers), which suits DDL and one-off statements.
        """
        driver_params: Sequence[Any] | dict[str, Any] | None = None
        if isinstance(cql, str):
            prepared = self._prepared.get(cql) or await self.prepare(cql)
            bound: Statement = prepared.bind(params or ())
        else:
            bound, driver_params = cql, params
        if fetch_size is not None:
            bound.fetch_size = fetch_size
        if serial:
            # Read the latest Paxos-committed value before a compare-and-set.
            bound.consistency_level = ConsistencyLevel.LOCAL_SERIAL
        started = time.perf_counter()
        try:
            if not tracing.enabled():
                return await _bridge(
                    self.session.execute_async(bound, driver_params, paging_state=paging_state)
                )
            # A span over the whole round trip, the only one per query.
            with _tracer.start_as_current_span(f"cassandra {name}", kind=SpanKind.CLIENT) as span:
                span.set_attribute("db.system", "cassandra")
                span.set_attribute("db.name", self.keyspace)
                return await _bridge(
                    self.session.execute_async(bound, driver_params, paging_state=paging_state)
                )
        finally:
            _observe(name, time.perf_counter() - started)

    async def rows(
        self, cql: str | Statement, params: Sequence[Any] | None = None, **kw: Any
    ) -> list[Row]:
        """All rows of the first page (callers bound their queries with LIMIT)."""
        return list((await self.execute(cql, params, **kw)).current_rows)

    async def one(
        self, cql: str | Statement, params: Sequence[Any] | None = None, **kw: Any
    ) -> Row | None:
        rows = await self.rows(cql, params, **kw)
        return rows[0] if rows else None

    async def applied(
        self, cql: str | Statement, params: Sequence[Any] | None = None, **kw: Any
    ) -> tuple[bool, Row]:
        """Run a lightweight transaction; returns (applied, the row Cassandra sent back)."""
        rows = await self.rows(cql, params, **kw)
        row = rows[0] if rows else {"[applied]": False}
        return bool(row.get("[applied]")), row

    async def ping(self) -> bool:
        await self.execute(SimpleStatement("SELECT release_version FROM system.local"), name="ping")
        return True
