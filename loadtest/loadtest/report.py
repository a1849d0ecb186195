"""A headless Locust run whose report travels in its own log (the chart's in-cluster Job).

    python -m loadtest.report run --report-dir /report -- --users=10 --run-time=1m
    kubectl logs job/store-loadtest | uv run python -m loadtest.report extract ./report

`run` runs Locust headless on the locustfile with its CSV, HTML and JSON reports in the
report directory, then prints that directory as a gzipped tar in base64 between two marker
lines and exits with Locust's code (1 when a request failed). A Job's log outlives its pod
(until the Job is deleted) and needs no volume or copy step; `extract` writes the files
back and prints the totals (exit 1 on a failure or when nothing ran). The pure parts
(`pack`, `unpack`, `totals`) are unit-tested.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import io
import json
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

BEGIN = "----- BEGIN LOCUST REPORT (tar.gz, base64) -----"
END = "----- END LOCUST REPORT -----"
PREFIX = "locust"  # locust_stats.csv, locust.html, locust.json, ...


class ReportError(ValueError):
    """No complete report in the text."""


@dataclass(frozen=True)
class Totals:
    requests: int
    failures: int


def locustfile() -> str:
    spec = importlib.util.find_spec("loadtest.locustfile")
    assert spec is not None and spec.origin, "the loadtest package ships its locustfile"
    return spec.origin


def locust_argv(report_dir: Path, extra: Sequence[str]) -> list[str]:
    out = report_dir / PREFIX
    return [
        sys.executable, "-m", "locust", "-f", locustfile(), "--headless", "--only-summary",
        f"--csv={out}", f"--html={out}.html", f"--json-file={out}", *extra,
    ]  # fmt: skip


def pack(files: Mapping[str, bytes]) -> str:
    """The files as a gzipped tar, base64 in 76-character lines, between the markers."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    encoded = base64.encodebytes(buffer.getvalue()).decode().rstrip("\n")
    return f"{BEGIN}\n{encoded}\n{END}\n"


def unpack(text: str) -> dict[str, bytes]:
    """The files of the last complete report in `text` (a log with other lines around)."""
    lines = text.splitlines()
    try:
        start = len(lines) - 1 - lines[::-1].index(BEGIN)
        stop = lines.index(END, start)
    except ValueError:
        raise ReportError("no complete Locust report in the input") from None
    payload = base64.b64decode("".join(line.strip() for line in lines[start + 1 : stop]))
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member)
            if member.isfile() and extracted is not None and "/" not in member.name:
                files[member.name] = extracted.read()
    return files


def totals(files: Mapping[str, bytes]) -> Totals:
    """Requests and failures over every endpoint, from Locust's JSON report."""
    raw = files.get(f"{PREFIX}.json")
    if raw is None:
        raise ReportError(f"the report has no {PREFIX}.json: {sorted(files)}")
    stats = json.loads(raw)
    return Totals(
        requests=sum(int(e["num_requests"]) for e in stats),
        failures=sum(int(e["num_failures"]) for e in stats),
    )


def run(report_dir: Path, extra: Sequence[str]) -> int:
    report_dir.mkdir(parents=True, exist_ok=True)
    code = subprocess.run(locust_argv(report_dir, extra), check=False).returncode
    files = {p.name: p.read_bytes() for p in sorted(report_dir.iterdir()) if p.is_file()}
    sys.stdout.write(pack(files))
    sys.stdout.flush()
    return code


def extract(text: str, dest: Path) -> Totals:
    files = unpack(text)
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (dest / name).write_bytes(data)
    return totals(files)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.report", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run Locust headless, then print the report")
    run_parser.add_argument("--report-dir", type=Path, default=Path("/tmp/locust-report"))
    run_parser.add_argument("locust_args", nargs="*", help="Locust's own options, after --")
    extract_parser = commands.add_parser("extract", help="a log on stdin -> the report files")
    extract_parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.report_dir, args.locust_args)
    try:
        found = extract(sys.stdin.read(), args.dest)
    except ReportError as error:
        print(f"loadtest.report: {error}", file=sys.stderr)
        return 1
    print(f"report in {args.dest}: {found.requests} requests, {found.failures} failures")
    return 0 if found.requests and not found.failures else 1  # nothing ran: not a pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
