"""The kit's Cassandra layer on the real node: migrations and keyspace-qualified statements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cassandra.cluster import NoHostAvailable
from cassandra.policies import ConstantReconnectionPolicy
from cassandra.query import SimpleStatement
from kit.cassandra import CassandraDB, Rebuild, qualify
from kit.migrations import migrate
from kit.settings import ServiceSettings

from tests.support.apps import unique_keyspace


@pytest.mark.parametrize(
    ("cql", "qualified"),
    [
        ("SELECT a FROM t WHERE k = ?", "SELECT a FROM ks.t WHERE k = ?"),
        ("SELECT COUNT(*) AS n FROM t", "SELECT COUNT(*) AS n FROM ks.t"),
        (
            "INSERT INTO t (k) VALUES (?) IF NOT EXISTS",
            "INSERT INTO ks.t (k) VALUES (?) IF NOT EXISTS",
        ),
        (
            "UPDATE t USING TTL ? SET v = 'x' WHERE k = ?",
            "UPDATE ks.t USING TTL ? SET v = 'x' WHERE k = ?",
        ),
        ("DELETE v FROM t WHERE k = ? IF v = ?", "DELETE v FROM ks.t WHERE k = ? IF v = ?"),
        ("select a\nfrom t", "select a\nfrom ks.t"),
        # Already qualified, and words that only contain a keyword, stay as they are.
        ("SELECT release_version FROM system.local", "SELECT release_version FROM system.local"),
        ("SELECT valid_from, updated FROM t", "SELECT valid_from, updated FROM ks.t"),
    ],
)
def test_qualify_puts_bare_tables_in_the_keyspace(cql: str, qualified: str) -> None:
    assert qualify(cql, "ks") == qualified


def test_rebuild_waits_for_a_sustained_outage_then_paces_its_attempts() -> None:
    rebuild = Rebuild(after=10)
    assert not rebuild.failed(100)  # the first failure starts the clock
    assert not rebuild.failed(109.9)
    assert rebuild.failed(110)  # ten seconds without a host: rebuild
    assert not rebuild.failed(115)  # the attempt may still be under way or have failed
    assert rebuild.failed(120.5)  # still no host: try again
    rebuild.succeeded()
    assert not rebuild.failed(200)  # a new outage starts a new clock
    assert rebuild.failed(210)


def test_a_success_between_failures_resets_the_clock() -> None:
    rebuild = Rebuild(after=10)
    assert not rebuild.failed(0)
    rebuild.succeeded()
    assert not rebuild.failed(9)
    assert not rebuild.failed(18)
    assert rebuild.failed(19)


@pytest.fixture
async def db(cassandra_node: None) -> AsyncIterator[CassandraDB]:
    database = CassandraDB(ServiceSettings(cassandra_keyspace=unique_keyspace("kit")))
    await database.connect_async()
    try:
        yield database
    finally:
        await database.execute(SimpleStatement(f"DROP KEYSPACE IF EXISTS {database.keyspace}"))
        database.close()


def write_migrations(directory: Path) -> Path:
    directory.mkdir()
    (directory / "0001_things.cql").write_text(
        "-- bare table names: the runner gives each statement the keyspace\n"
        "CREATE TABLE IF NOT EXISTS things (id int PRIMARY KEY, name text);\n"
        "CREATE INDEX IF NOT EXISTS things_by_name ON things (name) USING 'sai';\n"
    )
    (directory / "0002_colour.cql").write_text("ALTER TABLE things ADD colour text;\n")
    return directory


async def test_migrations_apply_once_even_with_concurrent_runners(
    db: CassandraDB, tmp_path: Path
) -> None:
    migrations = write_migrations(tmp_path / "migrations")
    others = [CassandraDB(db.settings) for _ in range(2)]
    for other in others:
        await other.connect_async()
    try:
        applied = await asyncio.gather(
            migrate(db, migrations), *(migrate(o, migrations) for o in others)
        )
    finally:
        for other in others:
            other.close()
    # The lease serialises the runners: each version is applied by exactly one of them.
    assert sorted(v for run in applied for v in run) == [1, 2]
    assert await migrate(db, migrations) == []
    recorded = await db.rows(
        SimpleStatement(f"SELECT version FROM {db.keyspace}.schema_migrations")
    )
    assert sorted(r["version"] for r in recorded) == [1, 2]


async def test_statements_run_in_the_keyspace_without_use_or_server_warnings(
    db: CassandraDB, tmp_path: Path
) -> None:
    await migrate(db, write_migrations(tmp_path / "migrations"))
    assert (
        db.session.keyspace is None
    )  # no `USE`: Cassandra warns about it with prepared statements
    await db.execute("INSERT INTO things (id, name, colour) VALUES (?, ?, ?)", (1, "kettle", "red"))
    result = await db.execute("SELECT name, colour FROM things WHERE name = ?", ("kettle",))
    assert list(result.current_rows) == [{"name": "kettle", "colour": "red"}]
    assert result.response_future.warnings is None


async def test_a_driver_that_lost_every_host_is_rebuilt(cassandra_node: None) -> None:
    """Every host marked down (what a recreated Cassandra pod leaves behind: its old
    address): after `cassandra_rebuild_after` seconds of NoHostAvailable the database opens a
    new Cluster, and queries work again with no restart."""
    database = CassandraDB(ServiceSettings(cassandra_rebuild_after=0.2))
    await database.connect_async()
    try:
        await database.ping()
        old = database.cluster
        # The old Cluster never finds its host again, as with an address that is gone.
        old.reconnection_policy = ConstantReconnectionPolicy(delay=3600)
        old._discount_down_events = False  # mark it down although its pool is still open
        for host in old.metadata.all_hosts():
            old.on_down(host, is_host_addition=False)
        # on_down finishes on the driver's own threads: start once every host is down.
        for _ in range(200):
            if not any(host.is_up for host in old.metadata.all_hosts()):
                break
            await asyncio.sleep(0.05)
        failures = 0
        for _ in range(200):
            try:
                await database.ping()
                break
            except NoHostAvailable:
                failures += 1
                await asyncio.sleep(0.05)
        assert failures > 0
        assert database.rebuilds == 1
        assert database.cluster is not old
        assert old.is_shutdown
        # Prepared statements are prepared again on the new Cluster.
        rows = await database.rows("SELECT release_version FROM system.local")
        assert rows and rows[0]["release_version"]
    finally:
        database.close()
