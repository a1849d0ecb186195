"""Fixtures of the chart checks: helm (built by k8s/toolchain.py), the assembled chart, and
what each profile renders (rendered once per session)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.chart import schemas
from tests.chart.chart import PROFILES, ROOT, Helm, Manifest, assemble


def upstream_dir() -> Path | None:
    """../shared/upstream from the project root (from a git worktree too)."""
    candidates = [os.environ.get("STORE_UPSTREAM_DIR", "")]
    candidates += [str(p / "shared" / "upstream") for p in (ROOT.parent, ROOT.parent.parent)]
    return next((Path(c) for c in candidates if c and Path(c, "README.md").is_file()), None)


@pytest.fixture(scope="session")
def upstream() -> Path:
    found = upstream_dir()
    if found is None:
        pytest.skip("../shared/upstream (the dependency charts' CRDs and values) is absent")
    return found


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    from k8s import toolchain

    return toolchain.ensure_one("helm")


@pytest.fixture(scope="session")
def helm(helm_binary: Path, upstream: Path, tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(helm_binary, assemble(tmp_path_factory.mktemp("chart"), upstream))


@pytest.fixture(scope="session")
def rendered(helm: Helm) -> dict[str, list[Manifest]]:
    """Every object each profile renders (hooks included)."""
    return {profile: helm.render(profile) for profile in PROFILES}


@pytest.fixture(scope="session")
def crd_validators(upstream: Path) -> schemas.Validators:
    files = [*schemas.upstream_crd_files(upstream), *schemas.OUR_CRDS]
    return schemas.crd_validators(schemas.load_crds(files))
