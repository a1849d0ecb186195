"""Shared builders: every dashboard is assembled from these, never by copying panels.

Conventions (the PromQL ones are in ``dashboards.promql``):
- one Prometheus datasource variable, ``${datasource}``, on every panel and target;
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

from dashboards.promql import quantile, rate_sum

PanelBuilder = cogbuilder.Builder[model.Panel]

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")

# Grid geometry (Grafana's grid is 24 columns wide).
FULL, HALF, THIRD, QUARTER = 24, 12, 8, 6
GRAPH_HEIGHT, STAT_HEIGHT = 8, 4

# Threshold palettes.
GREEN, ORANGE, RED = "green", "orange", "red"


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


def alert_steps(
    orange: float | None = None, red: float | None = None
) -> tuple[tuple[float | None, str], ...]:
    """Green, then orange from ``orange`` and red from ``red`` (either may be left out)."""
    steps: list[tuple[float | None, str]] = [(None, GREEN)]
    steps += [(v, c) for v, c in ((orange, ORANGE), (red, RED)) if v is not None]
    return tuple(steps)


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


def by_label(
    title: str,
    unit: str,
    metric: str,
    selector: str,
    label: str,
    *,
    description: str,
    width: int = HALF,
    stacked: bool = True,
) -> timeseries.Panel:
    """The rate of a counter split by one label: a series per value, stacked by default."""
    return graph(
        title,
        unit,
        Q(rate_sum(metric, selector, [label]), f"{{{{{label}}}}}"),
        description=description,
        width=width,
        stacked=stacked,
    )


def percentiles(
    title: str, unit: str, bucket_metric: str, selector: str, *, description: str, width: int = HALF
) -> timeseries.Panel:
    """P50, P95 and P99 of one histogram, a series each."""
    queries = [
        Q(quantile(q, bucket_metric, selector), f"P{round(q * 100)}") for q in (0.5, 0.95, 0.99)
    ]
    return graph(title, unit, *queries, description=description, width=width)


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
