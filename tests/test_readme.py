"""The README's console example is what the command prints, so the front page cannot rot."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from symconv.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def console_examples() -> list[tuple[list[str], str]]:
    """Each ``$ symconv ...`` line of a ```console block, with the lines printed after it."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        command, _, printed = block.partition("\n")
        assert command.startswith("$ symconv "), command
        examples.append((shlex.split(command[2:])[1:], printed))
    return examples


@pytest.mark.parametrize(("argv", "printed"), console_examples())
def test_readme_console_example_is_current(capsys: pytest.CaptureFixture[str], argv: list[str],
                                           printed: str) -> None:
    assert main(argv) == 0
    assert capsys.readouterr().out == printed
