"""Signing-key rotation for a SigningKeyRing: pure decisions over the Secret and the clock.

The Secret's data is the users service's key-ring layout (`users.keys`: `<kid>.pem` files
and `active`), changed only through that module's functions. When each key was published,
activated and retired is persisted on the same Secret, in an annotation written in the same
update as the keys: a rotation is decided from those timestamps (never from an in-memory
timer), so an operator restart can neither skip nor double one, and the write is atomic
(a conflicting concurrent update fails on resourceVersion and is retried).

A rotation takes two steps: the new key is published (every verifier can load it) and only
after `propagationDelay` does it start signing; the previous key keeps verifying for
`gracePeriod` after it stopped signing, then it is pruned.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from users import keys

from store_operator.specs import GROUP, RingSpec

TIMES_ANNOTATION = f"{GROUP}/key-times"
HANDLED_ANNOTATION = f"{GROUP}/rotation-handled"
# Set on a SigningKeyRing (any new value) to ask for a rotation now.
ROTATE_ANNOTATION = f"{GROUP}/rotate"

State = Literal["pending", "active", "retiring"]


@dataclass(frozen=True)
class KeyTimes:
    published: datetime
    activated: datetime | None = None
    retired: datetime | None = None


@dataclass(frozen=True)
class Ring:
    """What the Secret holds: the key files, their times, the last manual request served."""

    files: Mapping[str, bytes] = field(default_factory=dict)
    times: Mapping[str, KeyTimes] = field(default_factory=dict)
    handled_request: str | None = None

    @property
    def active(self) -> str | None:
        kid: str | None = keys.active_kid(self.files)
        return kid

    def state(self, kid: str) -> State:
        if kid == self.active:
            return "active"
        return "retiring" if self.times[kid].retired else "pending"


@dataclass(frozen=True)
class Step:
    """The ring after one reconciliation, what happened, and when to look again."""

    ring: Ring
    events: list[str]
    next_check: datetime


def plan(ring: Ring, spec: RingSpec, now: datetime, request: str | None = None) -> Step:
    """Everything due at `now`: the first key, publishing a new key (interval elapsed or a new
    manual `request`), activating a published key, pruning keys past their grace."""
    events: list[str] = []
    ring = _adopt(ring, now)
    if ring.active is None:
        files, kid = keys.rotate(ring.files, now=now)
        ring = replace(ring, files=files, times={kid: KeyTimes(now, activated=now)})
        events.append(f"created the first signing key {kid}")
    pending = _pending(ring)
    manual = request is not None and request != ring.handled_request
    if pending is None and (manual or now >= _rotation_due(ring, spec)):
        files, kid = keys.rotate(ring.files, activate=False, now=now)
        reason = "on request" if manual else "on schedule"
        ring = replace(
            ring,
            files=files,
            times={**ring.times, kid: KeyTimes(now)},
            handled_request=request if manual else ring.handled_request,
        )
        events.append(f"published key {kid} ({reason}); it signs after {spec.propagation_delay}")
        pending = kid
    if pending and now >= ring.times[pending].published + spec.propagation_delay:
        previous = ring.active
        times = {**ring.times, pending: replace(ring.times[pending], activated=now)}
        if previous:
            times[previous] = replace(times[previous], retired=now)
        ring = replace(ring, files=keys.activate(ring.files, pending), times=times)
        events.append(
            f"key {pending} signs now; {previous} verifies until {now + spec.grace_period}"
        )
    for kid, when in list(ring.times.items()):
        if when.retired and now >= when.retired + spec.grace_period:
            ring = replace(
                ring,
                files=keys.retire(ring.files, kid),
                times={k: v for k, v in ring.times.items() if k != kid},
            )
            events.append(f"pruned key {kid} (out of use since {when.retired})")
    return Step(ring, events, _next_check(ring, spec))


def _adopt(ring: Ring, now: datetime) -> Ring:
    """Times for keys found without them (a ring written by hand, or before this operator):
    the kid's own timestamp when it has one. Times of vanished keys are dropped."""
    times: dict[str, KeyTimes] = {}
    active = ring.active
    for kid in keys.kids(ring.files):
        known = ring.times.get(kid)
        if known is None:
            created = keys.kid_created_at(kid) or now
            known = KeyTimes(created, activated=created if kid == active else None)
        elif kid == active and known.activated is None:
            known = replace(known, activated=now, retired=None)
        times[kid] = known
    return replace(ring, times=times)


def _pending(ring: Ring) -> str | None:
    waiting = [kid for kid in ring.times if ring.state(kid) == "pending"]
    return max(waiting, key=lambda kid: ring.times[kid].published, default=None)


def _rotation_due(ring: Ring, spec: RingSpec) -> datetime:
    assert ring.active is not None
    activated = ring.times[ring.active].activated or ring.times[ring.active].published
    return activated + spec.rotation_interval


def _next_check(ring: Ring, spec: RingSpec) -> datetime:
    pending = _pending(ring)
    due = [
        ring.times[pending].published + spec.propagation_delay
        if pending
        else _rotation_due(ring, spec)
    ]
    due += [t.retired + spec.grace_period for t in ring.times.values() if t.retired]
    return min(due)


# --- to and from the Secret ------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def encode_times(times: Mapping[str, KeyTimes]) -> str:
    return json.dumps(
        {
            kid: {
                "published": _iso(t.published),
                "activated": _iso(t.activated),
                "retired": _iso(t.retired),
            }
            for kid, t in sorted(times.items())
        },
        sort_keys=True,
    )


def decode_times(text: str | None) -> dict[str, KeyTimes]:
    """The annotation's times; an unreadable annotation counts as none (keys get adopted)."""
    try:
        raw = json.loads(text or "{}")
        return {
            kid: KeyTimes(
                published=datetime.fromisoformat(t["published"]),
                activated=_time(t.get("activated")),
                retired=_time(t.get("retired")),
            )
            for kid, t in raw.items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def ring_from_secret(data: Mapping[str, bytes], annotations: Mapping[str, str]) -> Ring:
    return Ring(
        files=dict(data),
        times=decode_times(annotations.get(TIMES_ANNOTATION)),
        handled_request=annotations.get(HANDLED_ANNOTATION),
    )


def secret_annotations(ring: Ring) -> dict[str, str]:
    annotations = {TIMES_ANNOTATION: encode_times(ring.times)}
    if ring.handled_request is not None:
        annotations[HANDLED_ANNOTATION] = ring.handled_request
    return annotations


def status(ring: Ring, spec: RingSpec) -> dict[str, Any]:
    """The resource's status: active kid, last rotation and each key with its state.
    Unset times are left out (a merge patch would read a null as "delete")."""
    activations = [t.activated for t in ring.times.values() if t.activated]
    shown = {
        "activeKid": ring.active,
        "lastRotation": _iso(max(activations, default=None)),
        "nextCheck": _iso(_next_check(ring, spec)) if ring.active else None,
        "keys": [
            _present(
                {
                    "kid": kid,
                    "state": ring.state(kid),
                    "published": _iso(t.published),
                    "activated": _iso(t.activated),
                    "retired": _iso(t.retired),
                    "prunedAfter": _iso(t.retired + spec.grace_period) if t.retired else None,
                }
            )
            for kid, t in sorted(ring.times.items())
        ],
    }
    return _present(shown)


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def until(moment: datetime, now: datetime) -> timedelta:
    return max(moment - now, timedelta(0))
