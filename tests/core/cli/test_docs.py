"""docs/operator/cli.md documents every command, and its examples parse."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from apscheduler.cli import create_app

CLI_DOC = Path(__file__).resolve().parents[3] / "docs" / "operator" / "cli.md"


def is_group(command: Any) -> bool:
    return isinstance(getattr(command, "commands", None), dict)


def leaf_commands(command: Any, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    if is_group(command):
        leaves: set[tuple[str, ...]] = set()
        for name, sub in command.commands.items():
            leaves |= leaf_commands(sub, (*path, name))
        return leaves
    return {path}


def documented_invocations() -> list[list[str]]:
    invocations = []
    for line in CLI_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("$ apscheduler"):
            invocations.append(shlex.split(line[2:])[1:])
    return invocations


def resolve(root: Any, args: list[str]) -> tuple[tuple[str, ...], Any, list[str]]:
    command, path = root, ()
    while is_group(command) and args and args[0] in command.commands:
        path = (*path, args[0])
        command = command.commands[args[0]]
        args = args[1:]
    return path, command, args


def test_every_command_is_documented() -> None:
    root = typer.main.get_command(create_app())
    documented = {resolve(root, args)[0] for args in documented_invocations()}
    leaves = leaf_commands(root)
    assert ("schedules", "run-now") in leaves and len(leaves) >= 12
    missing = leaves - documented
    assert not missing, f"commands without an example in cli.md: {sorted(missing)}"


@pytest.mark.parametrize("args", documented_invocations(), ids=" ".join)
def test_documented_examples_parse(args: list[str]) -> None:
    if "--help" in args or "--version" in args:
        return
    root = typer.main.get_command(create_app())
    path, command, rest = resolve(root, args)
    assert not is_group(command), f"{args}: not a complete command"
    command.make_context(" ".join(("apscheduler", *path)), rest)
