"""Every command and every option says what it does in --help."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from searchidx.cli import main


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_and_option_has_help_text(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"searchidx {' '.join(path)} has no help text"
    silent = [o.opts[0] for o in command.params if isinstance(o, click.Option) and not o.hidden and not o.help]
    assert silent == [], f"searchidx {' '.join(path)}: options without help: {silent}"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_the_top_level_help_lists_every_command() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    assert all(name in output for name in main.commands)
