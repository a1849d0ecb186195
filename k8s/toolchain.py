"""Build the pinned Kubernetes toolchain from the Go module proxy into the product-store cache.

No container registry or release download is reachable here, so every tool (helm, the
Kubernetes binaries, etcd, kind, crictl, CoreDNS, pause) is compiled from its module. Each
build happens in a small wrapper module under the cache, because `go install pkg@version`
refuses modules with `replace` directives and Kubernetes needs 31 of them (see
/work/shared/KUBERNETES.md). Binaries get versioned names (`kubectl-v1.34.4`), so bumping a
pin rebuilds instead of reusing a stale binary.

Usage: python -m k8s.toolchain helm kubectl ...   (builds what is missing, prints the paths)
       python -m k8s.toolchain all                (every tool)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from devstack.gobuild import cache_dir, exclusive, run_go, timed

KUBERNETES = "v1.34.4"
HELM = "v3.19.5"  # the helm line built against Kubernetes 1.34's client libraries
ETCD = "v3.6.5"  # what kubeadm 1.34 expects
KIND = "v0.33.0"
CRICTL = "v1.34.0"
COREDNS = "v1.12.1"  # what kubeadm 1.34 names
PAUSE = "3.10.1"  # kubeadm 1.34's sandbox image (kind's is 3.10; the binary is the same)

KUBE_BINARIES = (
    "kube-apiserver",
    "kubectl",
    "kube-controller-manager",
    "kube-scheduler",
    "kube-proxy",
    "kubelet",
    "kubeadm",
)

# The file wrapper modules get when the tool has no `main` package of its own.
ETCD_MAIN = """package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def log(message: str) -> None:
    print(f"toolchain: {message}", flush=True)


def bin_dir() -> Path:
    return cache_dir() / "bin"


def _plain(_: Path) -> tuple[str, list[str]]:
    return "", ["-s", "-w"]


@dataclass(frozen=True)
class Wrapper:
    """A Go module that requires `module@version` and builds `packages` from it."""

    key: str  # names the wrapper's directory and the log lines
    module: str
    version: str
    packages: dict[str, str]  # binary name -> package import path
    # Computed once the module is downloaded: (go.mod extra lines, ldflags).
    settings: Callable[[Path], tuple[str, list[str]]] = _plain
    main_go: str | None = None

    def target(self, name: str) -> Path:
        return bin_dir() / f"{name}-{self.version}"


def _go(argv: list[str], cwd: Path) -> str:
    log("$ go " + " ".join(argv))
    return run_go(argv, cwd, capture=True)


def _module_dir(work: Path, module: str, version: str) -> Path:
    """Download `module@version` into the module cache and return where it landed."""
    info = json.loads(_go(["mod", "download", "-json", f"{module}@{version}"], work))
    return Path(info["Dir"])


def _stamp(prefix: str, values: dict[str, str]) -> list[str]:
    return [f"-X {prefix}.{key}={value}" for key, value in values.items()]


def _kubernetes_settings(source: Path) -> tuple[str, list[str]]:
    """Kubernetes' go.mod points its staging modules at ./staging; a wrapper needs the
    published ones (v0.34.4 for v1.34.4) and upstream's godebug default."""
    gomod = (source / "go.mod").read_text()
    staging = re.findall(r"^\s*(?:replace\s+)?(k8s\.io/\S+) => \./staging/", gomod, re.M)
    godebug = re.findall(r"^godebug .*$", gomod, re.M)
    published = "v0." + KUBERNETES.removeprefix("v1.")
    lines = [*godebug, *(f"replace {mod} => {mod} {published}" for mod in staging)]
    major, minor, _ = KUBERNETES.removeprefix("v").split(".")
    version = {
        "gitVersion": KUBERNETES,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",  # reproducible; kubeadm only parses gitVersion
    }
    ldflags = [
        "-s",
        "-w",
        *_stamp("k8s.io/component-base/version", version),
        *_stamp("k8s.io/client-go/pkg/version", version),
    ]
    log(f"kubernetes: {len(staging)} staging modules replaced with {published}")
    return "\n".join(lines) + "\n", ldflags


def _helm_settings(source: Path) -> tuple[str, list[str]]:
    # As helm's Makefile: the Kubernetes version helm assumes comes from its client-go.
    client_go = re.search(r"k8s\.io/client-go v0\.(\d+)\.", (source / "go.mod").read_text())
    assert client_go, "helm's go.mod names no k8s.io/client-go"
    k8s = {"k8sVersionMajor": "1", "k8sVersionMinor": client_go.group(1)}
    ldflags = [
        "-s",
        "-w",
        *_stamp("helm.sh/helm/v3/internal/version", {"version": HELM, "gitTreeState": "clean"}),
        *_stamp("helm.sh/helm/v3/pkg/lint/rules", k8s),
        *_stamp("helm.sh/helm/v3/pkg/chartutil", k8s),
    ]
    return "", ldflags


def _crictl_settings(_: Path) -> tuple[str, list[str]]:
    return "", ["-s", "-w", f"-X sigs.k8s.io/cri-tools/pkg/version.Version={CRICTL}"]


