"""The key ring: pure functions, the directory, Kubernetes Secret updates, the CLI."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from users import keys as keyring
from users.cli import keys_main


def test_rotate_adds_and_activates_a_key() -> None:
    files, first = keyring.rotate({})
    assert keyring.active_kid(files) == first
    files2, second = keyring.rotate(files)
    assert keyring.kids(files2) == sorted([first, second])
    assert keyring.active_kid(files2) == second
    assert files2[first + ".pem"] == files[first + ".pem"]  # the old key is kept
    ring = keyring.parse_ring(files2)
    assert ring.active.kid == second
    assert [k["kid"] for k in ring.jwks()["keys"]] == sorted([first, second])
    for jwk in ring.jwks()["keys"]:
        assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
        assert "d" not in jwk  # public part only


def test_staged_rotation_then_activate_then_retire() -> None:
    files, first = keyring.rotate({})
    staged, second = keyring.rotate(files, activate=False)
    assert keyring.active_kid(staged) == first
    assert second in keyring.parse_ring(staged).keys  # published before it signs
    active = keyring.activate(staged, second)
    assert keyring.parse_ring(active).active.kid == second
    with pytest.raises(keyring.KeyRingError):
        keyring.retire(active, second)  # the active key stays
    retired = keyring.retire(active, first)
    assert keyring.kids(retired) == [second]


def test_kid_shape_and_creation_time() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    kid = keyring.new_kid(moment)
    assert kid.startswith("20250102T030405Z-")
    assert keyring.KID_PATTERN.match(kid)
    assert keyring.kid_created_at(kid) == moment
    assert keyring.kid_created_at("custom") is None
    with pytest.raises(keyring.KeyRingError):
        keyring.rotate({}, kid="../etc/passwd")


def test_parse_ring_rejects_broken_rings() -> None:
    files, kid = keyring.rotate({})
    with pytest.raises(keyring.KeyRingError, match="no active key"):
        keyring.parse_ring({k: v for k, v in files.items() if k != "active"})
    with pytest.raises(keyring.KeyRingError, match="has no"):
        keyring.parse_ring({**files, "active": b"missing\n"})
    with pytest.raises(keyring.KeyRingError, match="active key"):
        keyring.parse_ring({**files, f"{kid}.pem": b"garbage"})
    # A broken key that does not sign is skipped, the ring still works.
    ring = keyring.parse_ring({**files, "other.pem": b"garbage"})
    assert list(ring.keys) == [kid]


def test_tokens_signed_by_the_ring_verify_with_its_jwks() -> None:
    files, kid = keyring.rotate({})
    ring = keyring.parse_ring(files)
    token = jwt.encode({"sub": "x"}, ring.active.private_key, "EdDSA", headers={"kid": kid})
    public = jwt.PyJWK(ring.jwks()["keys"][0], "EdDSA")
    assert jwt.decode(token, public.key, algorithms=["EdDSA"])["sub"] == "x"


def test_write_ring_is_private_and_keeps_unknown_keys(tmp_path: Path) -> None:
    ring_dir = tmp_path / "ring"
    files, first = keyring.rotate({})
    keyring.write_ring(ring_dir, files)
    assert (ring_dir / "active").read_text().strip() == first
    assert oct((ring_dir / f"{first}.pem").stat().st_mode & 0o777) == "0o600"
    # Another writer's key is not deleted unless asked to.
    other, second = keyring.rotate({})
    keyring.write_ring(ring_dir, other)
    assert set(keyring.kids(keyring.read_ring_files(ring_dir))) == {first, second}
    current = keyring.read_ring_files(ring_dir)
    assert keyring.active_kid(current) == second
    keyring.write_ring(ring_dir, keyring.retire(current, first), remove_missing=True)
    assert keyring.kids(keyring.read_ring_files(ring_dir)) == [second]


def test_local_ring_is_generated_once(tmp_path: Path) -> None:
    source = keyring.KeyRingSource(tmp_path / "local", create_if_missing=True)
    first = source.load().active.kid
    again = keyring.KeyRingSource(tmp_path / "local", create_if_missing=True)
    assert again.load().active.kid == first  # a restart keeps the key (and its tokens)


def test_missing_mounted_ring_is_fatal(tmp_path: Path) -> None:
    with pytest.raises(keyring.KeyRingError):
        keyring.KeyRingSource(tmp_path / "nothing").load()


def _secret_volume_update(directory: Path, files: dict[str, bytes], version: str) -> None:
    """What the kubelet does: write a timestamped dir, swap `..data`, link the file names."""
    target = directory / f"..{version}"
    target.mkdir()
    for name, data in files.items():
        (target / name).write_bytes(data)
    tmp_link = directory / "..data_tmp"
    tmp_link.symlink_to(target.name)
    os.replace(tmp_link, directory / "..data")
    for name in files:
        link = directory / name
        if not link.is_symlink():
            link.symlink_to(f"..data/{name}")
    for entry in directory.iterdir():  # names dropped from the Secret disappear
        if entry.is_symlink() and not entry.name.startswith("..") and entry.name not in files:
            entry.unlink()


def test_reload_follows_kubernetes_secret_symlink_swaps(tmp_path: Path) -> None:
    mount = tmp_path / "secret"
    mount.mkdir()
    files, first = keyring.rotate({})
    _secret_volume_update(mount, files, "v1")
    source = keyring.KeyRingSource(mount)
    assert source.load().active.kid == first
    assert source.reload_if_changed() is False  # nothing changed

    files2, second = keyring.rotate(files)
    _secret_volume_update(mount, files2, "v2")
    assert source.reload_if_changed() is True
    assert source.ring.active.kid == second
    assert set(source.ring.keys) == {first, second}

    # A broken update (active names a key that is not there) keeps the working ring.
    _secret_volume_update(mount, {**files2, "active": b"nope\n"}, "v3")
    assert source.reload_if_changed() is False
    assert source.ring.active.kid == second

    retired = keyring.retire(files2, first)
    _secret_volume_update(mount, retired, "v4")
    assert source.reload_if_changed() is True
    assert set(source.ring.keys) == {second}


def test_keys_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ring_dir = tmp_path / "cli"
    assert keys_main(["rotate", "--dir", str(ring_dir)]) == 0
    first = capsys.readouterr().out.split()[0]
    assert keys_main(["rotate", "--dir", str(ring_dir), "--stage"]) == 0
    second = capsys.readouterr().out.split()[0]
    assert keyring.active_kid(keyring.read_ring_files(ring_dir)) == first
    assert keys_main(["jwks", "--dir", str(ring_dir)]) == 0
    published = {k["kid"] for k in json.loads(capsys.readouterr().out)["keys"]}
    assert published == {first, second}
    assert keys_main(["activate", "--dir", str(ring_dir), "--kid", second]) == 0
    assert keys_main(["retire", "--dir", str(ring_dir), "--kid", second]) == 1  # active
    assert keys_main(["retire", "--dir", str(ring_dir), "--kid", first]) == 0
    capsys.readouterr()
    assert keys_main(["list", "--dir", str(ring_dir)]) == 0
    listing = capsys.readouterr().out
    assert second in listing and "active" in listing and first not in listing
