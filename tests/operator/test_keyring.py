"""The rotation planner, on a fake clock (pure: no cluster)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from store_operator.keyring import (
    Ring,
    decode_times,
    encode_times,
    plan,
    ring_from_secret,
    secret_annotations,
    status,
)
from store_operator.specs import RingSpec, SpecError, parse, parse_duration
from users import keys

from tests.operator.conftest import BAD_RING_SPECS

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
SPEC = RingSpec(
    rotation_interval=timedelta(hours=1),
    access_token_lifetime=timedelta(minutes=10),
    propagation_delay=timedelta(minutes=2),
    grace_period=timedelta(minutes=15),
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def advance(ring: Ring, minutes: float, request: str | None = None) -> tuple[Ring, list[str]]:
    step = plan(ring, SPEC, at(minutes), request)
    return step.ring, step.events


def test_first_key_signs_at_once() -> None:
    step = plan(Ring(), SPEC, T0)
    assert step.ring.active is not None
    assert keys.parse_ring(step.ring.files).active.kid == step.ring.active
    assert step.next_check == at(60)


def test_rotation_publishes_then_activates_then_prunes() -> None:
    ring, _ = advance(Ring(), 0)
    first = ring.active
    ring, events = advance(ring, 59)
    assert events == []
    ring, events = advance(ring, 60)  # due: publish, but keep signing with the first key
    assert ring.active == first and len(keys.kids(ring.files)) == 2
    new = next(kid for kid in keys.kids(ring.files) if kid != first)
    assert ring.state(new) == "pending" and "published" in events[0]
    assert plan(ring, SPEC, at(61)).ring == ring  # nothing until the propagation delay
    ring, events = advance(ring, 62)
    assert ring.active == new and ring.state(first or "") == "retiring"
    ring, _ = advance(ring, 62 + 14)
    assert first in keys.kids(ring.files)  # still verifying within the grace period
    ring, events = advance(ring, 62 + 15)
    assert keys.kids(ring.files) == [new] and "pruned" in events[0]
    # The next rotation counts from the activation, not from the publication.
    assert plan(ring, SPEC, at(62 + 15)).next_check == at(122)


def test_a_late_check_catches_up_without_skipping_the_publish_step() -> None:
    ring, _ = advance(Ring(), 0)
    ring, _ = advance(ring, 500)  # the operator was down for hours
    assert len(keys.kids(ring.files)) == 2  # published, not signing yet
    ring, _ = advance(ring, 502)
    assert ring.state(ring.active or "") == "active" and len(keys.kids(ring.files)) == 2


def test_manual_request_rotates_once() -> None:
    ring, _ = advance(Ring(), 0)
    ring, events = advance(ring, 5, request="please")
    assert "on request" in events[0] and ring.handled_request == "please"
    ring, _ = advance(ring, 7, request="please")
    ring, events = advance(ring, 20, request="please")  # the same request is served already
    assert events == [] and len(keys.kids(ring.files)) == 2


def test_state_survives_the_secret_round_trip() -> None:
    ring, _ = advance(Ring(), 0)
    ring, _ = advance(ring, 60, request=None)
    again = ring_from_secret(dict(ring.files), secret_annotations(ring))
    assert again == ring
    assert plan(again, SPEC, at(62)).ring.active != ring.active  # the restart did not skip


def test_keys_without_times_are_adopted_from_their_kid() -> None:
    files, kid = keys.rotate({}, now=at(-30))
    step = plan(Ring(files=files), SPEC, T0)
    assert step.ring.times[kid].activated == at(-30)
    assert step.next_check == at(30)


def test_unreadable_times_count_as_none() -> None:
    assert decode_times("not json") == {}
    assert decode_times(encode_times({})) == {}


def test_status_lists_keys_with_states() -> None:
    ring, _ = advance(Ring(), 0)
    ring, _ = advance(ring, 60)
    shown = status(ring, SPEC)
    assert shown["activeKid"] == ring.active
    assert sorted(k["state"] for k in shown["keys"]) == ["active", "pending"]


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("1h30m", 5400), ("500ms", 0.5), ("2m", 120)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize(("spec", "problem", "_"), BAD_RING_SPECS)
def test_bad_ring_specs_name_the_problem(spec: dict[str, str], problem: str, _: str) -> None:
    with pytest.raises(SpecError, match=problem):
        parse(RingSpec, spec)
