"""Fixtures of the image tests: the images built (Docker's cache makes that quick when
nothing changed), and containers run the way a cluster runs them: read-only root, a writable
/tmp, restarted when they exit with an error (as a pod is), reached only through ports
published on 127.0.0.1."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest

from devstack import cassandra, images
from devstack.cassandra.jvm import DEV_SPEED_PROPERTIES
from devstack.docker import docker
from devstack.procs import free_port
from tests.polling import wait_for


@dataclass
class Container:
    id: str
    ports: Mapping[int, int]  # container port → port published on 127.0.0.1

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{self.ports[port]}"

    def exec(self, *argv: str) -> str:
        return docker("exec", self.id, *argv, capture=True).stdout

    def logs(self) -> str:
        done = docker("logs", "--tail", "60", self.id, check=False, capture=True)
        return done.stdout + done.stderr

    def wait(self, what: str, check: Callable[[], object], timeout: float) -> None:
        """wait_for with the container's log in the failure."""
        try:
            wait_for(what, check, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; its log:\n{self.logs()}") from None

    def remove(self) -> None:
        docker("rm", "--force", "--volumes", self.id, check=False, capture=True)


def run(
    image: str, *options: str, ports: tuple[int, ...] = (), env: Mapping[str, str] | None = None
) -> Container:
    """`docker run -d` the way a restricted pod runs: read-only root, writable /tmp only
    (exec like an emptyDir: Cassandra's native libraries are unpacked there)."""
    name = f"ps-test-{image.split('/')[-1].split(':')[0]}-{uuid.uuid4().hex[:6]}"
    published = {port: free_port() for port in ports}
    argv = ["run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp:exec", *options]
    argv += [a for port, host in published.items() for a in ("-p", f"127.0.0.1:{host}:{port}")]
    argv += [a for key, value in (env or {}).items() for a in ("-e", f"{key}={value}")]
    return Container(docker(*argv, image, capture=True).stdout.strip(), published)


@pytest.fixture(scope="session")
def built() -> dict[str, str]:
    """name → reference of every image, built for this checkout."""
    return {image.name: image.ref for image in images.build_all()}


@pytest.fixture(scope="session")
def network() -> Iterator[str]:
    name = f"ps-test-{uuid.uuid4().hex[:8]}"
    docker("network", "create", name, capture=True)
    yield name
    docker("network", "rm", name, check=False, capture=True)


@pytest.fixture(scope="session")
def cassandra_container(built: dict[str, str], network: str) -> Iterator[Container]:
    """One node from our image, reachable as `cassandra` on the test network."""
    container = run(
        built["cassandra"],
        "--network", network, "--network-alias", "cassandra",
        ports=(9042, 7070),
        env={
            "CASSANDRA_HEAP": "512M",
            # a lone node: no ring to wait for (as the local stack's dev node)
            "CASSANDRA_JVM_EXTRA_OPTS": " ".join(DEV_SPEED_PROPERTIES),
        },
    )  # fmt: skip
    try:
        cql = container.ports[9042]
        container.wait("Cassandra's CQL port", lambda: cassandra.is_up(cql), timeout=300)
        yield container
    finally:
        container.remove()


def inspect(ref: str, field: str) -> str:
    return docker("image", "inspect", "--format", f"{{{{json {field}}}}}", ref, capture=True).stdout


def labels(ref: str) -> dict[str, str]:
    return dict(json.loads(inspect(ref, ".Config.Labels")))
