"""Fixtures shared by all tests: the real Cassandra node, test tokens, a real Kubernetes API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import cassandra, docker
from k8s import apiserver
from tests.support.apps import TokenMinter


@pytest.fixture(scope="session")
def cassandra_node() -> Iterator[None]:
    """The real node on the CQL port: reused when up, else started and stopped afterwards."""
    started = not cassandra.is_up()
    if started:
        cassandra.start(wait=True)
    yield
    if started:
        cassandra.stop()


@pytest.fixture(scope="session", autouse=True)
def docker_left_as_found() -> Iterator[None]:
    """The image tests start Docker when it is down (devstack.docker.ensure_docker): the run
    stops it again at the end, as it stops everything else it started."""
    was_up = docker.daemon_answers()
    yield
    if not was_up:
        docker.stop_docker_if_we_started()


@pytest.fixture(scope="session")
def minter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenMinter]:
    yield TokenMinter(Path(tmp_path_factory.mktemp("jwks")))


@pytest.fixture(scope="session")
def kube_apiserver() -> Iterator[apiserver.KubeAPI]:
    """etcd + kube-apiserver on loopback as the admin (binaries built on first use, cached)."""
    with apiserver.running(name=f"test-kube-apiserver-{os.getpid()}") as api:
        yield api
