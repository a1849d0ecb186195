"""The chart's in-cluster Locust Job (loadtest.enabled), run once at small scale against the
gateway Service of the kind release: it completes, and its report, read back from the Job's
log, has requests and not one failure."""

from __future__ import annotations

import json
from pathlib import Path

from k8s import loadtest
from k8s.log import progress
from tests.e2e.conftest import KindStore

# Small: a few users for half a minute, well under the gateway's per-client limits (every
# Locust user shares the Job pod's address).
SMALL = {"loadtest.users": "4", "loadtest.spawnRate": "2", "loadtest.runTime": "30s"}


def test_the_locust_job_runs_the_scenarios_without_failures(
    kind_store: KindStore, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    outcome, totals = loadtest.run(kind_store.cluster, kind_store.release, SMALL, report)
    progress("e2e", f"locust job {outcome}: {totals.requests} requests, {totals.failures} failed")
    assert outcome == "Complete", (report / "locust_failures.csv").read_text()
    assert totals.failures == 0 and totals.requests > 0, totals
    assert {"locust.html", "locust_stats.csv", "locust_failures.csv"} <= {
        p.name for p in report.iterdir()
    }
    stats = {entry["name"]: entry for entry in json.loads((report / "locust.json").read_text())}
    assert any(name.startswith("catalog:") for name in stats), sorted(stats)
    # the release is untouched: the Job was rendered on its own, not through helm upgrade
    values = kind_store.helm("get", "values", kind_store.release.name, "-o", "json")
    assert not (json.loads(values) or {}).get("loadtest", {}).get("enabled")
