"""The model's mode while it is traced, and which dropout calls follow it.

* :func:`in_eval_mode` puts the model in eval mode for the trace (``model.eval()``, so that an
  overridden ``train`` runs as usual, then ``False`` on any module that stayed in training) and
  :func:`restore` puts every module's mode back as it was.
* :func:`training_reads_module_mode`: traced in eval mode, ``F.dropout(x, p,
  training=self.training)`` and ``F.dropout(x, p, training=False)`` receive the same ``False``.
  In a training step the first drops elements and the second does not, so symconv reads the call
  in the caller's source (its exact span, from the code object's positions): the call follows
  the module's mode when its ``training`` argument reads an attribute named ``training``
  (``self.training``, ``self.training and self.drop``, ``bool(self.training)``). Nothing is
  run: the source is parsed (:mod:`ast`), never evaluated. Without source (code made by
  ``exec``; Python 3.10, whose code objects keep no column positions), or where the value
  comes through a variable or a helper function, the call is taken as written: ``False``, no
  dropout.
* :func:`not_run`: a branch a model runs only in training mode (``if self.training:``,
  GoogLeNet's and Inception V3's auxiliary classifiers) does not run in the trace, so a
  training step cannot count it. The modules that hold parameters and did not run are listed
  (``Graph.not_run``); the CLI's training reports say so.

Examples
--------
>>> import ast
>>> _reads_training(ast.parse("F.dropout(x, 0.5, training=self.training)", mode="eval").body, 2)
True
>>> _reads_training(ast.parse("F.dropout(x, 0.5, self.training and self.extra)", mode="eval").body, 2)
True
>>> _reads_training(ast.parse("F.dropout(x, 0.5, False)", mode="eval").body, 2)
False
"""

from __future__ import annotations

import ast
import linecache
import sys
from collections.abc import Iterable
from types import FrameType
from typing import Any

__all__ = ["in_eval_mode", "restore", "training_reads_module_mode", "not_run"]


def in_eval_mode(model: Any, modules: Iterable[Any]) -> list[tuple[Any, bool]]:
    """Put ``model`` and every module of ``modules`` in eval mode; the modules' modes as they
    were, for :func:`restore`."""
    kept = [(module, module.training) for module in modules]
    if any(mode for _, mode in kept):
        model.eval()
        for module, _ in kept:
            if module.training:   # an eval() of the user's that left some in training
                module.training = False
    return kept


def restore(kept: list[tuple[Any, bool]]) -> None:
    """Every module's mode back as :func:`in_eval_mode` found it."""
    for module, mode in kept:
        if module.training != mode:
            module.training = mode


def training_reads_module_mode(function: Any, position: int = 2) -> bool:
    """Whether the running call of the Python function ``function`` (``F.dropout``, ...) got its
    ``training`` argument (keyword, or positional at ``position``) from an expression that reads
    an attribute named ``training``, in its caller's source."""
    code = getattr(function, "__code__", None)
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    if frame is None or frame.f_back is None:
        return False
    source = _call_source(frame.f_back)
    if source is None:
        return False
    try:
        call = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return False
    return _reads_training(call, position)


def _call_source(frame: FrameType) -> str | None:
    """The source of the call ``frame`` is running (its span in the code object's positions;
    columns are UTF-8 byte offsets), or ``None`` where it is not known."""
    positions_of = getattr(frame.f_code, "co_positions", None)   # Python 3.11 and later
    if positions_of is None:
        return None
    positions = list(positions_of())
    index = frame.f_lasti // 2
    if not 0 <= index < len(positions):
        return None
    line, end_line, column, end_column = positions[index]
    if line is None or end_line is None or column is None or end_column is None:
        return None
    lines = linecache.getlines(frame.f_code.co_filename, frame.f_globals)
    if end_line > len(lines):
        return None
    spanned = [text.encode() for text in lines[line - 1:end_line]]
    if len(spanned) == 1:
        return spanned[0][column:end_column].decode(errors="replace")
    middle = b"".join(spanned[1:-1])
    return (spanned[0][column:] + middle + spanned[-1][:end_column]).decode(errors="replace")


def _reads_training(call: ast.expr, position: int) -> bool:
    """Whether ``call``'s ``training`` argument reads an attribute named ``training``."""
    if not isinstance(call, ast.Call):
        return False
    argument: ast.expr | None = next((keyword.value for keyword in call.keywords
                                      if keyword.arg == "training"), None)
    if argument is None and len(call.args) > position and not any(
            isinstance(given, ast.Starred) for given in call.args[:position + 1]):
        argument = call.args[position]
    return argument is not None and any(
        isinstance(node, ast.Attribute) and node.attr == "training" for node in ast.walk(argument))


def not_run(modules: list[tuple[str, Any]], ran: set[str]) -> tuple[str, ...]:
    """The dotted names of the modules of ``modules`` (``named_modules()``) that hold
    parameters and are not in ``ran``, the outermost of each such part only.

    Examples
    --------
    >>> class Module:
    ...     def __init__(self, *held: object) -> None:
    ...         self.held = held
    ...     def parameters(self) -> object:
    ...         return iter(self.held)
    >>> modules = [("", Module(1, 2)), ("conv", Module(1)), ("aux", Module(2)),
    ...            ("aux.fc", Module(2)), ("relu", Module())]
    >>> not_run(modules, {"", "conv", "relu"})
    ('aux',)
    """
    found: list[str] = []
    for name, module in modules:
        if name in ran or not name or any(name.startswith(outer + ".") for outer in found):
            continue
        if next(iter(module.parameters()), None) is not None:
            found.append(name)
    return tuple(found)
