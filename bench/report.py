"""The benchmark's report: JSON, a markdown page and PNG charts, written into docs/bench/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

from devstack.procs import ROOT

OUT = ROOT / "docs" / "bench"


def write(results: dict[str, Any], rss: dict[str, list[tuple[float, float]]],
          marks: list[tuple[float, str]], out: Path = OUT) -> Path:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    _latency_chart(results["endpoints"], out / "latency.png")
    _rss_chart(rss, marks, out / "rss.png")
    page = out / "index.md"
    page.write_text(markdown(results))
    return page


def markdown(r: dict[str, Any]) -> str:
    env = r["conditions"]
    lines = [
        "# Benchmark report",
        "",
        f"Written by `make bench` on {r['when']} ({env['machine']}; load average at the start"
        f" {env['loadavg_start']}). Every figure below was measured in this one run, the",
        "cases alternated round by round, each figure the median of the rounds; the load",
        "generator runs on the same cores. Raw numbers: [results.json](results.json). What"
        " limits each goal, with profiles: [performance.md](../performance.md#goals).",
        "",
        f"wrk: {env['connections']} connections, {env['duration_s']} s per case, "
        f"{env['rounds']} rounds.",
        "",
        "Load average (1, 5, 15 min) when each part began, the other sessions' work included: "
        + "; ".join(f"{part} {value}" for part, value in r.get("load", {}).items())
        + ".",
        "",
        "| case | req/s | req/s by round | P50 ms | P95 ms | P99 ms | errors | server CPU ms"
        " per request | ratio |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for e in r["endpoints"]:
        rounds = ", ".join(str(x) for x in e["rps_rounds"])
        lines.append(
            f"| {e['name']} | {e['rps']:,.0f} | {rounds} | {e['p50_ms']:.1f} | {e['p95_ms']:.1f}"
            f" | {e['p99_ms']:.1f} | {e['errors']} | {e.get('cpu_ms_per_request') or ''}"
            f" | {e.get('ratio', '')} |"
        )
    lines += [
        "",
        "Errors are non-2xx answers plus wrk's socket errors and timeouts (2 s). Server CPU:"
        " the user and system time of the process serving the case (the catalog behind the"
        " gateway), divided by the answers; unlike req/s it hardly depends on what else the"
        " machine is doing. In CPU ratios, `obs on / off` above 1 is what metrics and tracing"
        " cost per request.",
        "",
        "| ratio of req/s | value |",
        "|---|---:|",
        *(f"| {name} | {value:.2f} |" for name, value in r["ratios"].items()),
        "",
        "![latency](latency.png)",
        "",
    ]
    if "checkout_error" in r:
        lines += ["## Checkout", "", f"Not measured: `{r['checkout_error']}`", ""]
    c = r.get("checkout")
    if c:
        lines += [
            "## Checkout",
            "",
            f"{c['shoppers']} signed-in shoppers, one cart line each, checking out "
            f"{c['concurrency']} at a time directly against the cart service.",
            "",
            "| orders created | orders/s | P50 ms | P99 ms | duplicates | oversold units "
            "| lost units |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            f"| {c['created']} | {c['orders_per_s']:.1f} | {c['p50_ms']:.0f} "
            f"| {c['p99_ms']:.0f} | {c['duplicates']} | {c['oversold_units']} "
            f"| {c['lost_units']} |",
            "",
        ]
        if c.get("per_order"):
            lines += [
                "Per order created, while the orders were placed (CPU time of each process, and"
                " the Cassandra node's lightweight transactions; the orders worker moving"
                " earlier orders along is included):",
                "",
                "| per order | value |",
                "|---|---:|",
                *(f"| {name} | {value:.2f} |" for name, value in c["per_order"].items()),
                "",
            ]
    s = r.get("seeding")
    if s:
        lines += ["## Seeding", "", f"{s['summary']}", ""]
    lines += [
        "## Memory",
        "",
        "| process | start MiB | peak MiB | end MiB | growth over the second half MiB |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, m in r["rss"].items():
        lines.append(
            f"| {name} | {m['start_mib']:.0f} | {m['peak_mib']:.0f} | {m['end_mib']:.0f} "
            f"| {m['second_half_growth_mib']:+.1f} |"
        )
    lines += ["", "![rss](rss.png)", ""]
    return "\n".join(lines)


def _latency_chart(endpoints: list[dict[str, Any]], path: Path) -> None:
    names = [e["name"] for e in endpoints]
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(names) + 1.5))
    y = range(len(names))
    for offset, key, label in ((-0.25, "p50_ms", "P50"), (0, "p95_ms", "P95"),
                               (0.25, "p99_ms", "P99")):  # fmt: skip
        ax.barh([i + offset for i in y], [e[key] for e in endpoints], height=0.25, label=label)
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("latency (ms)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _rss_chart(
    rss: dict[str, list[tuple[float, float]]], marks: list[tuple[float, str]], path: Path
) -> None:
    fig, ax = plt.subplots(figsize=(10, 4))
    for name, series in rss.items():
        if series:
            ax.plot([t for t, _ in series], [m for _, m in series], label=name)
    for at, label in marks:
        ax.axvline(at, color="grey", linewidth=0.5)
        ax.text(at, ax.get_ylim()[1], label, rotation=90, va="top", fontsize=7)
    ax.set_xlabel("seconds into the run")
    ax.set_ylabel("RSS (MiB)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
