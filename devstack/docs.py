"""The documentation site (mkdocs.yml, docs/): build it, and generate the pages that are
derived from code: the configuration reference (settings classes), the dashboards (the
dashboards-as-code), the metrics catalogue (what /metrics exports) and the services' table
of the architecture page (kit/topology.yaml).

    python -m devstack.docs build [--site-dir DIR]     # mkdocs build --strict (default site/)
    python -m devstack.docs reference [--check]        # the generated pages

``reference --check`` writes nothing and exits 1 when a committed page differs from the
code, which is what CI runs (like ``python -m dashboards.build --check``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import annotated_types
import httpx
import yaml
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from devstack.gobuild import cache_dir
from devstack.procs import ROOT

SITE = ROOT / "site"
DOCS = ROOT / "docs"
COMMON = "kit.settings:ServiceSettings"
# Service → its settings class; the env prefix comes from the class itself.
SETTINGS = {
    "catalog": "catalog.config:CatalogSettings",
    "cart": "cart.config:CartSettings",
    "orders": "orders.config:OrdersSettings",
    "users": "users.config:UsersSettings",
}


def build(site: Path = SITE, config: Path = ROOT / "mkdocs.yml") -> float:
    """``mkdocs build --strict`` into ``site``, plus mermaid; seconds taken. Fails with
    mkdocs' output. Never ``--quiet``: it hides the warnings strict mode counts, so passes."""
    began = time.monotonic()
    argv = [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean"]
    argv += ["--config-file", str(config), "--site-dir", str(site)]
    quiet = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life banner
    done = subprocess.run(argv, cwd=ROOT, env=quiet, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mkdocs build --strict failed:\n{done.stdout}{done.stderr}")
    if script := mermaid_js():
        shutil.copyfile(script, site / MERMAID_PATH)
    return time.monotonic() - began


# mkdocs.yml's extra_javascript names this file. Material for MkDocs uses a `mermaid` it finds
# loaded and otherwise fetches mermaid@11 from unpkg, which a reader without internet lacks.
MERMAID_PATH = "assets/javascripts/mermaid.min.js"
MERMAID = "11.17.2"


def mermaid_js() -> Path | None:
    """mermaid.min.js from the npm registry, cached; None without npm (diagrams then need
    the reader's browser to reach unpkg)."""
    cached = cache_dir() / f"mermaid-{MERMAID}" / "mermaid.min.js"
    if cached.exists():
        return cached
    if (npm := shutil.which("npm")) is None:
        print("[docs] npm not found: mermaid is left to the reader's browser", flush=True)
        return None
    print(f"[docs] fetching mermaid {MERMAID} from the npm registry", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        argv = [npm, "pack", f"mermaid@{MERMAID}", "--silent", "--pack-destination", tmp]
        subprocess.run(argv, check=True, capture_output=True, timeout=600)
        with tarfile.open(next(Path(tmp).glob("mermaid-*.tgz"))) as tar:
            member = tar.extractfile("package/dist/mermaid.min.js")
            assert member is not None, "the mermaid package has no dist/mermaid.min.js"
            script = member.read()
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f"mermaid.min.js.{os.getpid()}.partial")
    partial.write_bytes(script)
    partial.replace(cached)  # atomic: a concurrent build sees all of it or nothing
    return cached


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


def _row(*cells: str) -> str:
    """One Markdown table row; `|` inside a cell is escaped."""
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


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
        rows.append(_row(*cells))
    return rows


def _generated(command: str = "reference") -> list[str]:
    return [
        f"<!-- Generated by `uv run python -m devstack.docs {command}`: edit the code it comes",
        "     from, not this page (CI fails when it is stale). -->",
    ]


def configuration() -> str:
    """docs/configuration.md, from the settings classes and the chart's values. Raises
    when a field has no description: every variable is documented where it is declared."""
    common = _load(COMMON)
    missing: list[str] = []
    out = [
        "# Configuration reference",
        "",
        *_generated(),
        "",
        "Two parts: the services' environment variables (from their settings classes) and",
        "the [Helm chart's values](#helm-chart-values) (from `charts/store/values.yaml`).",
        "",
        "Every setting is an environment variable, read by pydantic-settings when the",
        "process starts. Lists and maps are JSON (`CATALOG_CASSANDRA_HOSTS='[\"10.0.0.1\"]'`);",
        "a map's single entry can also be set with `__`, e.g.",
        "`ORDERS_LIFECYCLE_DELAYS__PENDING=5`. Unknown variables are ignored.",
        "",
        "## Every service {#common}",
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
        out += ["", f"## {service} (`{prefix(cls)}`) {{#{service}}}", ""]
        out += [f"`{cls.__module__}.{cls.__name__}`: what it adds or overrides.", ""]
        out += _table(cls, own, missing)
    if missing:
        raise ValueError(f"settings without a description: {', '.join(missing)}")
    return "\n".join(out) + "\n\n" + chart_values()


# ---------------------------------------------------------------- chart values

CHART_VALUES = ROOT / "charts" / "store" / "values.yaml"
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):(?P<rest>.*)$")


def _split_comment(rest: str) -> tuple[str, str]:
    """`value  # comment` into its parts (a `#` inside quotes is part of the value)."""
    quote = None
    for i, char in enumerate(rest):
        if char in "\"'" and quote in (None, char):
            quote = None if quote else char
        elif char == "#" and quote is None and (i == 0 or rest[i - 1] == " "):
            return rest[:i].strip(), rest[i + 1 :].strip()
    return rest.strip(), ""


def chart_values(path: Path = CHART_VALUES) -> str:
    """The chart's values as Markdown: every value with its default and the comments above
    it or beside it (helm-docs' `# --` marks a section's description)."""
    data = yaml.safe_load(path.read_text())
    described: dict[tuple[str, ...], str] = {}
    flow: set[tuple[str, ...]] = set()  # `requests: {cpu: 100m}`: one value, not a section
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped:
            pending = []
        elif stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip().removeprefix("-- "))
        elif match := _KEY.match(line):
            indent = len(match["indent"])
            stack = [(i, k) for i, k in stack if i < indent] + [(indent, match["key"])]
            value, comment = _split_comment(match["rest"])
            keys = tuple(k for _, k in stack)
            described[keys] = " ".join([*pending, comment]).strip()
            if value.startswith(("{", "[")):
                flow.add(keys)
            pending = []
    out = ["## Helm chart values", ""]
    out += [
        "The umbrella chart's `charts/store/values.yaml`, every value with its default and the",
        "comment beside it (`values.schema.json` rejects unknown keys and wrong types). The",
        "dependencies' sections pass their own charts' values through.",
        "",
    ]
    missing: list[str] = []
    for top, value in data.items():
        out += [f"### `{top}`", "", _prose(described.get((top,), "")), ""]
        rows = [_row("value", "default", "description"), _row("---", "---", "---")]
        for keys, leaf in _values((top,), value, flow):
            text = described.get(keys, "")
            if not text:
                missing.append(".".join(keys))
            default = "" if leaf is _SECTION else f"`{json.dumps(leaf)}`"
            rows.append(_row(f"`{'.'.join(keys)}`", default, _prose(text)))
        out += [*rows, ""] if len(rows) > 2 else []
    if missing:
        raise ValueError(f"chart values without a comment: {', '.join(missing)}")
    return "\n".join(out).rstrip("\n") + "\n"


_SECTION = object()  # the "value" of a mapping whose keys are listed after it


def _values(
    keys: tuple[str, ...], value: Any, flow: set[tuple[str, ...]]
) -> list[tuple[tuple[str, ...], Any]]:
    """(path, default) of every value under `keys`; a nested section, then its values."""
    if isinstance(value, dict) and value and keys not in flow:
        head = [(keys, _SECTION)] if len(keys) > 1 else []
        return head + [row for k, v in value.items() for row in _values((*keys, k), v, flow)]
    return [(keys, value)] if len(keys) > 1 else []


# ---------------------------------------------------------------- dashboards


def dashboards() -> str:
    """docs/observability/dashboards.md, from the dashboards-as-code."""
    from dashboards.build import dashboards_json

    out = ["# Dashboards", "", *_generated(), ""]
    out += [
        "Seven Grafana dashboards, written as code in `grafana-dashboards/` and generated to",
        "JSON. Each has a `datasource` variable and a `job` variable (filled from a metric only",
        "that component exports), so it works with any Prometheus, locally or with",
        "kube-prometheus-stack. Every panel's query is evaluated against a real Prometheus",
        "scraping the running stack in the tests.",
        "",
    ]
    for dash in dashboards_json():
        out += [f"## {dash['title']}", "", f"uid `{dash['uid']}`. {dash['description']}", ""]
        sections: list[tuple[str, list[dict[str, Any]]]] = [("", [])]
        for panel in dash["panels"]:  # a row panel starts the section of those after it
            if panel["type"] == "row":
                sections.append((panel["title"], []))
            else:
                sections[-1][1].append(panel)
        for title, panels in sections:
            if panels:
                out += [f"### {title}", ""] if title else []
                out += ["| panel | shows |", "|---|---|"]
                out += [_row(p["title"], _prose(p["description"])) for p in panels]
                out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------- metrics

# Modules that register business metrics, and who exports them.
METRIC_SOURCES = {
    "kit.cassandra": "every service",
    "kit.http": "cart, orders (callers)",
    "catalog.service": "catalog",
    "catalog.reservations": "catalog",
    "cart.service": "cart",
    "orders.service": "orders",
    "users.metrics": "users",
}


def _http_families() -> str:
    """What kit.metrics.install_metrics exports, scraped from a throwaway app."""
    from kit.metrics import install_metrics

    app = FastAPI()
    app.get("/ping")(lambda: {})
    install_metrics(app)

    async def scrape() -> str:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
            await client.get("/ping")
            return (await client.get("/metrics")).text

    return asyncio.run(scrape())


def _metric(family: Metric) -> tuple[str, str, str]:
    """Name as scraped (counters end in _total), type and labels of a metric family."""
    name = family.name + ("_total" if family.type == "counter" else "")
    return f"`{name}`", family.type, _labels(family.name, family.samples)


def _labels(name: str, samples: Sequence[Any]) -> str:
    found = {k for sample in samples for k in sample.labels} - {"le", "quantile"}
    if not found:  # a labelled metric nobody has observed yet exports no sample
        found = set(getattr(REGISTRY._names_to_collectors.get(name), "_labelnames", ()))
    return ", ".join(f"`{label}`" for label in sorted(found))


def metrics() -> str:
    """docs/observability/metrics.md, from the metrics the code registers."""
    out = ["# Metrics catalogue", "", *_generated(), ""]
    out += [
        "Every service serves `/metrics` (Prometheus text format) on its own port; the gateway",
        "answers 404 for it, Prometheus scrapes the services directly. Histogram buckets are",
        "fine enough for P50/P95/P99. Label values that are known in advance are exported at",
        "0 from the start, so the first event shows in `rate()`.",
        "",
        "## HTTP (every service)",
        "",
        "From prometheus-fastapi-instrumentator; `/metrics` and `/health/*` are not counted,",
        "status codes are grouped (`2xx`, `4xx`, `5xx`), `handler` is the route template.",
        "",
        "| metric | type | labels | meaning |",
        "|---|---|---|---|",
    ]
    for family in text_string_to_metric_families(_http_families()):
        if family.name.startswith("http_") and not family.name.endswith("_created"):
            out.append(_row(*_metric(family), family.documentation))
    out += ["", "## Store metrics", "", "| metric | type | labels | exported by | meaning |"]
    out.append("|---|---|---|---|---|")
    for module in METRIC_SOURCES:
        importlib.import_module(module)  # registers its metrics
    for family in sorted(REGISTRY.collect(), key=lambda f: f.name):
        if not family.name.startswith("store_"):
            continue
        out.append(_row(*_metric(family), _source(family.name), family.documentation))
    out += [
        "",
        "## Recording rules",
        "",
        "`devstack/prometheus/recording_rules.yml` precomputes what the alerts and dashboards",
        "read most, e.g. `job:http_request_duration_seconds:p99`,",
        "`job_handler:http_request_duration_seconds:p50|p95|p99`,",
        "`job:http_requests_5xx:ratio_rate5m` and `cassandra:client_requests:rate1m`.",
        "",
        "Cassandra exports its own metrics through a JMX exporter agent (`cassandra_*`,",
        "`jvm_*`), nginx through prometheus-nginx-exporter (`nginx_*`), and Jaeger's",
        "spanmetrics connector the span metrics (`traces_span_metrics_*`) of the tracing",
        "dashboard.",
    ]
    return "\n".join(out) + "\n"


def _source(name: str) -> str:
    collector = REGISTRY._names_to_collectors.get(name) or REGISTRY._names_to_collectors.get(
        name + "_total"
    )
    for module, source in METRIC_SOURCES.items():
        if collector is not None and any(
            value is collector for value in vars(importlib.import_module(module)).values()
        ):
            return source
    return "every service"


# ---------------------------------------------------------------- topology


def topology() -> str:
    """The services' table of the architecture page, from kit/topology.yaml."""
    from kit.topology import TOPOLOGY

    rows = [
        _row("service", "port", "gateway prefix", "keyspace", "env prefix", "calls"),
        _row(*["---"] * 6),
    ]
    for s in TOPOLOGY:
        calls = ", ".join(s.calls) or "—"
        rows.append(
            _row(
                s.name, str(s.port), f"`{s.prefix}/`", f"`{s.keyspace}`", f"`{s.env_prefix}`", calls
            )
        )
    return "\n".join(rows) + "\n"


def _region(name: str, render: Callable[[], str]) -> Callable[[str], str]:
    """Fills `<!-- name:start -->` … `<!-- name:end -->` of a hand-written page."""
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"

    def fill(page: str) -> str:
        before, rest = page.split(start, 1)
        return before + start + render() + end + rest.split(end, 1)[1]

    return fill


# Page → its new text from its current one: whole generated pages ignore the old text.
PAGES: dict[str, Callable[[str], str]] = {
    "configuration.md": lambda _: configuration(),
    "observability/dashboards.md": lambda _: dashboards(),
    "observability/metrics.md": lambda _: metrics(),
    "architecture.md": _region("topology", topology),
}


def _current(name: str) -> str:
    path = DOCS / name
    return path.read_text(encoding="utf-8") if path.exists() else ""


def stale() -> list[str]:
    """Generated pages (or regions) that differ from the code."""
    return [name for name, generate in PAGES.items() if generate(_current(name)) != _current(name)]


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.docs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="mkdocs build --strict")
    b.add_argument("--site-dir", type=Path, default=SITE)
    r = sub.add_parser("reference", help="generate the pages derived from code")
    r.add_argument("--check", action="store_true", help="verify the pages are up to date")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(f"[docs] site built in {build(args.site_dir):.1f}s: {args.site_dir}", flush=True)
        return 0
    if args.check:
        problems = stale()
        for name in problems:
            print(f"out of date: docs/{name}", file=sys.stderr)
        if problems:
            print("run: uv run python -m devstack.docs reference", file=sys.stderr)
            return 1
        print(f"{len(PAGES)} generated pages up to date in docs/")
        return 0
    for name, generate in PAGES.items():
        (DOCS / name).write_text(generate(_current(name)), encoding="utf-8")
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
