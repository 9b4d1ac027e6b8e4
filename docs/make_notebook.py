"""Write ``docs/tutorial.ipynb`` from ``docs/tutorial.md``, the one source of the tutorial.

    python docs/make_notebook.py          # rewrite the notebook
    python docs/make_notebook.py --check  # exit 1 when the notebook is out of date

Prose becomes Markdown cells; each ``>>>`` example of a ```` ```python ```` block becomes one code
cell (its source without prompts, its expected output dropped), so that in a notebook every value
shows through its rich display — a ``Cost`` as LaTeX, a network's cost as a table. Outputs are
not stored: ``tests/test_notebook.py`` executes the notebook in a real Jupyter kernel. Needs
``nbformat`` (in the test extra).
"""

from __future__ import annotations

import argparse
import doctest
import json
import pathlib
import re
import sys

DOCS = pathlib.Path(__file__).resolve().parent
SOURCE = DOCS / "tutorial.md"
NOTEBOOK = DOCS / "tutorial.ipynb"

_BLOCK = re.compile(r"^```python\n(.*?)^```\n", re.S | re.M)


def cells(markdown: str) -> list[tuple[str, str]]:
    """``(kind, source)`` pairs, ``kind`` being ``"markdown"`` or ``"code"``, in order."""
    found: list[tuple[str, str]] = []
    position = 0
    parser = doctest.DocTestParser()
    for match in _BLOCK.finditer(markdown):
        prose = markdown[position:match.start()].strip()
        if prose:
            found.append(("markdown", prose))
        for example in parser.get_examples(match.group(1)):
            found.append(("code", example.source.rstrip("\n")))
        position = match.end()
    rest = markdown[position:].strip()
    if rest:
        found.append(("markdown", rest))
    return found


def notebook(markdown: str) -> str:
    """The notebook's JSON text, deterministic (no outputs, no execution counts, no ids)."""
    import nbformat

    book = nbformat.v4.new_notebook()
    book.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"},
                     "language_info": {"name": "python"}}
    for kind, source in cells(markdown):
        cell = (nbformat.v4.new_markdown_cell(source) if kind == "markdown"
                else nbformat.v4.new_code_cell(source))
        cell.pop("id", None)
        book.cells.append(cell)
    book.nbformat_minor = 4  # no cell ids: the file is the same on every run
    nbformat.validate(book)
    return json.dumps(book, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="docs/tutorial.md -> docs/tutorial.ipynb")
    parser.add_argument("--check", action="store_true", help="fail when the notebook is stale")
    args = parser.parse_args(argv)
    text = notebook(SOURCE.read_text(encoding="utf-8"))
    if args.check:
        current = NOTEBOOK.read_text(encoding="utf-8") if NOTEBOOK.exists() else ""
        if current != text:
            print("docs/tutorial.ipynb is out of date: run python docs/make_notebook.py",
                  file=sys.stderr)
            return 1
        return 0
    NOTEBOOK.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
