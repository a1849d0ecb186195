"""The operator against the real API server (the kube_apiserver fixture): its CRDs applied
from the operator chart, a fresh namespace per test, the operator run by kopf's KopfRunner
as the chart's ServiceAccount with the chart's RBAC (so the tests prove the RBAC is enough),
the tests themselves as the admin.

The operator's tests live here rather than in operator/tests: pytest (importlib mode) would
name those modules `operator.tests.…` and shadow the standard library's `operator`."""

from __future__ import annotations

import base64
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from kopf.testing import KopfRunner
from store_operator.specs import GROUP, VERSION

from k8s import toolchain
from k8s.apiserver import KubeAPI, kubeconfig

# Short enough that the rotation tests take seconds; read when the handlers are imported.
os.environ["STORE_OPERATOR_RING_CHECK_SECONDS"] = "0.5"

CHART = Path(__file__).resolve().parents[2] / "charts" / "operator"
CRDS = CHART / "crds"

# Bad SigningKeyRing specs, refused twice: by the CRD's schema at the API server, and by the
# operator's own parser (for a CRD installed without its validation). Each: the spec, what
# the parser says, what the API server says.
BAD_RING_SPECS = [
    ({"rotationInterval": "1s"}, "at least", "rotationInterval must be at least 5s"),
    ({"algorithm": "HS256"}, "algorithm", "Unsupported value"),
    (
        {"gracePeriod": "1m", "accessTokenLifetime": "15m"},
        "gracePeriod",
        "gracePeriod must be at least",
    ),
    ({"rotationInterval": "daily"}, "duration", "spec.rotationInterval"),
]


_admin: list[kubernetes.client.ApiClient] = []  # the tests' own client (set by `kube`)


@pytest.fixture(scope="session")
def kube(kube_apiserver: KubeAPI) -> KubeAPI:
    """The API server with the operator's CRDs established."""
    subprocess.run([*kube_apiserver.kubectl(), "apply", "-f", str(CRDS)], check=True)
    subprocess.run(
        [*kube_apiserver.kubectl(), "wait", "--for=condition=Established", "--timeout=60s",
         "crd/signingkeyrings.productstore.io", "crd/catalogseeds.productstore.io"],
        check=True,
    )  # fmt: skip
    _admin[:] = [kubernetes.config.new_client_from_config(str(kube_apiserver.kubeconfig))]  # type: ignore[no-untyped-call]
    return kube_apiserver


@pytest.fixture
def namespace(kube: KubeAPI, tmp_path: Path) -> Iterator[str]:
    """A fresh namespace with the chart's RBAC for an operator watching it; KUBECONFIG
    points at that operator's ServiceAccount while the test runs."""
    name = f"op-{uuid.uuid4().hex[:8]}"
    core().create_namespace(
        kubernetes.client.V1Namespace(metadata=kubernetes.client.V1ObjectMeta(name=name))
    )
    rbac = subprocess.run(
        [str(toolchain.ensure_one("helm")), "template", "t", str(CHART), "--namespace", name,
         "--set", f"watchNamespace={name}", "--show-only", "templates/rbac.yaml"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    subprocess.run([*kube.kubectl(), "apply", "-f", "-"], input=rbac, text=True, check=True)
    token = subprocess.run(
        [*kube.kubectl(), "-n", name, "create", "token", "t-operator"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    config = tmp_path / "operator.kubeconfig"
    config.write_text(yaml.safe_dump(kubeconfig(kube.url, kube.ca_file, token)))
    previous = os.environ.get("KUBECONFIG")
    os.environ["KUBECONFIG"] = str(config)
    yield name
    if previous is None:
        os.environ.pop("KUBECONFIG", None)
    else:
        os.environ["KUBECONFIG"] = previous


@contextmanager
def operator(namespace: str) -> Iterator[KopfRunner]:
    """The operator watching `namespace`, in this process (kopf's test runner)."""
    args = ["run", "--standalone", "--namespace", namespace, "-m", "store_operator.handlers"]
    with KopfRunner(args, timeout=60) as runner:
        yield runner
    assert runner.exception is None, runner.output


def core() -> kubernetes.client.CoreV1Api:
    return kubernetes.client.CoreV1Api(_admin[0])


def custom() -> kubernetes.client.CustomObjectsApi:
    return kubernetes.client.CustomObjectsApi(_admin[0])


def create(namespace: str, plural: str, kind: str, name: str, spec: dict[str, Any]) -> None:
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": kind, "metadata": {"name": name}}
    custom().create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, {**body, "spec": spec}
    )


def get(namespace: str, plural: str, name: str) -> dict[str, Any]:
    found = custom().get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
    assert isinstance(found, dict)
    return found


def ready(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The Ready condition of a resource's status, if any."""
    for condition in resource.get("status", {}).get("conditions") or []:
        if condition["type"] == "Ready":
            return dict(condition)
    return None


def secret_files(namespace: str, name: str) -> dict[str, bytes] | None:
    try:
        secret = core().read_namespaced_secret(name, namespace)
    except kubernetes.client.exceptions.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}


def put_secret(namespace: str, name: str, values: dict[str, str]) -> None:
    core().create_namespaced_secret(
        namespace,
        kubernetes.client.V1Secret(
            metadata=kubernetes.client.V1ObjectMeta(name=name), string_data=values
        ),
    )
