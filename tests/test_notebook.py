"""docs/tutorial.ipynb: in step with docs/tutorial.md, and run by a real Jupyter kernel.

The notebook is executed with nbclient in an IPython kernel (both in the test extra); its outputs
must carry the rich MIME types symconv promises: ``text/latex`` for a ``Cost``, ``text/markdown``
or ``text/html`` for a network's table, and an image for a diagram.
"""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def _maker():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_notebook", DOCS / "make_notebook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_notebook_is_in_step_with_the_tutorial() -> None:
    pytest.importorskip("nbformat")
    assert _maker().main(["--check"]) == 0, "run: python docs/make_notebook.py"


def test_every_example_becomes_a_cell() -> None:
    found = _maker().cells("Intro\n\n```python\n>>> a = 1\n>>> a + 1\n2\n\n```\n\nEnd\n")
    assert found == [("markdown", "Intro"), ("code", "a = 1"), ("code", "a + 1"),
                     ("markdown", "End")]


@pytest.fixture(scope="module")
def executed() -> list[dict[str, object]]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    book = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    nbclient.NotebookClient(book, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(DOCS)}}).execute()
    return [cell for cell in book.cells if cell.cell_type == "code"]


def _outputs(cells: list[dict[str, object]], source: str) -> dict[str, object]:
    for cell in cells:
        if cell["source"] == source:
            data: dict[str, object] = {}
            for output in cell["outputs"]:  # type: ignore[attr-defined]
                data.update(output.get("data", {}))
            return data
    raise AssertionError(f"no cell {source!r}")


def test_the_notebook_runs_without_errors(executed: list[dict[str, object]]) -> None:
    errors = [output for cell in executed for output in cell["outputs"]  # type: ignore[attr-defined]
              if output["output_type"] == "error"]
    assert errors == []


def test_a_cost_displays_as_latex(executed: list[dict[str, object]]) -> None:
    data = _outputs(executed, "standard  # doctest: +ELLIPSIS")
    assert str(data["text/latex"]).startswith("$\\displaystyle")
    assert "\\text{mults}" in str(data["text/latex"])


def test_a_network_displays_as_a_table(executed: list[dict[str, object]]) -> None:
    data = _outputs(executed, "summary(mobilenet_v1(), depth=1)")
    table = str(data.get("text/markdown", data.get("text/html", "")))
    assert "block13" in table and "568.74 M" in table


def test_a_diagram_displays_as_an_image(executed: list[dict[str, object]]) -> None:
    source = next(str(cell["source"]) for cell in executed if str(cell["source"]).startswith("Figure("))
    data = _outputs(executed, source)
    assert "image/svg+xml" in data and "<svg" in str(data["image/svg+xml"])
