"""The committed JSON under grafana-dashboards/generated/ is exactly what the code builds."""

from __future__ import annotations

from pathlib import Path

from dashboards import build


def test_committed_json_matches_code() -> None:
    problems = build.check()
    assert problems == [], f"{problems}: regenerate with `uv run python -m dashboards.build`"


def test_check_cli_passes() -> None:
    assert build.main(["--check"]) == 0


def test_generation_is_deterministic() -> None:
    first, second = build.generate(), build.generate()
    assert first == second
    assert all(text.endswith("}\n") and text.count("\n  ") > 0 for text in first.values())


def test_check_reports_missing_changed_and_stale(tmp_path: Path) -> None:
    assert build.write(tmp_path)
    assert build.check(tmp_path) == []
    assert build.write(tmp_path) == []  # nothing to rewrite
    (tmp_path / "catalog.json").write_text("{}\n")
    (tmp_path / "cart.json").unlink()
    (tmp_path / "old.json").write_text("{}\n")
    assert sorted(build.check(tmp_path)) == [
        "cart.json: missing",
        "catalog.json: differs from the code",
        "old.json: stale (no dashboard generates it)",
    ]
    assert build.main(["--check", "--out", str(tmp_path)]) == 1
    build.write(tmp_path)
    assert build.check(tmp_path) == []
    assert not (tmp_path / "old.json").exists()
