"""The local node's process: start (reusing a node that already answers), stop, status,
nodetool. The process is a `procs.Proc` kept in the data dir: pid file `cassandra.pid`, JVM
output (WARN and up) in `logs/cassandra.log`, Cassandra's own log in `logs/system.log`."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from devstack.cassandra.config import (
    CASSANDRA_VERSION,
    CassandraError,
    Settings,
    log,
    render_configs,
)
from devstack.cassandra.fetch import fetch
from devstack.cassandra.jvm import config_flag, find_java, java_command, nodetool_command
from devstack.cassandra.probe import is_up
from devstack.procs import Proc

DATA_SUBDIRS = ("data", "commitlog", "saved_caches", "hints", "cdc_raw")


def _proc(settings: Settings, argv: Sequence[str] = ()) -> Proc:
    return Proc(
        "cassandra",
        argv,
        ready=lambda: is_up(settings.cql_port, settings.host),
        cwd=settings.data_dir,
        timeout=settings.start_timeout,
        run_dir=settings.data_dir,
        log_dir=settings.logs_dir,
    )


def _is_ours(pid: int, settings: Settings) -> bool:
    """Alive and started for this data dir (its exact -Dcassandra.config flag)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        threads = len(list(Path(f"/proc/{pid}/task").iterdir()))
    except OSError:
        return False
    # A zombie leader whose other threads still run is a JVM mid-exit (it still holds its
    # ports): only a lone zombie thread means it is gone.
    alive = state != "Z" or threads > 1
    return alive and config_flag(settings).encode() in cmdline


def running_pid(settings: Settings) -> int | None:
    """The daemon of this data dir, and the pid file made to say so: its pid when it is ours,
    else the one found in /proc (a lost pid file never leaves an orphan behind, a stale one
    never points at somebody else's process)."""
    pidfile = _proc(settings).pidfile
    pid: int | None = None
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text())
    if pid is None or not _is_ours(pid, settings):
        procs = (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
        pid = next((p for p in procs if _is_ours(p, settings)), None)
    if pid is None:
        pidfile.unlink(missing_ok=True)
    else:
        pidfile.write_text(f"{pid}\n")
    return pid


def _port_busy(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def _wait_for_ports(settings: Settings, grace: float = 10.0) -> None:
    """A node that just stopped may hold its ports a moment longer; anything else is an error."""
    ports = (settings.cql_port, settings.storage_port, settings.jmx_port, settings.metrics_port)
    deadline = time.monotonic() + grace
    if busy := [p for p in ports if _port_busy(settings.host, p)]:
        log(f"port(s) {busy} busy; waiting up to {grace:.0f}s for them to free up")
    while busy and time.monotonic() < deadline:
        time.sleep(0.25)
        busy = [p for p in ports if _port_busy(settings.host, p)]
    if busy:
        raise CassandraError(f"port(s) {busy} on {settings.host} already in use by another process")


def _print_log_tails(settings: Settings, lines: int = 40) -> None:
    for path in (settings.logs_dir / "cassandra.log", settings.logs_dir / "system.log"):
        try:
            tail = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            tail = f"(no {path})"
        print(f"----- tail of {path} -----\n{tail}", file=sys.stderr, flush=True)


def start(wait: bool = True, fresh: bool = False, settings: Settings | None = None) -> float:
    """Start the node (fetching jars if needed); return seconds from launch until CQL answered.

    Returns 0.0 when a node already answers on the CQL port (whoever started it).
    """
    s = settings or Settings.from_env()
    if is_up(s.cql_port, s.host):
        log(f"already up: CQL answers on {s.host}:{s.cql_port}")
        return 0.0
    if (pid := running_pid(s)) is not None:
        log(f"already starting (pid {pid}); waiting for CQL")
        node = _proc(s)
    else:
        _wait_for_ports(s)
        java, lib = find_java(), fetch(s)
        if fresh:
            log(f"--fresh: wiping data under {s.data_dir}")
            for sub in DATA_SUBDIRS:
                shutil.rmtree(s.data_dir / sub, ignore_errors=True)
        for sub in (*DATA_SUBDIRS, "conf/triggers", "logs"):
            (s.data_dir / sub).mkdir(parents=True, exist_ok=True)
        render_configs(s)
        log(f"starting Cassandra {CASSANDRA_VERSION} on {java} (heap {s.heap}, data {s.data_dir})")
        node = _proc(s, java_command(s, java, lib))
    if not wait:
        replace(node, ready=lambda: True).start()
        log(f"launched pid {node.pid()}; not waiting")
        return 0.0
    try:
        elapsed = node.start()
    except TimeoutError as e:
        _print_log_tails(s)
        node.stop()
        raise CassandraError(f"CQL not ready after {s.start_timeout:.0f}s; stopped it") from e
    except RuntimeError as e:
        _print_log_tails(s)
        raise CassandraError("Cassandra exited during startup; see the logs above") from e
    log(f"CQL ready on {s.host}:{s.cql_port} after {elapsed:.1f}s (pid {node.pid()}, metrics "
        f"http://{s.host}:{s.metrics_port}/metrics)")  # fmt: skip
    return elapsed


def stop(timeout: float = 30.0, settings: Settings | None = None) -> bool:
    """SIGTERM the daemon's process group, SIGKILL after `timeout`. True if one was running."""
    s = settings or Settings.from_env()
    pid = running_pid(s)
    if pid is None:
        log("not running")
        return False
    log(f"stopping pid {pid} (SIGTERM)")
    _proc(s).stop(grace=timeout)
    log("stopped")
    return True


def status(settings: Settings | None = None) -> bool:
    s = settings or Settings.from_env()
    up, pid = is_up(s.cql_port, s.host), running_pid(s)
    where = f"CQL {s.host}:{s.cql_port}"
    if up:
        who = f"pid {pid}" if pid else "not started by this data dir"
        log(f"up: {where} ({who}), metrics http://{s.host}:{s.metrics_port}/metrics,"
            f" data {s.data_dir}")  # fmt: skip
    elif pid:
        log(f"starting: pid {pid} alive, {where} not answering yet")
    else:
        log(f"down ({where})")
    return up


def nodetool(args: Sequence[str], settings: Settings | None = None) -> int:
    """Run Cassandra's nodetool (from the cached jars) against the node's JMX port."""
    s = settings or Settings.from_env()
    cmd = nodetool_command(s, find_java(), fetch(s, quiet=True), args)
    return subprocess.run(cmd, check=False).returncode


def cql_port() -> int:
    return Settings.from_env().cql_port
