"""Product Store / Cassandra: the node as JMX exporter sees it.

Metric names are those made by the JMX exporter rules in
devstack/cassandra/conf/jmx-exporter.yaml.template (the chart reuses them): coordinator
requests ``cassandra_clientrequest_*{operation}``, per-table
``cassandra_table_*{keyspace,table}``, node gauges ``cassandra_storage_*``,
``cassandra_compaction_*``, ``cassandra_cql_*``, plus the exporter's ``jvm_*``.
Cassandra reports latencies in microseconds as pre-computed quantile gauges
(``quantile="0.50|0.75|0.95|0.99"``); panels convert them to seconds.
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import (
    THIRD,
    PanelBuilder,
    Q,
    alert_steps,
    by_label,
    graph,
    single_stat,
)
from dashboards.layout import add_row, finalize, label_variable, new_dashboard
from dashboards.promql import rate_sum, sel

JOB = 'job="$job"'
NODE = sel(JOB)
TABLES = 'keyspace=~"$keyspace"'
SIXTH = 4
MICROS = 1e6


def quantile_is(q: str) -> str:
    return f'quantile="{q}"'


def latency_by_operation(q: str, which: str) -> PanelBuilder:
    node_q = sel(JOB, quantile_is(q))
    return graph(
        f"P{round(float(q) * 100)} latency by operation",
        "s",
        Q(
            f"max by (operation) (cassandra_clientrequest_latency{node_q}) / {MICROS:g}",
            "{{operation}}",
        ),
        description=f"Coordinator {which} latency per operation.",
        width=THIRD,
    )


def per_table(metric: str, quantile: str | None = None, *, scale: float | None = None) -> Q:
    matchers = [JOB, TABLES] + ([quantile_is(quantile)] if quantile else [])
    expr = f"topk(10, max by (keyspace, table) ({metric}{sel(*matchers)}))"
    if scale:
        expr = f"{expr} / {scale:g}"
    return Q(expr, "{{keyspace}}.{{table}}")


def per_table_rate(metric: str) -> Q:
    return Q(f"topk(10, {rate_sum(metric, sel(JOB, TABLES), ['keyspace', 'table'])})",
             "{{keyspace}}.{{table}}")  # fmt: skip


HEAP = sel(JOB, 'area="heap"')


def heap(metric: str) -> str:
    return f"sum({metric}{HEAP})"


def build() -> model.Dashboard:
    dash = new_dashboard(
        "store-cassandra",
        "Product Store / Cassandra",
        ["cassandra", "database"],
        "Apache Cassandra node: coordinator request rate and latency by operation (reads, "
        "writes, range scans, CAS), lightweight transactions, tables, compaction, JVM.",
    )
    dash.with_variable(
        label_variable(
            "job",
            "Job",
            "label_values(cassandra_storage_load, job)",
            default="cassandra",
            description="Prometheus job of the Cassandra JMX exporter.",
        )
    )
    dash.with_variable(
        label_variable(
            "keyspace",
            "Keyspace",
            f"label_values(cassandra_table_readlatency_count{NODE}, keyspace)",
            multi=True,
            description="Keyspaces for the per-table panels.",
        )
    )
    requests = rate_sum("cassandra_clientrequest_latency_count", NODE)
    errors = " + ".join(
        rate_sum(f"cassandra_clientrequest_{kind}_count", NODE)
        for kind in ("timeouts", "unavailables", "failures")
    )
    add_row(
        dash,
        "Overview",
        [
            single_stat(
                "Client requests",
                "ops",
                Q(requests),
                description="Coordinator requests per second, all operations (the "
                "'Cassandra > 100 ops/s' alert watches the same series).",
                steps=alert_steps(orange=100),
                width=SIXTH,
            ),
            single_stat(
                "Request errors",
                "ops",
                Q(errors),
                description="Timeouts + unavailables + failures per second.",
                steps=alert_steps(red=0.001),
                width=SIXTH,
            ),
            single_stat(
                "Native clients",
                "short",
                Q(f"sum(cassandra_client_connectednativeclients{NODE})"),
                description="Connected CQL native-protocol clients.",
                width=SIXTH,
            ),
            single_stat(
                "Heap used",
                "percentunit",
                Q(f"{heap('jvm_memory_used_bytes')} / {heap('jvm_memory_max_bytes')}"),
                description="JVM heap used relative to -Xmx.",
                steps=alert_steps(orange=0.75, red=0.9),
                width=SIXTH,
            ),
            single_stat(
                "Pending compactions",
                "short",
                Q(f"sum(cassandra_compaction_pendingtasks{NODE})"),
                description="Compaction tasks waiting to run.",
                steps=alert_steps(orange=10, red=50),
                width=SIXTH,
            ),
            single_stat(
                "Data load",
                "bytes",
                Q(f"sum(cassandra_storage_load{NODE})"),
                description="On-disk size of the data this node holds.",
                width=SIXTH,
            ),
        ],
    )
    add_row(
        dash,
        "Client requests (coordinator)",
        [
            by_label(
                "Requests by operation",
                "ops",
                "cassandra_clientrequest_latency_count",
                NODE,
                "operation",
                description="Coordinator requests per second: Read, Write, RangeSlice, "
                "CASRead, CASWrite.",
            ),
            graph(
                "Errors by operation",
                "ops",
                *(
                    Q(
                        rate_sum(f"cassandra_clientrequest_{kind}_count", NODE, ["operation"]),
                        f"{{{{operation}}}} {kind}",
                    )
                    for kind in ("timeouts", "unavailables", "failures")
                ),
                description="Timeouts, unavailables and failures per second by operation.",
            ),
            latency_by_operation("0.50", "median"),
            latency_by_operation("0.95", "95th percentile"),
            latency_by_operation("0.99", "99th percentile"),
        ],
    )
    add_row(
        dash,
        "Lightweight transactions (stock reservations)",
        [
            by_label(
                "CAS condition not met",
                "ops",
                "cassandra_clientrequest_conditionnotmet_count",
                NODE,
                "operation",
                description="Compare-and-set requests whose IF condition failed (e.g. a "
                "stock reservation that lost a race) per second.",
                width=THIRD,
                stacked=False,
            ),
            graph(
                "CAS contention P99",
                "short",
                Q(
                    "max by (operation) (cassandra_clientrequest_contentionhistogram"
                    f"{sel(JOB, quantile_is('0.99'))})",
                    "{{operation}}",
                ),
                description="Paxos rounds retried because of contention (99th percentile).",
                width=THIRD,
            ),
            by_label(
                "CAS unfinished commits",
                "ops",
                "cassandra_clientrequest_unfinishedcommit_count",
                NODE,
                "operation",
                description="Paxos commits found unfinished and completed by a later "
                "request, per second.",
                width=THIRD,
                stacked=False,
            ),
        ],
    )
    add_row(
        dash,
        "Tables",
        [
            graph(
                "Local read latency P99 by table",
                "s",
                per_table("cassandra_table_readlatency", "0.99", scale=MICROS),
                description="Top 10 tables by local (replica) read latency, 99th percentile.",
                width=THIRD,
            ),
            graph(
                "Local write latency P99 by table",
                "s",
                per_table("cassandra_table_writelatency", "0.99", scale=MICROS),
                description="Top 10 tables by local (replica) write latency, 99th percentile.",
                width=THIRD,
            ),
            graph(
                "Tombstones scanned P99 by table",
                "short",
                per_table("cassandra_table_tombstonescannedhistogram", "0.99"),
                description="Tombstones read per query (99th percentile), top 10 tables.",
                width=THIRD,
            ),
            graph(
                "Reads by table",
                "ops",
                per_table_rate("cassandra_table_readlatency_count"),
                description="Local reads per second, top 10 tables.",
                width=THIRD,
            ),
            graph(
                "Writes by table",
                "ops",
                per_table_rate("cassandra_table_writelatency_count"),
                description="Local writes per second, top 10 tables.",
                width=THIRD,
            ),
            graph(
                "Live disk space by table",
                "bytes",
                per_table("cassandra_table_livediskspaceused_count"),
                description="Disk space used by live SSTables, top 10 tables.",
                width=THIRD,
            ),
            graph(
                "SSTables by table",
                "short",
                per_table("cassandra_table_livesstablecount"),
                description="Live SSTables per table (read amplification), top 10.",
            ),
            graph(
                "Estimated partitions by table",
                "short",
                per_table("cassandra_table_estimatedpartitioncount"),
                description="Estimated partition count per table, top 10.",
            ),
        ],
    )
    add_row(
        dash,
        "Storage, compaction and CQL",
        [
            graph(
                "Compactions",
                "short",
                Q(f"sum(cassandra_compaction_pendingtasks{NODE})", "pending"),
                Q(rate_sum("cassandra_compaction_completedtasks", NODE), "completed/s"),
                description="Pending compaction tasks and completed tasks per second.",
                width=THIRD,
            ),
            graph(
                "Load",
                "bytes",
                Q(f"sum(cassandra_storage_load{NODE})", "load"),
                Q(f"sum(cassandra_storage_uncompressedload{NODE})", "uncompressed"),
                description="Data held by the node, compressed (on disk) and uncompressed.",
                width=THIRD,
            ),
            graph(
                "CQL statements",
                "ops",
                Q(rate_sum("cassandra_cql_preparedstatementsexecuted", NODE), "prepared"),
                Q(rate_sum("cassandra_cql_regularstatementsexecuted", NODE), "regular"),
                description="Statements executed per second. Services should use prepared "
                "statements almost exclusively.",
                width=THIRD,
                stacked=True,
            ),
        ],
    )
    add_row(
        dash,
        "JVM",
        [
            graph(
                "Heap",
                "bytes",
                Q(heap("jvm_memory_used_bytes"), "used"),
                Q(heap("jvm_memory_committed_bytes"), "committed"),
                Q(heap("jvm_memory_max_bytes"), "max"),
                description="JVM heap used, committed and maximum.",
                width=THIRD,
            ),
            by_label(
                "GC time",
                "percentunit",
                "jvm_gc_collection_seconds_sum",
                NODE,
                "gc",
                description="Share of wall-clock time spent in garbage collection, per collector.",
                width=THIRD,
            ),
            graph(
                "CPU",
                "short",
                Q(rate_sum("process_cpu_seconds_total", NODE), "cores"),
                description="CPU cores used by the Cassandra process.",
                width=THIRD,
            ),
        ],
    )
    return finalize(dash)
