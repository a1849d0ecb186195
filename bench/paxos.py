"""Paxos v1 against v2, side by side in one run: checkout and seeding on two scratch nodes.

    uv run python -m bench.paxos [--rounds 3] [--shoppers 200] [--concurrency 16]

Starts two Cassandra nodes of its own (free ports, data under var/bench/paxos-*, the shared
node on 9042 is left alone), identical but for `paxos_variant`, and a set of services on
each. Then round after round, alternating the two: the checkout run of `make bench` (with
its duplicate and oversell checks) and a seeding run into a scratch keyspace. Prints each
round and the medians with the load average, writes var/bench/paxos.json, stops it all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from kit.topology import TOPOLOGY

from bench import checkout
from bench.stack import running, seed
from devstack import cassandra
from devstack.procs import VAR, free_port
from tests.service_stack import Stack, build_stack

VARIANTS = ("v1", "v2")


def loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def node(variant: str) -> Iterator[cassandra.Settings]:
    """A fresh single node with `paxos_variant: <variant>`, stopped and wiped on exit."""
    data = VAR / "bench" / f"paxos-{variant}"
    settings = replace(
        cassandra.Settings.from_env(),
        data_dir=data,
        paxos_variant=variant,
        cql_port=free_port(),
        storage_port=free_port(),
        jmx_port=free_port(),
        metrics_port=free_port(),
    )
    cassandra.start(fresh=True, settings=settings)
    try:
        yield settings
    finally:
        cassandra.stop(settings=settings)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def services(variant: str, port: int) -> Iterator[Stack]:
    """Users, catalog, orders and cart on the node at `port`."""
    keys = VAR / "bench" / f"paxos-{variant}-keys"
    keys.mkdir(parents=True, exist_ok=True)
    stack = build_stack(f"paxos_{variant}", keys)
    for name in ("users", "catalog", "orders", "cart"):
        stack[name].env[TOPOLOGY.service(name).env("cassandra_port")] = str(port)
    try:
        with running(stack):
            yield stack
    finally:
        shutil.rmtree(keys, ignore_errors=True)


def seeding_rate(stack: Stack, count: int, round_: int) -> float:
    # A keyspace per round: no schema change to wait for on the node between runs.
    line = seed(stack, count, keyspace=f"bench_seeding_{round_}")
    return float(line.rsplit(":", 1)[1].split()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed-count", type=int, default=2000)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rounds": [],
    }
    with ExitStack() as stack:
        stacks: dict[str, Stack] = {}
        meters: dict[str, dict[str, checkout.Meter]] = {}
        for v in VARIANTS:
            settings = stack.enter_context(node(v))
            stacks[v] = stack.enter_context(services(v, settings.cql_port))
            meters[v] = {
                f"CPU ms {name}": checkout.cpu_ms(stacks[v][name].proc.pid)
                for name in ("catalog", "cart", "orders", "users")
            }
            node_pid = partial(cassandra.running_pid, settings)
            meters[v]["CPU ms cassandra"] = checkout.cpu_ms(node_pid)
            exporter = f"http://{settings.host}:{settings.metrics_port}/metrics"
            meters[v] |= checkout.cassandra_meters(exporter)
        for i in range(args.rounds):
            for v in VARIANTS if i % 2 == 0 else reversed(VARIANTS):
                before = loadavg()
                result = asyncio.run(
                    checkout.run(stacks[v], args.shoppers, args.concurrency, meters=meters[v])
                )
                rate = seeding_rate(stacks[v], args.seed_count, i)
                entry = {
                    "round": i + 1,
                    "variant": v,
                    "loadavg": before,
                    "checkout": result.as_dict(),
                    "seeding_products_per_s": rate,
                }
                results["rounds"].append(entry)
                print(
                    f"[paxos] round {i + 1} {v} (load {before}): {result.orders_per_s:.1f} "
                    f"orders/s, P50 {result.p50_ms:.0f} ms, P99 {result.p99_ms:.0f} ms, "
                    f"created {result.created}, dup {result.duplicates}, oversold "
                    f"{result.oversold_units}, lost {result.lost_units}; seeding {rate:.0f} "
                    f"products/s; per order {result.per_order}",
                    flush=True,
                )
    for v in VARIANTS:
        mine = [r for r in results["rounds"] if r["variant"] == v]
        results[v] = {
            "orders_per_s": statistics.median(r["checkout"]["orders_per_s"] for r in mine),
            "p50_ms": statistics.median(r["checkout"]["p50_ms"] for r in mine),
            "seeding_products_per_s": statistics.median(r["seeding_products_per_s"] for r in mine),
            "per_order": {
                name: statistics.median(r["checkout"]["per_order"][name] for r in mine)
                for name in mine[0]["checkout"]["per_order"]
            },
            "guarantees_broken": sum(
                r["checkout"]["duplicates"]
                + r["checkout"]["oversold_units"]
                + r["checkout"]["lost_units"]
                for r in mine
            ),
        }
        print(f"[paxos] {v} median: {json.dumps(results[v])}")
    out = VAR / "bench" / "paxos.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"[paxos] written {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
