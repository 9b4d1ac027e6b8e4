"""Eval mode with a mark: which ``F.dropout`` calls follow the module's mode (``training=self.training``).

A model is traced in eval mode, where ``F.dropout(x, p, training=self.training)`` returns its
input. In a training step the same call drops elements, so symconv must count it there. The
call's arguments alone cannot tell ``training=self.training`` from a literal
``training=False`` (which never drops). So while tracing, every module's ``training``
attribute is :data:`EVAL`: a value that is false, equal to ``False`` and hashes as it, as the
flag of a module in eval mode does, but that is not the object ``False``. A dropout function
that receives it received a module's mode: it is a dropout of the training step
(:func:`symconv.frontends.trace_dropout.functional_dropout`). The torch function mode gives
PyTorch's own functions the plain ``False`` instead (:func:`plain`), so the kernels never see
the mark.

Examples
--------
>>> bool(EVAL), EVAL == False, not EVAL, hash(EVAL) == hash(False)
(False, True, True, True)
>>> EVAL is False, is_module_mode(EVAL), is_module_mode(False)
(False, True, False)
>>> plain((1, EVAL), {"training": EVAL, "p": 0.5})
((1, False), {'training': False, 'p': 0.5})
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["EVAL", "is_module_mode", "plain", "marked", "in_marked_eval", "restore"]


class _ModuleEval:
    """The mode of a module in eval mode, marked (see the module's docstring)."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return other is self or other is False or (type(other) is int and other == 0)

    def __hash__(self) -> int:
        return hash(False)

    def __int__(self) -> int:
        return 0

    def __index__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "False"


#: Every module's ``training`` while a model is traced.
EVAL: Any = _ModuleEval()


def is_module_mode(value: object) -> bool:
    """Whether ``value`` is a module's ``training`` attribute read while tracing."""
    return value is EVAL


def marked(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a call's arguments hold a module's mode (cheap: top-level arguments only, as
    PyTorch's functions take ``training``)."""
    for value in args:   # a loop, not any(): this runs on every call the tracer sees
        if value is EVAL:
            return True
    if kwargs:
        for value in kwargs.values():
            if value is EVAL:
                return True
    return False


def plain(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...],
                                                                  dict[str, Any]]:
    """``args`` and ``kwargs`` with the module's mode as the plain ``False`` PyTorch's kernels
    take."""
    return (tuple(False if value is EVAL else value for value in args),
            {name: False if value is EVAL else value for name, value in kwargs.items()})


def in_marked_eval(model: Any, modules: Iterable[Any]) -> list[tuple[Any, Any]]:
    """Put ``model`` in eval mode (``model.eval()``, so that an overridden ``train`` runs as
    usual) and mark every module's mode :data:`EVAL`; the modules' modes as they were, for
    :func:`restore`."""
    kept = [(module, module.training) for module in modules]
    if any(mode for _, mode in kept):
        model.eval()
    for module, _ in kept:
        _set_mode(module, EVAL)
    return kept


def restore(kept: list[tuple[Any, Any]]) -> None:
    """Every module's mode back as :func:`in_marked_eval` found it."""
    for module, mode in kept:
        _set_mode(module, mode)


def _set_mode(module: Any, mode: Any) -> None:
    """``module.training = mode``, straight into the attribute ``nn.Module.__init__`` made (its
    ``__setattr__``, which looks for parameters, buffers and modules first, took a tenth of
    tracing a small model), else through ``setattr``."""
    attributes = getattr(module, "__dict__", None)
    if attributes is not None and "training" in attributes:
        attributes["training"] = mode
    else:
        module.training = mode