WRAPPERS = (
    Wrapper("helm", "helm.sh/helm/v3", HELM, {"helm": "helm.sh/helm/v3/cmd/helm"}, _helm_settings),
    Wrapper(
        "kubernetes",
        "k8s.io/kubernetes",
        KUBERNETES,
        {name: f"k8s.io/kubernetes/cmd/{name}" for name in KUBE_BINARIES},
        _kubernetes_settings,
    ),
    Wrapper(
        "etcd",
        "go.etcd.io/etcd/server/v3",
        ETCD,
        {"etcd": "productstore/toolbuild/etcd"},
        main_go=ETCD_MAIN,
    ),
    Wrapper("kind", "sigs.k8s.io/kind", KIND, {"kind": "sigs.k8s.io/kind"}),
    Wrapper(
        "crictl",
        "sigs.k8s.io/cri-tools",
        CRICTL,
        {"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"},
        _crictl_settings,
    ),
    Wrapper(
        "coredns", "github.com/coredns/coredns", COREDNS, {"coredns": "github.com/coredns/coredns"}
    ),
)
TOOLS = {name: wrapper for wrapper in WRAPPERS for name in wrapper.packages}


def path(name: str) -> Path:
    """Where the pinned `name` lives once built (see `ensure`)."""
    if name == "pause":
        return bin_dir() / f"pause-{PAUSE}"
    return TOOLS[name].target(name)


def _build_go(wrapper: Wrapper, names: list[str]) -> None:
    work = cache_dir() / "toolbuild" / f"{wrapper.key}-{wrapper.version}"
    work.mkdir(parents=True, exist_ok=True)
    module = f"productstore/toolbuild/{wrapper.key}"
    (work / "go.mod").write_text(f"module {module}\n\ngo 1.24\n")
    source = _module_dir(work, wrapper.module, wrapper.version)
    extra, ldflags = wrapper.settings(source)
    go_line = re.search(r"^go (\S+)$", (source / "go.mod").read_text(), re.M)
    (work / "go.mod").write_text(
        f"module {module}\n\ngo {go_line.group(1) if go_line else '1.24'}\n\n{extra}"
    )
    if wrapper.main_go:
        (work / "main.go").write_text(wrapper.main_go)
    packages = [wrapper.packages[name] for name in names]
    # Pin every package: a bare `go get` would move to the newest release. A wrapper with
    # its own main.go needs only the module; the build resolves the rest.
    pins = [pkg for pkg in packages if not pkg.startswith(module)] or [wrapper.module]
    _go(["get", *(f"{pkg}@{wrapper.version}" for pkg in pins)], work)
    out = work / "out"
    out.mkdir(exist_ok=True)
    _go(["build", "-trimpath", "-ldflags", " ".join(ldflags), "-o", f"{out}/", *packages], work)
    bin_dir().mkdir(parents=True, exist_ok=True)
    for name in names:
        built = out / Path(wrapper.packages[name]).name
        # Atomic: an interrupted build never leaves a binary that looks present.
        built.replace(wrapper.target(name))


def _build_pause() -> None:
    """A static build of upstream's pause.c (the sandbox container's only process)."""
    work = cache_dir() / "toolbuild" / f"kubernetes-{KUBERNETES}"
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "go.mod").exists():
        (work / "go.mod").write_text("module productstore/toolbuild/kubernetes\n\ngo 1.24\n")
    source = _module_dir(work, "k8s.io/kubernetes", KUBERNETES) / "build/pause/linux/pause.c"
    partial = path("pause").with_name(path("pause").name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    argv = ["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{PAUSE}"]
    log("$ " + " ".join([*argv, "-o", str(partial), str(source)]))
    subprocess.run(["nice", "-n", "10", *argv, "-o", str(partial), str(source)], check=True)
    partial.replace(path("pause"))


def ensure(names: Iterable[str]) -> dict[str, Path]:
    """Build whichever of `names` is missing (grouped per wrapper module); return all paths."""
    wanted = list(dict.fromkeys(names))
    unknown = [name for name in wanted if name not in TOOLS and name != "pause"]
    if unknown:
        raise KeyError(f"unknown tool(s) {unknown}; known: {[*TOOLS, 'pause']}")
    for wrapper in WRAPPERS:
        if not any(TOOLS.get(name) is wrapper and not path(name).exists() for name in wanted):
            continue
        with exclusive(wrapper.key):
            # Another process may have built them while we waited for the lock.
            group = [n for n in wanted if TOOLS.get(n) is wrapper and not path(n).exists()]
            if group:
                with timed(f"{', '.join(group)} ({wrapper.module}@{wrapper.version})"):
                    _build_go(wrapper, group)
    if "pause" in wanted and not path("pause").exists():
        with exclusive("kubernetes"):  # shares the Kubernetes wrapper's directory
            if not path("pause").exists():
                _build_pause()
    return {name: path(name) for name in wanted}


def ensure_one(name: str) -> Path:
    return ensure([name])[name]


def main(argv: list[str]) -> int:
    names = [*TOOLS, "pause"] if argv in ([], ["all"]) else argv
    try:
        built = ensure(names)
    except KeyError as error:
        print(error.args[0], file=sys.stderr)
        return 2
    for target in built.values():
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
