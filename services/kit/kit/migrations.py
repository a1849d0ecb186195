"""Versioned, idempotent CQL migrations: `migrations/NNNN_name.cql` per service.

Applied versions are recorded in `<keyspace>.schema_migrations`. A lease row taken with a
lightweight transaction keeps two replicas from running DDL at the same time, and the
runner waits for schema agreement after every statement.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from cassandra.query import SimpleStatement

from kit.cassandra import CassandraDB

log = logging.getLogger("kit.migrations")
FILENAME = re.compile(r"^(\d{4})_([\w-]+)\.cql$")
LEASE_SECONDS = 60


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: list[str]


def replication_map(spec: str) -> dict[str, str | int]:
    """'SimpleStrategy:1' or 'NetworkTopologyStrategy:dc1=3,dc2=3' into CQL replication."""
    strategy, _, args = spec.partition(":")
    if strategy == "SimpleStrategy":
        return {"class": "SimpleStrategy", "replication_factor": int(args or "1")}
    if strategy == "NetworkTopologyStrategy":
        dcs = dict(pair.split("=", 1) for pair in args.split(",") if pair)
        if not dcs:
            raise ValueError("NetworkTopologyStrategy needs at least one <dc>=<rf>")
        return {"class": "NetworkTopologyStrategy", **{dc: int(rf) for dc, rf in dcs.items()}}
    raise ValueError(f"unknown replication strategy {strategy!r}")


def split_statements(cql: str) -> list[str]:
    """Statements separated by ';' at line ends; '--' comment lines dropped."""
    lines = [line for line in cql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";").strip()]


def load(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.cql")):
        match = FILENAME.match(path.name)
        if not match:
            raise ValueError(f"bad migration file name {path.name} (want NNNN_name.cql)")
        statements = [s.rstrip(";") for s in split_statements(path.read_text())]
        migrations.append(Migration(int(match[1]), match[2], statements))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return migrations


async def migrate(db: CassandraDB, directory: Path) -> list[int]:
    """Create the keyspace and apply every pending migration. Returns versions applied."""
    ks = db.keyspace
    replication = replication_map(db.settings.cassandra_replication)
    await db.execute(cql(f"CREATE KEYSPACE IF NOT EXISTS {ks} WITH replication = {replication!r}"))
    await db.execute(
        cql(
            f"CREATE TABLE IF NOT EXISTS {ks}.schema_migrations "
            "(version int PRIMARY KEY, name text, applied_at timestamp)"
        )
    )
    await db.execute(
        cql(
            f"CREATE TABLE IF NOT EXISTS {ks}.schema_migrations_lease "
            "(id int PRIMARY KEY, owner text)"
        )
    )
    await _agree(db)
    owner = f"{socket.gethostname()}/{uuid.uuid4()}"
    await _take_lease(db, owner)
    applied: list[int] = []
    try:
        done = {
            r["version"] for r in await db.rows(cql(f"SELECT version FROM {ks}.schema_migrations"))
        }
        for migration in load(directory):
            if migration.version in done:
                continue
            log.info("applying %s migration %04d_%s", ks, migration.version, migration.name)
            for statement in migration.statements:
                # Files name their tables bare: each statement carries the keyspace.
                await db.execute(cql(statement, keyspace=ks))
                await _agree(db)
            await db.execute(
                cql(
                    f"INSERT INTO {ks}.schema_migrations (version, name, applied_at) "
                    "VALUES (%s, %s, toTimestamp(now()))"
                ),
                (migration.version, migration.name),
            )
            applied.append(migration.version)
    finally:
        await db.execute(
            cql(f"DELETE FROM {ks}.schema_migrations_lease WHERE id = 0 IF owner = %s"), (owner,)
        )
    return applied


def cql(text: str, keyspace: str | None = None) -> SimpleStatement:
    return SimpleStatement(text, keyspace=keyspace)


async def _agree(db: CassandraDB) -> None:
    if not await asyncio.to_thread(db.cluster.control_connection.wait_for_schema_agreement):
        raise RuntimeError("schema agreement not reached")


async def _take_lease(db: CassandraDB, owner: str) -> None:
    ks = db.keyspace
    for _ in range(LEASE_SECONDS * 2):
        ok, _row = await db.applied(
            cql(
                f"INSERT INTO {ks}.schema_migrations_lease (id, owner) VALUES (0, %s) "
                f"IF NOT EXISTS USING TTL {LEASE_SECONDS}"
            ),
            (owner,),
        )
        if ok:
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"could not take the migration lease of keyspace {ks}")
