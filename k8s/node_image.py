"""The kind node image, built offline and cached as a tar by content.

`kind build node-image` cannot run here (it pulls every image and calls a `ctr` flag that
Debian's containerd 1.6 lacks), so this module does what kind's builder does with parts
built on the machine: a base image mirroring kind's images/base (Debian's systemd,
containerd, runc, CNI plugins on debootstrap bookworm, plus kind's own files from its Go
module), the Kubernetes component images from static binaries, and the cluster add-ons
(ingress controller, provisioner), all imported into the node's containerd.

Usage: python -m k8s.node_image     (prints progress; quick when cached)
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from devstack.docker import DOCKER
from devstack.gobuild import cache_dir, go_binary, go_env
from k8s import addons, rawimage, toolchain
from k8s.log import progress
from k8s.rootfs import rootfs

HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
STORAGE_MANIFEST = HERE / "local-path-storage.yaml"

# kind's images/base package list, minus what only rootless or other storage needs (nfs,
# iscsi, fuse-overlayfs), plus Debian's builds of what kind compiles itself.
NODE_PACKAGES = (
    "systemd",
    "conntrack",
    "iptables",
    "nftables",
    "iproute2",
    "ethtool",
    "util-linux",
    "mount",
    "kmod",
    "libseccomp2",
    "pigz",
    "bash",
    "ca-certificates",
    "curl",
    "jq",
    "procps",
    "e2fsprogs",
    "containerd",
    "runc",
    "containernetworking-plugins",
)
KUBE_PROXY_PACKAGES = ("iptables", "nftables", "conntrack", "kmod", "ipset")
NODE_BINARIES = ("kubeadm", "kubelet", "kubectl")
# Image repository name (after the registry) -> the binary that is the whole image.
STATIC_COMPONENTS = {
    "kube-apiserver": "kube-apiserver",
    "kube-controller-manager": "kube-controller-manager",
    "kube-scheduler": "kube-scheduler",
    "etcd": "etcd",
    "coredns/coredns": "coredns",
    "pause": "pause",
}
# Every binary the node image is made of.
TOOLS = (*NODE_BINARIES, *STATIC_COMPONENTS.values(), "kube-proxy")


def _kind_files() -> Path:
    """kind's images/base/files, from kind's Go module (the version the toolchain builds)."""
    found = subprocess.run(
        [go_binary(), "mod", "download", "-json", f"sigs.k8s.io/kind@{toolchain.KIND}"],
        env=go_env(),
        cwd=cache_dir(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Path(json.loads(found)["Dir"]) / "images" / "base" / "files"


def _digest(*parts: str | bytes | Path) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.read_bytes() if isinstance(part, Path) else str(part).encode())
    return sha.hexdigest()[:12]


def rootfs_trees() -> list[Path]:
    """The node's and kube-proxy's Debian trees: network and disk only, no Docker."""
    return [rootfs("kind-node", NODE_PACKAGES), rootfs("kube-proxy", KUBE_PROXY_PACKAGES)]


def _base_image() -> str:
    """kind's images/base on our rootfs; tagged by what went in, so rebuilt only on change."""
    tree = rootfs("kind-node", NODE_PACKAGES)
    files = _kind_files()
    tag = "product-store/kind-base:" + _digest(
        tree.name, toolchain.KIND, *sorted(NODE_DIR.iterdir())
    )
    if rawimage.exists(tag):
        return tag
    progress("node-image", f"base image {tag}")
    rootfs_tag = f"product-store/kind-rootfs:{tree.name.rsplit('-', 1)[-1]}"
    if not rawimage.exists(rootfs_tag):
        rawimage.import_image(rootfs_tag, tree=tree, binaries={})
    with tempfile.TemporaryDirectory() as context:
        shutil.copytree(NODE_DIR, context, dirs_exist_ok=True)
        shutil.copytree(files, Path(context) / "files")
        subprocess.run(
            [DOCKER, "build", "-q", "--build-arg", f"BASE={rootfs_tag}", "-t", tag, context],
            env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return tag


def _sandbox_image(files: Path) -> str:
    """The pause image kind's containerd config names (kubeadm names another tag)."""
    match = re.search(
        r'sandbox_image = "([^"]+)"', (files / "etc/containerd/config.toml").read_text()
    )
    if not match:
        raise ValueError("kind's containerd config names no sandbox_image")
    return match.group(1)


def component_images() -> list[str]:
    """Every image kubeadm's control plane needs, tagged exactly as kubeadm names them."""
    tools = toolchain.ensure(TOOLS)
    kubeadm = [str(tools["kubeadm"]), "config", "images", "list"]
    listed = subprocess.run(
        [*kubeadm, "--kubernetes-version", toolchain.KUBERNETES],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    wanted = [*listed, _sandbox_image(_kind_files())]
    for tag in wanted:
        if rawimage.exists(tag):
            continue
        repo = tag.split("/", 1)[1].rsplit(":", 1)[0]
        progress("node-image", f"component image {tag}")
        if repo == "kube-proxy":
            # kube-proxy programs iptables/nftables through their command-line tools.
            tree = rootfs("kube-proxy", KUBE_PROXY_PACKAGES)
            binaries = {"usr/local/bin/kube-proxy": tools["kube-proxy"]}
            rawimage.import_image(tag, tree=tree, binaries=binaries)
            continue
        name = STATIC_COMPONENTS.get(repo)
        if name is None:
            raise KeyError(f"kubeadm needs {tag}, which this build does not know how to make")
        entry = f"/usr/local/bin/{name}"
        rawimage.import_image(
            tag, binaries={entry: tools[name]}, changes=[f'ENTRYPOINT ["{entry}"]']
        )
    return wanted


def node_image() -> str:
    """The node image's tag; loaded from the cached tar or built (~2-10 min cold)."""
    tools = toolchain.ensure(NODE_BINARIES)
    key = _digest(
        toolchain.KUBERNETES,
        toolchain.ETCD,
        toolchain.COREDNS,
        toolchain.PAUSE,
        *sorted(NODE_DIR.iterdir()),
        STORAGE_MANIFEST,
        *addons.IMAGE_RECIPES,
        rootfs("kind-node", NODE_PACKAGES).name,
        Path(__file__),  # how it is assembled
    )
    tag = f"product-store/kind-node:{toolchain.KUBERNETES}-{key}"
    saved = cache_dir() / "kind-node" / f"{tag.split(':')[1]}.tar"
    if rawimage.exists(tag):
        return tag
    if saved.exists():
        progress("node-image", f"loading {saved.name} (cached)")
        subprocess.run([DOCKER, "load", "-q", "-i", str(saved)], check=True)
        return tag
    began = time.monotonic()
    base = _base_image()
    preload = [*component_images(), *addons.images()]
    progress("node-image", f"assembling {tag} with {len(preload)} images")
    _assemble(base, tag, tools, preload)
    saved.parent.mkdir(parents=True, exist_ok=True)
    for old in saved.parent.glob("*.tar"):
        old.unlink()  # one node image on disk at a time (~1 GB each)
    subprocess.run([DOCKER, "save", "-o", f"{saved}.partial", tag], check=True)
    Path(f"{saved}.partial").replace(saved)
    progress("node-image", f"{tag} ready in {time.monotonic() - began:.0f}s (saved {saved})")
    return tag


def _assemble(base: str, tag: str, tools: dict[str, Path], preload: list[str]) -> None:
    """What kind's node-image builder does: start the base image, add the Kubernetes
    binaries and /kind/version, import the images into its containerd, commit."""
    name = f"store-node-build-{int(time.time())}"
    run = [DOCKER, "run", "-d", "--privileged", "--entrypoint=sleep", f"--name={name}"]
    subprocess.run([*run, base, "infinity"], check=True, stdout=subprocess.DEVNULL)

    def inside(*argv: str, stdin: IO[bytes] | None = None) -> None:
        # -i only to feed stdin: it would also wait on a daemon started in the background.
        exec_ = [DOCKER, "exec", *(["-i"] if stdin else []), name, *argv]
        subprocess.run(exec_, check=True, stdin=stdin, stdout=subprocess.DEVNULL)

    try:
        for binary in NODE_BINARIES:
            docker_cp = [DOCKER, "cp", str(tools[binary]), f"{name}:/usr/bin/{binary}"]
            subprocess.run(docker_cp, check=True)
        inside("sh", "-c", f"echo {toolchain.KUBERNETES} > /kind/version; mkdir -p /kind/manifests")
        storage = f"{name}:/kind/manifests/default-storage.yaml"
        subprocess.run([DOCKER, "cp", str(STORAGE_MANIFEST), storage], check=True)
        inside("sh", "-c", "nohup containerd </dev/null >/dev/null 2>&1 &")
        inside("sh", "-c", "for i in $(seq 60); do ctr version && exit 0; sleep 1; done; exit 1")
        for image in preload:
            saver = subprocess.Popen([DOCKER, "save", image], stdout=subprocess.PIPE)
            # Debian's ctr 1.6 has no --label (kind pins its images with one).
            import_ = ["ctr", "-n", "k8s.io", "images", "import", "--all-platforms", "--no-unpack"]
            inside(*import_, "-", stdin=saver.stdout)
            if saver.wait() != 0:
                raise RuntimeError(f"docker save {image} failed")
        # `sleep` is PID 1 here and reaps nobody: wait until containerd is a zombie.
        inside(
            "sh",
            "-c",
            "pkill -x containerd; while pgrep -x -r R,S,D containerd; do sleep 0.2; done",
        )
        entrypoint = 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]'
        commit = [DOCKER, "commit", "--change", entrypoint, name, tag]
        subprocess.run(commit, check=True, stdout=subprocess.DEVNULL)
    finally:
        subprocess.run([DOCKER, "rm", "-f", "-v", name], check=False, capture_output=True)


if __name__ == "__main__":
    print(node_image())
