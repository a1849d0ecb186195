"""Single-node Apache Cassandra 5.0 for development and tests, run straight from Maven Central jars.

No tarball, no Docker: `fetch` resolves `org.apache.cassandra:cassandra-all` and its runtime
dependencies with Maven into a self-contained cache; `start` renders the config files from
the templates in conf/ and launches `CassandraDaemon` on a pinned JDK 17 (or 11) with the
upstream JVM flags. Stdlib only, so `python3 -m devstack.cassandra` runs before any
virtualenv exists (devstack/README.md has the commands).

    config.py   settings (from the environment) and the config files they render
    jvm.py      the JDK and the java command line
    fetch.py    the jars
    probe.py    a CQL round trip: is a node up?
    node.py     the process: start, stop, status, nodetool
"""

from devstack.cassandra.config import (
    CASSANDRA_VERSION,
    JAMM_VERSION,
    JMX_EXPORTER_VERSION,
    TEMPLATES,
    CassandraError,
    Settings,
    render_configs,
)
from devstack.cassandra.fetch import fetch
from devstack.cassandra.jvm import (
    JVM17_SERVER_OPTIONS,
    JVM_SERVER_OPTIONS,
    find_java,
    java_command,
)
from devstack.cassandra.node import cql_port, nodetool, running_pid, start, status, stop
from devstack.cassandra.probe import cql_options, is_up

__all__ = [
    "CASSANDRA_VERSION",
    "JAMM_VERSION",
    "JMX_EXPORTER_VERSION",
    "JVM17_SERVER_OPTIONS",
    "JVM_SERVER_OPTIONS",
    "TEMPLATES",
    "CassandraError",
    "Settings",
    "cql_options",
    "cql_port",
    "fetch",
    "find_java",
    "is_up",
    "java_command",
    "nodetool",
    "render_configs",
    "running_pid",
    "start",
    "status",
    "stop",
]
