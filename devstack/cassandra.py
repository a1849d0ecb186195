#!/usr/bin/env python3
"""Single-node Apache Cassandra 5.0 for development and tests, run straight from Maven Central jars.

No tarball, no Docker: ``fetch`` resolves ``org.apache.cassandra:cassandra-all`` and its runtime
dependencies with Maven into a self-contained cache, ``start`` launches ``CassandraDaemon`` on a
pinned JDK 17 (or 11) with the upstream JVM flags and a generated dev-speed ``cassandra.yaml``.

CLI::

    python3 devstack/cassandra.py fetch
    python3 devstack/cassandra.py start [--fresh] [--no-wait]
    python3 devstack/cassandra.py stop
    python3 devstack/cassandra.py status
    python3 devstack/cassandra.py cqlsh-check
    python3 devstack/cassandra.py nodetool status

Stdlib only, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

CASSANDRA_VERSION = "5.0.9"
JAMM_VERSION = "0.4.0"  # what cassandra-parent 5.0.9 pins (jamm.version); loaded as -javaagent
JMX_EXPORTER_VERSION = "1.0.1"
SUPPORTED_JAVA = (17, 11)  # Cassandra 5.0 runs on 11 and 17 only; never 21/25
DEFAULT_JDK = Path("/usr/lib/jvm/java-17-openjdk-amd64")

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

# --- JVM flags ------------------------------------------------------------------------------
# Verbatim (active lines only) from apache/cassandra conf/jvm-server.options, 5.0 line.
JVM_SERVER_OPTIONS: tuple[str, ...] = (
    "-ea",
    "-da:net.openhft...",
    "-XX:+UseThreadPriorities",
    "-XX:+HeapDumpOnOutOfMemoryError",
    "-Xss256k",
    "-XX:+AlwaysPreTouch",
    "-XX:+UseTLAB",
    "-XX:+ResizeTLAB",
    "-XX:+UseNUMA",
    "-XX:+PerfDisableSharedMem",
    "-Djava.net.preferIPv4Stack=true",
)

# Verbatim (active lines only) from apache/cassandra conf/jvm17-server.options, 5.0 line.
JVM17_SERVER_OPTIONS: tuple[str, ...] = (
    # G1
    "-XX:+UseG1GC",
    "-XX:+ParallelRefProcEnabled",
    "-XX:MaxTenuringThreshold=1",
    "-XX:G1HeapRegionSize=16m",
    "-XX:G1RSetUpdatingPauseTimePercent=5",
    "-XX:MaxGCPauseMillis=300",
    "-XX:InitiatingHeapOccupancyPercent=70",
    # JPMS
    "-Djdk.attach.allowAttachSelf=true",
    "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
    "--add-exports", "java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED",
    "--add-exports", "java.rmi/sun.rmi.registry=ALL-UNNAMED",
    "--add-exports", "java.rmi/sun.rmi.server=ALL-UNNAMED",
    "--add-exports", "java.sql/java.sql=ALL-UNNAMED",
    "--add-exports", "java.base/java.lang.ref=ALL-UNNAMED",
    "--add-exports", "jdk.unsupported/sun.misc=ALL-UNNAMED",
    "--add-exports", "jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
    "--add-exports", "jdk.attach/sun.tools.attach=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang.module=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.loader=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.reflect=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.math=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.module=ALL-UNNAMED",
    "--add-opens", "java.base/jdk.internal.util.jar=ALL-UNNAMED",
    "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
    "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens", "java.base/java.io=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens", "jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
    "--add-opens", "java.base/java.lang=ALL-UNNAMED",
    "--add-opens", "java.base/java.util=ALL-UNNAMED",
    "--add-opens", "java.base/java.nio=ALL-UNNAMED",
    # Netty
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true",
    "-Dio.netty.allocator.maxOrder=11",
)  # fmt: skip

# Upstream flags we deliberately drop for dev: pre-faulting the whole heap (plus Cassandra's
# mlockall as root) costs ~4 s per start on a 1 GiB heap here and pins RAM a dev box may not use.
DEV_DROPPED_FLAGS = frozenset({"-XX:+AlwaysPreTouch"})

# Dev-only system properties: a lone seed node has nobody to wait for, so skip the waits that
# exist for multi-node rings; unsafesystem skips fsync of system-table flushes (ccm/dtest trick).
DEV_SPEED_PROPERTIES: tuple[str, ...] = (
    "-Dcassandra.skip_wait_for_gossip_to_settle=0",
    "-Dcassandra.ring_delay_ms=100",  # default 30 s; a fresh node sleeps it once to pick tokens
    "-Dcassandra.shutdown_announce_in_ms=0",  # default 2 s sleep on stop telling peers (none)
    "-Dcassandra.unsafesystem=true",
    "-Dcassandra.superuser_setup_delay_ms=0",
)


def _log(msg: str) -> None:
    print(f"[cassandra] {msg}", flush=True)


class CassandraError(RuntimeError):
    pass


# --- settings (read from the environment on every call so tests can override) ---------------
def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def cache_dir() -> Path:
    base = os.environ.get("PRODUCT_STORE_CACHE") or str(Path.home() / ".cache" / "product-store")
    return Path(base) / "cassandra"


def lib_dir() -> Path:
    return cache_dir() / f"lib-{CASSANDRA_VERSION}"


def data_dir() -> Path:
    return Path(os.environ.get("CASSANDRA_DATA_DIR") or REPO_ROOT / "var" / "cassandra").resolve()


def cql_port() -> int:
    return _env_int("CASSANDRA_CQL_PORT", 9042)


def storage_port() -> int:
    return _env_int("CASSANDRA_STORAGE_PORT", 7000)


def jmx_port() -> int:
    return _env_int("CASSANDRA_JMX_PORT", 7199)


def metrics_port() -> int:
    return _env_int("CASSANDRA_METRICS_PORT", 7070)


def heap() -> str:
    return os.environ.get("CASSANDRA_HEAP", "1G")


def start_timeout() -> float:
    return float(os.environ.get("CASSANDRA_START_TIMEOUT", "180"))


def _pid_file() -> Path:
    return data_dir() / "cassandra.pid"


def _conf_dir() -> Path:
    return data_dir() / "conf"


def _logs_dir() -> Path:
    return data_dir() / "logs"


# --- fetch -----------------------------------------------------------------------------------
_POM = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by devstack/cassandra.py: only used to resolve the runtime classpath. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>product-store.devstack</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>{CASSANDRA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>io.prometheus.jmx</groupId>
      <artifactId>jmx_prometheus_javaagent</artifactId>
      <version>{JMX_EXPORTER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
"""

