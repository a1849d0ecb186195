"""Profile a live endpoint of the running stack: save pyinstrument reports of its requests.

    uv run python -m devstack.profile <url> [--repeat N] [--out var/profiles/x.html]
                                             [--format html|speedscope] [-X METHOD]
                                             [-H 'Name: value']... [-d BODY]
    make profile URL=http://127.0.0.1:8000/products REPEAT=3

Sends the request with `profile=1` (`profile=speedscope`) N times and saves each report,
printing its path and the request's status and timings. The service must run with
`<PREFIX>PROFILING_ENABLED=true`, which the local stack sets (`make up`); see
docs/profiling.md. Requests are sent one after the other, as they are written.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

import httpx

from devstack.procs import ROOT, VAR

PROFILES = VAR / "profiles"
SUFFIXES = {"html": ".html", "speedscope": ".speedscope.json"}
PARAM_VALUES = {"html": "1", "speedscope": "speedscope"}


def default_out(url: httpx.URL, fmt: str) -> Path:
    """var/profiles/<port>-<path>-<timestamp>.<ext>, e.g. 8000-products-20250101-120000.html"""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", url.path).strip("-") or "root"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return PROFILES / f"{url.port or url.host}-{slug[:60]}-{stamp}{SUFFIXES[fmt]}"


def numbered(path: Path, i: int, repeat: int) -> Path:
    """The path of run `i` (from 1): unchanged for a single run, else `name-<i>.<ext>`."""
    if repeat == 1:
        return path
    name = path.name
    ext = next((s for s in SUFFIXES.values() if name.endswith(s)), path.suffix)
    stem = name[: len(name) - len(ext)] if ext else name
    return path.with_name(f"{stem}-{i}{ext}")


def shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def parse_headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f"bad header {value!r}: expected 'Name: value'")
        headers[name.strip()] = rest.strip()
    return headers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.profile",
        description="Save pyinstrument reports of requests to a running service.",
    )
    parser.add_argument("url", help="e.g. http://127.0.0.1:8000/products?category=Toys")
    parser.add_argument("--repeat", "-n", type=int, default=1, help="requests (default 1)")
    parser.add_argument("--out", "-o", type=Path, help="report path (default var/profiles/...)")
    parser.add_argument("--format", choices=sorted(SUFFIXES), default="html")
    parser.add_argument("-X", "--method", default="GET")
    parser.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("-d", "--data", help="request body (sent as is; add -H Content-Type)")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    url = httpx.URL(args.url)
    if url.scheme not in ("http", "https"):
        parser.error(f"not an http(s) URL: {args.url}")
    url = url.copy_set_param("profile", PARAM_VALUES[args.format])
    out = args.out or default_out(url, args.format)
    out.parent.mkdir(parents=True, exist_ok=True)
    headers = parse_headers(args.header)
    target = f"{args.method.upper()} {url.path}"
    if query := url.params.remove("profile"):
        target += f"?{query}"

    durations = []
    with httpx.Client(timeout=args.timeout) as client:
        for i in range(1, args.repeat + 1):
            try:
                r = client.request(args.method, url, headers=headers, content=args.data)
            except httpx.HTTPError as exc:
                print(f"{target}: {exc!r} (is the stack up? `make up`)", file=sys.stderr)
                return 1
            if "x-profile-duration" not in r.headers:
                print(
                    f"{target}: HTTP {r.status_code} without a profile: is profiling enabled on"
                    " that service? (<PREFIX>PROFILING_ENABLED=true, set by `make up`)\n"
                    f"{r.text[:300]}",
                    file=sys.stderr,
                )
                return 1
            path = numbered(out, i, args.repeat)
            path.write_bytes(r.content)
            duration = float(r.headers["x-profile-duration"])
            cpu = float(r.headers.get("x-profile-cpu-time", "nan"))
            durations.append(duration)
            print(
                f"{shown(path)}  {target} -> {r.headers.get('x-profiled-status', '?')}"
                f" in {duration * 1e3:.1f} ms (cpu {cpu * 1e3:.1f} ms,"
                f" {r.headers.get('x-profile-samples', '?')} samples)",
                flush=True,
            )
    if len(durations) > 1:
        ms = sorted(d * 1e3 for d in durations)
        print(
            f"{len(ms)} runs: min {ms[0]:.1f} ms, median {statistics.median(ms):.1f} ms,"
            f" max {ms[-1]:.1f} ms (profiled: slower than unprofiled)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
