"""SigningKeyRing on a real API server: the Secret in the users service's layout, scheduled and
manual rotations (published before signing), pruning after the grace period, an operator
restart mid-rotation, and bad specs."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
from store_operator.keyring import ROTATE_ANNOTATION
from store_operator.specs import GROUP, VERSION
from users import keys

from k8s.apiserver import KubeAPI
from tests.operator.conftest import (
    BAD_RING_SPECS,
    create,
    custom,
    get,
    operator,
    put_secret,
    ready,
    secret_files,
)
from tests.polling import wait_for

PLURAL = "signingkeyrings"
# Durations are short so the whole life of a key fits in seconds.
FAST = {
    "rotationInterval": "6s",
    "accessTokenLifetime": "1s",
    "propagationDelay": "1500ms",
    "gracePeriod": "3s",
}


def ring(namespace: str, name: str, spec: dict[str, str]) -> None:
    create(namespace, PLURAL, "SigningKeyRing", name, spec)


def snapshot(namespace: str, name: str) -> tuple[str | None, list[str]]:
    files = secret_files(namespace, name) or {}
    return keys.active_kid(files), keys.kids(files)


def test_the_secret_holds_a_usable_key_ring(namespace: str) -> None:
    with operator(namespace):
        ring(namespace, "signing", {"rotationInterval": "1h"})
        files = wait_for("the Secret", lambda: secret_files(namespace, "signing"))
        parsed = keys.parse_ring(files)  # what the users service loads
        assert list(parsed.keys) == [parsed.active.kid]
        status = wait_for("status", lambda: get(namespace, PLURAL, "signing").get("status"))
        assert status["activeKid"] == parsed.active.kid
        assert status["keys"][0]["state"] == "active"
        assert (ready(get(namespace, PLURAL, "signing")) or {}).get("status") == "True"


def test_rotation_publishes_before_signing_then_prunes(namespace: str) -> None:
    seen: list[tuple[str | None, list[str]]] = []

    def watch(until: Any) -> Any:
        def check() -> Any:
            seen.append(snapshot(namespace, "rotating"))
            return seen[-1] if until(seen[-1]) else None

        return check

    with operator(namespace):
        ring(namespace, "rotating", FAST)
        first, _ = wait_for("the first key", watch(lambda s: s[0]))
        second, kids_then = wait_for(
            "a new active key", watch(lambda s: s[0] not in (None, first)), 30
        )
        # The new key was in the Secret, not signing, before it became active; the old one
        # still verifies once the new one signs.
        assert any(second in kids and active == first for active, kids in seen)
        assert first in kids_then
        wait_for("the old key pruned", watch(lambda s: first not in s[1]), 30)
        status = get(namespace, PLURAL, "rotating")["status"]
        assert status["activeKid"] == seen[-1][0]
        assert status["lastRotation"]


def test_manual_rotation_by_annotation(namespace: str) -> None:
    with operator(namespace):
        ring(namespace, "manual", {**FAST, "rotationInterval": "1h"})
        first, _ = wait_for(
            "the first key",
            lambda: snapshot(namespace, "manual")[0] and snapshot(namespace, "manual"),
        )
        custom().patch_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL, "manual",
            {"metadata": {"annotations": {ROTATE_ANNOTATION: "now-please"}}},
        )  # fmt: skip
        wait_for("the requested rotation", lambda: snapshot(namespace, "manual")[0] != first, 30)
        time.sleep(3)  # the same annotation value must not rotate again
        assert len(snapshot(namespace, "manual")[1]) <= 2


def test_restart_between_publish_and_activation(namespace: str) -> None:
    spec = {**FAST, "rotationInterval": "5s", "propagationDelay": "4s", "gracePeriod": "10s"}
    with operator(namespace):
        ring(namespace, "restart", spec)
        wait_for("a published key", lambda: len(snapshot(namespace, "restart")[1]) == 2, 30)
    first, published = snapshot(namespace, "restart")
    (pending,) = set(published) - {first}
    time.sleep(5)  # the activation falls due while no operator runs
    with operator(namespace):
        wait_for(
            "the pending key activated", lambda: snapshot(namespace, "restart")[0] == pending, 30
        )
    # Neither skipped nor doubled: the key published before the restart is the one signing.
    assert sorted(snapshot(namespace, "restart")[1]) == sorted(published)


@pytest.mark.parametrize(("spec", "_", "message"), BAD_RING_SPECS)
def test_bad_specs_are_refused_by_the_crd(
    kube: KubeAPI, spec: dict[str, str], _: str, message: str
) -> None:
    manifest = (
        f'{{"apiVersion": "{GROUP}/{VERSION}", "kind": "SigningKeyRing", '
        f'"metadata": {{"name": "bad", "namespace": "default"}}, "spec": {spec!r}}}'
    ).replace("'", '"')
    done = subprocess.run(
        [*kube.kubectl(), "create", "-f", "-"], input=manifest, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert message in done.stderr


def test_a_foreign_secret_is_a_condition_not_a_crash(namespace: str) -> None:
    put_secret(namespace, "taken", {"mine": "yes"})
    with operator(namespace) as runner:
        ring(namespace, "clash", {"secretName": "taken"})
        condition = wait_for("a condition", lambda: ready(get(namespace, PLURAL, "clash")))
        assert (condition["status"], condition["reason"]) == ("False", "SecretConflict")
        assert secret_files(namespace, "taken") == {"mine": b"yes"}
        ring(namespace, "fine", {"rotationInterval": "1h"})  # the operator still works
        wait_for("another ring's Secret", lambda: secret_files(namespace, "fine"))
    assert runner.exception is None
