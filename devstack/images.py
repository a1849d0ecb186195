"""Container images of the store, built here: `make images` (`python -m devstack.images`).

    python -m devstack.images [NAME ...]     build (all by default), print each image's size
    python -m devstack.images bases          only the base images built here (`make base-image`)
    python -m devstack.images list           the image references

Every image is `product-store/<name>:<workspace version>` (never `latest`):
  catalog cart orders users   services/Dockerfile, one pattern for any workspace member
  gateway                     images/gateway/Dockerfile: nginx + the local stack's template
  cassandra                   images/cassandra/Dockerfile: the local stack's Maven jars on JDK 17

The Dockerfiles default to public base images (python:3.11-slim-bookworm, nginx, eclipse-temurin
17) for people with a registry. No registry is reachable here, so by default the builds use
bases made on this machine (`STORE_IMAGE_BASES=public` for the public ones): `debootstrap
--variant=minbase bookworm` imported with `docker import` (the rootfs cached under
~/.cache/product-store), and Python, nginx and JRE bases on top from Debian's packages.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kit.topology import TOPOLOGY

from devstack import cassandra, docs
from devstack import observability as obs
from devstack.docker import DOCKER, docker, docker_env, ensure_docker
from devstack.gobuild import cache_dir, exclusive
from devstack.procs import ROOT, VAR

IMAGES_DIR = ROOT / "images"
SUITE = "bookworm"
UV_VERSION = "0.13.9"  # devstack/install-uv.sh's pin
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _log(message: str) -> None:
    print(f"[images] {message}", flush=True)


def workspace_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def cache_root() -> Path:
    return cache_dir()


# ---------------------------------------------------------------- bases built here


@dataclass(frozen=True)
class Base:
    """A base image made on this machine, and the public image it stands in for."""

    ref: str
    dockerfile: str  # under images/base/
    public: str


DEBIAN = Base(f"product-store/debian-base:{SUITE}", "debian.Dockerfile", f"debian:{SUITE}-slim")
PYTHON = Base(
    f"product-store/python-base:3.11-{SUITE}", "python.Dockerfile", f"python:3.11-slim-{SUITE}"
)
NGINX = Base(f"product-store/nginx-base:{SUITE}", "nginx.Dockerfile", f"nginx:1.27-{SUITE}")
JRE = Base(f"product-store/jre-base:17-{SUITE}", "jre.Dockerfile", "eclipse-temurin:17-jre")
UV = Base(f"product-store/uv:{UV_VERSION}", "", f"ghcr.io/astral-sh/uv:{UV_VERSION}")
ROOTFS = f"product-store/debian-rootfs:{SUITE}"


def image_exists(ref: str) -> bool:
    return docker("image", "inspect", ref, check=False, capture=True).returncode == 0


def rootfs_tar() -> Path:
    """`debootstrap --variant=minbase` of the suite, as a tar cached by suite (about a minute)."""
    tar = cache_root() / f"debian-base-{SUITE}" / "rootfs.tar"
    if tar.exists():
        return tar
    with exclusive(f"debian-base-{SUITE}"):  # the background prebuild may be making it
        if not tar.exists():
            _debootstrap_tar(tar)
    return tar


def _debootstrap_tar(tar: Path) -> None:
    tar.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("debootstrap") is None:
        _log("installing debootstrap")
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=tar.parent) as tmp:
        root = Path(tmp) / "rootfs"
        _log(f"debootstrap --variant=minbase {SUITE} (about a minute) ...")
        began = time.monotonic()
        subprocess.run(
            ["debootstrap", "--variant=minbase", SUITE, str(root), "http://deb.debian.org/debian"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Drop what debootstrap leaves behind that an image should not carry.
        shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
        shutil.rmtree(root / "var/lib/apt/lists", ignore_errors=True)
        partial = tar.with_suffix(".partial")
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], check=True
        )
        partial.rename(tar)
        _log(f"rootfs ready in {time.monotonic() - began:.0f}s: {tar}")


def uv_binary() -> Path:
    """The uv binary install-uv.sh cached (installed first if needed)."""
    cached = cache_root() / f"uv-{UV_VERSION}" / "uv"
    if not cached.exists():
        subprocess.run(["bash", str(ROOT / "devstack" / "install-uv.sh")], check=True)
    return cached


def build_bases(force: bool = False) -> None:
    """The local bases, each only if missing (or `force`)."""
    if force or not image_exists(ROOTFS):
        _log(f"importing the rootfs as {ROOTFS}")
        docker("import", str(rootfs_tar()), ROOTFS, capture=True)
    # `docker import --change` refuses STOPSIGNAL on 20.10: a one-step build sets it.
    for base in (DEBIAN, PYTHON, NGINX, JRE):
        if force or not image_exists(base.ref):
            _build(
                base.ref,
                IMAGES_DIR / "base" / base.dockerfile,
                IMAGES_DIR / "base",
                {"ROOTFS": ROOTFS, "DEBIAN_BASE": DEBIAN.ref},
            )
    if force or not image_exists(UV.ref):
        # The same layout as uv's published image (/uv, /uvx), from the binary on this host.
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy2(uv_binary(), Path(tmp) / "uv")
            tar = Path(tmp) / "uv.tar"
            subprocess.run(
                ["tar", "-C", tmp, "--owner=0", "--group=0", "-cf", str(tar), "uv"], check=True
            )
            docker("import", str(tar), UV.ref, capture=True)
        _log(f"{UV.ref}: imported from {uv_binary()}")


# ---------------------------------------------------------------- the store's images


@dataclass(frozen=True)
class Image:
    name: str
    description: str
    dockerfile: Path
    stage: Callable[[Path], None]  # fills an empty directory: the build context
    args: Mapping[str, str] = field(default_factory=dict)
    bases: Mapping[str, Base] = field(default_factory=dict)  # build arg → base
    target: str = ""  # a stage of the Dockerfile (default: its last)

    @property
    def ref(self) -> str:
        return f"{TOPOLOGY.images}/{self.name}:{workspace_version()}"


def _pyproject(directory: Path) -> dict[str, Any]:
    return tomllib.loads((directory / "pyproject.toml").read_text())


def workspace_members() -> dict[str, Path]:
    """Package name → directory of every member of the uv workspace."""
    globs = _pyproject(ROOT)["tool"]["uv"]["workspace"]["members"]
    dirs = [d for g in globs for d in sorted(ROOT.glob(g)) if (d / "pyproject.toml").exists()]
    return {_pyproject(d)["project"]["name"]: d for d in dirs}


def member_closure(package: str) -> list[str]:
    """The package and the workspace members it depends on, transitively."""
    members, found, todo = workspace_members(), [], [package]
    while todo:
        name = todo.pop()
        if name not in found:
            found.append(name)
            requires = _pyproject(members[name])["project"].get("dependencies", [])
            todo += [n for r in requires if (n := re.split(r"[\s<>=!~;\[]", r)[0]) in members]
    return found


def stage_member(package: str, context: Path) -> None:
    """A build context with only what `uv sync --package` reads: the workspace's pyproject
    and lock, every member's pyproject (how uv finds the workspace), and the sources of the
    package and its workspace dependencies. Any other change leaves the image cached."""
    for top in ("pyproject.toml", "uv.lock"):
        shutil.copy2(ROOT / top, context / top)
    members, needed = workspace_members(), member_closure(package)
    skip = shutil.ignore_patterns("tests", "docs", "__pycache__", ".*", "*.pyc")
    for member, directory in members.items():
        dest = context / directory.relative_to(ROOT)
        if member in needed:
            shutil.copytree(directory, dest, ignore=skip)
        else:
            dest.mkdir(parents=True)
            shutil.copy2(directory / "pyproject.toml", dest)


def member_image(name: str, package: str, target: str = "app", **args: str) -> Image:
    """Any workspace member package: `services/Dockerfile`, whose `app` stage runs the
    console script ENTRYPOINT (the operator's kopf, Locust) and `service` stage uvicorn."""
    description = _pyproject(workspace_members()[package])["project"]["description"]
    return Image(
        name,
        description,
        ROOT / "services" / "Dockerfile",
        functools.partial(stage_member, package),
        args={"PACKAGE": package, "IMAGE_NAME": name, **args},
        bases={"PYTHON_BASE": PYTHON, "UV_IMAGE": UV},
        target=target,
    )


def service_images() -> list[Image]:
    return [
        member_image(s.name, f"store-{s.name}", "service", APP=f"{s.name}.main:app",
                     PORT=str(s.port))
        for s in TOPOLOGY
    ]  # fmt: skip


# Other workspace packages that ship as images: name → (package, console script).
TOOL_IMAGES = {
    "operator": ("store-operator", "store-operator"),
    "loadtest": ("store-loadtest", "locust"),
}


def tool_images() -> list[Image]:
    members = workspace_members()
    return [
        member_image(name, package, ENTRYPOINT=script)
        for name, (package, script) in TOOL_IMAGES.items()
        if package in members
    ]


# ---------------------------------------------------------------- gateway

GATEWAY_VAR = Path("/tmp/gateway")  # in the container: a tmpfs/emptyDir
GATEWAY_SHARE = Path("/usr/share/product-store")


def gateway_defaults() -> dict[str, str]:
    """The template's values in the container, from the local stack's own defaults; the
    upstreams are left out: whoever runs the image names them."""
    cfg = replace(obs.Config(), docs_root=GATEWAY_SHARE / "docs")
    values = obs.gateway_values(cfg, GATEWAY_VAR)
    values |= {"GATEWAY_ACCESS_LOG": "/dev/stdout", "SWAGGER_ROOT": GATEWAY_SHARE / "swagger"}
    return {k: str(v) for k, v in values.items() if not k.endswith("_UPSTREAM")}


def stage_gateway(context: Path) -> None:
    """The gateway's build context: template, defaults, entrypoint, Swagger UI, docs site."""
    shutil.copy2(obs.HERE / "gateway" / "nginx.conf.template", context)
    shutil.copy2(IMAGES_DIR / "gateway" / "entrypoint.sh", context)
    defaults = "".join(f"{k}={v}\n" for k, v in sorted(gateway_defaults().items()))
    (context / "gateway.env").write_text(defaults)
    obs.swagger_assets(context / "swagger")
    if (ROOT / "mkdocs.yml").exists():
        _log(f"docs site built in {docs.build(context / 'docs'):.1f}s")
    else:
        (context / "docs").mkdir()  # no docs site: /docs/ answers 404


# ---------------------------------------------------------------- Cassandra

CASSANDRA_LIB = Path("/opt/cassandra/lib")
CASSANDRA_ETC = Path("/etc/cassandra")


def cassandra_jvm_options() -> list[str]:
    """The local stack's JVM flags (upstream's jvm-server and jvm17-server options, the
    jamm agent, the JMX exporter agent) with the container's paths."""
    c = cassandra
    return [
        *c.JVM_SERVER_OPTIONS,
        *c.JVM17_SERVER_OPTIONS,
        f"-javaagent:{CASSANDRA_LIB / f'jamm-{c.JAMM_VERSION}.jar'}",
        "-XX:+CrashOnOutOfMemoryError",
        "-XX:HeapDumpPath=/var/lib/cassandra/dumps",
        "-Djava.io.tmpdir=/tmp",
        "-Dcassandra.jmx.local.port=7199",
        "-Dcassandra-foreground=yes",
        "-Dcassandra.storagedir=/var/lib/cassandra",
        "-Dcassandra.logdir=/var/lib/cassandra/logs",
        f"-Dcassandra.triggers_dir={CASSANDRA_ETC / 'triggers'}",
        f"-Dlogback.configurationFile={CASSANDRA_ETC / 'logback.xml'}",
        # Prometheus metrics on every interface of the pod: the scrape comes from outside.
        f"-javaagent:{CASSANDRA_LIB / f'jmx_prometheus_javaagent-{c.JMX_EXPORTER_VERSION}.jar'}"
        f"=7070:{CASSANDRA_ETC / 'jmx-exporter.yaml'}",
    ]


def stage_cassandra(context: Path) -> None:
    lib = cassandra.fetch(quiet=True)
    try:  # hard links: the jars are about 100 MB
        shutil.copytree(lib, context / "lib", copy_function=os.link)
    except OSError:
        shutil.rmtree(context / "lib", ignore_errors=True)  # another filesystem: copy
        shutil.copytree(lib, context / "lib")
    (context / "lib" / ".complete").unlink(missing_ok=True)
    (context / "jvm.options").write_text("\n".join(cassandra_jvm_options()) + "\n")
    # The local node's exporter rules, rendered by its own code (only this file is shared:
    # the image's cassandra.yaml binds the container's address, see images/cassandra).
    node = cassandra.Settings(data_dir=Path("/var/lib/cassandra"))
    rendered = cassandra.render_configs(node, context / "local-node")
    shutil.copy2(next(p for p in rendered if p.name == "jmx-exporter.yaml"), context)
    shutil.rmtree(context / "local-node")
    for name in ("cassandra.yaml", "logback.xml", "entrypoint.sh", "nodetool.sh"):
        shutil.copy2(IMAGES_DIR / "cassandra" / name, context)


def images() -> list[Image]:
    gateway = Image(
        "gateway",
        "nginx gateway: the local stack's template, Swagger UI, the docs site",
        IMAGES_DIR / "gateway" / "Dockerfile",
        args={"PORT": str(TOPOLOGY.gateway.port)},
        bases={"NGINX_BASE": NGINX},
        stage=stage_gateway,
    )
    cassandra_image = Image(
        "cassandra",
        f"Apache Cassandra {cassandra.CASSANDRA_VERSION} on JDK 17 with the JMX exporter",
        IMAGES_DIR / "cassandra" / "Dockerfile",
        bases={"JRE_BASE": JRE},
        stage=stage_cassandra,
    )
    return [*service_images(), gateway, cassandra_image, *tool_images()]


def _build(
    ref: str,
    dockerfile: Path,
    context: Path,
    args: Mapping[str, str],
    target: str = "",
    labels: Mapping[str, str] | None = None,
) -> None:
    argv = ["build", "--progress=plain", "-f", str(dockerfile), "-t", ref]
    argv += ["--target", target] if target else []
    argv += [a for key, value in args.items() for a in ("--build-arg", f"{key}={value}")]
    argv += [a for key, value in (labels or {}).items() for a in ("--label", f"{key}={value}")]
    # Downloads inside builds (PyPI) verify TLS against this host's CA bundle, handed in as a
    # build secret: it is never stored in a layer.
    argv += ["--secret", f"id=ca,src={CA_BUNDLE}", str(context)]
    began = time.monotonic()
    _log(f"building {ref} ...")
    log = Path(tempfile.gettempdir()) / f"build-{ref.replace('/', '_').replace(':', '_')}.log"
    with log.open("w") as out:
        done = subprocess.run(
            [DOCKER, *argv], env=docker_env(), stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        print(log.read_text()[-6000:], file=sys.stderr)
        raise RuntimeError(f"building {ref} failed (full log: {log})")
    _log(f"built {ref} in {time.monotonic() - began:.1f}s")


def revision() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def oci_labels(image: Image, bases: Mapping[str, str]) -> dict[str, str]:
    oci = "org.opencontainers.image"
    return {
        f"{oci}.title": f"{TOPOLOGY.images}/{image.name}",
        f"{oci}.description": f"Product Store: {image.description}",
        f"{oci}.version": workspace_version(),
        f"{oci}.revision": revision(),
        f"{oci}.vendor": "Product Store",
        f"{oci}.base.name": next(v for k, v in bases.items() if k.endswith("_BASE")),
    }


def build(image: Image, local_bases: bool) -> None:
    bases = {arg: (base.ref if local_bases else base.public) for arg, base in image.bases.items()}
    args = {**image.args, **bases}
    (VAR / "images").mkdir(parents=True, exist_ok=True)
    # A fresh context per build: parallel builds (a test run beside `make images`) never meet.
    with tempfile.TemporaryDirectory(prefix=f"{image.name}-", dir=VAR / "images") as context:
        image.stage(Path(context))
        _build(
            image.ref, image.dockerfile, Path(context), args, image.target, oci_labels(image, bases)
        )


def size_mb(ref: str) -> float:
    out = docker("image", "inspect", "--format", "{{.Size}}", ref, capture=True).stdout
    return int(out) / 1e6


def local_bases() -> bool:
    return os.environ.get("STORE_IMAGE_BASES", "local") != "public"


def build_all(names: list[str] | None = None) -> list[Image]:
    """Docker up, the local bases if missing, then the images (Docker's layer cache and uv's
    cache mount make an unchanged image take seconds)."""
    ensure_docker()
    wanted = [i for i in images() if not names or i.name in names]
    if local_bases():
        build_bases()
    for image in wanted:
        build(image, local_bases())
    return wanted


def main(argv: list[str]) -> int:
    if argv[:1] == ["list"]:
        print("\n".join(i.ref for i in images()))
        return 0
    if argv[:1] == ["bases"]:
        ensure_docker()
        build_bases(force="--force" in argv)
        return 0
    if unknown := set(argv) - {i.name for i in images()}:
        print(f"unknown image(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    began = time.monotonic()
    built = build_all(argv)
    _log(f"{len(built)} image(s) in {time.monotonic() - began:.0f}s:")
    for image in built:
        print(f"  {image.ref:<36} {size_mb(image.ref):8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