_REQUIRED_JARS = (
    f"cassandra-all-{CASSANDRA_VERSION}.jar",
    f"jamm-{JAMM_VERSION}.jar",
    f"jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar",
)


def _lib_complete(lib: Path) -> bool:
    return (lib / ".complete").is_file() and all((lib / j).is_file() for j in _REQUIRED_JARS)


def fetch(quiet: bool = False) -> Path:
    """Resolve cassandra-all + runtime deps + the JMX exporter agent into the cache (idempotent)."""
    lib = lib_dir()
    if _lib_complete(lib):
        if not quiet:
            _log(f"jars already cached in {lib}")
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise CassandraError("`mvn` not found on PATH; install Maven (apt-get install maven)")
    build = cache_dir() / f"build-{CASSANDRA_VERSION}"
    build.mkdir(parents=True, exist_ok=True)
    (build / "pom.xml").write_text(_POM)
    staging = cache_dir() / f".lib-{CASSANDRA_VERSION}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    _log(
        f"resolving cassandra-all {CASSANDRA_VERSION} + jmx_prometheus_javaagent "
        f"{JMX_EXPORTER_VERSION} from Maven Central (first run downloads ~100 MB) ..."
    )
    t0 = time.monotonic()
    cmd = [
        mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(build / "pom.xml"),
        f"-Dmaven.repo.local={cache_dir() / 'm2'}",
        "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
        f"-DoutputDirectory={staging}",
        # runtime scope: skips the parent's `provided` build-only deps (antlr tool, byteman, ...)
        "-DincludeScope=runtime",
    ]  # fmt: skip
    env = dict(os.environ)
    if (jh := _pick_java_home(quiet=True)) is not None:
        env["JAVA_HOME"] = str(jh)  # Maven itself must not run on an odd JDK either
    # -q output is only errors (plus stray ANSI resets), so show it only when Maven fails
    proc = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        raise CassandraError(f"maven dependency resolution failed (exit {proc.returncode})")
    missing = [j for j in _REQUIRED_JARS if not (staging / j).is_file()]
    if missing:
        raise CassandraError(f"resolved classpath lacks {missing}")
    (staging / ".complete").write_text(f"cassandra-all {CASSANDRA_VERSION}\n")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)  # atomic publish: a half-finished fetch never looks complete
    n = len(list(lib.glob("*.jar")))
    _log(f"fetched {n} jars into {lib} in {time.monotonic() - t0:.1f}s")
    return lib


