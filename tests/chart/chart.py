"""The umbrella chart as helm sees it offline, and what it renders per profile.

No chart repository is reachable here, so `helm dependency build` cannot fetch the three
third-party charts. `assemble` builds what it would have produced: a copy of
charts/store with the links under files/ resolved (as `helm package` does), the library
chart, and each dependency as a stub made of its upstream Chart.yaml and values.yaml from
../shared/upstream (their templates are not available: only our own objects are rendered
and checked; the dependencies' values are checked against their values.yaml).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHARTS = ROOT / "charts"
STORE = CHARTS / "store"
RELEASE = "store"
NAMESPACE = "store"
KUBE_VERSION = "1.34.4"  # the cluster the project builds (k8s/toolchain.py)
PROFILES = ("default", "dev", "production")

# The default profile names no Secret: a production install must be told them.
DEFAULT_SECRETS = (
    "secrets.signingKeys=store-signing-keys",
    "secrets.admin=store-admin",
    "secrets.serviceClients=store-service-clients",
)

Manifest = dict[str, Any]


def chart_metadata(chart: Path = STORE) -> dict[str, Any]:
    meta: dict[str, Any] = yaml.safe_load((chart / "Chart.yaml").read_text())
    return meta


def remote_dependencies(chart: Path = STORE) -> list[dict[str, Any]]:
    return [
        d
        for d in chart_metadata(chart)["dependencies"]
        if "://" in d["repository"] and not d["repository"].startswith("file://")
    ]


def assemble(dest: Path, upstream: Path) -> Path:
    """charts/store with its dependencies under charts/, ready for helm lint/template."""
    chart = dest / "store"
    shutil.copytree(STORE, chart, symlinks=False)  # links resolved, like `helm package`
    deps = chart / "charts"
    deps.mkdir(exist_ok=True)
    for dep in chart_metadata()["dependencies"]:
        repo: str = dep["repository"]
        if repo.startswith("file://"):
            source = (STORE / repo.removeprefix("file://")).resolve()
            shutil.copytree(source, deps / dep["name"])
            # and where Chart.yaml points, so `helm dependency build` resolves it too
            shutil.copytree(source, (chart / repo.removeprefix("file://")).resolve())
            continue
        source = upstream / dep["name"]
        meta = yaml.safe_load((source / "Chart.yaml").read_text())
        assert meta["version"] == dep["version"], f"{dep['name']}: upstream is {meta['version']}"
        meta.pop("dependencies", None)  # their own subcharts are not available either
        stub = deps / dep["name"]
        stub.mkdir()
        (stub / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
        shutil.copyfile(source / "values.yaml", stub / "values.yaml")
    return chart


@dataclass(frozen=True)
class Helm:
    binary: Path
    chart: Path  # an assembled chart

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, check=False, timeout=300
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed:\n{proc.stderr}{proc.stdout}")
        return proc

    def values_args(
        self, profile: str, sets: Iterable[str] = (), values: Mapping[str, Any] | None = None
    ) -> list[str]:
        args: list[str] = []
        if profile == "default":
            sets = [*DEFAULT_SECRETS, *sets]
        else:
            args += ["-f", str(self.chart / f"values-{profile}.yaml")]
        if values is not None:
            extra = self.chart.parent / f"extra-{abs(hash(repr(values)))}.yaml"
            extra.write_text(yaml.safe_dump(dict(values)))
            args += ["-f", str(extra)]
        for item in sets:
            args += ["--set", item]
        return args

    def template(
        self,
        profile: str,
        sets: Iterable[str] = (),
        values: Mapping[str, Any] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        return self.run(
            "template", RELEASE, str(self.chart), "--namespace", NAMESPACE,
            "--kube-version", KUBE_VERSION, *self.values_args(profile, sets, values),
            check=check,
        )  # fmt: skip

    def render(self, profile: str, sets: Iterable[str] = ()) -> list[Manifest]:
        return parse(self.template(profile, sets).stdout)

    def lint(self, profile: str) -> subprocess.CompletedProcess[str]:
        return self.run(
            "lint", "--strict", str(self.chart), "--namespace", NAMESPACE,
            "--kube-version", KUBE_VERSION, *self.values_args(profile), check=False,
        )  # fmt: skip


class YamlLoader(yaml.CSafeLoader):
    """A safe loader for what helm and the upstream CRDs write: a plain `=` (an operator in
    AlertmanagerConfig matchers) is YAML 1.1's `value` tag, which PyYAML refuses."""


def _plain_scalar(loader: yaml.CSafeLoader, node: yaml.Node) -> str:
    assert isinstance(node, yaml.ScalarNode)
    return str(loader.construct_scalar(node))


YamlLoader.add_constructor("tag:yaml.org,2002:value", _plain_scalar)


def parse(text: str) -> list[Manifest]:
    return [doc for doc in yaml.load_all(text, Loader=YamlLoader) if doc]


def pod_specs(objects: Iterable[Manifest]) -> Iterable[tuple[Manifest, Manifest]]:
    """(workload, its pod spec) for every object that runs pods."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job", "DaemonSet"):
            yield obj, obj["spec"]["template"]["spec"]


def quantity(value: str | int | float) -> float:
    """A Kubernetes quantity as a number (cores, bytes)."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6,
             "G": 1e9}  # fmt: skip
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)
