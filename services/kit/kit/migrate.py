"""`python -m kit.migrate <service>`: apply one service's pending migrations, then exit.

The chart runs it as a hook Job per service before an upgrade rolls out new code. It is the
same `kit.migrations.migrate` the services run on start (`migrate_on_start`), with the
service's own environment (its prefix and keyspace come from the topology).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from kit.app import connect_with_retry
from kit.cassandra import CassandraDB
from kit.migrations import migrate
from kit.settings import ServiceSettings
from kit.topology import TOPOLOGY

log = logging.getLogger("kit.migrate")


def settings_for(name: str) -> ServiceSettings:
    """The Cassandra settings of a service, read from its environment variables."""
    service = TOPOLOGY.service(name)

    class Settings(ServiceSettings, env_prefix=service.env_prefix):
        service_name: str = service.name
        cassandra_keyspace: str = service.keyspace

    return Settings()


def migrations_of(name: str) -> Path:
    """Every service keeps its .cql files in the `migrations` folder of its package."""
    return Path(str(resources.files(name).joinpath("migrations")))


async def run(name: str) -> list[int]:
    settings = settings_for(name)
    db = CassandraDB(settings)
    await connect_with_retry(db)  # the database may still be starting
    try:
        return await migrate(db, migrations_of(name))
    finally:
        db.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] not in TOPOLOGY.names:
        print(f"usage: python -m kit.migrate {{{','.join(TOPOLOGY.names)}}}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    applied = asyncio.run(run(args[0]))
    print(f"{args[0]}: migrations applied: {applied or 'none pending'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
