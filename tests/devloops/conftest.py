"""Static checks of the dev loops (skaffold.yaml, Tiltfile): neither tool installs here, so
their files are checked against the upstream schema and built-in signatures kept in
../shared/upstream/ (read-only reference data; see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def upstream() -> Path:
    # From the main checkout it is ../shared/upstream; from a worktree under wt/, one more up.
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "upstream").is_dir():
            return base / "shared" / "upstream"
    pytest.skip("../shared/upstream (skaffold schema, Tilt stubs) is not on this machine")
