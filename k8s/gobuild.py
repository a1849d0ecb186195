"""Build one Go program from the Go module proxy into the product-store cache.

`go install pkg@version` refuses modules whose go.mod has `replace` directives, and those
only apply in the main module anyway, so each program is built from a tiny wrapper module
that requires it and repeats its replaces/excludes. Everything Go writes stays under the
cache, so a rerun is a no-op and a warm rebuild takes seconds.
"""

from __future__ import annotations

import fcntl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from devstack.jaeger import cache_dir, go_binary, go_env
from k8s.log import progress


@dataclass(frozen=True)
class GoProgram:
    name: str
    module: str
    version: str
    package: str  # import path of the main package
    go: str = "1.24"  # the wrapper module's `go` line: at least the program's own
    replaces: tuple[str, ...] = ()  # copied from the program's go.mod
    excludes: tuple[str, ...] = ()
    ldflags: str = "-s -w"

    @property
    def binary(self) -> Path:
        return cache_dir() / "bin" / f"{self.name}-{self.version}"


@contextmanager
def exclusive(key: str) -> Iterator[None]:
    """One build of `key` at a time across processes (the e2e's background build and the
    tests, parallel sessions): a second builder waits, then finds the result cached."""
    lock = cache_dir() / "toolbuild" / f"{key}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def build(program: GoProgram) -> Path:
    """The program's binary, built unless already in the cache."""
    if program.binary.exists():
        return program.binary
    with exclusive(f"{program.name}-{program.version}"):
        if not program.binary.exists():  # another process may have built it meanwhile
            _build(program)
    return program.binary


def _build(program: GoProgram) -> None:
    target = program.binary
    go = go_binary()
    work = cache_dir() / "toolbuild" / f"{program.name}-{program.version}"
    work.mkdir(parents=True, exist_ok=True)
    lines = [f"module productstore/build/{program.name}", f"go {program.go}"]
    lines.append(f"require {program.module} {program.version}")
    lines += [f"replace {r}" for r in program.replaces]
    lines += [f"exclude {e}" for e in program.excludes]
    (work / "go.mod").write_text("\n\n".join(lines) + "\n")
    began = time.monotonic()
    progress("go-build", f"{program.name} {program.version} (cold: minutes on 2 cores)")
    for argv in (
        [go, "get", f"{program.package}@{program.version}"],
        [
            go,
            "build",
            "-trimpath",
            "-ldflags",
            program.ldflags,
            "-o",
            f"{target}.partial",
            program.package,
        ],
    ):
        # nice: the build must not starve Cassandra or running tests.
        subprocess.run(["nice", "-n", "10", *argv], cwd=work, env=go_env(), check=True)
    Path(f"{target}.partial").replace(target)  # atomic: a half build never looks done
    progress("go-build", f"{program.name} built in {time.monotonic() - began:.0f}s")
