"""The dashboard shell: variables, rows, and stable panel ids."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import DATASOURCE, PanelBuilder

ALL = "$__all"


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
