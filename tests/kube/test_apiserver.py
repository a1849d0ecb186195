"""The kube_apiserver fixture is a real API server: objects persist, service accounts sign."""

from __future__ import annotations

import json
import subprocess

from k8s.apiserver import KubeAPI


def kubectl(api: KubeAPI, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [*api.kubectl(), *args], input=stdin, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_namespace_and_configmap_round_trip(kube_apiserver: KubeAPI) -> None:
    kubectl(kube_apiserver, "create", "namespace", "fixture-check")
    kubectl(
        kube_apiserver,
        "-n",
        "fixture-check",
        "create",
        "configmap",
        "greeting",
        "--from-literal=hello=world",
    )
    stored = json.loads(
        kubectl(kube_apiserver, "-n", "fixture-check", "get", "configmap", "greeting", "-o", "json")
    )
    assert stored["data"] == {"hello": "world"}


def test_server_side_dry_run_rejects_an_invalid_object(kube_apiserver: KubeAPI) -> None:
    bad = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "bad", "namespace": "default"},
            "spec": {"ports": [{"port": 70000}]},
        }
    )
    done = subprocess.run(
        [*kube_apiserver.kubectl(), "apply", "--dry-run=server", "-f", "-"],
        input=bad,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "spec.ports[0].port" in done.stderr


def test_service_account_tokens_are_signed(kube_apiserver: KubeAPI) -> None:
    kubectl(kube_apiserver, "-n", "default", "create", "serviceaccount", "robot")
    token = kubectl(kube_apiserver, "-n", "default", "create", "token", "robot").strip()
    review = json.loads(
        kubectl(
            kube_apiserver,
            "create",
            "-o",
            "json",
            "-f",
            "-",
            stdin=json.dumps(
                {
                    "apiVersion": "authentication.k8s.io/v1",
                    "kind": "TokenReview",
                    "spec": {"token": token},
                }
            ),
        )
    )
    assert review["status"]["authenticated"] is True
    assert review["status"]["user"]["username"] == "system:serviceaccount:default:robot"
