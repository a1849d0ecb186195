"""devstack/cli.py: the command table behind every `python -m devstack.<module>`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devstack.cli import dispatch


def test_runs_the_named_command_with_its_arguments() -> None:
    seen: list[tuple[str, ...]] = []
    commands: dict[str, Callable[..., object]] = {
        "up": lambda: seen.append(()),
        "copy": lambda a, b: seen.append((a, b)),
    }
    assert dispatch(["copy", "x", "y"], commands, "usage") == 0
    assert dispatch([], commands, "usage") == 0  # no command: the default, up
    assert seen == [("x", "y"), ()]


@pytest.mark.parametrize("argv", [["nope"], ["up", "extra"], ["copy", "x"]])
def test_unknown_commands_and_wrong_arguments_print_the_usage(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []
    commands: dict[str, Callable[..., object]] = {
        "up": lambda: ran.append("up"),
        "copy": lambda a, b: ran.append("copy"),
    }
    assert dispatch(argv, commands, "usage: up | copy A B") == 2
    assert ran == []
    assert capsys.readouterr().err == "usage: up | copy A B\n"
