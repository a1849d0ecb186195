"""The Tiltfile, checked without Tilt (tests/devloops/tilt.py): every call of a Tilt
built-in fits the built-in's signature in Tilt's stubs, and evaluating it names only paths,
images, chart objects and resources that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8s import toolchain
from k8s.chart import offline_copy
from k8s.cluster import Release, release_images
from tests.devloops import tilt
from tests.devloops.conftest import ROOT

TILTFILE = ROOT / "Tiltfile"


@pytest.fixture(scope="module")
def api(upstream: Path) -> Path:
    return upstream / "tilt" / "api"


@pytest.fixture(scope="module")
def run(api: Path, tmp_path_factory: pytest.TempPathFactory) -> tilt.Run:
    # Tilt's users have chart repositories (`helm dependency build`); here the chart renders
    # from its offline copy (k8s/chart.py), with the dev profile that disables those.
    release = Release.from_skaffold()
    chart = offline_copy(release.chart, release.values, tmp_path_factory.mktemp("chart"))
    helm = toolchain.ensure_one("helm")
    return tilt.evaluate(TILTFILE, api, helm, charts={"charts/store": chart})


def test_every_call_fits_tilts_signatures(api: Path) -> None:
    problems = tilt.static_problems(TILTFILE.read_text(), tilt.signatures(api))
    assert not problems, "\n".join(problems)


def test_builds_exactly_the_store_images(run: tilt.Run) -> None:
    wanted = {i.ref.rsplit(":", 1)[0]: i for i in release_images()}
    built = {call["ref"]: call for call in run.of("docker_build") + run.of("custom_build")}
    assert set(built) == set(wanted)
    for ref, call in built.items():
        if "dockerfile" in call:  # docker_build: same Dockerfile and arguments as make images
            assert ROOT / call["dockerfile"] == wanted[ref].dockerfile
            assert call["build_args"] == dict(wanted[ref].args)
            assert call["target"] == wanted[ref].target
            assert (ROOT / call["context"]).is_dir()
        else:  # the staged images: the same builder as skaffold's custom artifacts
            assert call["command"] == f"sh k8s/build-staged-image.sh {wanted[ref].name}"
            assert all((ROOT / dep).exists() for dep in call["deps"]), call["deps"]
    used = {
        container["image"].rsplit(":", 1)[0]
        for obj in run.objects
        if obj["kind"] in ("Deployment", "StatefulSet", "Job")
        for container in obj["spec"]["template"]["spec"]["containers"]
    }
    assert used <= set(wanted), f"the chart runs images Tilt does not build: {used - set(wanted)}"


def test_live_update_syncs_existing_sources(run: tilt.Run) -> None:
    syncs = run.of("sync")
    assert syncs and all((ROOT / s["local_path"]).is_dir() for s in syncs)
    assert any(s["local_path"] == "services/kit/kit" for s in syncs)


def test_resources_name_chart_workloads(run: tilt.Run) -> None:
    workloads = {obj["metadata"]["name"] for obj in run.objects}
    resources = run.of("k8s_resource")
    assert {r["workload"] for r in resources} <= workloads
    known = workloads | {r["name"] for r in run.of("local_resource")}
    for resource in resources:
        assert set(resource.get("resource_deps", [])) <= known, resource


def test_links_to_the_store(run: tilt.Run) -> None:
    links = [
        link
        for r in run.of("k8s_resource") + run.of("local_resource")
        for link in r.get("links", [])
    ]
    assert links, "the Tiltfile should link to the gateway and Swagger UI"
