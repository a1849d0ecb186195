"""Build one Go program from the Go module proxy into the product-store cache.

`go install pkg@version` refuses modules whose go.mod has `replace` directives, and those
only apply in the main module anyway, so each program is built from a tiny wrapper module
that requires it and repeats its replaces/excludes. Everything Go writes stays under the
cache, so a rerun is a no-op and a warm rebuild takes seconds.

Several processes build into the same cache at once (the test run's background prebuild,
the tests themselves, a developer's `make cluster`): `exclusive` makes builders of one
program take turns, and the later ones then find it built.
"""

from __future__ import annotations

import fcntl
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def cache_dir() -> Path:
    return Path(os.environ.get("PRODUCT_STORE_CACHE", Path.home() / ".cache" / "product-store"))


def say(message: str) -> None:
    print(f"[go-build] {message}", flush=True)


def go_env() -> dict[str, str]:
    """Everything Go writes lives in the cache, so reruns (and CI on the same box) are fast."""
    go = cache_dir() / "go"
    return {
        **os.environ,
        "GOPATH": str(go / "path"),
        "GOMODCACHE": str(go / "mod"),
        "GOCACHE": str(go / "build"),
        "GOBIN": str(cache_dir() / "bin"),
        "GOTOOLCHAIN": "local",  # never try to download another toolchain
        "GOFLAGS": "-mod=mod",
        "CGO_ENABLED": "0",
    }


def go_binary() -> str:
    found = shutil.which("go") or "/usr/local/go/bin/go"
    if not Path(found).exists():
        raise FileNotFoundError("go toolchain not found (PATH or /usr/local/go/bin/go)")
    return found


def run_go(argv: Sequence[str], cwd: Path, *, capture: bool = False) -> str:
    # nice: a cold build takes minutes on 2 shared cores and must not starve the tests.
    done = subprocess.run(
        ["nice", "-n", "10", go_binary(), *argv],
        cwd=cwd,
        env=go_env(),
        check=True,
        stdout=subprocess.PIPE if capture else None,
        text=True,
    )
    return done.stdout or ""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Progress lines around a build, with its wall time and the CPU its children used: on
    2 cores the CPU is what a cold run's length comes down to."""
    began, cpu = time.monotonic(), _children_cpu()
    say(f"building {what} (cold: minutes on 2 cores)")
    yield
    wall, used = time.monotonic() - began, _children_cpu() - cpu
    say(f"built {what} in {wall:.0f}s ({used:.0f} s of CPU)")


@contextmanager
def exclusive(key: str) -> Iterator[None]:
    """One build of `key` at a time across processes: a second builder waits, then finds
    the result cached."""
    lock = cache_dir() / "toolbuild" / f"{key}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting: another process builds {key} (make test's log: {LOG})")
            began = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            say(f"{key}: waited {time.monotonic() - began:.0f}s")
        yield


# Where `make test`'s background prebuild writes (see devstack.prebuild).
LOG = Path(__file__).resolve().parent.parent / "var" / "logs" / "prebuild.log"


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
    release: str = ""  # the product's version, when its module tag differs (Jaeger)

    @property
    def binary(self) -> Path:
        return cache_dir() / "bin" / f"{self.name}-{self.release or self.version}"


def build(program: GoProgram) -> Path:
    """The program's binary, built unless already in the cache."""
    if program.binary.exists():
        return program.binary
    with exclusive(program.binary.name):
        if not program.binary.exists():  # another process may have built it meanwhile
            _build(program)
    return program.binary


def _build(program: GoProgram) -> None:
    target = program.binary
    work = cache_dir() / "toolbuild" / target.name
    work.mkdir(parents=True, exist_ok=True)
    lines = [f"module productstore/build/{program.name}", f"go {program.go}"]
    lines.append(f"require {program.module} {program.version}")
    lines += [f"replace {r}" for r in program.replaces]
    lines += [f"exclude {e}" for e in program.excludes]
    (work / "go.mod").write_text("\n\n".join(lines) + "\n")
    partial = Path(f"{target}.partial")
    with timed(f"{program.name} {program.release or program.version}"):
        run_go(["get", f"{program.package}@{program.version}"], work)
        run_go(
            [
                "build",
                "-trimpath",
                "-ldflags",
                program.ldflags,
                "-o",
                str(partial),
                program.package,
            ],
            work,
        )
    partial.replace(target)  # atomic: a half build never looks done