# --- JDK pinning -----------------------------------------------------------------------------
def _java_major(java_home: Path) -> int | None:
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if m is None:
        return None
    major = int(m.group(1))
    return int(m.group(2) or 0) if major == 1 else major


def _pick_java_home(quiet: bool = False) -> Path | None:
    env_home = os.environ.get("JAVA_HOME")
    if env_home:
        v = _java_major(Path(env_home))
        if v in SUPPORTED_JAVA:
            return Path(env_home)
        if not quiet:
            _log(f"ignoring JAVA_HOME={env_home} (java {v}); Cassandra 5.0 needs 17 or 11")
    if _java_major(DEFAULT_JDK) == 17:
        return DEFAULT_JDK
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        for cand in sorted(jvm_root.iterdir()):
            if "17" in cand.name and _java_major(cand) == 17:
                return cand
    return None


def find_java() -> Path:
    """Path of a JDK 17 (or 11) `java`; raise rather than start Cassandra on anything else."""
    home = _pick_java_home()
    if home is None:
        raise CassandraError(
            "no JDK 17 found (checked $JAVA_HOME, /usr/lib/jvm); Cassandra 5.0 refuses other "
            "versions. Install one: apt-get install openjdk-17-jdk-headless"
        )
    return home / "bin" / "java"


# --- generated config files ------------------------------------------------------------------
def _cassandra_yaml(d: Path) -> str:
    # Only keys valid for 5.0 (an unknown key makes Cassandra refuse to start).
    return f"""\
# Generated by devstack/cassandra.py on every start; edits are overwritten.
cluster_name: "product-store"
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
# One node, fresh cluster: nothing to stream, nothing to stay compatible with.
auto_bootstrap: false
storage_compatibility_mode: NONE

seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{HOST}:{storage_port()}"
listen_address: {HOST}
rpc_address: {HOST}
storage_port: {storage_port()}
start_native_transport: true
native_transport_port: {cql_port()}
endpoint_snitch: SimpleSnitch

authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
network_authorizer: AllowAllNetworkAuthorizer

data_file_directories:
  - {d / "data"}
commitlog_directory: {d / "commitlog"}
saved_caches_directory: {d / "saved_caches"}
hints_directory: {d / "hints"}
cdc_raw_directory: {d / "cdc_raw"}

commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 32MiB
disk_failure_policy: stop
commit_failure_policy: stop
disk_optimization_strategy: ssd

# Single node: there is never anybody to hint for.
hinted_handoff_enabled: false
# Tests drop/truncate tables a lot; snapshots would only eat disk and time.
auto_snapshot: false
snapshot_before_compaction: false
incremental_backups: false
cdc_enabled: false

# Features: LWT/Paxos is on by default; SAI is the default index for CREATE INDEX.
default_secondary_index: sai
default_secondary_index_enabled: true
sasi_indexes_enabled: false
materialized_views_enabled: false
user_defined_functions_enabled: false
"""


def _logback_xml(logs: Path) -> str:
    return f"""\
<!-- Generated by devstack/cassandra.py: INFO to logs/system.log, WARN+ to the console. -->
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.rolling.RollingFileAppender">
    <file>{logs / "system.log"}</file>
    <rollingPolicy class="ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy">
      <fileNamePattern>{logs / "system.log.%d{yyyy-MM-dd}.%i.zip"}</fileNamePattern>
      <maxFileSize>50MB</maxFileSize>
      <maxHistory>3</maxHistory>
      <totalSizeCap>200MB</totalSizeCap>
    </rollingPolicy>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %logger{{0}} - %msg%n</pattern></encoder>
  </appender>
  <appender name="ASYNC" class="ch.qos.logback.classic.AsyncAppender">
    <queueSize>1024</queueSize>
    <discardingThreshold>0</discardingThreshold>
    <appender-ref ref="FILE"/>
  </appender>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter"><level>WARN</level></filter>
    <encoder><pattern>%-5level [%thread] %date{{ISO8601}} %logger{{0}} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="ASYNC"/>
    <appender-ref ref="STDOUT"/>
  </root>
</configuration>
"""


