"""Cassandra session handling with an asyncio bridge for cassandra-driver.

The driver runs its own I/O thread; `execute_async` returns a ResponseFuture whose callbacks
fire on that thread. The bridge hands results back to the event loop with
`call_soon_threadsafe`, so handlers await queries without blocking the loop.

The driver resolves its contact points once, when its Cluster is made, and afterwards only
reconnects to the addresses it knows. A Cassandra pod recreated under the same Service name
gets a new address the driver never learns (a single node has no peer to announce it), so
every query fails with NoHostAvailable for good. `Rebuild` decides when that has lasted long
enough, and `CassandraDB` then makes a new Cluster, which resolves the names again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cassandra import ConsistencyLevel
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import (
    EXEC_PROFILE_DEFAULT,
    Cluster,
    ExecutionProfile,
    NoHostAvailable,
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

log = logging.getLogger("kit.cassandra")
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


@dataclass
class Rebuild:
    """When to replace the driver's Cluster: once queries have found no host for `after`
    seconds in a row, and then at most once per `after` seconds while that lasts (each
    attempt resolves the contact points again; while Cassandra is still starting, the name
    may not resolve yet)."""

    after: float
    failing_since: float | None = None
    last_attempt: float | None = None

    def failed(self, now: float) -> bool:
        """A query found no host at `now`; True means: rebuild now."""
        if self.failing_since is None:
            self.failing_since = now
        if now - self.failing_since < self.after:
            return False
        if self.last_attempt is not None and now - self.last_attempt < self.after:
            return False
        self.last_attempt = now
        return True

    def succeeded(self) -> None:
        self.failing_since = None


class CassandraDB:
    """One Cluster/Session per process (replaced when it lost every host for good: see
    `Rebuild`), prepared statements cached by their CQL text."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.keyspace = settings.cassandra_keyspace
        self._cluster: Cluster | None = None
        self._session: Session | None = None
        self._prepared: dict[str, PreparedStatement] = {}
        self._rebuild = Rebuild(settings.cassandra_rebuild_after)
        self._rebuilding: asyncio.Task[bool] | None = None
        self.rebuilds = 0  # Clusters replaced so far (logs, tests)

    def connect(self) -> Session:
        self._cluster, self._session = self._open()
        return self._session

    def _open(self) -> tuple[Cluster, Session]:
        """A new Cluster (resolving the contact points) and its Session."""
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
        cluster = Cluster(
            contact_points=s.cassandra_hosts,
            port=s.cassandra_port,
            execution_profiles={EXEC_PROFILE_DEFAULT: profile},
            auth_provider=auth,
            protocol_version=5,
        )
        try:
            return cluster, cluster.connect()
        except BaseException:
            cluster.shutdown()
            raise

    def replace_cluster(self) -> bool:
        """Open a new Cluster and swap it in; False (the old one kept) if that failed."""
        try:
            cluster, session = self._open()
        except Exception as exc:
            log.warning("rebuilding the Cassandra driver failed, will retry: %r", exc)
            return False
        old = self._cluster
        # Statements prepared on the old Cluster are unknown to the new one.
        self._cluster, self._session, self._prepared = cluster, session, {}
        self.rebuilds += 1
        log.warning("Cassandra driver rebuilt (contact points resolved again)")
        if old is not None:
            old.shutdown()
        return True

    def _no_host(self) -> None:
        if not self._rebuild.failed(time.monotonic()):
            return
        if self._rebuilding is None or self._rebuilding.done():
            log.warning("no Cassandra host for %.0fs: rebuilding the driver", self._rebuild.after)
            self._rebuilding = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self.replace_cluster)
            )

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
        cache = self._prepared  # a rebuild meanwhile replaces it: this entry is then dropped
        statement = cache.get(cql)
        if statement is None:
            statement = await asyncio.to_thread(self.session.prepare, qualify(cql, self.keyspace))
            cache[cql] = statement
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
        started = time.perf_counter()
        try:
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
            if not tracing.enabled() or not tracing.sampled(trace.get_current_span()):
                result = await _bridge(
                    self.session.execute_async(bound, driver_params, paging_state=paging_state)
                )
            else:
                # A span over the whole round trip, the only one per query.
                with _tracer.start_as_current_span(
                    f"cassandra {name}", kind=SpanKind.CLIENT
                ) as span:
                    span.set_attribute("db.system", "cassandra")
                    span.set_attribute("db.name", self.keyspace)
                    result = await _bridge(
                        self.session.execute_async(bound, driver_params, paging_state=paging_state)
                    )
        except NoHostAvailable:
            self._no_host()
            raise
        finally:
            _observe(name, time.perf_counter() - started)
        self._rebuild.succeeded()
        return result

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
