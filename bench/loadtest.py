"""Locust (loadtest/) against the running local stack, through a gateway with lifted limits.

    uv run python -m bench.loadtest [smoke|shop|soak|ui] [extra locust options]
    make loadtest PROFILE=shop

Profiles are loadtest/profiles/<name>.conf; `ui` serves Locust's web UI on :8089. The admin
signs in with the stack's password (var/secrets/admin-password). Needs `make up` first.
"""

from __future__ import annotations

import os
import subprocess
import sys

from bench.gateway import lifted_gateway
from devstack.procs import ROOT, VAR

PROFILES = ROOT / "loadtest" / "profiles"


def main(argv: list[str]) -> int:
    profile, extra = (argv[0], argv[1:]) if argv else ("smoke", [])
    conf = PROFILES / f"{profile}.conf"
    if not conf.is_file():
        known = ", ".join(sorted(p.stem for p in PROFILES.glob("*.conf")))
        print(f"no profile {profile!r}: one of {known}", file=sys.stderr)
        return 2
    with lifted_gateway(name="loadtest-gateway") as gateway:
        env = os.environ | {
            "STORE_GATEWAY_URL": gateway,
            "STORE_ADMIN_PASSWORD_FILE": str(VAR / "secrets" / "admin-password"),
        }
        print(f"[loadtest] profile {profile} through {gateway} (limits lifted)", flush=True)
        command = [sys.executable, "-m", "locust", "--config", str(conf), *extra]
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
