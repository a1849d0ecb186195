"""Container images made without a Dockerfile: a file tree and/or static binaries streamed
into `docker import` (what the cluster's component images need: kube-apiserver & co.,
etcd, CoreDNS, pause, the ingress controller, the provisioner)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from devstack.docker import DOCKER

PATH_ENV = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What a static binary needs around it: a writable /tmp and a user database.
SKELETON = {
    "etc/passwd": "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534::/:/sbin/nologin\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/nsswitch.conf": "hosts: files dns\n",
}


def exists(tag: str) -> bool:
    return (
        subprocess.run(
            [DOCKER, "image", "inspect", tag], capture_output=True, check=False
        ).returncode
        == 0
    )


def _add_text(tar: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def import_image(
    tag: str,
    *,
    binaries: Mapping[str, Path],
    tree: Path | None = None,
    changes: Sequence[str] = (),
    links: Mapping[str, str] | None = None,
) -> None:
    """`docker import` of `tree` (or a minimal skeleton) plus `binaries` (path in image ->
    file on the host), with Dockerfile-style `changes` (ENV, ENTRYPOINT, ...)."""
    argv = [DOCKER, "import"]
    for change in (PATH_ENV, *changes):
        argv += ["--change", change]
    proc = subprocess.Popen([*argv, "-", tag], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stdin is not None
    with tarfile.open(fileobj=proc.stdin, mode="w|") as tar:
        if tree is None:
            _add_dir(tar, "tmp", 0o1777)
            for name, text in SKELETON.items():
                _add_text(tar, name, text)
        else:
            tar.add(
                tree, arcname=".", filter=lambda info: None if info.name == "./.complete" else info
            )
        for name, source in binaries.items():
            info = tar.gettarinfo(source, arcname=name.lstrip("/"))
            info.mode, info.uid, info.gid = 0o755, 0, 0
            with source.open("rb") as data:
                tar.addfile(info, data)
        for name, points_to in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, points_to
            tar.addfile(info)
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"docker import of {tag} failed")
