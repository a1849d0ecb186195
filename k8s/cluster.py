"""The one-node kind cluster the store runs on: create (and reuse), deploy, remove.

    python -m k8s.cluster up       # Docker, node image (cached), cluster, add-ons, gates
    python -m k8s.cluster deploy   # store images into kind, umbrella chart with the dev profile
    python -m k8s.cluster down     # delete the cluster; stop Docker only if we started it
    python -m k8s.cluster programs # only compile its Go programs into the cache (no Docker)

Everything runs from binaries built on this machine (k8s/toolchain.py) and reaches the
cluster only through 127.0.0.1: the API server's mapped port and the ingress port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from devstack import docker, gobuild, images
from devstack.procs import port_open
from k8s import addons, node_image, toolchain
from k8s.chart import ChartError, enabled, offline_copy
from k8s.log import progress

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_NAME = "store"  # skaffold.yaml and the Tiltfile name its context, kind-store
NAME = os.environ.get("STORE_CLUSTER", DEFAULT_NAME)
INGRESS_PORT = int(os.environ.get("STORE_INGRESS_PORT", "80"))
ROLLOUT_TIMEOUT = "300s"
OPERATOR_CRDS = ROOT / "charts" / "operator" / "crds"
# kind drives Docker through its CLI: Debian's (20.10, matching the daemon) comes first.
KIND_PATH = "/usr/sbin:/usr/bin:/sbin:/bin:" + os.environ.get("PATH", "")


class ClusterError(RuntimeError):
    """A step failed; the message names the missing or broken piece."""


@dataclass(frozen=True)
class Cluster:
    name: str = NAME

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    @property
    def node(self) -> str:
        return f"{self.name}-control-plane"

    def kubectl(self, *args: str, check: bool = True, capture: bool = False) -> str:
        return _run(
            [str(toolchain.ensure_one("kubectl")), "--context", self.context, *args],
            what=f"kubectl {args[0]}",
            check=check,
            capture=capture,
        )

    def exists(self) -> bool:
        kind = str(toolchain.ensure_one("kind"))
        listed = _run([kind, "get", "clusters"], what="kind get clusters", capture=True)
        return self.name in listed.split()

    def node_running(self) -> bool:
        inspect = ["/usr/bin/docker", "inspect", "-f", "{{.State.Running}}", self.node]
        return _run(inspect, what="docker inspect", check=False, capture=True).strip() == "true"

    def api_answers(self, tries: int = 12) -> bool:
        """The API server answers. If not at once, the kubeconfig is rewritten first (a
        node that Docker restarted may have its API port published anew)."""

        def ready() -> bool:
            answer = self.kubectl("get", "--raw", "/readyz", check=False, capture=True)
            return answer.strip() == "ok"

        if ready():
            return True
        kind = str(toolchain.ensure_one("kind"))
        _run([kind, "export", "kubeconfig", "--name", self.name], what="kind export", check=False)
        for _ in range(tries):
            if ready():
                return True
            time.sleep(5)
        return False

    def ingress_port(self) -> int:
        """The machine's port for the ingress (127.0.0.1), as Docker published it."""
        out = _run(
            ["/usr/bin/docker", "port", self.node, "80/tcp"], what="docker port", capture=True
        )
        return int(out.strip().splitlines()[0].rsplit(":", 1)[1])

    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port()}"


def _run(argv: Sequence[str], *, what: str, check: bool = True, capture: bool = False) -> str:
    done = subprocess.run(
        argv,
        env={**os.environ, "PATH": KIND_PATH},
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )
    if check and done.returncode != 0:
        detail = (done.stderr or "").strip()[-2000:] if capture else "(output above)"
        raise ClusterError(f"{what} failed (exit {done.returncode}): {detail}")
    return done.stdout or ""


def kind_config(ingress_port: int) -> str:
    config = yaml.safe_load((HERE / "kind.yaml").read_text())
    (mapping,) = config["nodes"][0]["extraPortMappings"]
    mapping["hostPort"] = ingress_port
    return yaml.safe_dump(config, sort_keys=False)


