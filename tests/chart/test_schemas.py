"""Custom resources each profile renders, validated strictly against the upstream CRDs
(../shared/upstream). Kubernetes' own kinds are validated against a real API server's
schema in test_dry_run.py."""

from __future__ import annotations

import pytest

from tests.chart import schemas
from tests.chart.chart import PROFILES, Manifest

Rendered = dict[str, list[Manifest]]


def test_the_crds_cover_our_custom_resources(crd_validators: schemas.Validators) -> None:
    kinds = {kind for _, kind in crd_validators}
    assert {"K8ssandraCluster", "ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"} <= kinds


@pytest.mark.parametrize("profile", PROFILES)
def test_custom_resources_match_the_upstream_crds(
    rendered: Rendered, crd_validators: schemas.Validators, profile: str
) -> None:
    custom = [o for o in rendered[profile] if (o["apiVersion"], o["kind"]) in crd_validators]
    problems = [e for o in custom for e in schemas.errors(crd_validators, o)]
    assert not problems, "\n".join(problems)
    print(f"{profile}: {len(custom)} custom resources valid")


def test_a_misspelt_field_is_caught(crd_validators: schemas.Validators) -> None:
    """The validators are strict: an unknown field is an error, not silently dropped."""
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {}, "endpoints": [{"port": "http", "intervall": "15s"}]},
    }
    assert any("intervall" in e for e in schemas.errors(crd_validators, monitor))