# Prometheus JMX exporter: only a hand-picked set of MBeans is queried (includeObjectNames), so a
# scrape stays small and fast; system keyspaces' table metrics are excluded. Cassandra's timers
# report microseconds; `Count` of a latency timer is the request count.
_TABLE_METRICS = (
    "ReadLatency", "WriteLatency", "RangeLatency", "CoordinatorReadLatency",
    "CoordinatorWriteLatency", "CoordinatorScanLatency", "CasPrepareLatency",
    "CasProposeLatency", "CasCommitLatency", "LiveDiskSpaceUsed", "TotalDiskSpaceUsed",
    "LiveSSTableCount", "PendingCompactions", "EstimatedPartitionCount",
    "TombstoneScannedHistogram",
)  # fmt: skip
_CLIENT_REQUEST_SCOPES = ("Read", "Write", "RangeSlice", "CASRead", "CASWrite")


def _jmx_exporter_yaml() -> str:
    m = "org.apache.cassandra.metrics"
    include = [f"{m}:type=ClientRequest,scope={s},*" for s in _CLIENT_REQUEST_SCOPES]
    include += [f"{m}:type=Table,name={n},*" for n in _TABLE_METRICS]
    include += [
        f"{m}:type=Keyspace,name=ReadLatency,*",
        f"{m}:type=Keyspace,name=WriteLatency,*",
        f"{m}:type=Storage,*",
        f"{m}:type=Compaction,name=PendingTasks",
        f"{m}:type=Compaction,name=CompletedTasks",
        f"{m}:type=Client,name=connectedNativeClients",
        f"{m}:type=CQL,*",
    ]
    exclude = [f"{m}:type=Table,keyspace=system*,*", f"{m}:type=Keyspace,keyspace=system*,*"]
    lines = ["# Generated by devstack/cassandra.py", "lowercaseOutputName: true",
             "lowercaseOutputLabelNames: true", "includeObjectNames:"]  # fmt: skip
    lines += [f'  - "{o}"' for o in include]
    lines.append("excludeObjectNames:")
    lines += [f'  - "{o}"' for o in exclude]
    q = "(50|75|95|99)thPercentile"
    lines.append(f"""\
rules:
  # per table: cassandra_table_<metric>{{keyspace,table}}
  - pattern: '{m}<type=Table, keyspace=([^,]+), scope=([^,]+), name=(\\w+)><>Count'
    name: cassandra_table_$3_count
    type: GAUGE
    labels: {{keyspace: "$1", table: "$2"}}
  - pattern: '{m}<type=Table, keyspace=([^,]+), scope=([^,]+), name=(\\w+)><>{q}'
    name: cassandra_table_$3
    type: GAUGE
    labels: {{keyspace: "$1", table: "$2", quantile: "0.$4"}}
  - pattern: '{m}<type=Table, keyspace=([^,]+), scope=([^,]+), name=(\\w+)><>Value'
    name: cassandra_table_$3
    type: GAUGE
    labels: {{keyspace: "$1", table: "$2"}}
  # per keyspace
  - pattern: '{m}<type=Keyspace, keyspace=([^,]+), name=(\\w+)><>Count'
    name: cassandra_keyspace_$2_count
    type: GAUGE
    labels: {{keyspace: "$1"}}
  - pattern: '{m}<type=Keyspace, keyspace=([^,]+), name=(\\w+)><>{q}'
    name: cassandra_keyspace_$2
    type: GAUGE
    labels: {{keyspace: "$1", quantile: "0.$3"}}
  # coordinator-level requests: cassandra_clientrequest_<metric>{{operation}}
  - pattern: '{m}<type=ClientRequest, scope=([^,]+), name=(\\w+)><>Count'
    name: cassandra_clientrequest_$2_count
    type: GAUGE
    labels: {{operation: "$1"}}
  - pattern: '{m}<type=ClientRequest, scope=([^,]+), name=(\\w+)><>{q}'
    name: cassandra_clientrequest_$2
    type: GAUGE
    labels: {{operation: "$1", quantile: "0.$3"}}
  - pattern: '{m}<type=ClientRequest, scope=([^,]+), name=(\\w+)><>Value'
    name: cassandra_clientrequest_$2
    type: GAUGE
    labels: {{operation: "$1"}}
  # node-wide aggregate over all tables; own prefix so it does not clash with the labelled family
  - pattern: '{m}<type=Table, name=(\\w+)><>Count'
    name: cassandra_alltables_$1_count
    type: GAUGE
  - pattern: '{m}<type=Table, name=(\\w+)><>Value'
    name: cassandra_alltables_$1
    type: GAUGE
  # node-wide gauges/counters (Storage, Compaction, Client, CQL)
  - pattern: '{m}<type=(\\w+), name=(\\w+)><>(Value|Count)'
    name: cassandra_$1_$2
    type: GAUGE
""")
    return "\n".join(lines)