def up(cluster: Cluster = Cluster(), ingress_port: int = INGRESS_PORT) -> Cluster:
    """Create the cluster unless it exists; return once the system pods serve."""
    began = time.monotonic()
    progress("cluster", "Docker")
    docker.ensure_docker()
    toolchain.ensure(["kind", "kubectl"])
    image = node_image.node_image()
    if cluster.exists() and not healthy(cluster):
        # Docker was restarted (or the machine): a stopped node does not come back whole.
        progress("cluster", f"{cluster.name} exists but does not run or answer; recreating it")
        delete(cluster)
    if cluster.exists():
        progress("cluster", f"{cluster.name} exists; reusing it")
    else:
        create(cluster, image, ingress_port)
    gate(cluster)
    progress(
        "cluster",
        f"{cluster.name} ready in {time.monotonic() - began:.0f}s; ingress {cluster.base_url()}",
    )
    return cluster


def create(cluster: Cluster, image: str, ingress_port: int) -> None:
    if port_open(ingress_port):
        raise ClusterError(
            f"127.0.0.1:{ingress_port} (the ingress port) is taken; free it or set "
            "STORE_INGRESS_PORT to another port"
        )
    progress("cluster", f"creating {cluster.name} from {image}, ingress 127.0.0.1:{ingress_port}")
    kind = str(toolchain.ensure_one("kind"))
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as config:
        config.write(kind_config(ingress_port))
        config.flush()
        argv = [kind, "create", "cluster", "--name", cluster.name, "--image", image]
        _run([*argv, "--config", config.name, "--wait", "0s"], what="kind create cluster")


def gate(cluster: Cluster) -> None:
    """Wait for what every workload needs: Service routing, DNS, storage, ingress."""
    cluster.kubectl(
        "apply", "-f", str(HERE / "traefik.yaml"), "-f", str(HERE / "namespace-dev.yaml")
    )
    for namespace, workload in (
        ("kube-system", "daemonset/kube-proxy"),
        ("kube-system", "deployment/coredns"),
        ("local-path-storage", "deployment/local-path-provisioner"),
        ("traefik", "deployment/traefik"),
    ):
        progress("cluster", f"waiting for {workload}")
        try:
            cluster.kubectl(
                "-n",
                namespace,
                "rollout",
                "status",
                workload,
                f"--timeout={ROLLOUT_TIMEOUT}",
                capture=True,
            )
        except ClusterError as error:
            pods = cluster.kubectl(
                "-n", namespace, "get", "pods", "-o", "wide", check=False, capture=True
            )
            raise ClusterError(
                f"{workload} in {namespace} did not roll out: {error}\n{pods}"
            ) from None


@dataclass(frozen=True)
class Release:
    """The helm release skaffold.yaml describes: `make deploy` and the e2e install the same."""

    name: str
    chart: Path
    namespace: str
    values: tuple[Path, ...]
    set_values: dict[str, str]

    @classmethod
    def from_skaffold(cls, path: Path = ROOT / "skaffold.yaml") -> Release:
        (release,) = yaml.safe_load(path.read_text())["deploy"]["helm"]["releases"]
        return cls(
            name=release["name"],
            chart=ROOT / release["chartPath"],
            namespace=release["namespace"],
            values=tuple(ROOT / v for v in release.get("valuesFiles", [])),
            set_values={k: str(v) for k, v in release.get("setValues", {}).items()},
        )

    def enables(self, key: str) -> bool:
        """Whether the release's values switch `<key>.enabled` on (chart defaults, values
        files, then --set)."""
        switch = self.set_values.get(f"{key}.enabled")
        if switch is not None:
            return switch.lower() == "true"
        return enabled([self.chart / "values.yaml", *self.values], key)

    def helm_args(self, chart: Path) -> list[str]:
        """Arguments of `helm install|template` for `chart` (the release's, or its offline
        copy: k8s/chart.py)."""
        args = [self.name, str(chart), "--namespace", self.namespace, "--create-namespace"]
        for values in self.values:
            args += ["--values", str(values)]
        for key, value in self.set_values.items():
            args += ["--set", f"{key}={value}"]
        return args


def load_images(cluster: Cluster, refs: Sequence[str]) -> None:
    """Copy locally built images into the node's containerd (no registry involved)."""
    began = time.monotonic()
    progress("deploy", f"loading {len(refs)} images into {cluster.name}")
    _run(
        [str(toolchain.ensure_one("kind")), "load", "docker-image", "--name", cluster.name, *refs],
        what="kind load docker-image",
    )
    progress("deploy", f"images loaded in {time.monotonic() - began:.0f}s")


