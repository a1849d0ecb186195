"""Write charts/store/Chart.lock without a chart repository (none is reachable here).

Every dependency is pinned to an exact version, so the lock is what `helm dependency update`
would write; its digest is computed like helm's (internal/resolver.HashReq: sha256 of Go's
JSON of [Chart.yaml's dependencies, the locked ones]), which `helm dependency build` checks.

    uv run python charts/lock.py [--check]
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

STORE = Path(__file__).resolve().parent / "store"
# chart.Dependency's JSON fields in Go's order; the omitempty ones only when set.
GO_FIELDS = ("name", "version", "repository", "condition", "tags", "enabled", "import-values",
             "alias")  # fmt: skip
ALWAYS = ("name", "repository")


def _go_json(dep: dict[str, Any]) -> dict[str, Any]:
    return {k: dep.get(k, "") for k in GO_FIELDS if dep.get(k) or k in ALWAYS}


def digest(requested: list[dict[str, Any]], locked: list[dict[str, Any]]) -> str:
    data = json.dumps([[_go_json(d) for d in requested], [_go_json(d) for d in locked]],
                      separators=(",", ":"))  # fmt: skip
    return "sha256:" + hashlib.sha256(data.encode()).hexdigest()


def lock(chart: Path = STORE) -> dict[str, Any]:
    requested = yaml.safe_load((chart / "Chart.yaml").read_text())["dependencies"]
    locked = [{k: d[k] for k in ("name", "repository", "version")} for d in requested]
    return {"dependencies": locked, "digest": digest(requested, locked)}


def main(argv: list[str]) -> int:
    path = STORE / "Chart.lock"
    wanted = lock()
    if "--check" in argv:
        current = yaml.safe_load(path.read_text())
        same = {k: current.get(k) for k in wanted} == wanted
        print(f"{path}: {'in sync' if same else 'out of sync: run python charts/lock.py'}")
        return 0 if same else 1
    generated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    path.write_text(yaml.safe_dump({**wanted, "generated": generated}, sort_keys=False))
    print(f"wrote {path} ({wanted['digest']})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
