"""skaffold.yaml, checked without skaffold: valid against the v4beta14 schema (with its
profiles applied), building the images `make images` builds from the same Dockerfiles and
arguments, deploying a chart, values and port-forward target that exist."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonpatch
import jsonschema
import pytest
import yaml

from k8s import toolchain
from k8s.chart import offline_copy
from k8s.cluster import DEFAULT_NAME, Cluster, Release, release_images
from tests.devloops.conftest import ROOT

SKAFFOLD = ROOT / "skaffold.yaml"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return dict(yaml.safe_load(SKAFFOLD.read_text()))


def _profiles(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The config as each profile makes it (patches applied, overrides merged)."""
    variants = [config]
    for profile in config.get("profiles", []):
        patched = jsonpatch.apply_patch(config, profile.get("patches", []))
        for section in ("build", "deploy", "portForward"):
            if section in profile:
                merged = patched.get(section, {})
                patched[section] = _merge(merged, profile[section])
        variants.append(patched)
    return variants


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {k: _merge(base.get(k), v) for k, v in override.items()} | {
            k: v for k, v in base.items() if k not in override
        }
    return override


def test_valid_against_the_schema(config: dict[str, Any], upstream: Path) -> None:
    schema = json.loads((upstream / "skaffold" / "v4beta14.json").read_text())
    assert config["apiVersion"] == "skaffold/v4beta14"
    for variant in _profiles(config):
        jsonschema.validate(variant, schema)


def test_artifacts_are_the_images_make_images_builds(config: dict[str, Any]) -> None:
    artifacts = {a["image"]: a for a in config["build"]["artifacts"]}
    wanted = {i.ref.rsplit(":", 1)[0]: i for i in release_images()}
    assert set(artifacts) == set(wanted)
    for ref, artifact in artifacts.items():
        image = wanted[ref]
        if "docker" in artifact:
            assert ROOT / artifact["context"] / artifact["docker"]["dockerfile"] == image.dockerfile
            assert artifact["docker"]["buildArgs"] == dict(image.args)
            assert artifact["docker"]["target"] == image.target
        else:  # staged contexts: built by `make images` itself, then tagged as skaffold asks
            command = f"sh k8s/build-staged-image.sh {image.name}"
            assert artifact["custom"]["buildCommand"] == command
            assert all((ROOT / p).exists() for p in artifact["custom"]["dependencies"]["paths"])


def test_every_profile_deploys_an_existing_chart(config: dict[str, Any]) -> None:
    for variant in _profiles(config):
        for release in variant["deploy"]["helm"]["releases"]:
            assert (ROOT / release["chartPath"] / "Chart.yaml").exists()
            assert all((ROOT / v).exists() for v in release["valuesFiles"]), release
    assert config["deploy"]["kubeContext"] == Cluster(DEFAULT_NAME).context


def test_port_forward_targets_the_gateway_service(config: dict[str, Any], tmp_path: Path) -> None:
    release = Release.from_skaffold(SKAFFOLD)
    helm = toolchain.ensure_one("helm")
    chart = offline_copy(release.chart, release.values, tmp_path)
    rendered = subprocess.run(
        [str(helm), "template", *release.helm_args(chart)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    services = {
        (obj["metadata"]["name"], port["port"])
        for obj in yaml.safe_load_all(rendered)
        if obj and obj["kind"] == "Service"
        for port in obj["spec"]["ports"]
    }
    for forward in config["portForward"]:
        assert forward["namespace"] == release.namespace
        assert (forward["resourceName"], forward["port"]) in services
