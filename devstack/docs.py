"""The documentation site (mkdocs.yml, docs/): build it, and generate its configuration
reference from the settings classes.

    python -m devstack.docs build [--site-dir DIR]     # mkdocs build --strict (default site/)
    python -m devstack.docs reference [--check]        # docs/configuration.md

``reference --check`` writes nothing and exits 1 when the committed page differs from the
code, which is what CI runs (like ``python -m dashboards.build --check``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from devstack.procs import ROOT

SITE = ROOT / "site"
REFERENCE = ROOT / "docs" / "configuration.md"
COMMON = "kit.settings:ServiceSettings"
# Service → its settings class; the env prefix comes from the class itself.
SETTINGS = {
    "catalog": "catalog.config:CatalogSettings",
    "cart": "cart.config:CartSettings",
    "orders": "orders.config:OrdersSettings",
    "users": "users.config:UsersSettings",
}


def build(site: Path = SITE) -> float:
    """``mkdocs build --strict`` into ``site``; seconds taken. Fails with mkdocs' output."""
    began = time.monotonic()
    argv = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--quiet"]
    argv += ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}")
    return time.monotonic() - began


# ---------------------------------------------------------------- configuration reference


def _load(spec: str) -> type[BaseSettings]:
    module, name = spec.split(":")
    cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return cls


def prefix(cls: type[BaseSettings]) -> str:
    return str(cls.model_config.get("env_prefix") or "<SVC>_")


def env_name(cls: type[BaseSettings], name: str) -> str:
    alias = cls.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        return alias.choices[0]  # a standard variable with no prefix (OTEL_...)
    return prefix(cls) + name.upper()


_BOUNDS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}  # annotated_types attribute names


def _type(info: FieldInfo) -> str:
    ann = info.annotation
    text = (
        ann.__name__ if isinstance(ann, type) and not getattr(ann, "__args__", None) else str(ann)
    )
    for noise in ("typing.", "pathlib.", "pydantic.types."):
        text = text.replace(noise, "")
    text = text.replace("SecretStr", "secret")
    limits = [
        f"{sign} {getattr(m, attr)}"
        for m in info.metadata
        for attr, sign in _BOUNDS.items()
        if isinstance(m, annotated_types.BaseMetadata) and hasattr(m, attr)
    ]
    return f"{text} ({', '.join(limits)})" if limits else text


def _default(info: FieldInfo) -> str:
    value: Any = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, dict | list):
        return json.dumps(value) if value else ("{}" if isinstance(value, dict) else "[]")
    return str(value)


def _description(cls: type[BaseSettings], name: str) -> str | None:
    """The field's description, or the one of the field it overrides in a base class."""
    for klass in cls.__mro__:
        fields = getattr(klass, "model_fields", {})
        if name in fields and fields[name].description:
            return str(fields[name].description)
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _prose(text: str) -> str:
    """A description as Markdown text: `<rf>` is not an HTML tag."""
    return text.replace("<", "&lt;")


def _table(cls: type[BaseSettings], names: Sequence[str], missing: list[str]) -> list[str]:
    rows = ["| variable | type | default | description |", "|---|---|---|---|"]
    for name in names:
        info = cls.model_fields[name]
        description = _description(cls, name)
        if description is None:
            missing.append(f"{cls.__name__}.{name}")
        cells = [
            f"`{env_name(cls, name)}`",
            _type(info),
            f"`{_default(info)}`",
            _prose(description or ""),
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def reference() -> str:
    """docs/configuration.md, from the settings classes. Raises when a field has no
    description: every variable is documented where it is declared."""
    common = _load(COMMON)
    missing: list[str] = []
    out = [
        "# Configuration reference",
        "",
        "<!-- Generated by `uv run python -m devstack.docs reference` from the settings",
        "     classes; edit those, not this page (CI fails when it is stale). -->",
        "",
        "Every setting is an environment variable, read by pydantic-settings when the",
        "process starts. Lists and maps are JSON (`CATALOG_CASSANDRA_HOSTS='[\"10.0.0.1\"]'`);",
        "a map's single entry can also be set with `__`, e.g.",
        "`ORDERS_LIFECYCLE_DELAYS__PENDING=5`. Unknown variables are ignored.",
        "",
        "## Every service",
        "",
        "Read by all four services with their own prefix (`CATALOG_`, `CART_`, `ORDERS_`,",
        "`USERS_`); shown here with `<SVC>_`. Where a service changes the default, its own",
        "table below says so.",
        "",
    ]
    out += _table(common, list(common.model_fields), missing)
    for service, spec in SETTINGS.items():
        cls = _load(spec)
        base = common.model_fields
        own = [
            name
            for name, info in cls.model_fields.items()
            if name not in base or _default(info) != _default(base[name])
        ]
        out += ["", f"## {service} (`{prefix(cls)}`)", ""]
        out += [f"`{cls.__module__}.{cls.__name__}`: what it adds or overrides.", ""]
        out += _table(cls, own, missing)
    if missing:
        raise ValueError(f"settings without a description: {', '.join(missing)}")
    return "\n".join(out) + "\n"


def check_reference(path: Path = REFERENCE) -> bool:
    return path.exists() and path.read_text(encoding="utf-8") == reference()


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.docs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="mkdocs build --strict")
    b.add_argument("--site-dir", type=Path, default=SITE)
    r = sub.add_parser("reference", help="generate docs/configuration.md")
    r.add_argument("--check", action="store_true", help="verify the page is up to date")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(f"[docs] site built in {build(args.site_dir):.1f}s: {args.site_dir}", flush=True)
        return 0
    rel = REFERENCE.relative_to(ROOT)
    if args.check:
        if not check_reference():
            print(f"out of date: {rel}", file=sys.stderr)
            print("run: uv run python -m devstack.docs reference", file=sys.stderr)
            return 1
        print(f"{rel} up to date")
        return 0
    REFERENCE.write_text(reference(), encoding="utf-8")
    print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
