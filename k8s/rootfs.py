"""Debian bookworm root file systems from debootstrap, cached by their package list.

No image registry is reachable, so every base image the cluster needs starts as a
`debootstrap --variant=minbase` tree (about a minute, plain HTTP to Debian's mirror). The
tree is kept under the cache, named by a hash of suite + packages: changing the list
builds a new one, and an interrupted run never leaves a tree that looks finished.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path

from devstack.gobuild import cache_dir, exclusive
from k8s.log import progress

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"


def ensure_debootstrap() -> None:
    if shutil.which("debootstrap") is None:
        progress("rootfs", "installing debootstrap (Debian package)")
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True)


def rootfs(name: str, packages: tuple[str, ...]) -> Path:
    """The tree for `packages` (built once); a directory only ever read after this."""
    key = hashlib.sha256(" ".join((SUITE, *sorted(packages))).encode()).hexdigest()[:12]
    target = cache_dir() / "rootfs" / f"{name}-{SUITE}-{key}"
    if (target / ".complete").exists():
        return target
    with exclusive(target.name):  # the background prebuild and the e2e may both want it
        if not (target / ".complete").exists():
            _debootstrap(name, packages, target)
    return target


def _debootstrap(name: str, packages: tuple[str, ...], target: Path) -> None:
    ensure_debootstrap()
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    progress("rootfs", f"debootstrap {SUITE} for {name} ({len(packages)} packages, ~1-3 min)")
    subprocess.run(
        [
            "nice",
            "-n",
            "10",
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(sorted(packages))}",
            SUITE,
            str(partial),
            MIRROR,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (partial / cache).glob("*"):
            if entry.is_file():
                entry.unlink()
    (partial / ".complete").write_text("")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    progress("rootfs", f"{name} ready in {time.monotonic() - began:.0f}s -> {target}")
