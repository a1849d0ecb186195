"""PromQL fragments the dashboards are written with.

Conventions:
- rates use ``$__rate_interval`` (Grafana picks a window of at least four scrapes);
- every ratio has a denominator that exists whenever there is traffic, and its
  numerator falls back to ``0`` per series (``or <denominator> * 0``), so a service
  without errors shows ``0`` rather than "No data".
"""

from __future__ import annotations

from collections.abc import Sequence

RATE = "$__rate_interval"


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
