"""Cassandra's jars from Maven Central: cassandra-all, its runtime dependencies and the JMX
exporter agent, resolved by Maven into a self-contained cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from devstack.cassandra.config import (
    CASSANDRA_VERSION,
    JAMM_VERSION,
    JMX_EXPORTER_VERSION,
    TEMPLATES,
    CassandraError,
    Settings,
    log,
)
from devstack.cassandra.jvm import pick_java_home
from devstack.templates import render

REQUIRED_JARS = (
    f"cassandra-all-{CASSANDRA_VERSION}.jar",
    f"jamm-{JAMM_VERSION}.jar",
    f"jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar",
)


def complete(lib: Path) -> bool:
    return (lib / ".complete").is_file() and all((lib / j).is_file() for j in REQUIRED_JARS)


def fetch(settings: Settings | None = None, quiet: bool = False) -> Path:
    """The directory of jars, resolved into the cache when missing (idempotent)."""
    settings = settings or Settings.from_env()
    cache, lib = settings.cache_dir, settings.lib_dir
    if complete(lib):
        if not quiet:
            log(f"jars already cached in {lib}")
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise CassandraError("`mvn` not found on PATH; install Maven (apt-get install maven)")
    pom = render(
        TEMPLATES / "pom.xml.template",
        cache / f"build-{CASSANDRA_VERSION}" / "pom.xml",
        {"CASSANDRA_VERSION": CASSANDRA_VERSION, "JMX_EXPORTER_VERSION": JMX_EXPORTER_VERSION},
    )
    staging = cache / f".lib-{CASSANDRA_VERSION}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    log(
        f"resolving cassandra-all {CASSANDRA_VERSION} + jmx_prometheus_javaagent "
        f"{JMX_EXPORTER_VERSION} from Maven Central (first run downloads ~100 MB) ..."
    )
    t0 = time.monotonic()
    cmd = [
        mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(pom),
        f"-Dmaven.repo.local={cache / 'm2'}",
        "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
        f"-DoutputDirectory={staging}",
        # runtime scope: skips the parent's `provided` build-only deps (antlr tool, byteman, ...)
        "-DincludeScope=runtime",
    ]  # fmt: skip
    env = dict(os.environ)
    if (java_home := pick_java_home(quiet=True)) is not None:
        env["JAVA_HOME"] = str(java_home)  # Maven itself must not run on an odd JDK either
    # -q output is only errors (plus stray ANSI resets), so show it only when Maven fails
    proc = subprocess.run(cmd, env=env, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        raise CassandraError(f"maven dependency resolution failed (exit {proc.returncode})")
    if missing := [j for j in REQUIRED_JARS if not (staging / j).is_file()]:
        raise CassandraError(f"resolved classpath lacks {missing}")
    (staging / ".complete").write_text(f"cassandra-all {CASSANDRA_VERSION}\n")
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)  # atomic publish: a half-finished fetch never looks complete
    n = len(list(lib.glob("*.jar")))
    log(f"fetched {n} jars into {lib} in {time.monotonic() - t0:.1f}s")
    return lib
