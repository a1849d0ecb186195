"""The `python -m devstack.<module> COMMAND [ARGS]` entry points: a table of commands each."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping, Sequence


def dispatch(
    argv: Sequence[str],
    commands: Mapping[str, Callable[..., object]],
    usage: str | None,
    default: str = "up",
) -> int:
    """Run the command `argv[0]` names (`default` without one) with the rest as its
    arguments. An unknown command or arguments it does not take: `usage` and exit code 2."""
    name, *args = argv or [default]
    command = commands.get(name)
    if command is None or not _takes(command, args):
        print(usage, file=sys.stderr)
        return 2
    command(*args)
    return 0


def _takes(command: Callable[..., object], args: Sequence[str]) -> bool:
    try:
        inspect.signature(command).bind(*args)
    except TypeError:
        return False
    return True
