"""The umbrella chart as a cluster without chart repositories can install it.

Its third-party dependencies (K8ssandra, kube-prometheus-stack, Jaeger) come from chart
repositories, unreachable here, and helm refuses a chart whose dependencies are missing
even when they are disabled. The kind profile disables them all, so the installable copy
keeps the store's own chart and library (links resolved, as `helm package` does) and
leaves the remote dependencies out; values that enable one fail with a message naming it.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


class ChartError(ValueError):
    """The chart cannot be installed offline as asked."""


def enabled(values: Sequence[Path], key: str) -> bool:
    """`<key>.enabled` as the values files, in order, leave it (false when none sets it)."""
    enabled = False
    for path in values:
        section = (yaml.safe_load(path.read_text()) or {}).get(key) or {}
        enabled = bool(section.get("enabled", enabled))
    return enabled


def offline_copy(chart: Path, values: Sequence[Path], dest: Path) -> Path:
    """A copy of `chart` under `dest` with its local dependencies vendored and the remote
    ones (all disabled by `values`) left out; returns the copy's directory."""
    copy = dest / chart.name
    shutil.copytree(chart, copy, symlinks=False)
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    kept = []
    for dep in meta.get("dependencies", []):
        repository: str = dep["repository"]
        if repository.startswith("file://"):
            source = (chart / repository.removeprefix("file://")).resolve()
            shutil.copytree(source, copy / "charts" / dep["name"])
            kept.append(dep)
        elif enabled([chart / "values.yaml", *values], dep["name"]):
            raise ChartError(
                f"{dep['name']} is enabled but its chart comes from {repository}: run "
                f"`helm dependency build {chart}` where that repository is reachable"
            )
    meta["dependencies"] = kept
    (copy / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    (copy / "Chart.lock").unlink(missing_ok=True)
    return copy
