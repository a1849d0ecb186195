"""The cluster's own files agree with each other (pure checks; the kind e2e runs them)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import yaml

from k8s import addons, cluster

K8S = Path(cluster.__file__).parent


def _images(manifest: Path) -> set[str]:
    found = set()
    for obj in yaml.safe_load_all(manifest.read_text()):
        if obj and obj["kind"] == "Deployment":
            found |= {c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}
        if obj and obj["kind"] == "ConfigMap" and "helperPod.yaml" in obj["data"]:
            helper = yaml.safe_load(obj["data"]["helperPod.yaml"])
            found |= {c["image"] for c in helper["spec"]["containers"]}
    return found


def test_add_on_manifests_run_the_images_built_here() -> None:
    named = _images(K8S / "traefik.yaml") | _images(K8S / "local-path-storage.yaml")
    assert named == {addons.TRAEFIK_IMAGE, addons.PROVISIONER_IMAGE, addons.HELPER_IMAGE}


def test_kind_config_publishes_the_ingress_on_loopback_only() -> None:
    config = yaml.safe_load(cluster.kind_config(18080))
    assert config["networking"]["disableDefaultCNI"] is True
    (mapping,) = config["nodes"][0]["extraPortMappings"]
    assert mapping == {
        "containerPort": 80,
        "hostPort": 18080,
        "listenAddress": "127.0.0.1",
        "protocol": "TCP",
    }


def test_static_cni_hands_out_addresses_of_the_pod_subnet() -> None:
    conflist = json.loads((K8S / "node" / "10-store-pods.conflist").read_text())
    (ranges,) = conflist["plugins"][0]["ipam"]["ranges"]
    pods = ipaddress.IPv4Network(
        yaml.safe_load((K8S / "kind.yaml").read_text())["networking"]["podSubnet"]
    )
    assert all(ipaddress.IPv4Network(r["subnet"]).subnet_of(pods) for r in ranges)


def test_ingress_controller_listens_where_kind_publishes() -> None:
    docs = list(yaml.safe_load_all((K8S / "traefik.yaml").read_text()))
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (port,) = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    (mapping,) = yaml.safe_load((K8S / "kind.yaml").read_text())["nodes"][0]["extraPortMappings"]
    assert port["hostPort"] == mapping["containerPort"]
    (ingress_class,) = [d for d in docs if d["kind"] == "IngressClass"]
    default = "ingressclass.kubernetes.io/is-default-class"
    assert ingress_class["metadata"]["annotations"][default] == "true"  # the chart's default
