"""The chart's in-cluster Locust Job, run once against an installed release.

    python -m k8s.loadtest [--users 10] [--run-time 1m] [--report var/loadtest-report]
    make cluster-loadtest

Builds and loads the loadtest image, renders only the Job (`loadtest.enabled=true` with
the release's own values, so the release itself is left as it is), replaces any previous
run's Job, waits for it to finish and writes its report (CSV, HTML, JSON, from the end of
the pod's log: loadtest/loadtest/report.py) into a directory. Exits 1 when a request failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from loadtest.report import ReportError, Totals, extract

from k8s import cluster as kind
from k8s import toolchain
from k8s.chart import ChartError, offline_copy
from k8s.log import progress

TEMPLATE = "templates/loadtest.yaml"
IMAGE = "loadtest"  # devstack/images.py's name, and the chart's section
POLL_SECONDS = 5.0
UNSCHEDULABLE_SECONDS = 60.0  # the scheduler retries meanwhile (another pod may go away)


def with_job(release: kind.Release, sets: dict[str, str]) -> kind.Release:
    """The release with the Job switched on (and its options set)."""
    values = {**release.set_values, "loadtest.enabled": "true", **sets}
    return dataclasses.replace(release, set_values=values)


def render(release: kind.Release) -> str:
    """Only the Job's manifest, from the release's chart (its offline copy) and values."""
    helm = str(toolchain.ensure_one("helm"))
    with tempfile.TemporaryDirectory(prefix="chart-") as dest:
        chart = offline_copy(release.chart, release.values, Path(dest))
        done = subprocess.run(
            [helm, "template", *release.helm_args(chart), "--show-only", TEMPLATE],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise kind.ClusterError(f"helm template of the load test Job failed: {done.stderr}")
    return done.stdout


def job_outcome(job: dict[str, object]) -> str | None:
    """ "Complete" or "Failed" once the Job has finished, else None."""
    status = job.get("status")
    conditions = status.get("conditions", []) if isinstance(status, dict) else []
    for condition in conditions or []:
        if condition.get("type") in ("Complete", "Failed") and condition.get("status") == "True":
            return str(condition["type"])
    return None


def unschedulable(pods: dict[str, object]) -> str | None:
    """The scheduler's reason when the Job's pod cannot be placed (e.g. too little CPU)."""
    items = pods.get("items")
    for pod in items if isinstance(items, list) else []:
        for condition in pod.get("status", {}).get("conditions", []):
            if condition.get("type") == "PodScheduled" and condition.get("reason") == (
                "Unschedulable"
            ):
                return str(condition.get("message", "unschedulable"))
    return None


def run(
    cluster: kind.Cluster, release: kind.Release, sets: dict[str, str], report_dir: Path
) -> tuple[str, Totals]:
    """Run the Job once; returns its outcome and the report's totals."""
    release = with_job(release, sets)
    name = f"{release.name}-loadtest"
    (image,) = (i for i in kind.release_images(release) if i.name == IMAGE)
    kind.build_images(names=[IMAGE])
    kind.load_images(cluster, [image.ref])
    manifest = render(release)
    ns = ["-n", release.namespace]
    cluster.kubectl(*ns, "delete", "job", name, "--ignore-not-found", "--wait=true", capture=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as file:
        file.write(manifest)
        file.flush()
        cluster.kubectl(*ns, "apply", "-f", file.name, capture=True)
    progress("loadtest", f"job {name} started ({' '.join(f'{k}={v}' for k, v in sets.items())})")
    began = note = time.monotonic()
    while True:
        job = json.loads(cluster.kubectl(*ns, "get", "job", name, "-o", "json", capture=True))
        outcome = job_outcome(job)
        if outcome:
            break
        selector = f"batch.kubernetes.io/job-name={name}"
        pods = cluster.kubectl(*ns, "get", "pods", "-l", selector, "-o", "json", capture=True)
        reason = unschedulable(json.loads(pods))
        if reason and time.monotonic() - began > UNSCHEDULABLE_SECONDS:
            raise kind.ClusterError(
                f"the load test's pod cannot be scheduled ({reason}): lower "
                "loadtest.resources.requests or free the node"
            )
        time.sleep(POLL_SECONDS)
        if time.monotonic() - note >= 30:
            note = time.monotonic()
            progress("loadtest", f"job {name} running for {note - began:.0f}s")
    progress("loadtest", f"job {name}: {outcome} after {time.monotonic() - began:.0f}s")
    log = cluster.kubectl(*ns, "logs", f"job/{name}", "--tail=-1", capture=True)
    return outcome, extract(log, report_dir)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m k8s.loadtest", description=__doc__)
    parser.add_argument("--users", default="10", help="loadtest.users")
    parser.add_argument("--spawn-rate", default="5", help="loadtest.spawnRate")
    parser.add_argument("--run-time", default="1m", help="loadtest.runTime (30s, 5m, ...)")
    parser.add_argument("--report", type=Path, default=Path("var/loadtest-report"))
    args = parser.parse_args(argv)
    sets = {
        "loadtest.users": args.users,
        "loadtest.spawnRate": args.spawn_rate,
        "loadtest.runTime": args.run_time,
    }
    try:
        outcome, totals = run(kind.Cluster(), kind.Release.from_skaffold(), sets, args.report)
    except (kind.ClusterError, ChartError, ReportError) as error:
        print(f"[loadtest] FAILED: {error}", file=sys.stderr)
        return 1
    print(
        f"[loadtest] {outcome}: {totals.requests} requests, {totals.failures} failures; "
        f"report in {args.report}/ (locust.html, locust_stats.csv, ...)"
    )
    return 0 if outcome == "Complete" and totals.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
