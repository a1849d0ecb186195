"""Shared builders: every dashboard is assembled from these, never by copying panels.

Conventions:
- one Prometheus datasource variable, ``${datasource}``, on every panel and target;
- rates use ``$__rate_interval`` (Grafana picks a window of at least four scrapes);
- every ratio has a denominator that exists whenever there is traffic, and its
  numerator falls back to ``0`` per series (``or <denominator> * 0``), so a service
  without errors shows ``0`` rather than "No data";
- units: ``s`` for latencies, ``reqps``/``ops`` for rates, ``percentunit`` for ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, statetimeline, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

PanelBuilder = cogbuilder.Builder[model.Panel]

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
ALL = "$__all"

# Grid geometry (Grafana's grid is 24 columns wide).
FULL, HALF, THIRD, QUARTER = 24, 12, 8, 6
GRAPH_HEIGHT, STAT_HEIGHT = 8, 4

# Threshold palettes.
GREEN, ORANGE, RED = "green", "orange", "red"


# ---------------------------------------------------------------------------------------
# PromQL fragments
# ---------------------------------------------------------------------------------------


def sel(*matchers: str) -> str:
    """``{a="b", c=~"d"}`` from matchers; empty matchers are dropped."""
    kept = [m for m in matchers if m]
    return "{" + ", ".join(kept) + "}" if kept else ""


def total(inner: str, labels: Sequence[str] = ()) -> str:
    """``sum by (labels) (inner)``, or ``sum(inner)`` without labels."""
    return f"sum by ({', '.join(labels)}) ({inner})" if labels else f"sum({inner})"


def rate_sum(metric: str, selector: str, labels: Sequence[str] = ()) -> str:
    """``sum by (labels) (rate(metric{selector}[$__rate_interval]))``."""
    return total(f"rate({metric}{selector}[{RATE}])", labels)


def quantile(q: float, bucket_metric: str, selector: str, labels: Sequence[str] = ()) -> str:
    """``histogram_quantile(q, sum by (le, labels) (rate(bucket{selector}[...])))``."""
    inner = rate_sum(bucket_metric, selector, ["le", *labels])
    return f"histogram_quantile({q}, {inner})"


def ratio(numerator: str, denominator: str, labels: Sequence[str] = ()) -> str:
    """Fraction of ``denominator`` that matches ``numerator``; 0 where nothing matched.

    Both arguments are complete sub-expressions aggregated by the same ``labels``.
    """
    if labels:
        return f"({numerator} or {denominator} * 0) / {denominator}"
    return f"({numerator} or vector(0)) / {denominator}"


# ---------------------------------------------------------------------------------------
# Targets and panels
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Q:
    """One query of a panel: PromQL plus its legend template."""

    expr: str
    legend: str = ""
    instant: bool = False


def _targets(queries: Sequence[Q]) -> list[cogbuilder.Builder[variants.Dataquery]]:
    out: list[cogbuilder.Builder[variants.Dataquery]] = []
    for i, q in enumerate(queries):
        t = (
            prometheus.Dataquery()
            .ref_id(chr(ord("A") + i))
            .datasource(DATASOURCE)
            .expr(q.expr)
            .legend_format(q.legend or "__auto")
        )
        out.append(t.instant() if q.instant else t.range())
    return out


def _legend() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .show_legend(True)
        .display_mode(common.LegendDisplayMode.TABLE)
        .placement(common.LegendPlacement.BOTTOM)
        .calcs(["mean", "max", "lastNotNull"])
        .sort_by("Max")
        .sort_desc(True)
    )


def _tooltip() -> common_builders.VizTooltipOptions:
    return (
        common_builders.VizTooltipOptions()
        .mode(common.TooltipDisplayMode.MULTI)
        .sort(common.SortOrder.DESCENDING)
    )


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Absolute thresholds; the first step's value must be ``None`` (the base colour)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in steps])
    )


def value_text(mapping: dict[int, tuple[str, str]]) -> list[model.ValueMapping]:
    """Value → (text, colour) mappings, e.g. breaker states or up/down."""
    options = {
        str(value): model.ValueMappingResult(text=text, color=color, index=i)
        for i, (value, (text, color)) in enumerate(sorted(mapping.items()))
    }
    return [model.ValueMap(options=options)]


def graph(
    title: str,
    unit: str,
    *queries: Q,
    description: str,
    width: int = HALF,
    height: int = GRAPH_HEIGHT,
    stacked: bool = False,
    min_zero: bool = True,
) -> timeseries.Panel:
    """A time series panel with a table legend (mean, max, last) and a shared tooltip."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets(queries))
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(1)
        .fill_opacity(25 if stacked else 10)
        .legend(_legend())
        .tooltip(_tooltip())
    )
    if min_zero:
        panel = panel.min(0)
    if stacked:
        panel = panel.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    return panel


