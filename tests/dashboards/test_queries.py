"""Every dashboard expression is valid PromQL: promtool parses it, and a real Prometheus
evaluates it without error (empty results are fine here; data from the running stack is
checked by the integration test through ``assert_all_panels_have_data``)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from dashboards.queries import (
    PanelQuery,
    assert_all_panels_have_data,
    evaluate,
    panel_queries,
    substitute,
    variable_queries,
    variable_values,
)


def every_query(dashboards: list[dict[str, Any]]) -> list[PanelQuery]:
    return [q for d in dashboards for q in panel_queries(d) + variable_queries(d)]


# --- substitution --------------------------------------------------------------------


def test_variables_take_their_defaults(dashboards: list[dict[str, Any]]) -> None:
    catalog = next(d for d in dashboards if d["uid"] == "store-catalog")
    values = variable_values(catalog)
    assert values["job"] == "catalog"
    assert values["handler"] == ".*"
    assert values["__rate_interval"] == "1m"
    assert "datasource" not in values


def test_substitute_forms() -> None:
    values = {"job": "cart", "__rate_interval": "1m", "h": ".*"}
    assert (
        substitute('rate(x{job="$job",h=~"${h:regex}",j="[[job]]"}[$__rate_interval])', values)
        == 'rate(x{job="cart",h=~".*",j="cart"}[1m])'
    )
    with pytest.raises(ValueError, match=r"\$nope"):
        substitute('x{a="$nope"}', values)


def test_no_variable_left_after_substitution(dashboards: list[dict[str, Any]]) -> None:
    queries = every_query(dashboards)
    assert len(queries) > 100
    for q in queries:
        assert "$" not in q.expr and "[[" not in q.expr, q


# --- promtool --------------------------------------------------------------------------


def test_promtool_parses_every_expression(dashboards: list[dict[str, Any]], tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    lines = ["groups:", "  - name: dashboards", "    rules:"]
    queries = every_query(dashboards)
    for i, q in enumerate(queries):
        quoted = q.expr.replace("'", "''")  # YAML single-quoted scalar
        lines += [f"      - record: dashboard:check_{i}", f"        expr: '{quoted}'"]
    rules = tmp_path / "dashboards.rules.yml"
    rules.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [promtool, "check", "rules", str(rules)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


# --- a real Prometheus -----------------------------------------------------------------


def test_prometheus_evaluates_every_expression(
    dashboards: list[dict[str, Any]], prometheus_url: str
) -> None:
    failures = []
    for q in every_query(dashboards):
        answer = evaluate(prometheus_url, q.expr)
        if answer.get("status") != "success":
            failures.append((q.dashboard, q.panel, q.expr, answer.get("error")))
    assert failures == []


def test_data_check_reports_errors_and_empty_panels(prometheus_url: str) -> None:
    deadline = time.monotonic() + 30
    while not evaluate(prometheus_url, 'up{job="prometheus"}')["data"]["result"]:
        assert time.monotonic() < deadline, "self-scrape never happened"
        time.sleep(0.5)
    time.sleep(2.5)  # a few samples, so rate() over the window has something
    dash = {
        "uid": "probe",
        "templating": {
            "list": [
                {"type": "datasource", "name": "datasource", "query": "prometheus"},
                {
                    "type": "query",
                    "name": "job",
                    "query": "label_values(up, job)",
                    "current": {"text": "prometheus", "value": "prometheus"},
                },
            ]
        },
        "panels": [
            {
                "type": "row",
                "title": "row",
                "panels": [
                    {"type": "stat", "title": "up", "targets": [{"expr": 'up{job="$job"}'}]}
                ],
            },
            {
                "type": "timeseries",
                "title": "rate",
                "targets": [
                    {
                        "expr": "sum(rate(prometheus_http_requests_total"
                        '{job="$job"}[$__rate_interval]))',
                        "range": True,
                    }
                ],
            },
            {"type": "stat", "title": "empty", "targets": [{"expr": "no_such_metric"}]},
            {
                "type": "stat",
                "title": "nan",
                "targets": [{"expr": "vector(0) / 0", "instant": True}],
            },
            {"type": "stat", "title": "broken", "targets": [{"expr": "sum(rate(up[1m])"}]},
        ],
    }
    problems = assert_all_panels_have_data(prometheus_url, [dash], window_seconds=60)
    assert {(p.panel, p.reason.split(":")[0]) for p in problems} == {
        ("empty", "no data"),
        ("nan", "only NaN (no traffic?)"),
        ("broken", "bad_data"),
    }
    assert assert_all_panels_have_data(prometheus_url, [dash], allow_nan=True, window_seconds=60)