def _write_configs(d: Path) -> None:
    for sub in ("conf", "conf/triggers", "logs", "data", "commitlog", "saved_caches", "hints",
                "cdc_raw"):  # fmt: skip
        (d / sub).mkdir(parents=True, exist_ok=True)
    conf = d / "conf"
    (conf / "cassandra.yaml").write_text(_cassandra_yaml(d))
    (conf / "logback.xml").write_text(_logback_xml(d / "logs"))
    (conf / "jmx-exporter.yaml").write_text(_jmx_exporter_yaml())


def java_command(java: Path, lib: Path) -> list[str]:
    d = data_dir()
    conf, logs = d / "conf", d / "logs"
    return [
        str(java),
        *(f for f in JVM_SERVER_OPTIONS if f not in DEV_DROPPED_FLAGS),
        *JVM17_SERVER_OPTIONS,
        f"-Xms{heap()}",
        f"-Xmx{heap()}",
        # what bin/cassandra + cassandra-env.sh would add
        f"-javaagent:{lib / f'jamm-{JAMM_VERSION}.jar'}",
        "-XX:+CrashOnOutOfMemoryError",
        f"-XX:HeapDumpPath={logs}",
        f"-XX:ErrorFile={logs / 'hs_err_%p.log'}",
        f"-Dcassandra.jmx.local.port={jmx_port()}",
        "-Dcassandra-foreground=yes",
        f"-Dcassandra.config=file://{conf / 'cassandra.yaml'}",
        f"-Dcassandra.storagedir={d}",
        f"-Dcassandra.logdir={logs}",
        f"-Dcassandra.triggers_dir={conf / 'triggers'}",
        f"-Dlogback.configurationFile={conf / 'logback.xml'}",
        "-Djava.net.preferIPv4Stack=true",
        *DEV_SPEED_PROPERTIES,
        # Prometheus metrics at http://127.0.0.1:<metrics>/metrics (in-process, no JMX remoting)
        f"-javaagent:{lib / f'jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar'}"
        f"={HOST}:{metrics_port()}:{conf / 'jmx-exporter.yaml'}",
        "-cp",
        f"{lib}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]


# --- CQL probe -------------------------------------------------------------------------------
_OPCODE_OPTIONS, _OPCODE_SUPPORTED = 0x05, 0x06


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed mid-frame")
        buf += chunk
    return buf


def cql_options(
    host: str = HOST, port: int | None = None, timeout: float = 2.0
) -> dict[str, list[str]]:
    """Send a native-protocol v4 OPTIONS frame and return the SUPPORTED multimap.

    This is a real CQL round trip (the node's native transport answers it), not just a TCP
    connect, so a port that is bound but not serving CQL does not count as up.
    """
    port = cql_port() if port is None else port
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        # header: version=4 (request), flags=0, stream=1, opcode=OPTIONS, body length=0
        s.sendall(struct.pack(">BBhBi", 0x04, 0, 1, _OPCODE_OPTIONS, 0))
        version, _flags, _stream, opcode, length = struct.unpack(">BBhBi", _recv_exact(s, 9))
        body = _recv_exact(s, length)
    if version & 0x80 == 0 or opcode != _OPCODE_SUPPORTED:
        raise ConnectionError(f"unexpected CQL reply version=0x{version:02x} opcode=0x{opcode:02x}")
    # body: [string multimap] = [short n] n * ([string key] [string list])
    pos = 0

    def short() -> int:
        nonlocal pos
        (v,) = struct.unpack_from(">H", body, pos)
        pos += 2
        return int(v)

    def string() -> str:
        nonlocal pos
        n = short()
        v = body[pos : pos + n].decode()
        pos += n
        return v

    return {string(): [string() for _ in range(short())] for _ in range(short())}


def is_up(port: int | None = None) -> bool:
    try:
        cql_options(port=port, timeout=2.0)
        return True
    except (OSError, ConnectionError, struct.error):
        return False


# --- process helpers -------------------------------------------------------------------------
def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap if it is our own child, else zombies look alive
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        threads = len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return False
    # A zombie leader whose other threads still run is a JVM mid-exit (it still holds its ports
    # while the kernel frees the mlock'd heap): only a lone zombie thread means it is gone.
    return stat.rsplit(")", 1)[1].split()[0] != "Z" or threads > 1


def _is_our_cassandra(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    marker = f"-Dcassandra.config=file://{_conf_dir() / 'cassandra.yaml'}".encode()
    return marker in cmdline and _alive(pid)


def _our_pids() -> list[int]:
    """PIDs of Cassandra daemons started for *this* data dir (pid file, else /proc scan by the
    exact -Dcassandra.config path, so a lost pid file never leaves an orphan behind)."""
    pids: list[int] = []
    pf = _pid_file()
    if pf.is_file():
        try:
            pid = int(pf.read_text().strip())
            if _is_our_cassandra(pid):
                pids.append(pid)
        except ValueError:
            pass
    if not pids:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _is_our_cassandra(int(entry.name)):
                pids.append(int(entry.name))
    return pids


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path})"


