"""Every command of the `registry` command line answers --help without any service."""

from __future__ import annotations

import click
from click.testing import CliRunner

from registry.cli import main


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_every_command_has_help() -> None:
    commands = all_commands(main)
    assert ("services", "up") in commands and ("load",) in commands and ("cases", "open") in commands
    for path in commands:
        result = CliRunner().invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        help_text = result.output.split("\n\n", 2)[1].strip() if "\n\n" in result.output else ""
        assert help_text, f"{' '.join(path)} has no description"
