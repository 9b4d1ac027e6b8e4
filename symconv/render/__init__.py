"""Renderers: one module per output format, chosen by name.

Each format module offers ``render_comparison(result, lang)`` and ``render_kind(general, lang)``
where it supports them; :func:`renderer` imports only the module asked for. ``diagram`` draws the
figures (matplotlib), ``notebook`` the rich display, ``catalogue`` holds the strings per language.

May import: report, networks, derive, layers and the vocabulary; never execute (a renderer
formats the results it is given).

Examples
--------
>>> renderer("json").__name__
'symconv.render.json'
>>> renderer("yaml")
Traceback (most recent call last):
...
symconv.errors.SymconvError: --format yaml is not known; choose one of: text, json, latex, markdown, html
"""

from __future__ import annotations

import importlib
from types import ModuleType

from symconv.errors import SymconvError, shown

__all__ = ["FORMATS", "renderer"]

#: Format name -> module that renders it.
FORMATS: dict[str, str] = {
    "text": "symconv.render.text",
    "json": "symconv.render.json",
    "latex": "symconv.render.latex",
    "markdown": "symconv.render.markdown",
    "html": "symconv.render.html",
}


def renderer(name: str) -> ModuleType:
    """The module that renders format ``name``."""
    if name not in FORMATS:
        raise SymconvError(f"--format {shown(name, bare=True)} is not known; choose one of: {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[name])