def _print_log_tails() -> None:
    for name in ("stdout.log", "system.log"):
        p = _logs_dir() / name
        print(f"----- tail of {p} -----\n{_tail(p)}", file=sys.stderr, flush=True)


def _wipe(d: Path) -> None:
    for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw"):
        shutil.rmtree(d / sub, ignore_errors=True)


# --- start / stop ----------------------------------------------------------------------------
def start(wait: bool = True, fresh: bool = False) -> float:
    """Start Cassandra (fetching jars if needed); return seconds from launch until CQL answered.

    Returns 0.0 when a node is already answering on the CQL port.
    """
    port = cql_port()
    if is_up(port):
        _log(f"already up: CQL answers on {HOST}:{port}")
        return 0.0
    d = data_dir()
    running = _our_pids()
    if running:
        _log(f"already starting (pid {running[0]}); waiting for CQL")
        return _wait_for_cql(running[0], time.monotonic()) if wait else 0.0
    _pid_file().unlink(missing_ok=True)  # stale pid file from a crash or reboot

    ports = (port, storage_port(), jmx_port(), metrics_port())
    deadline = time.monotonic() + 10.0  # a node that just stopped may hold them a moment longer
    if busy := [p for p in ports if _port_busy(p)]:
        _log(f"port(s) {busy} busy; waiting up to 10s for them to free up")
    while busy and time.monotonic() < deadline:
        time.sleep(0.25)
        busy = [p for p in ports if _port_busy(p)]
    if busy:
        raise CassandraError(f"port(s) {busy} on {HOST} already in use by another process")
    java = find_java()
    lib = fetch()
    if fresh:
        _log(f"--fresh: wiping data under {d}")
        _wipe(d)
    _write_configs(d)
    cmd = java_command(java, lib)
    _log(f"starting Cassandra {CASSANDRA_VERSION} on {java} (heap {heap()}, data {d})")
    stdout = (_logs_dir() / "stdout.log").open("ab")
    stdout.write(f"===== {time.strftime('%Y-%m-%d %H:%M:%S')} starting =====\n".encode())
    stdout.flush()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=d,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # own process group: survives our exit, killable as a group
        close_fds=True,
    )
    stdout.close()
    _pid_file().write_text(f"{proc.pid}\n")
    if not wait:
        _log(f"launched pid {proc.pid}; not waiting")
        return 0.0
    return _wait_for_cql(proc.pid, t0)


