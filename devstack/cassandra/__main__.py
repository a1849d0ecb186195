"""python3 -m devstack.cassandra fetch|start|stop|status|cqlsh-check|nodetool (README)."""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Sequence

from devstack.cassandra import (
    CassandraError,
    Settings,
    cql_options,
    fetch,
    nodetool,
    start,
    status,
    stop,
)
from devstack.cassandra.config import log


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python3 -m devstack.cassandra",
        description="The local single-node Cassandra, from Maven Central jars.",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("fetch", help="resolve the jars from Maven Central into the cache")
    sp = sub.add_parser("start", help="start the node and wait for CQL")
    sp.add_argument("--fresh", action="store_true", help="wipe the data dir first")
    sp.add_argument("--no-wait", action="store_true", help="return right after launching")
    sub.add_parser("stop", help="stop the node")
    sub.add_parser("status", help="print up/down (exit 0 if up)")
    sub.add_parser("cqlsh-check", help="CQL OPTIONS round trip; print what the node supports")
    nt = sub.add_parser("nodetool", help="run nodetool against the node")
    nt.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    settings = Settings.from_env()
    try:
        if a.cmd == "fetch":
            fetch(settings)
        elif a.cmd == "start":
            start(wait=not a.no_wait, fresh=a.fresh, settings=settings)
        elif a.cmd == "stop":
            stop(settings=settings)
        elif a.cmd == "status":
            return 0 if status(settings) else 1
        elif a.cmd == "cqlsh-check":
            where = f"{settings.host}:{settings.cql_port}"
            try:
                opts = cql_options(settings.host, settings.cql_port)
            except (OSError, ConnectionError, struct.error) as e:
                log(f"CQL check failed on {where}: {e}")
                return 1
            log(f"CQL OK on {where}: " + ", ".join(
                f"{k}={'/'.join(v)}" for k, v in sorted(opts.items())))  # fmt: skip
        elif a.cmd == "nodetool":
            return nodetool(a.args, settings)
    except CassandraError as e:
        log(f"ERROR: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
