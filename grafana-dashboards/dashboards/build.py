"""Generate the dashboards' JSON: ``python -m dashboards.build [--check] [--out DIR]``.

Output is deterministic: the SDK's key order, two-space indentation, a trailing newline.
``--check`` writes nothing and exits 1 when the committed files differ from the code (a
missing, changed or stale ``*.json``), which is what CI runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from dashboards import cart, cassandra, catalog, gateway, orders, tracing, users

GENERATED = Path(__file__).resolve().parent.parent / "generated"

# File stem → builder. The order is the order of the Grafana folder listing intent only.
DASHBOARDS: dict[str, Callable[[], model.Dashboard]] = {
    "catalog": catalog.build,
    "cart": cart.build,
    "orders": orders.build,
    "users": users.build,
    "gateway": gateway.build,
    "cassandra": cassandra.build,
    "tracing": tracing.build,
}


def render(dash: model.Dashboard) -> str:
    return json.dumps(dash, cls=JSONEncoder, indent=2, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """``{"catalog.json": "<json text>", ...}`` built from the code."""
    return {f"{name}.json": render(build()) for name, build in DASHBOARDS.items()}


def dashboards_json() -> list[dict[str, Any]]:
    """Every dashboard as parsed JSON, straight from the code (no files involved)."""
    return [json.loads(text) for text in generate().values()]


def write(out: Path = GENERATED) -> list[Path]:
    """Write every dashboard and delete stale ``*.json`` files; returns what changed."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = generate()
    changed: list[Path] = []
    for stale in sorted(out.glob("*.json")):
        if stale.name not in wanted:
            stale.unlink()
            changed.append(stale)
    for name, text in wanted.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def check(out: Path = GENERATED) -> list[str]:
    """Differences between ``out`` and the code, one message each; empty when in sync."""
    wanted = generate()
    problems = [
        f"{p.name}: stale (no dashboard generates it)"
        for p in sorted(out.glob("*.json"))
        if p.name not in wanted
    ]
    for name, text in wanted.items():
        path = out / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name}: differs from the code")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.build", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="verify the generated JSON is up to date"
    )
    parser.add_argument("--out", type=Path, default=GENERATED, help="output directory")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.out)
        for p in problems:
            print(f"out of date: {p}", file=sys.stderr)
        if problems:
            print("run: uv run python -m dashboards.build", file=sys.stderr)
            return 1
        print(f"{len(DASHBOARDS)} dashboards up to date in {args.out}")
        return 0
    changed = write(args.out)
    for path in changed:
        print(f"wrote {path}" if path.exists() else f"removed {path}")
    print(f"{len(DASHBOARDS)} dashboards in {args.out} ({len(changed)} changed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
