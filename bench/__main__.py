"""`make bench`: the store against its ceiling, side by side in one run, report into docs/.

    uv run python -m bench [--duration 10] [--rounds 3] [--connections 32] [--soak 0]

Starts its own services on free ports (bench/stack.py; the catalog seeded once with 20,000
products and kept), a second catalog process with metrics and tracing off, a Jaeger for the
first one to trace to, a bare FastAPI app serving the same 20-item body (the ceiling) and a
gateway with its limits lifted. Then, round after round, wrk on each case in turn; the
checkout run with its duplicate and oversell checks; the seeding rate into a scratch
keyspace; RSS of every process throughout. Prints the table and writes docs/bench/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bench import checkout, mix, report, wrk
from bench.gateway import lifted_gateway
from bench.rss import Sampler
from bench.stack import Catalog, bench_stack, extra_catalog, seed
from devstack import cassandra
from devstack import observability as obs
from devstack.procs import VAR, Proc, free_port, http_ok
from tests.service_stack import cql_session

LISTING = "/products?limit=20"
CEILING = "ceiling (bare FastAPI, same body)"
OBS_OFF = {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "CATALOG_METRICS_ENABLED": "false"}


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def jaeger() -> tuple[Proc, str]:
    """A Jaeger on free ports (built first when missing); its OTLP/HTTP endpoint."""
    ports: dict[str, Any] = {f: free_port() for f in obs.Config.__dataclass_fields__
                             if f.startswith("jaeger_")}  # fmt: skip
    cfg = replace(obs.Config(), **ports)
    return obs.jaeger(cfg, name="bench-jaeger"), cfg.url("jaeger_otlp_http")


def ceiling(body: bytes) -> tuple[Proc, str]:
    path = VAR / "bench" / "ceiling-body.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.ceiling:app", "--port", str(port),
            "--no-access-log", "--log-level", "warning"]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    ready = lambda: http_ok(f"{url}/ready")  # noqa: E731
    return Proc("bench-ceiling", argv, ready, {"BENCH_CEILING_BODY": str(path)}), url


def product_count(url: str) -> int:
    items = httpx.get(f"{url}/categories", timeout=60).json()["items"]
    return sum(int(c["product_count"]) for c in items)


def measure_seeding(stack: Any, count: int) -> dict[str, Any]:
    """Seed `count` products into a scratch keyspace (dropped after): products/s."""
    scratch = "bench_seeding"
    try:
        summary = seed(stack, count, keyspace=scratch)
    finally:
        with cql_session() as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {scratch}", timeout=120)
    rate = float(re.search(r"([\d.]+) products/s", summary).group(1))  # type: ignore[union-attr]
    return {"count": count, "products_per_s": rate, "summary": summary}


def medians(rounds: list[list[wrk.Result]]) -> list[dict[str, Any]]:
    """Per case, the median round by req/s (all of that round's figures, so they agree)."""
    out = []
    for runs in zip(*rounds, strict=True):
        ordered = sorted(runs, key=lambda r: r.rps)
        entry = ordered[len(ordered) // 2].as_dict()
        entry["rps_rounds"] = [round(r.rps) for r in runs]
        entry["errors"] = sum(r.errors for r in runs)
        cpu = [r.cpu_ms_per_request for r in runs if r.cpu_ms_per_request is not None]
        entry["cpu_ms_per_request"] = round(statistics.median(cpu), 3) if cpu else None
        out.append(entry)
    return out


def ratios(entries: list[dict[str, Any]]) -> dict[str, float]:
    by = {e["name"]: e["rps"] for e in entries}
    pairs = {
        "listing / ceiling": ("listing: catalog", CEILING),
        "listing obs off / ceiling": ("listing: catalog, obs off", CEILING),
        "listing obs on / off": ("listing: catalog", "listing: catalog, obs off"),
        "mix obs on / off": ("browse mix: catalog", "browse mix: catalog, obs off"),
        "gateway / direct": ("listing: through the gateway", "listing: catalog"),
        "listing now / baseline": ("listing: catalog", "listing: baseline"),
        "listing now / baseline, obs off": (
            "listing: catalog, obs off", "listing: baseline, obs off"),
        "mix now / baseline": ("browse mix: catalog", "browse mix: baseline"),
        "mix now / baseline, obs off": (
            "browse mix: catalog, obs off", "browse mix: baseline, obs off"),
        "baseline obs on / off": ("listing: baseline", "listing: baseline, obs off"),
    }  # fmt: skip
    out = {k: round(by[a] / by[b], 3) for k, (a, b) in pairs.items() if a in by and b in by}
    # The same pairs in the server's CPU time per request: steadier on a busy machine.
    cpu = {e["name"]: e["cpu_ms_per_request"] for e in entries if e["cpu_ms_per_request"]}
    for k, (a, b) in pairs.items():
        if a in cpu and b in cpu:
            out[f"CPU per request, {k}"] = round(cpu[a] / cpu[b], 3)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk case")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--products", type=int, default=20_000, help="catalog size")
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--checkout-concurrency", type=int, default=16)
    parser.add_argument("--seed-count", type=int, default=3000, help="products for the rate")
    parser.add_argument("--soak", type=float, default=0, help="seconds of mix at the end (RSS)")
    parser.add_argument(
        "--baseline", type=Path,
        help="another checkout with a synced .venv (the code before a change): its catalog "
        "runs beside this one's, on the same data, in the same rounds",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=report.OUT)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: `make up` installs it (apt-get install wrk)", file=sys.stderr)
        return 2
    load_at_start = loadavg()
    if not cassandra.is_up():
        cassandra.start(wait=True)
    tracer, otlp = jaeger()
    tracer.start()
    try:
        with bench_stack(otlp_endpoint=otlp) as stack:
            extras = [extra_catalog(stack, "catalog, obs off", env=OBS_OFF)]
            if args.baseline:
                extras += [
                    extra_catalog(stack, "baseline", args.baseline),
                    extra_catalog(stack, "baseline, obs off", args.baseline, OBS_OFF),
                ]
            try:
                for extra in extras:
                    print(f"[bench] starting {extra.label} on {extra.url}", flush=True)
                    extra.proc.start()
                results = run(args, stack, extras)
            finally:
                for extra in extras:
                    extra.proc.stop()
    finally:
        tracer.stop()
    results["conditions"] |= {"loadavg_start": load_at_start}
    return finish(results, args.out)


def run(args: argparse.Namespace, stack: Any, extras: list[Catalog]) -> dict[str, Any]:
    catalog = stack.url("catalog")
    results: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    load = results["load"] = {}  # the load average when each part began: the machine is shared
    have = product_count(catalog)
    if have < args.products:
        print(f"[bench] seeding the catalog to {args.products} products (once)", flush=True)
        print(f"[bench] {seed(stack, args.products)}", flush=True)
    print(f"[bench] seeding rate: {args.seed_count} products into a scratch keyspace", flush=True)
    load["seeding"] = loadavg()
    try:
        results["seeding"] = measure_seeding(stack, args.seed_count)
    except Exception as exc:  # a busy node may refuse the schema change: keep going
        print(f"[bench] seeding rate not measured: {exc!r}", file=sys.stderr, flush=True)
        results["seeding"] = {"summary": f"not measured: {exc!r}"}
    body = httpx.get(f"{catalog}{LISTING}", timeout=60).content
    ceiling_proc, ceiling_url = ceiling(body)
    ceiling_proc.start()
    upstreams = {name: stack.url(name).removeprefix("http://") for name in obs.SERVICES}
    paths = mix.build(catalog)
    products = [p for p in paths if p.startswith("/products/")]
    procs = {name: stack[name].proc.pid for name in ("users", "catalog", "orders", "cart")}
    procs |= {extra.label: extra.proc.pid for extra in extras} | {"ceiling": ceiling_proc.pid}
    variants = [("catalog", catalog, stack["catalog"].proc.pid)]
    variants += [(extra.label, extra.url, extra.proc.pid) for extra in extras]
    try:
        with lifted_gateway(upstreams) as gateway, Sampler(procs) as sampler:
            catalog_pid = stack["catalog"].proc.pid
            cases = [
                (CEILING, ceiling_url, [LISTING], ceiling_proc.pid),
                *((f"listing: {label}", url, [LISTING], pid) for label, url, pid in variants),
                ("listing: through the gateway", gateway, [f"/api{LISTING}"], catalog_pid),
                ("product pages: catalog", catalog, products, catalog_pid),
                *((f"browse mix: {label}", url, paths, pid) for label, url, pid in variants),
            ]
            sampler.mark("warm-up")
            for name, base, case_paths, _ in cases:
                wrk.run(name, base, case_paths, 3, args.connections)
            rounds: list[list[wrk.Result]] = []
            for i in range(args.rounds):
                sampler.mark(f"round {i + 1}")
                load[f"round {i + 1}"] = loadavg()
                rounds.append([])
                for name, base, case_paths, pid in cases:
                    print(f"[bench] round {i + 1}/{args.rounds}: {name}", flush=True)
                    rounds[-1].append(wrk.run(name, base, case_paths, args.duration,
                                              args.connections, server=pid()))  # fmt: skip
            sampler.mark("checkout")
            load["checkout"] = loadavg()
            meters = {f"CPU ms {name}": checkout.cpu_ms(stack[name].proc.pid)
                      for name in ("catalog", "cart", "orders", "users")}  # fmt: skip
            node = cassandra.Settings.from_env()
            meters["CPU ms cassandra"] = checkout.cpu_ms(lambda: cassandra.running_pid(node))
            meters |= checkout.cassandra_meters(f"http://{node.host}:{node.metrics_port}/metrics")
            result = asyncio.run(
                checkout.run(stack, args.shoppers, args.checkout_concurrency, meters=meters)
            )
            results["checkout"] = result.as_dict()
            if args.soak:
                sampler.mark("soak")
                load["soak"] = loadavg()
                print(f"[bench] soak: browse mix for {args.soak:.0f} s", flush=True)
                wrk.run("soak", catalog, paths, args.soak, args.connections)
    finally:
        ceiling_proc.stop()
    load["end"] = loadavg()
    entries = medians(rounds)
    results["ratios"] = ratios(entries)
    base = next(e["rps"] for e in entries if e["name"] == CEILING)
    for e in entries:
        e["ratio"] = f"{e['rps'] / base:.2f} of ceiling"
    results["endpoints"] = entries
    results["rss"] = sampler.summary()
    results["rss_series"] = sampler.samples
    results["rss_marks"] = sampler.marks
    results["conditions"] = {
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}",
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
    }
    return results


def finish(results: dict[str, Any], out: Path) -> int:
    series = results.pop("rss_series")
    marks = results.pop("rss_marks")
    page = report.write(results, series, marks, out)
    print()
    print(f"{'case':<36} {'req/s':>8} {'P50':>7} {'P95':>7} {'P99':>7} {'err':>5}  rounds")
    for e in results["endpoints"]:
        print(f"{e['name']:<36} {e['rps']:>8.0f} {e['p50_ms']:>7.1f} {e['p95_ms']:>7.1f} "
              f"{e['p99_ms']:>7.1f} {e['errors']:>5}  {e['rps_rounds']}")  # fmt: skip
    print("ratios:", json.dumps(results["ratios"]))
    print("checkout:", json.dumps(results.get("checkout")))
    print("seeding:", results["seeding"]["summary"])
    print("rss:", json.dumps(results["rss"]))
    print(f"report: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