def single_stat(
    title: str,
    unit: str,
    query: Q,
    *,
    description: str,
    steps: Sequence[tuple[float | None, str]] = ((None, GREEN),),
    mappings: list[model.ValueMapping] | None = None,
    width: int = QUARTER,
    height: int = STAT_HEIGHT,
    decimals: float | None = None,
) -> stat.Panel:
    """A stat panel showing the last value, coloured by thresholds, with a sparkline."""
    panel = (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query]))
        .unit(unit)
        .span(width)
        .height(height)
        .thresholds(thresholds(*steps))
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.AREA)
        .text_mode(common.BigValueTextMode.AUTO)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )
    if mappings:
        panel = panel.mappings(mappings)
    if decimals is not None:
        panel = panel.decimals(decimals)
    return panel


def states(
    title: str,
    query: Q,
    *,
    description: str,
    mapping: dict[int, tuple[str, str]],
    width: int = HALF,
    height: int = GRAPH_HEIGHT,
) -> statetimeline.Panel:
    """A state timeline for enumerations (breaker state, up/down)."""
    return (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(_targets([query]))
        .span(width)
        .height(height)
        .mappings(value_text(mapping))
        .thresholds(thresholds((None, GREEN)))
        .color_scheme(dashboard.FieldColor().mode(model.FieldColorModeId.THRESHOLDS))
        .show_value(common.VisibilityMode.AUTO)
        .merge_values(True)
        .legend(
            common_builders.VizLegendOptions()
            .show_legend(True)
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
        )
    )


# ---------------------------------------------------------------------------------------
# Variables and the dashboard shell
# ---------------------------------------------------------------------------------------


def datasource_variable() -> dashboard.DatasourceVariable:
    """``$datasource``: any Prometheus datasource (kube-prometheus-stack's is the default)."""
    return dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")


def label_variable(
    name: str,
    label: str,
    query: str,
    *,
    default: str | None = None,
    multi: bool = False,
    description: str = "",
) -> dashboard.QueryVariable:
    """A ``label_values(...)`` variable.

    With ``default`` it is single-valued and preselected (a service's own job, so the
    dashboard opens on the right series whatever the Prometheus job naming); without it,
    "All" (``.*``) is preselected.
    """
    var = (
        dashboard.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
    if default is not None:
        return var.current(model.VariableOption(selected=True, text=default, value=default))
    return (
        var.multi(multi)
        .include_all(True)
        .all_value(".*")
        .current(model.VariableOption(selected=True, text="All", value=ALL))
    )


def new_dashboard(
    uid: str, title: str, tags: Sequence[str], description: str
) -> dashboard.Dashboard:
    """The common shell: uid, title, tags, time range, refresh, crosshair, $datasource."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["product-store", *tags])
        .timezone("browser")
        .time("now-1h", "now")
        .refresh("30s")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .editable()
        .with_variable(datasource_variable())
        .link(
            dashboard.DashboardLink("Product Store")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["product-store"])
            .as_dropdown(True)
            .include_vars(False)
            .keep_time(True)
        )
    )


def add_row(dash: dashboard.Dashboard, title: str, panels: Sequence[PanelBuilder]) -> None:
    """An expanded row followed by its panels (laid out left to right by the SDK)."""
    dash.with_row(dashboard.Row(title))
    for p in panels:
        dash.with_panel(p)


def finalize(dash: dashboard.Dashboard) -> model.Dashboard:
    """Build the model and give every panel (rows included) a stable id in grid order."""
    built = dash.build()
    next_id = 1
    for panel in built.panels or []:
        panel.id_val = next_id
        next_id += 1
        if isinstance(panel, model.RowPanel):
            for child in panel.panels:
                child.id_val = next_id
                next_id += 1
    return built
