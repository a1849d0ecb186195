"""Start, watch and stop long-running local processes (one pid file and one log each)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("STORE_VAR_DIR", ROOT / "var"))
RUN = VAR / "run"
LOGS = VAR / "logs"


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _reaped(pid: int) -> bool:
    """True when `pid` is our own child and has exited. Signal 0 succeeds on a zombie, so a
    process started and stopped by the same Python process (test fixtures) must be reaped."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:  # not our child: its own parent or init reaps it
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass(frozen=True)
class Proc:
    """A process of the stack: how to run it and how to tell that it is ready."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    timeout: float = 60.0
    run_dir: Path | None = None  # where the pid file goes (default var/run)
    log_dir: Path | None = None  # where the log goes (default var/logs)

    @property
    def pidfile(self) -> Path:
        return (self.run_dir or RUN) / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return (self.log_dir or LOGS) / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text())
            os.kill(pid, 0)
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None
        return None if _reaped(pid) else pid

    def start(self) -> float:
        """Start detached unless already running; wait until ready. Returns seconds taken."""
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        if self.pid() is None:
            with self.logfile.open("ab") as log:
                child = subprocess.Popen(
                    list(self.argv),
                    cwd=self.cwd,
                    env={**os.environ, **self.env},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.pidfile.write_text(str(child.pid))
        deadline, note = began + self.timeout, began + 10.0
        while not self.ready():
            if self.pid() is None:
                raise RuntimeError(f"{self.name} exited; last log lines:\n{self.tail()}")
            if (now := time.monotonic()) > deadline:
                raise TimeoutError(f"{self.name} not ready in {self.timeout:.0f}s:\n{self.tail()}")
            if now > note:  # a progress line on slow starts (busy machine, first run)
                print(f"[{self.name}] not ready yet after {now - began:.0f}s", flush=True)
                note += 10.0
            time.sleep(0.2)
        return time.monotonic() - began

    def stop(self, grace: float = 20.0) -> bool:
        """SIGTERM the process group, then SIGKILL after `grace` seconds."""
        pid = self.pid()
        self.pidfile.unlink(missing_ok=True)
        if pid is None:
            return False
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pid, sig)
            except ProcessLookupError:
                return True
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return True
                if _reaped(pid):
                    return True
                time.sleep(0.1)
        return True

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
