"""A drawn figure that shows itself in a notebook: SVG inline, PNG as an image.

:func:`symconv.render.diagram.draw_separable_stages` writes files; wrap one in :class:`Figure`
to display it in Jupyter (``_repr_svg_`` / ``_repr_png_``), or read its bytes.

Examples
--------
>>> import pathlib, tempfile
>>> from symconv.render.diagram import draw_separable_stages
>>> with tempfile.TemporaryDirectory() as folder:
...     figure = Figure(draw_separable_stages((7, 7, 3), 64, 3, out_dir=folder)[1])
...     figure._repr_svg_().lstrip().startswith("<?xml"), figure._repr_png_()
(True, None)
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from symconv.errors import SymconvError

__all__ = ["Figure"]


@dataclass(frozen=True)
class Figure:
    """A diagram file (``.svg`` or ``.png``), read when it is displayed."""

    path: pathlib.Path

    def __post_init__(self) -> None:
        path = pathlib.Path(self.path)
        if path.suffix not in (".svg", ".png"):
            raise SymconvError(f"path={str(path)!r} must be an .svg or .png figure to display")
        object.__setattr__(self, "path", path)

    def _repr_svg_(self) -> str | None:
        return self.path.read_text(encoding="utf-8") if self.path.suffix == ".svg" else None

    def _repr_png_(self) -> bytes | None:
        return self.path.read_bytes() if self.path.suffix == ".png" else None
