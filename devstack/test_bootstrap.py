"""The README's first step on a newcomer's machine: uv must be found without any PATH edits.

A session once shipped a bootstrap that installed uv where the Makefile's next line could not
see it, and CI hid it by extending PATH itself. These run the installer the way a fresh root
shell does: Debian's default PATH and a HOME with nothing in it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What `su -` / a fresh root login gets on Debian (/etc/profile, /etc/login.defs ENV_SUPATH).
DEBIAN_ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _pinned_version() -> str:
    text = (REPO / "devstack" / "install-uv.sh").read_text()
    return text.split('UV_VERSION="${UV_VERSION:-', 1)[1].split("}", 1)[0]


def test_installer_works_from_a_shell_without_uv(tmp_path: Path) -> None:
    home, target = tmp_path / "home", tmp_path / "bin"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    assert shutil.which("uv", path=env["PATH"]) is None
    subprocess.run(["bash", "devstack/install-uv.sh", str(target)], cwd=REPO, env=env, check=True)
    out = subprocess.run([target / "uv", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.split()[1] == _pinned_version()


def test_an_installed_uv_still_fills_an_empty_cache(tmp_path: Path) -> None:
    """The images copy uv from the cache: a machine with uv installed and the cache cleared
    (or PRODUCT_STORE_CACHE pointed somewhere new) once failed every image build."""
    home, target, cache = tmp_path / "home", tmp_path / "bin", tmp_path / "cache"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PRODUCT_STORE_CACHE": str(cache)}
    subprocess.run(["bash", "devstack/install-uv.sh", str(target)], cwd=REPO, env=env, check=True)
    shutil.rmtree(cache)
    subprocess.run(["bash", "devstack/install-uv.sh", str(target)], cwd=REPO, env=env, check=True)
    assert (cache / f"uv-{_pinned_version()}" / "uv").exists()


def test_bootstrapped_uv_is_on_a_fresh_root_shells_path() -> None:
    """`make test` ran the bootstrap before this: its uv must be visible to the next shell."""
    if os.geteuid() != 0:
        expected = Path.home() / ".local" / "bin" / "uv"
        assert expected.exists(), "non-root installs go to ~/.local/bin (the README says so)"
        return
    found = shutil.which("uv", path=DEBIAN_ROOT_PATH)
    assert found == "/usr/local/bin/uv", found


def test_ci_changes_no_environment() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert "export" not in script and "PATH" not in script
    assert script.rstrip().endswith("make test")
