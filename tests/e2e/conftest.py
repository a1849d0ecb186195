"""The store on a kind cluster, for the end-to-end tests (`kind_store`).

The fixture creates the cluster (or reuses one that exists: a developer's `make cluster`),
builds the store's images and loads them into the node, installs exactly the helm release
skaffold.yaml describes and waits for every pod to be ready. Tests reach the store only
through the Ingress published on 127.0.0.1. At the end it deletes the cluster if it created
it and stops Docker if it started it, also when a test failed; a reused cluster is left as
it was found (with the release installed).

Each phase prints a progress line with its duration (`[e2e] ...`), outside pytest's capture,
and the session's summary repeats them: CI's log carries the figures.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from kit.topology import TOPOLOGY

from devstack import docker
from k8s import cluster as kind
from k8s import toolchain
from k8s.cluster import Cluster, Release
from k8s.log import progress

READY_TIMEOUT = 600.0  # seconds
_SCHEMA_SCRIPT = """
import asyncio, json, sys
from cassandra.query import SimpleStatement
from kit.cassandra import CassandraDB
from kit.migrate import settings_for

async def main() -> None:
    db = CassandraDB(settings_for(sys.argv[1]))
    await db.connect_async()
    try:
        query = f"SELECT version, applied_at FROM {db.keyspace}.schema_migrations"
        rows = await db.rows(SimpleStatement(query))
    finally:
        db.close()
    print(json.dumps({r["version"]: r["applied_at"].isoformat() for r in rows}))

asyncio.run(main())
"""
_timings: list[tuple[str, float]] = []
E2E = Path(__file__).parent


@dataclass(frozen=True)
class KindStore:
    """The installed store: its cluster, its release and the Ingress's base URL."""

    cluster: Cluster
    release: Release
    base_url: str
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        return self.release.namespace

    def kubectl(self, *args: str, check: bool = True) -> str:
        """kubectl in the release's namespace; returns stdout."""
        return self.cluster.kubectl("-n", self.namespace, *args, check=check, capture=True)

    def fullname(self, component: str) -> str:
        """Objects of the chart are <release>-<component> (store-lib.fullname)."""
        return f"{self.release.name}-{component}"

    def pods(self, component: str) -> list[str]:
        """Names of the running (not terminating) pods of a component."""
        selector = (
            f"app.kubernetes.io/instance={self.release.name},app.kubernetes.io/name={component}"
        )
        listed = json.loads(self.kubectl("get", "pods", "-l", selector, "-o", "json"))
        return [
            pod["metadata"]["name"]
            for pod in listed["items"]
            if not pod["metadata"].get("deletionTimestamp")
        ]

    def secret(self, name: str) -> dict[str, str]:
        data = json.loads(self.kubectl("get", "secret", name, "-o", "json"))["data"]
        return {key: base64.b64decode(value).decode() for key, value in data.items()}

    def admin_credentials(self) -> dict[str, str]:
        """The first administrator's username and password, read where the token issuer's
        Deployment reads them (the chart's admin Secret, generated in the dev profile)."""
        issuer = TOPOLOGY.issuer
        deployment = json.loads(
            self.kubectl("get", "deployment", self.fullname(issuer.name), "-o", "json")
        )
        containers = deployment["spec"]["template"]["spec"]["containers"]
        (container,) = (c for c in containers if c["name"] == issuer.name)
        refs = {
            env["name"]: env["valueFrom"]["secretKeyRef"]
            for env in container.get("env", [])
            if "secretKeyRef" in env.get("valueFrom", {})
        }
        credentials = {}
        for key in ("username", "password"):
            ref = refs[issuer.env(f"admin_{key}")]
            credentials[key] = self.secret(ref["name"])[ref["key"]]
        return credentials

    def helm(self, *args: str) -> str:
        """helm against the cluster, in the release's namespace; returns stdout."""
        helm = str(toolchain.ensure_one("helm"))
        context = ["--kube-context", self.cluster.context, "--namespace", self.namespace]
        done = subprocess.run([helm, *args, *context], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"helm {args[0]} failed: {done.stderr[-2000:]}"
        return done.stdout

    def schema_migrations(self, service: str) -> dict[int, str]:
        """Version -> applied_at of a service's keyspace, read inside one of its pods with
        its own settings (kit.migrate reads the same environment)."""
        out = self.kubectl(
            "exec",
            f"deployment/{self.fullname(service)}",
            "-c",
            service,
            "--",
            "python",
            "-c",
            _SCHEMA_SCRIPT,
            service,
        )
        return {int(k): v for k, v in json.loads(out.strip().splitlines()[-1]).items()}

    def client(self, timeout: float = 15.0) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=timeout)

    def unready_pods(self) -> list[str]:
        """Pods meant to run (not a finished Job's, not terminating) that are not ready."""
        pods = json.loads(self.kubectl("get", "pods", "-o", "json"))["items"]
        live = [
            pod
            for pod in pods
            if pod["status"].get("phase") != "Succeeded"
            and not pod["metadata"].get("deletionTimestamp")
        ]
        if not live:
            return ["(no pods)"]
        return [
            pod["metadata"]["name"]
            for pod in live
            if not any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in pod["status"].get("conditions", [])
            )
        ]

    def wait_all_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while unready := self.unready_pods():
            if time.monotonic() > deadline:
                pods = self.kubectl("get", "pods", "-o", "wide")
                raise AssertionError(f"pods not ready after {timeout:.0f}s: {unready}\n{pods}")
            time.sleep(2)


