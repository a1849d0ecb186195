"""The signing-key ring: Ed25519 keys in a directory, one active, all published in the JWKS.

Layout (what a Kubernetes Secret mounted as a volume produces, one Secret key per file):

    <kid>.pem   PKCS8 PEM Ed25519 private key, one per key id
    active      the kid that signs new tokens

Every key present is published in the JWKS; only the active one signs. Rotation adds a key
and points `active` at it; the previous key keeps verifying until the operator removes it,
which it does once the key has been out of use for longer than the access-token lifetime.
In a cluster, rotate in two steps (`rotate(..., activate=False)`, then `activate`) at least
one Secret-propagation delay apart, so every replica publishes the key before any signs.

The pure functions work on a `{filename: bytes}` mapping, which is exactly a Secret's data,
so the operator reuses them; `read_ring_files`/`write_ring` move that mapping to and from
a directory. `KeyRingSource` is the running service's view: it notices changes (Secret
volume updates are symlink swaps, so it compares names and content hashes, not inotify
events) and swaps the ring in memory without a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger("users.keys")

ACTIVE = "active"
PEM_SUFFIX = ".pem"
KID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")  # valid as a Secret data key
KID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


class KeyRingError(ValueError):
    """The files do not make a usable key ring."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    public_jwk: dict[str, str] = field(compare=False)


@dataclass(frozen=True)
class KeyRing:
    active: SigningKey
    keys: Mapping[str, SigningKey]
    fingerprint: str

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.keys[kid].public_jwk for kid in sorted(self.keys)]}


# --- pure functions on a {filename: bytes} mapping (a Secret's data) ------------------------


