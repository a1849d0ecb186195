"""Every PromQL expression of the dashboards, ready to run against a real Prometheus.

Grafana variables are substituted the way Grafana would with the dashboard's defaults:

- ``$__rate_interval`` and ``$__interval`` → ``1m``, ``$__range`` → ``1h`` (and the
  ``_s``/``_ms`` forms);
- a template variable → its preselected value (``$job`` → ``catalog``), or its
  "All" value (``.*``) when "All" is preselected; ``$datasource`` never appears in PromQL.

``panel_queries`` and ``variable_queries`` only read JSON; ``evaluate`` and
``assert_all_panels_have_data`` talk to Prometheus's HTTP API with the standard library.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}
ALL = "$__all"

# ${name}, ${name:format}, [[name]], [[name:format]], $name
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")
# label_values(selector, label) or label_values(label)
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)\s*$", re.S)


class PanelQuery(NamedTuple):
    dashboard: str  # dashboard uid
    panel: str  # panel title ("$name (variable)" for variable queries)
    expr: str  # PromQL with the variables substituted
    instant: bool = False


class Problem(NamedTuple):
    dashboard: str
    panel: str
    expr: str
    reason: str


JSONDict = Mapping[str, Any]


def _load(dashboard_json: JSONDict | str) -> JSONDict:
    return json.loads(dashboard_json) if isinstance(dashboard_json, str) else dashboard_json


def variable_values(dashboard_json: JSONDict | str) -> dict[str, str]:
    """Value of each template variable as Grafana would interpolate its default."""
    dash = _load(dashboard_json)
    values = dict(BUILTINS)
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") == "datasource":
            continue
        current = (var.get("current") or {}).get("value")
        if isinstance(current, list):
            current = "|".join(current) if current and ALL not in current else ALL
        if not current or current == ALL:
            current = var.get("allValue") or ".*"
        values[var["name"]] = str(current)
    return values


def substitute(expr: str, values: Mapping[str, str]) -> str:
    """Replace Grafana variables in ``expr``; an unknown variable is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise ValueError(f"unknown Grafana variable ${name} in {expr!r}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def _panels(panels: Iterable[JSONDict]) -> Iterator[JSONDict]:
    for panel in panels:
        if panel.get("type") == "row":
            yield from _panels(panel.get("panels", []))
        else:
            yield panel


def panel_queries(dashboard_json: JSONDict | str) -> list[PanelQuery]:
    """``(dashboard uid, panel title, expr)`` for every target of every panel."""
    dash = _load(dashboard_json)
    values = variable_values(dash)
    out = []
    for panel in _panels(dash.get("panels", [])):
        for target in panel.get("targets", []):
            expr = substitute(str(target.get("expr", "")), values)
            instant = bool(target.get("instant")) and not target.get("range")
            out.append(PanelQuery(dash["uid"], panel.get("title", ""), expr, instant))
    return out


def variable_queries(dashboard_json: JSONDict | str) -> list[PanelQuery]:
    """PromQL equivalents of the ``label_values(selector, label)`` query variables.

    ``count by (label) (selector)`` returns data exactly when the variable has options.
    """
    dash = _load(dashboard_json)
    values = variable_values(dash)
    out = []
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var.get("query")
        text = query.get("query", "") if isinstance(query, Mapping) else str(query)
        match = _LABEL_VALUES.match(text)
        if not match:
            raise ValueError(f"{dash['uid']}: unsupported variable query {text!r}")
        selector, label = match.group(1) or '{__name__=~".+"}', match.group(2)
        expr = substitute(f"count by ({label}) ({selector})", values)
        out.append(PanelQuery(dash["uid"], f"${var['name']} (variable)", expr))
    return out


def evaluate(
    prometheus_url: str,
    expr: str,
    *,
    range_seconds: float | None = None,
    step: str = "15s",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Run ``expr`` (instant, or a range ending now) and return Prometheus's JSON answer.

    HTTP 4xx answers (bad_data, execution errors) are returned too, with
    ``status == "error"``; only transport errors raise.
    """
    base = prometheus_url.rstrip("/")
    now = time.time()
    if range_seconds is None:
        path, params = "query", {"query": expr, "time": f"{now:.3f}"}
    else:
        start = now - range_seconds
        path = "query_range"
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{now:.3f}", "step": step}
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/{path}",
        data=data,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        if not body:
            raise
    answer: dict[str, Any] = json.loads(body)
    return answer


def _has_numbers(result: list[dict[str, Any]]) -> bool:
    for series in result:
        samples = series.get("values") or ([series["value"]] if "value" in series else [])
        if any(not math.isnan(float(v)) for _, v in samples):
            return True
    return False


def assert_all_panels_have_data(
    prometheus_url: str,
    dashboards: Iterable[JSONDict | str] | None = None,
    *,
    window_seconds: float = 600,
    allow_nan: bool = False,
    include_variables: bool = True,
) -> list[Problem]:
    """Every query of every panel (and variable) that errors or returns nothing.

    ``dashboards`` defaults to the dashboards generated from the code. Range panels are
    evaluated over the last ``window_seconds`` (like Grafana drawing them), instant
    ones at now. A result made only of NaN (a ratio over no traffic) counts as empty
    unless ``allow_nan``. Returns ``[]`` when everything has data.
    """
    if dashboards is None:
        from dashboards.build import dashboards_json

        dashboards = dashboards_json()
    problems: list[Problem] = []
    for dash in dashboards:
        queries = panel_queries(dash)
        if include_variables:
            queries += variable_queries(dash)
        for q in queries:
            try:
                answer = evaluate(
                    prometheus_url, q.expr, range_seconds=None if q.instant else window_seconds
                )
            except (OSError, ValueError) as exc:
                problems.append(Problem(q.dashboard, q.panel, q.expr, f"request failed: {exc}"))
                continue
            if answer.get("status") != "success":
                reason = f"{answer.get('errorType')}: {answer.get('error')}"
                problems.append(Problem(q.dashboard, q.panel, q.expr, reason))
                continue
            result = answer["data"]["result"]
            if not result:
                problems.append(Problem(q.dashboard, q.panel, q.expr, "no data"))
            elif not allow_nan and not _has_numbers(result):
                problems.append(Problem(q.dashboard, q.panel, q.expr, "only NaN (no traffic?)"))
    return problems