@contextmanager
def phase(what: str) -> Iterator[None]:
    progress("e2e", f"{what} ...")
    began = time.monotonic()
    yield
    took = time.monotonic() - began
    _timings.append((what, took))
    progress("e2e", f"{what}: {took:.0f}s")


@contextmanager
def uncaptured(request: pytest.FixtureRequest) -> Iterator[None]:
    """Let progress lines (and the builds' own) through pytest's capture."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is None:
        yield
        return
    with capture.global_and_fixture_disabled():
        yield


def _in_e2e(item: pytest.Item) -> bool:
    return E2E in item.path.parents


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The e2e runs after every other test: its cluster's programs then have the whole rest
    of the session to compile in the background (`make test` starts devstack.prebuild)."""
    items[:] = sorted(items, key=_in_e2e)  # stable: each group keeps its order


# Package scope: the cluster goes away (when the fixture made it) as soon as the last test
# of tests/e2e is done, not at the end of the whole run, which it would slow down.
@pytest.fixture(scope="package")
def kind_store(request: pytest.FixtureRequest) -> Iterator[KindStore]:
    cluster = Cluster()
    release = Release.from_skaffold()
    docker_was_up = docker.daemon_answers()
    existed = docker_was_up and kind.healthy(cluster)
    try:
        with uncaptured(request):
            with phase("the cluster's Go programs (make test compiles them in the background)"):
                kind.build_programs()
            with phase(f"cluster {cluster.name} ({'reused' if existed else 'created'})"):
                kind.up(cluster)
            with phase("images: build and load into kind"):
                kind.build_images()
                kind.load_images(cluster, kind.store_images())
            with phase(f"install of release {release.name} until every pod is ready"):
                kind.install(cluster, release)
                store = KindStore(cluster, release, cluster.base_url(), _timings)
                store.wait_all_ready()
        yield store
    finally:
        with uncaptured(request):
            if not existed:
                with phase(f"delete cluster {cluster.name}"):
                    kind.delete(cluster)
            if not docker_was_up:
                docker.stop_docker_if_we_started()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _timings:
        terminalreporter.section("kind e2e timings")
        for what, took in _timings:
            terminalreporter.write_line(f"{what}: {took:.0f}s")
