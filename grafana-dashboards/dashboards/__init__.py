"""Product Store Grafana dashboards as code (grafana-foundation-sdk).

``python -m dashboards.build`` writes ``generated/<name>.json``; ``--check`` verifies the
committed JSON matches the code. ``dashboards.queries`` extracts every PromQL expression
so tests can evaluate them against a real Prometheus.
"""
