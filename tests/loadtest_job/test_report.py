"""The in-cluster load test's report codec (loadtest/loadtest/report.py): what the Job
prints at the end of its log comes back intact from a log with other lines around it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import loadtest.report as report
import pytest

STATS = [
    {"name": "catalog: list", "num_requests": 40, "num_failures": 0},
    {"name": "cart: checkout", "num_requests": 7, "num_failures": 2},
]
FILES = {
    "locust.json": json.dumps(STATS).encode(),
    "locust.html": b"<html>" + bytes(range(256)) * 64 + b"</html>",
    "locust_stats.csv": b'"Type","Name","Request Count"\n',
}


def test_a_packed_report_comes_back_from_a_log() -> None:
    log = "[2026-12-01] Starting Locust\nsummary table\n" + report.pack(FILES) + "done\n"
    assert report.unpack(log) == FILES
    assert max(len(line) for line in report.pack(FILES).splitlines()) <= 76
    assert report.totals(FILES) == report.Totals(requests=47, failures=2)


def test_the_last_report_wins_and_a_truncated_one_is_refused() -> None:
    older = report.pack({"locust.json": b"[]"})
    assert report.unpack(older + report.pack(FILES)) == FILES
    truncated = report.pack(FILES).replace(report.END, "")
    with pytest.raises(report.ReportError):
        report.unpack(truncated)
    with pytest.raises(report.ReportError):
        report.totals({"locust.html": b""})


def test_run_passes_locust_options_after_the_separator(tmp_path: Path) -> None:
    argv = report.locust_argv(tmp_path, ["--users=3", "Guest"])
    assert argv[argv.index("-f") + 1].endswith("loadtest/locustfile.py")
    assert argv[-2:] == ["--users=3", "Guest"] and f"--csv={tmp_path}/locust" in argv


def test_extract_writes_the_files_and_reports_failures(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtest.report", "extract", str(tmp_path / "out")],
        input="noise\n" + report.pack(FILES),
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # two failures
    assert "47 requests, 2 failures" in proc.stdout
    assert (tmp_path / "out" / "locust.html").read_bytes() == FILES["locust.html"]
