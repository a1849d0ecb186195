"""Against a real kube-apiserver v1.34 (the `kube_apiserver` fixture, no pods):

1. every Kubernetes object each profile renders, validated strictly against the OpenAPI v3
   schema the server publishes;
2. a server-side dry run: the upstream CRDs applied first, then everything each profile
   renders (hooks included) goes through the API server's validation, defaulting and
   admission, with strict field validation. The namespace enforces the `restricted` Pod
   Security Standard, and warns on it, so a workload that would not be admitted is reported.

The dependencies' own objects are not rendered (their templates are not available offline,
see tests/chart/chart.py), hence no admission webhooks either."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.chart import schemas
from tests.chart.chart import NAMESPACE, PROFILES, Helm, Manifest
from tests.polling import wait_for

Rendered = dict[str, list[Manifest]]


@pytest.fixture(scope="session")
def kube_validators(kube_apiserver: Any, rendered: Rendered) -> schemas.Validators:
    builtin = {
        (o["apiVersion"], o["kind"])
        for objects in rendered.values()
        for o in objects
        if "." not in o["apiVersion"].split("/")[0] or o["apiVersion"].endswith(".k8s.io/v1")
    }

    def fetch(path: str) -> dict[str, Any]:
        argv = [*kube_apiserver.kubectl(), "get", "--raw", path]
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
        document: dict[str, Any] = json.loads(out.stdout)
        return document

    return schemas.openapi_validators(fetch, builtin)


@pytest.mark.parametrize("profile", PROFILES)
def test_kubernetes_objects_match_the_v1_34_schema(
    rendered: Rendered,
    kube_validators: schemas.Validators,
    crd_validators: schemas.Validators,
    profile: str,
) -> None:
    builtin = [o for o in rendered[profile] if (o["apiVersion"], o["kind"]) not in crd_validators]
    problems = [e for o in builtin for e in schemas.errors(kube_validators, o)]
    assert not problems, "\n".join(problems)
    print(f"{profile}: {len(builtin)} Kubernetes objects valid")
    bad = {**builtin[0], "spek": {}}
    assert schemas.errors(kube_validators, bad), "validation is not strict"


def kubectl(api: Any, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*api.kubectl(), *args], input=stdin, capture_output=True, text=True, timeout=180
    )


def all_established(api: Any) -> bool:
    proc = kubectl(api, "get", "crd", "-o", "json")
    crds = json.loads(proc.stdout)["items"] if proc.returncode == 0 else []
    return bool(crds) and all(
        any(c["type"] == "Established" and c["status"] == "True"
            for c in (crd.get("status") or {}).get("conditions") or [])
        for crd in crds
    )  # fmt: skip


@pytest.fixture(scope="session")
def cluster_with_crds(kube_apiserver: Any, upstream: Path) -> Any:
    for crd in [*schemas.upstream_crd_files(upstream), *schemas.OUR_CRDS]:
        proc = kubectl(kube_apiserver, "apply", "--server-side", "-f", str(crd))
        assert proc.returncode == 0, proc.stderr
    wait_for("the CRDs to be established", lambda: all_established(kube_apiserver))
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    }
    proc = kubectl(
        kube_apiserver, "apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(namespace)
    )
    assert proc.returncode == 0, proc.stderr
    return kube_apiserver


def dry_run(api: Any, objects: list[Manifest]) -> subprocess.CompletedProcess[str]:
    return kubectl(
        api, "apply", "--server-side", "--dry-run=server", "--validate=strict",
        "--field-manager=helm", "-n", NAMESPACE, "-f", "-", stdin=yaml.safe_dump_all(objects),
    )  # fmt: skip


def assert_accepted(proc: subprocess.CompletedProcess[str], objects: list[Manifest]) -> int:
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr  # Pod Security, deprecations, unknown fields
    applied = [line for line in proc.stdout.splitlines() if "(server dry run)" in line]
    assert len(applied) == len(objects), proc.stdout
    return len(applied)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_object_passes_a_server_side_dry_run(
    cluster_with_crds: Any, rendered: Rendered, profile: str
) -> None:
    accepted = assert_accepted(dry_run(cluster_with_crds, rendered[profile]), rendered[profile])
    print(f"{profile}: {accepted} objects accepted by kube-apiserver (server dry run)")


def test_the_load_test_job_passes_a_server_side_dry_run(cluster_with_crds: Any, helm: Helm) -> None:
    objects = helm.render("dev", sets=["loadtest.enabled=true"])
    assert any(o["kind"] == "Job" and o["metadata"]["name"].endswith("-loadtest") for o in objects)
    assert_accepted(dry_run(cluster_with_crds, objects), objects)


@pytest.mark.parametrize(
    ("sets", "named"),
    [
        (["signingKeyRing.gracePeriod=1m"], "gracePeriod must be at least"),
        (["signingKeyRing.rotationInterval=2s"], "rotationInterval must be at least 5s"),
    ],
)
def test_the_crds_refuse_an_inconsistent_key_ring(
    cluster_with_crds: Any, helm: Helm, sets: list[str], named: str
) -> None:
    """What values.schema.json cannot compare (durations against each other) the CRD's CEL
    rules refuse at install, naming the field."""
    objects = helm.render("dev", sets=sets)
    proc = dry_run(cluster_with_crds, objects)
    assert proc.returncode != 0 and named in proc.stderr, proc.stderr
