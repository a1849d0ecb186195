"""The JDK a node runs on and its `java` command line: upstream's JVM flags plus dev speed-ups."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from devstack.cassandra.config import (
    JAMM_VERSION,
    JMX_EXPORTER_VERSION,
    CassandraError,
    Settings,
    log,
)

SUPPORTED_JAVA = (17, 11)  # Cassandra 5.0 runs on 11 and 17 only; never 21/25
DEFAULT_JDK = Path("/usr/lib/jvm/java-17-openjdk-amd64")

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


def java_major(java_home: Path) -> int | None:
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


def pick_java_home(quiet: bool = False) -> Path | None:
    """$JAVA_HOME if it is 17 or 11, else Debian's JDK 17, else any 17 under /usr/lib/jvm."""
    env_home = os.environ.get("JAVA_HOME")
    if env_home:
        v = java_major(Path(env_home))
        if v in SUPPORTED_JAVA:
            return Path(env_home)
        if not quiet:
            log(f"ignoring JAVA_HOME={env_home} (java {v}); Cassandra 5.0 needs 17 or 11")
    if java_major(DEFAULT_JDK) == 17:
        return DEFAULT_JDK
    jvm_root = Path("/usr/lib/jvm")
    if jvm_root.is_dir():
        for cand in sorted(jvm_root.iterdir()):
            if "17" in cand.name and java_major(cand) == 17:
                return cand
    return None


def find_java() -> Path:
    """Path of a JDK 17 (or 11) `java`; raise rather than start Cassandra on anything else."""
    home = pick_java_home()
    if home is None:
        raise CassandraError(
            "no JDK 17 found (checked $JAVA_HOME, /usr/lib/jvm); Cassandra 5.0 refuses other "
            "versions. Install one: apt-get install openjdk-17-jdk-headless"
        )
    return home / "bin" / "java"


def config_flag(settings: Settings) -> str:
    """The -Dcassandra.config flag: also how a node of this data dir is recognised in /proc."""
    return f"-Dcassandra.config=file://{settings.conf_dir / 'cassandra.yaml'}"


def java_command(settings: Settings, java: Path, lib: Path) -> list[str]:
    """CassandraDaemon in the foreground, as bin/cassandra + cassandra-env.sh would run it."""
    d, conf, logs = settings.data_dir, settings.conf_dir, settings.logs_dir
    return [
        str(java),
        *(f for f in JVM_SERVER_OPTIONS if f not in DEV_DROPPED_FLAGS),
        *JVM17_SERVER_OPTIONS,
        f"-Xms{settings.heap}",
        f"-Xmx{settings.heap}",
        # what bin/cassandra + cassandra-env.sh would add
        f"-javaagent:{lib / f'jamm-{JAMM_VERSION}.jar'}",
        "-XX:+CrashOnOutOfMemoryError",
        f"-XX:HeapDumpPath={logs}",
        f"-XX:ErrorFile={logs / 'hs_err_%p.log'}",
        f"-Dcassandra.jmx.local.port={settings.jmx_port}",
        "-Dcassandra-foreground=yes",
        config_flag(settings),
        f"-Dcassandra.storagedir={d}",
        f"-Dcassandra.logdir={logs}",
        f"-Dcassandra.triggers_dir={conf / 'triggers'}",
        f"-Dlogback.configurationFile={conf / 'logback.xml'}",
        "-Djava.net.preferIPv4Stack=true",
        *DEV_SPEED_PROPERTIES,
        # Prometheus metrics at http://<host>:<metrics>/metrics (in-process, no JMX remoting)
        f"-javaagent:{lib / f'jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar'}"
        f"={settings.host}:{settings.metrics_port}:{conf / 'jmx-exporter.yaml'}",
        "-cp",
        f"{lib}/*",
        "org.apache.cassandra.service.CassandraDaemon",
    ]


def nodetool_command(settings: Settings, java: Path, lib: Path, args: Sequence[str]) -> list[str]:
    jpms = [f for f in JVM17_SERVER_OPTIONS if not f.startswith("-XX:")]  # module opens, no GC
    return [
        str(java), "-Xmx256m", *jpms, "-cp", f"{lib}/*",
        f"-Dcassandra.storagedir={settings.data_dir}",
        f"-Dlogback.configurationFile={settings.conf_dir / 'logback.xml'}",
        "org.apache.cassandra.tools.NodeTool", "-h", settings.host,
        "-p", str(settings.jmx_port), *args,
    ]  # fmt: skip
