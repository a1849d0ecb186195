"""The documentation site: it builds with `mkdocs build --strict` (the `docs_site` fixture),
every alert links a runbook page that exists, and the configuration reference is generated
from the settings classes."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import Field
from pydantic_settings import BaseSettings

from devstack import docs
from devstack.procs import ROOT

RULES = sorted((ROOT / "devstack" / "prometheus").glob("*rules.yml"))
DOCS_BASE = "http://127.0.0.1:8080/docs/"


def _alerts() -> list[dict[str, object]]:
    return [
        rule
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_the_site_builds_strictly(docs_site: Path) -> None:
    index = (docs_site / "index.html").read_text()
    assert "<title>Product Store</title>" in index
    assert (docs_site / "configuration" / "index.html").exists()


def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    """Strict mode only counts the warnings mkdocs prints: the build must not silence them."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: t\ndocs_dir: docs\ntheme: {name: material}\n")
    with pytest.raises(RuntimeError, match=r"missing\.md"):
        docs.build(tmp_path / "site", config=config)


def test_every_alert_links_its_runbook_page(docs_site: Path) -> None:
    alerts = _alerts()
    assert len(alerts) >= 6
    for rule in alerts:
        url = rule["annotations"]["runbook_url"]  # type: ignore[index]
        assert url.startswith(DOCS_BASE), (rule["alert"], url)
        page = docs_site / urlsplit(url).path.removeprefix("/docs/") / "index.html"
        assert page.exists(), f"{rule['alert']}: {url} has no page in the built site"
        heading = re.search(r"<h1[^>]*>([^<]+)", page.read_text())
        assert heading and heading[1] == rule["alert"], f"{page} is not {rule['alert']}'s page"


def test_every_runbook_page_belongs_to_an_alert() -> None:
    slugs = {
        urlsplit(str(rule["annotations"]["runbook_url"])).path.split("/")[-2]  # type: ignore[index]
        for rule in _alerts()
    }
    pages = {p.stem for p in (ROOT / "docs" / "runbooks").glob("*.md")} - {"index"}
    assert pages == slugs


def test_reference_names_every_variable_of_a_settings_class() -> None:
    text = docs.configuration()
    assert "| `CART_CLIENT_SECRET` | secret \\| None | `unset` |" in text
    assert "| `OTEL_EXPORTER_OTLP_ENDPOINT` |" in text
    assert "| `ORDERS_SCHEDULE_BUCKETS` | int (≥ 1, ≤ 64) | `4` |" in text


def test_reference_refuses_an_undocumented_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    class Documented(BaseSettings):
        knob: int = Field(default=1, description="A knob")
        bare: int = 2

    monkeypatch.setattr(docs, "_load", lambda spec: Documented)
    with pytest.raises(ValueError, match=r"Documented\.bare"):
        docs.configuration()


CHART_VALUES = """\
# Header comment of the file, not of a value.

# -- Images of the store.
image:
  # Prefix with the trailing slash.
  registry: ""
  tag: "v#1"  # a tag; a '#' inside quotes is part of it
  resources:  # of the container
    requests: {cpu: 100m}  # per pod

# -- Off unless enabled.
extra:
  enabled: false  # install it
"""


def test_chart_values_are_listed_with_their_comments(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(CHART_VALUES)
    text = docs.chart_values(values)
    assert "### `image`\n\nImages of the store.\n" in text
    assert '| `image.registry` | `""` | Prefix with the trailing slash. |' in text
    assert "| `image.tag` | `\"v#1\"` | a tag; a '#' inside quotes is part of it |" in text
    assert "| `image.resources` |  | of the container |" in text
    assert '| `image.resources.requests` | `{"cpu": "100m"}` | per pod |' in text
    assert "| `extra.enabled` | `false` | install it |" in text
    assert "Header comment" not in text


def test_chart_values_refuse_an_uncommented_value(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(CHART_VALUES.replace("  enabled: false  # install it", "  enabled: false"))
    with pytest.raises(ValueError, match=r"extra\.enabled"):
        docs.chart_values(values)
