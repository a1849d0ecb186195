"""Build Jaeger v2 (all-in-one) from the Go module proxy into the product-store cache.

Jaeger tags every release twice (v1.x for the module, v2.x for the product). Only the v1
tag is a valid Go module version, because the module path has no /v2 suffix, so we pin
the v1 tag of the wanted v2 release. `go install pkg@version` refuses modules whose go.mod
has `replace` directives (Jaeger's has one), so we build from a tiny wrapper module that
requires Jaeger and copies its replace.

Usage: python -m devstack.jaeger   (prints progress; no-op when the binary exists)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

MODULE = "github.com/jaegertracing/jaeger"
MODULE_VERSION = "v1.76.0"  # the Go-module tag of Jaeger v2.13.0 (2025-12-03)
PRODUCT_VERSION = "v2.13.0"
# Copied from Jaeger's own go.mod: replace directives only apply in the main module.
REPLACES = ("github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0",)
GO_MIN = "1.24.6"  # Jaeger's go.mod `go` line


def cache_dir() -> Path:
    return Path(os.environ.get("PRODUCT_STORE_CACHE", Path.home() / ".cache" / "product-store"))


def binary() -> Path:
    """Versioned name, so bumping the pin triggers a rebuild instead of reusing a stale one."""
    return cache_dir() / "bin" / f"jaeger-{PRODUCT_VERSION}"


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


def _run(argv: list[str], cwd: Path) -> None:
    print("jaeger-build: $", " ".join(argv), flush=True)
    # nice: the build takes minutes on 2 cores and must not starve Cassandra or the tests.
    subprocess.run(["nice", "-n", "10", *argv], cwd=cwd, env=go_env(), check=True)


def build(force: bool = False) -> Path:
    """Build the Jaeger binary unless it is already there; return its path."""
    target = binary()
    if target.exists() and not force:
        print(f"jaeger-build: {target} exists, skipping", flush=True)
        return target
    go = go_binary()
    work = cache_dir() / "jaeger-build" / MODULE_VERSION
    work.mkdir(parents=True, exist_ok=True)
    replaces = "".join(f"replace {line}\n" for line in REPLACES)
    (work / "go.mod").write_text(
        f"module productstore/jaegerbuild\n\ngo {GO_MIN}\n\n"
        f"require {MODULE} {MODULE_VERSION}\n\n{replaces}"
    )
    began = time.monotonic()
    print(
        f"jaeger-build: building Jaeger {PRODUCT_VERSION} ({MODULE}@{MODULE_VERSION})", flush=True
    )
    _run([go, "get", f"{MODULE}/cmd/jaeger@{MODULE_VERSION}"], work)
    version_pkg = f"{MODULE}/internal/version"
    ldflags = f"-s -w -X {version_pkg}.latestVersion={PRODUCT_VERSION}"
    # pid-suffixed: two concurrent bootstraps (make up beside make test) must not share it
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [go, "build", "-trimpath", "-ldflags", ldflags, "-o", str(partial), f"{MODULE}/cmd/jaeger"],
        work,
    )
    partial.replace(target)  # atomic: an interrupted build never leaves a "present" binary
    print(f"jaeger-build: done in {time.monotonic() - began:.0f}s -> {target}", flush=True)
    return target


if __name__ == "__main__":
    build(force="--force" in sys.argv[1:])
