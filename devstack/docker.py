"""Docker Engine for the image builds and kind: Debian's `docker.io`, started on demand.

    ensure_docker()              install docker.io (and jq) if missing, the runc wrapper if
                                 this host needs it, start dockerd unless it answers; wait
    stop_docker_if_we_started()  stop dockerd only if ensure_docker() started it
    docker("build", ...)         Debian's 20.10 CLI with BuildKit

Always `/usr/bin/docker` (Debian's CLI): a newer CLI may come first on PATH without the
buildx plugin, and then BuildKit builds fail. Its embedded BuildKit handles
`RUN --mount=type=secret`; Dockerfiles carry no `# syntax=` line (that pulls a frontend
image from a registry, and none is reachable here).

    python -m devstack.docker up | down | status
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from devstack.cli import dispatch
from devstack.procs import Proc

DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
REAL_RUNC = Path("/usr/sbin/runc")
RUNC_WRAPPER = Path("/usr/local/sbin/runc")  # ahead of /usr/sbin on dockerd's PATH
WRAPPER_SOURCE = Path(__file__).resolve().parent / "runc-wrapper.sh"
CAP_SYS_RESOURCE = 24
# Its pid file (var/run/dockerd.pid) is the record that we started the daemon.
DOCKERD_PROC_NAME = "dockerd"


def _log(message: str) -> None:
    print(f"[docker] {message}", flush=True)


def docker_env() -> dict[str, str]:
    return {**os.environ, "DOCKER_BUILDKIT": "1"}


def docker(
    *args: str, check: bool = True, capture: bool = False, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run Debian's docker CLI with BuildKit; `capture` returns stdout instead of printing."""
    return subprocess.run(
        [DOCKER, *args],
        env={**docker_env(), **(env or {})},
        check=check,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )


def daemon_answers() -> bool:
    if not Path(DOCKER).exists():
        return False
    probe = [DOCKER, "version", "--format", "{{.Server.Version}}"]
    return subprocess.run(probe, capture_output=True, check=False, timeout=30).returncode == 0


def _sudo() -> list[str]:
    return [] if os.geteuid() == 0 else ["sudo"]


def _install_packages() -> None:
    missing = [
        pkg
        for pkg, path in (("docker.io", DOCKER), ("jq", "/usr/bin/jq"))
        if not Path(path).exists()
    ]
    if not missing:
        return
    _log(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*_sudo(), "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        [*_sudo(), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def lacks_cap_sys_resource(status: str | None = None) -> bool:
    """True when CAP_SYS_RESOURCE is missing from our capability bounding set (CapBnd)."""
    status = status if status is not None else Path("/proc/self/status").read_text()
    bounding = next(line for line in status.splitlines() if line.startswith("CapBnd:"))
    return not int(bounding.split()[1], 16) >> CAP_SYS_RESOURCE & 1


def _install_runc_wrapper() -> None:
    """Privileged containers (kind's node) need the wrapper where root lacks the capability."""
    if not lacks_cap_sys_resource():
        return
    wanted = WRAPPER_SOURCE.read_bytes()
    if RUNC_WRAPPER.exists() and RUNC_WRAPPER.read_bytes() == wanted:
        return
    _log(f"installing the runc wrapper (drops CAP_SYS_RESOURCE) as {RUNC_WRAPPER}")
    # No daemon restart needed: dockerd looks runc up on PATH for each container.
    subprocess.run(
        [*_sudo(), "install", "-m", "0755", str(WRAPPER_SOURCE), str(RUNC_WRAPPER)], check=True
    )


def _dockerd() -> Proc:
    # Workers' PATH must hold /usr/local/sbin first (the wrapper), then the real binaries.
    path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return Proc(
        DOCKERD_PROC_NAME, [*_sudo(), DOCKERD], daemon_answers, env={"PATH": path}, timeout=90
    )


def ensure_docker() -> None:
    """Docker installed, the runc wrapper in place if needed, the daemon answering."""
    _install_packages()
    _install_runc_wrapper()
    if daemon_answers():
        return
    if not REAL_RUNC.exists() or shutil.which("containerd") is None:
        raise RuntimeError("docker.io is installed but runc/containerd are missing")
    _log("starting dockerd (stopped again by `python -m devstack.docker down`)")
    took = _dockerd().start()
    _log(f"dockerd ready in {took:.1f}s")


def started_by_us() -> bool:
    return _dockerd().pid() is not None


def stop_docker_if_we_started() -> bool:
    """Stop dockerd if ensure_docker() started it; a daemon started otherwise is left alone."""
    if not started_by_us():
        return False
    _log("stopping the dockerd we started")
    return _dockerd().stop(grace=30)


def _up() -> None:
    ensure_docker()
    print(docker("version", "--format", "{{.Server.Version}}", capture=True).stdout.strip())


def _down() -> None:
    print("stopped" if stop_docker_if_we_started() else "not started by us: left running")


def _status() -> None:
    state = "up" if daemon_answers() else "down"
    print(f"dockerd {state}{' (started by us)' if started_by_us() else ''}")


def main(argv: list[str]) -> int:
    return dispatch(argv, {"up": _up, "down": _down, "status": _status}, __doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