def _wait_for_cql(pid: int, t0: float) -> float:
    port, timeout = cql_port(), start_timeout()
    next_note = t0 + 5.0
    while True:
        now = time.monotonic()
        if is_up(port):
            elapsed = time.monotonic() - t0
            _log(f"CQL ready on {HOST}:{port} after {elapsed:.1f}s (pid {pid}, metrics "
                 f"http://{HOST}:{metrics_port()}/metrics)")  # fmt: skip
            return elapsed
        if not _alive(pid):
            _print_log_tails()
            _pid_file().unlink(missing_ok=True)
            raise CassandraError(f"Cassandra (pid {pid}) exited during startup; see logs above")
        if now - t0 > timeout:
            _print_log_tails()
            stop()
            raise CassandraError(f"CQL not ready after {timeout:.0f}s; stopped it")
        if now >= next_note:
            _log(f"waiting for CQL on {HOST}:{port} ... {now - t0:.0f}s")
            next_note += 5.0
        time.sleep(0.25)


def stop(timeout: float = 30.0) -> bool:
    """SIGTERM the daemon's process group, SIGKILL after `timeout`. True if one was running."""
    pids = _our_pids()
    if not pids:
        _pid_file().unlink(missing_ok=True)
        _log("not running")
        return False
    for pid in pids:
        _log(f"stopping pid {pid} (SIGTERM)")
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            _log(f"pid {pid} ignored SIGTERM for {timeout:.0f}s; SIGKILL")
            _signal_group(pid, signal.SIGKILL)
    while any(_alive(p) for p in pids):
        time.sleep(0.1)
    _pid_file().unlink(missing_ok=True)
    _log("stopped")
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # started with start_new_session, so pgid == pid
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def status() -> bool:
    up = is_up()
    pids = _our_pids()
    if up:
        who = f"pid {pids[0]}" if pids else "not started by this data dir"
        _log(f"up: CQL {HOST}:{cql_port()} ({who}), metrics http://{HOST}:{metrics_port()}/metrics,"
             f" data {data_dir()}")  # fmt: skip
    elif pids:
        _log(f"starting: pid {pids[0]} alive, CQL {HOST}:{cql_port()} not answering yet")
    else:
        _log(f"down (CQL {HOST}:{cql_port()})")
    return up


def nodetool(args: Sequence[str]) -> int:
    """Run Cassandra's nodetool (from the cached jars) against the local JMX port."""
    java, lib = find_java(), fetch(quiet=True)
    jpms = [f for f in JVM17_SERVER_OPTIONS if not f.startswith("-XX:")]  # module opens, no GC
    cmd = [
        str(java), "-Xmx256m", *jpms, "-cp", f"{lib}/*",
        f"-Dcassandra.storagedir={data_dir()}",
        f"-Dlogback.configurationFile={_conf_dir() / 'logback.xml'}",
        "org.apache.cassandra.tools.NodeTool", "-h", HOST, "-p", str(jmx_port()), *args,
    ]  # fmt: skip
    return subprocess.run(cmd, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="cassandra.py", description=__doc__.split("\n\n")[0])
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
    try:
        if a.cmd == "fetch":
            fetch()
        elif a.cmd == "start":
            start(wait=not a.no_wait, fresh=a.fresh)
        elif a.cmd == "stop":
            stop()
        elif a.cmd == "status":
            return 0 if status() else 1
        elif a.cmd == "cqlsh-check":
            try:
                opts = cql_options()
            except (OSError, ConnectionError, struct.error) as e:
                _log(f"CQL check failed on {HOST}:{cql_port()}: {e}")
                return 1
            _log(f"CQL OK on {HOST}:{cql_port()}: " + ", ".join(
                f"{k}={'/'.join(v)}" for k, v in sorted(opts.items())))  # fmt: skip
        elif a.cmd == "nodetool":
            return nodetool(a.args)
    except CassandraError as e:
        _log(f"ERROR: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