def install(cluster: Cluster, release: Release, *extra: str, timeout: str = "15m") -> None:
    """`helm upgrade --install` and wait until every pod is ready and every hook ran."""
    began = time.monotonic()
    if release.enables("operator"):
        # helm installs a chart's crds/ on the first install only: an upgrade that turns the
        # operator on, or brings changed CRDs, would find them missing or stale.
        progress("deploy", "applying the operator's CRDs (charts/operator/crds)")
        cluster.kubectl(
            "apply", "--server-side", "--force-conflicts", "-f", str(OPERATOR_CRDS), capture=True
        )
    progress("deploy", f"helm upgrade --install {release.name} into {release.namespace}")
    helm = str(toolchain.ensure_one("helm"))
    with tempfile.TemporaryDirectory(prefix="chart-") as dest:
        chart = offline_copy(release.chart, release.values, Path(dest))
        helm_install = [helm, "upgrade", "--install", *release.helm_args(chart)]
        wait = ["--kube-context", cluster.context, "--wait", "--timeout", timeout]
        _run([*helm_install, *wait, *extra], what=f"helm install of {release.name}")
    progress("deploy", f"{release.name} ready in {time.monotonic() - began:.0f}s")


def deploy(cluster: Cluster = Cluster()) -> None:
    """The store on the cluster: `make images`, load them, the release of skaffold.yaml."""
    up(cluster)
    build_images()
    load_images(cluster, store_images())
    install(cluster, Release.from_skaffold())
    progress("deploy", f"the store answers at {cluster.base_url()}/")


def release_images(release: Release | None = None) -> list[images.Image]:
    """The images a release runs (default: skaffold.yaml's): the store's own, plus each tool
    image (the operator, Locust) whose chart section (`operator`, `loadtest`) is enabled."""
    release = release or Release.from_skaffold()
    return [
        image
        for image in images.images()
        if image.name not in images.TOOL_IMAGES or release.enables(image.name)
    ]


def build_images(release: Release | None = None, names: Sequence[str] = ()) -> None:
    """`make images` of the release's images (or only `names`)."""
    names = names or [image.name for image in release_images(release)]
    progress("deploy", f"building images: {', '.join(names)} (make images)")
    _run([sys.executable, "-m", "devstack.images", *names], what="make images")


def store_images(release: Release | None = None) -> list[str]:
    return [image.ref for image in release_images(release)]


def healthy(cluster: Cluster) -> bool:
    """The cluster exists, its node runs and its API server answers (Docker must answer)."""
    return cluster.exists() and cluster.node_running() and cluster.api_answers()


def delete(cluster: Cluster) -> None:
    progress("cluster", f"deleting {cluster.name}")
    _run(
        [str(toolchain.ensure_one("kind")), "delete", "cluster", "--name", cluster.name],
        what="kind delete cluster",
    )


def down(cluster: Cluster = Cluster()) -> None:
    if docker.daemon_answers() and cluster.exists():
        delete(cluster)
    docker.stop_docker_if_we_started()


# Every toolchain program a cold `up` compiles (the Go-module add-ons come on top).
TOOLS = (*node_image.TOOLS, "kind", "helm")


def missing_programs() -> list[str]:
    """The cluster's Go programs the cache lacks."""
    tools = [name for name in TOOLS if not toolchain.path(name).exists()]
    return tools + [program.name for program in addons.GO_PROGRAMS if not program.binary.exists()]


def build_programs() -> None:
    """Compile every Go program the cluster needs into the cache (the Kubernetes toolchain,
    the ingress controller, the volume provisioner): the slow, Docker-free part of a cold
    `up`, which `make test` starts in the background (devstack.prebuild)."""
    began = time.monotonic()
    toolchain.ensure(TOOLS)
    for program in addons.GO_PROGRAMS:
        gobuild.build(program)
    took = time.monotonic() - began
    progress("cluster", f"every Go program of the cluster is built ({took:.0f}s)")


def main(argv: list[str]) -> int:
    commands: dict[str, Callable[[], object]] = {
        "up": up,
        "deploy": deploy,
        "down": down,
        "programs": build_programs,
    }
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python -m k8s.cluster {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    try:
        commands[argv[0]]()
    except (ClusterError, ChartError, FileNotFoundError, KeyError) as error:
        print(f"[cluster] FAILED: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
