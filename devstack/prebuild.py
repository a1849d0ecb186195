"""`make test`'s background builds: every Go program the run needs, compiling from its start.

From empty caches these builds are most of a CI run's CPU (Traefik alone takes about
15 CPU-minutes), while the tests need them late or in part: helm for the chart tests,
etcd and kube-apiserver for the API-server tests, Jaeger for the tracing tests, the rest
for the kind e2e, which runs last. So they start before lint, nice'd below the tests, in
the order the tests need them. Each program builds under its lock (devstack.gobuild): a
test that gets there first waits for it, or builds it itself while this goes on.

Warm, everything is built and nothing starts. The builder stops when its owner (make)
exits, so a failed lint or an interrupted run leaves no compiler running.

Usage: python -m devstack.prebuild start --owner PID   (returns at once; log in var/logs)
       python -m devstack.prebuild run [--owner PID]    (the same builds, in the foreground)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress

from devstack import images, jaeger
from devstack.gobuild import LOG, say
from k8s import cluster, node_image, toolchain

TEST_TOOLS = ("helm", "etcd", "kube-apiserver", "kubectl")  # tests/chart, tests/kube, operator

# Compiles, one after the other in the order the test run reaches them.
STEPS: tuple[tuple[str, Callable[[], object]], ...] = (
    ("the test run's Kubernetes tools", lambda: toolchain.ensure(TEST_TOOLS)),
    ("Jaeger", jaeger.ensure),
    ("the kind cluster's programs", cluster.build_programs),
)
# Beside them: the Debian trees the images start from (debootstrap: network and disk, little
# CPU), for tests/images and the kind node.
TREES: tuple[tuple[str, Callable[[], object]], ...] = (
    ("the images' Debian base", images.rootfs_tar),
    ("the kind node's Debian trees", node_image.rootfs_trees),
)


def missing() -> list[str]:
    tools = [name for name in TEST_TOOLS if not toolchain.path(name).exists()]
    if not jaeger.binary().exists():
        tools.append("jaeger")
    return list(dict.fromkeys([*tools, *cluster.missing_programs()]))


def start(owner: int) -> None:
    """Start the builds in the background, unless every program is already built."""
    todo = missing()
    if not todo:
        say("every Go program the tests need is built")
        return
    LOG.parent.mkdir(parents=True, exist_ok=True)
    runner = [sys.executable, "-m", "devstack.prebuild", "run", "--owner", str(owner)]
    with LOG.open("wb") as out:
        subprocess.Popen(
            ["nice", "-n", "15", *runner],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, see _watch
        )
    say(f"compiling in the background ({len(todo)} programs: {', '.join(todo)}); log: {LOG}")


def _watch(owner: int) -> None:
    """End this process group (the builder and its compilers) once the owner is gone."""
    while True:
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            say(f"owner {owner} exited: stopping")
            os.killpg(os.getpgrp(), signal.SIGTERM)
            return
        time.sleep(1)


def run(owner: int | None) -> None:
    if owner is not None:
        with suppress(PermissionError):  # already a group leader when `start` made it
            os.setsid()  # our own group, so stopping it stops nothing else
        threading.Thread(target=_watch, args=(owner,), daemon=True).start()
    began = time.monotonic()
    trees = threading.Thread(target=_steps, args=(TREES,))
    trees.start()
    _steps(STEPS)
    trees.join()
    say(f"background builds done in {time.monotonic() - began:.0f}s")


def _steps(steps: tuple[tuple[str, Callable[[], object]], ...]) -> None:
    for what, build in steps:
        say(f"background: {what}")
        build()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.prebuild")
    parser.add_argument("command", choices=["start", "run"])
    parser.add_argument("--owner", type=int, help="stop when this process exits (make's pid)")
    args = parser.parse_args(argv)
    if args.command == "start":
        start(args.owner or os.getppid())
    else:
        run(args.owner)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
