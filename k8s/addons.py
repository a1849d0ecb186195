"""The cluster add-ons built here: the ingress controller and the volume provisioner.

Traefik is the ingress controller: one static Go binary from the Go module proxy with no
separate data plane to build (ingress-nginx needs an OpenResty build and is being retired
upstream; Contour needs Envoy, HAProxy's controller a matching haproxy), it serves
standard `networking.k8s.io/v1` Ingress objects, and it reads ingress-nginx annotations,
so charts written for either work. local-path-provisioner is kind's own choice of
provisioner; its helper pods need only a shell, given by Debian's busybox-static.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from devstack.gobuild import GoProgram, build, cache_dir
from k8s import rawimage

TRAEFIK = GoProgram(
    name="traefik",
    module="github.com/traefik/traefik/v3",
    version="v3.6.12",  # 3.7 needs a nested module the proxy's zip leaves out
    package="github.com/traefik/traefik/v3/cmd/traefik",
    go="1.25.0",
    replaces=(
        "github.com/abbot/go-http-auth => github.com/containous/go-http-auth"
        " v0.4.1-0.20200324110947-a37a7636d23e",
        "github.com/gorilla/mux => github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59",
        "github.com/mailgun/minheap => github.com/containous/minheap"
        " v0.0.0-20190809180810-6e71eb837595",
    ),
    excludes=("github.com/tencentcloud/tencentcloud-sdk-go v3.0.83+incompatible",),
    ldflags="-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=v3.6.12",
)

LOCAL_PATH_PROVISIONER = GoProgram(
    name="local-path-provisioner",
    module="github.com/rancher/local-path-provisioner",
    version="v0.0.30",
    package="github.com/rancher/local-path-provisioner",
    go="1.23.0",
)

GO_PROGRAMS = (TRAEFIK, LOCAL_PATH_PROVISIONER)
TRAEFIK_IMAGE = f"product-store/traefik:{TRAEFIK.version}"
PROVISIONER_IMAGE = f"product-store/local-path-provisioner:{LOCAL_PATH_PROVISIONER.version}"
BUSYBOX = "1.35.0"  # Debian bookworm's busybox-static
HELPER_IMAGE = f"product-store/local-path-helper:{BUSYBOX}"
# What the helper pods' setup/teardown scripts call (busybox answers to its link name).
HELPER_COMMANDS = ("sh", "mkdir", "rm", "chmod", "ls", "cat")
# Everything that decides the add-on images' content (part of the node image's cache key).
IMAGE_RECIPES = (TRAEFIK_IMAGE, PROVISIONER_IMAGE, HELPER_IMAGE, *HELPER_COMMANDS)


def _busybox() -> Path:
    """Debian's static busybox, unpacked from its package into the cache."""
    target = cache_dir() / "busybox" / BUSYBOX / "bin" / "busybox"
    if target.exists():
        return target
    work = target.parent.parent
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", "-qq", "busybox-static"], cwd=work, check=True)
    (deb,) = work.glob("busybox-static_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work)], check=True)
    if not target.exists():
        raise FileNotFoundError(f"busybox-static did not unpack to {target}")
    return target


def images() -> list[str]:
    """Build (once) and return the add-on images the node image preloads."""
    for tag, program in ((TRAEFIK_IMAGE, TRAEFIK), (PROVISIONER_IMAGE, LOCAL_PATH_PROVISIONER)):
        if not rawimage.exists(tag):
            entry = f"/usr/local/bin/{program.name}"
            rawimage.import_image(
                tag, binaries={entry: build(program)}, changes=[f'ENTRYPOINT ["{entry}"]']
            )
    if not rawimage.exists(HELPER_IMAGE):
        rawimage.import_image(
            HELPER_IMAGE,
            binaries={"bin/busybox": _busybox()},
            links={f"bin/{command}": "busybox" for command in HELPER_COMMANDS},
        )
    return [TRAEFIK_IMAGE, PROVISIONER_IMAGE, HELPER_IMAGE]
