"""The images as a cluster runs them: each service as a non-root user on a read-only root
filesystem, answering on a port published on 127.0.0.1, against a node of our Cassandra
image; no compiler in any image; OCI labels; the workspace version as the tag."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kit.topology import TOPOLOGY, Service

from devstack import images
from devstack import observability as obs
from devstack.docker import docker
from devstack.templates import render
from tests.images.conftest import Container, inspect, labels, run

VERSION = images.workspace_version()
TOOLS = ("gcc", "cc", "c++", "g++", "clang", "ld", "as", "make", "uv", "pip")


@pytest.fixture(scope="module")
def services(
    built: dict[str, str], network: str, cassandra_container: Container
) -> Iterator[dict[str, Container]]:
    """The four service images started together, each with a keyspace of its own and the
    client secrets the callers of the token issuer need (no secret has a default)."""
    clients = {
        s.name: secrets.token_urlsafe(16) for s in TOPOLOGY.callers_of(TOPOLOGY.token_issuer)
    }
    started = {}
    for s in TOPOLOGY:
        env = {
            s.env("cassandra_hosts"): '["cassandra"]',
            s.env("cassandra_keyspace"): f"image_test_{s.keyspace}",
            # one fresh node under the migrations of four services at once
            s.env("cassandra_request_timeout"): "60",
        }
        if s.name in clients:
            env[s.env("client_secret")] = clients[s.name]
        if s.name == TOPOLOGY.token_issuer:
            env[s.env("service_clients")] = json.dumps(clients)
            env[s.env("local_keys_dir")] = "/tmp/keys"  # a generated key ring, where it may write
        # Restarted when it fails at start, as a pod is (a fresh node may time out a migration).
        started[s.name] = run(
            built[s.name], "--network", network, "--restart", "on-failure:5", ports=(s.port,),
            env=env,
        )  # fmt: skip
    yield started
    for container in started.values():
        container.remove()


@pytest.mark.parametrize("service", list(TOPOLOGY), ids=lambda s: s.name)
def test_service_runs_read_only_as_non_root(
    services: dict[str, Container], service: Service
) -> None:
    container = services[service.name]
    url = container.url(service.port)
    container.wait(f"{service.name} /health/live", lambda: _ok(f"{url}/health/live"), 240)
    assert container.exec("id", "-u").strip() == "10001"
    # The root filesystem really is read-only for it.
    probe = docker("exec", container.id, "touch", "/app/x", check=False, capture=True)
    assert probe.returncode != 0 and "Read-only file system" in probe.stderr


def test_catalog_is_ready_on_the_cassandra_image(services: dict[str, Container]) -> None:
    catalog = TOPOLOGY.service("catalog")
    url = f"{services['catalog'].url(catalog.port)}/health/ready"
    services["catalog"].wait("catalog /health/ready (migrations applied)", lambda: _ok(url), 240)


def test_cassandra_image_exports_metrics(cassandra_container: Container) -> None:
    metrics = httpx.get(f"{cassandra_container.url(7070)}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert "cassandra_" in metrics.text


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("name", [i.name for i in images.images()])
def test_image_is_labelled_tagged_and_has_no_build_tools(built: dict[str, str], name: str) -> None:
    ref = built[name]
    assert ref == f"{TOPOLOGY.images}/{name}:{VERSION}"
    assert ref in json.loads(inspect(ref, ".RepoTags"))
    assert "latest" not in inspect(ref, ".RepoTags")
    oci = labels(ref)
    assert oci["org.opencontainers.image.title"] == f"{TOPOLOGY.images}/{name}"
    assert oci["org.opencontainers.image.version"] == VERSION
    assert oci["org.opencontainers.image.revision"]
    user = json.loads(inspect(ref, ".Config.User"))
    assert user.split(":")[0].isdigit() and int(user.split(":")[0]) > 0
    found = docker(
        "run", "--rm", "--entrypoint", "/bin/sh", ref, "-c",
        f"for t in {' '.join(TOOLS)}; do command -v $t; done; true",
        capture=True,
    ).stdout  # fmt: skip
    assert found.strip() == "", f"build tools in {ref}: {found.split()}"


# ---------------------------------------------------------------- gateway

UPSTREAMS = {f"{s.name.upper()}_UPSTREAM": "127.0.0.1:9" for s in TOPOLOGY}  # nothing listens


@pytest.fixture(scope="module")
def gateway(built: dict[str, str]) -> Iterator[Container]:
    port = TOPOLOGY.gateway.port
    container = run(built["gateway"], ports=(port,), env=UPSTREAMS)
    yield container
    container.remove()


def test_gateway_renders_the_local_stacks_template(gateway: Container, tmp_path: Path) -> None:
    values = {**images.gateway_defaults(), **UPSTREAMS}
    expected = render(obs.HERE / "gateway" / "nginx.conf.template", tmp_path / "n", values)
    url = gateway.url(TOPOLOGY.gateway.port)
    gateway.wait("the gateway's port", lambda: _answers(url), 60)
    assert gateway.exec("cat", f"{images.GATEWAY_VAR}/nginx.conf") == expected.read_text()
    assert gateway.exec("id", "-u").strip() == "10001"


def test_gateway_serves_swagger_and_json_errors(gateway: Container) -> None:
    url = gateway.url(TOPOLOGY.gateway.port)
    gateway.wait("the gateway's port", lambda: _answers(url), 60)
    swagger = httpx.get(f"{url}/swagger/", timeout=10)
    assert swagger.status_code == 200 and "swagger" in swagger.text.lower()
    assert httpx.get(f"{url}/swagger/swagger-ui-bundle.js", timeout=10).status_code == 200
    down = httpx.get(f"{url}{TOPOLOGY.service('catalog').prefix}/products", timeout=10)
    assert down.status_code == 502 and down.json()["detail"]
    assert httpx.get(f"{url}/health", timeout=10).status_code == 503


def test_gateway_without_upstreams_names_them(built: dict[str, str]) -> None:
    done = docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", built["gateway"],
                  check=False, capture=True)  # fmt: skip
    assert done.returncode == 64
    for name in UPSTREAMS:
        assert name in done.stderr


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
        return True
    except httpx.HTTPError:
        return False


# ---------------------------------------------------------------- Docker itself


def test_privileged_containers_run(built: dict[str, str]) -> None:
    """kind's node is a privileged container: the runc wrapper makes it possible here."""
    done = docker("run", "--rm", "--privileged", "--entrypoint", "/bin/true", built["gateway"],
                  check=False, capture=True)  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("image", images.tool_images(), ids=lambda i: i.name)
def test_tool_image_runs_its_command_read_only(built: dict[str, str], image: images.Image) -> None:
    """The operator and Locust images: their console script answers, as the numeric user."""
    done = docker("run", "--rm", "--read-only", "--tmpfs", "/tmp", built[image.name], "--help",
                  check=False, capture=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Usage" in done.stdout or "usage" in done.stdout