def new_kid(now: datetime | None = None) -> str:
    """A sortable, unique key id: creation time plus randomness, e.g. 20250101T120000Z-3fa9c2."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment.strftime(KID_TIME_FORMAT)}-{secrets.token_hex(3)}"


def kid_created_at(kid: str) -> datetime | None:
    """When a key made by `new_kid` was created (None for kids of another shape)."""
    try:
        return datetime.strptime(kid.split("-", 1)[0], KID_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def generate_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_jwk(private_key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    jwk: dict[str, str] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "EdDSA"}


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyRingError(f"not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyRingError("not an Ed25519 key")
    return key


def kids(files: Mapping[str, bytes]) -> list[str]:
    return sorted(
        name.removesuffix(PEM_SUFFIX)
        for name in files
        if name.endswith(PEM_SUFFIX) and KID_PATTERN.match(name.removesuffix(PEM_SUFFIX))
    )


def active_kid(files: Mapping[str, bytes]) -> str | None:
    raw = files.get(ACTIVE)
    if raw is None:
        return None
    return raw.decode(errors="replace").strip() or None


def rotate(
    files: Mapping[str, bytes],
    *,
    activate: bool = True,
    kid: str | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, bytes], str]:
    """Add a fresh key (and make it the active one unless `activate=False`)."""
    kid = kid or new_kid(now)
    if not KID_PATTERN.match(kid):
        raise KeyRingError(f"invalid kid {kid!r}")
    if kid + PEM_SUFFIX in files:
        raise KeyRingError(f"key {kid} already exists")
    updated = {**files, kid + PEM_SUFFIX: generate_private_key_pem()}
    if activate or active_kid(files) is None:
        updated[ACTIVE] = kid.encode() + b"\n"
    return updated, kid


def activate(files: Mapping[str, bytes], kid: str) -> dict[str, bytes]:
    """Make an existing key the signing key."""
    if kid + PEM_SUFFIX not in files:
        raise KeyRingError(f"no key {kid}")
    return {**files, ACTIVE: kid.encode() + b"\n"}


def retire(files: Mapping[str, bytes], kid: str) -> dict[str, bytes]:
    """Remove a key from the ring (it stops verifying). The active key cannot be removed."""
    if active_kid(files) == kid:
        raise KeyRingError(f"key {kid} is the active key; activate another one first")
    if kid + PEM_SUFFIX not in files:
        raise KeyRingError(f"no key {kid}")
    return {name: data for name, data in files.items() if name != kid + PEM_SUFFIX}


def fingerprint(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def parse_ring(files: Mapping[str, bytes]) -> KeyRing:
    """Validate the files into a ring. A broken non-active key is skipped (and logged);
    a missing or broken active key is an error."""
    active = active_kid(files)
    if active is None:
        raise KeyRingError("no active key (file 'active' is missing or empty)")
    keys: dict[str, SigningKey] = {}
    for kid in kids(files):
        try:
            private = load_private_key(files[kid + PEM_SUFFIX])
        except KeyRingError as exc:
            if kid == active:
                raise KeyRingError(f"active key {kid}: {exc}") from exc
            log.warning("skipping key %s: %s", kid, exc)
            continue
        keys[kid] = SigningKey(kid, private, public_jwk(private, kid))
    if active not in keys:
        raise KeyRingError(f"active key {active!r} has no {active}{PEM_SUFFIX}")
    return KeyRing(active=keys[active], keys=keys, fingerprint=fingerprint(files))


# --- the directory ---------------------------------------------------------------------------


def read_ring_files(directory: Path) -> dict[str, bytes]:
    """`active` and `*.pem`, following symlinks; Kubernetes' `..data` entries are skipped."""
    files: dict[str, bytes] = {}
    if not directory.is_dir():
        return files
    for path in directory.iterdir():
        name = path.name
        if name.startswith(".") or not (name == ACTIVE or name.endswith(PEM_SUFFIX)):
            continue
        # A Secret update can remove a file between listing and reading: skip it.
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            files[name] = path.read_bytes()
    return files


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_ring(
    directory: Path, files: Mapping[str, bytes], *, remove_missing: bool = False
) -> None:
    """Write the ring so a concurrent reader never sees `active` naming a missing key:
    keys first, `active` last, each file replaced atomically. `remove_missing` deletes
    key files absent from `files` (after `active` has moved away from them)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    current = read_ring_files(directory)
    for name in sorted(files):
        if name != ACTIVE and current.get(name) != files[name]:
            _write_atomically(directory / name, files[name])
    if ACTIVE in files and current.get(ACTIVE) != files[ACTIVE]:
        _write_atomically(directory / ACTIVE, files[ACTIVE])
    if remove_missing:
        for name in current:
            if name not in files and name.endswith(PEM_SUFFIX):
                (directory / name).unlink(missing_ok=True)


def ensure_ring(directory: Path) -> None:
    """Create a first key when the directory holds none (local development)."""
    files = read_ring_files(directory)
    if active_kid(files) is None:
        updated, kid = rotate(files)
        write_ring(directory, updated)
        log.info("generated signing key %s in %s", kid, directory)


class KeyRingSource:
    """The running service's key ring, reloaded when the directory's contents change."""

    def __init__(self, directory: Path, *, create_if_missing: bool = False) -> None:
        self.directory = directory
        self.create_if_missing = create_if_missing
        self._ring: KeyRing | None = None

    @property
    def ring(self) -> KeyRing:
        if self._ring is None:
            raise RuntimeError("the key ring is not loaded")
        return self._ring

    def load(self) -> KeyRing:
        """First load: an unusable directory is fatal (the service cannot sign)."""
        if self.create_if_missing:
            ensure_ring(self.directory)
        self._ring = parse_ring(read_ring_files(self.directory))
        log.info(
            "key ring loaded from %s: active %s, %d key(s)",
            self.directory,
            self._ring.active.kid,
            len(self._ring.keys),
        )
        return self._ring

    def reload_if_changed(self) -> bool:
        """Swap in the directory's ring if it changed; a broken update keeps the old ring."""
        files = read_ring_files(self.directory)
        if self._ring is not None and fingerprint(files) == self._ring.fingerprint:
            return False
        try:
            ring = parse_ring(files)
        except KeyRingError as exc:
            log.error("key ring in %s not reloaded, keeping the old one: %s", self.directory, exc)
            return False
        previous = self._ring
        self._ring = ring
        log.info(
            "key ring reloaded: active %s (was %s), keys %s",
            ring.active.kid,
            previous.active.kid if previous else None,
            sorted(ring.keys),
        )
        return True

    async def jwks(self) -> dict[str, Any]:
        return self.ring.jwks()
