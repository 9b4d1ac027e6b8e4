"""Checks of the input shape ``from_torch`` runs a model on, made before the model runs.

* :func:`check_input_fits`: ``from_torch`` runs the model once on a random input of the shape it
  is given; an input that alone takes more than half the memory available now is refused up
  front, with its size, instead of failing inside torch's allocator.
* :func:`channels_first_suggestion`: an input written channels first (``(3, 224, 224)``) for a
  model whose first layer takes 3 channels gets "did you mean (224, 224, 3)?".
* :func:`check_eager`: a TorchScript module (``torch.jit.script`` or ``torch.jit.trace``) runs
  its own graph, whose calls never reach the tracer (its output would look like a constant,
  the module counted as nothing): refused by name.

Examples
--------
>>> try:
...     check_input_fits((1, 3, 99999, 99999), available=16 * 2**30)
... except SymconvError as error:
...     print(str(error).split(': ')[1].split('; ')[0])
that input alone takes 111.8 GiB (float32), over the limit of 8.0 GiB (half the 16.0 GiB of memory available now)
>>> check_input_fits((1, 3, 224, 224), available=16 * 2**30)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from symconv.errors import SymconvError

__all__ = ["check_input_fits", "first_layer", "channels_first_suggestion"]


def check_input_fits(torch_shape: Sequence[int], *, element_bytes: int = 4,
                     available: int | None = None) -> None:
    """Refuse an input of ``torch_shape`` (``(N, C, ...)``) that alone takes more than half of
    ``available`` bytes (default: the memory available now,
    :func:`symconv.execute.budget.available_memory`)."""
    from symconv.execute.budget import available_memory, readable_bytes

    need = math.prod(torch_shape) * element_bytes
    free = available_memory() if available is None else available
    if need > free // 2:
        shape_text = "×".join(str(size) for size in torch_shape)
        raise SymconvError(
            f"from_torch runs the model once, on a random input of PyTorch shape {shape_text}: "
            f"that input alone takes {readable_bytes(need)} (float{8 * element_bytes}), over "
            f"the limit of {readable_bytes(free // 2)} (half the {readable_bytes(free)} of "
            "memory available now); give a smaller input_shape (--input), or symbolic sizes "
            "((H, W, 3): formulas in H and W, traced at small sizes) and substitute yours"
        )


def first_layer(model: Any) -> tuple[str, Any, int] | None:
    """The first module (in definition order) that takes channels or features, its name and how
    many it takes."""
    for name, module in getattr(model, "named_modules", list)():
        for attribute in ("in_channels", "in_features", "num_features", "num_channels"):
            taken = getattr(module, attribute, None)
            if isinstance(taken, int) and not isinstance(taken, bool):
                return name, module, taken
    return None


def channels_first_suggestion(model: Any, shape: Sequence[object]) -> tuple[str, tuple[object, ...]] | None:
    """``(why, shape channels last)`` when ``shape`` looks written channels first for ``model``:
    its first layer takes as many channels as the first size and not as the last; else
    ``None``."""
    if len(shape) < 2:
        return None
    first = first_layer(model)
    if first is None:
        return None
    name, module, channels = first
    if shape[-1] != channels and shape[0] == channels:
        why = (f"the model's first layer ({name or 'model'}, nn.{type(module).__name__}) takes "
               f"{channels} channels, and symconv's shapes are channels last")
        return why, (*shape[1:], shape[0])
    return None


def check_eager(modules: Sequence[tuple[str, Any]]) -> None:
    """Refuse a model any of whose ``(name, module)`` pairs is TorchScript.

    Raises
    ------
    SymconvError
        Naming the first such module.
    """
    import torch

    for name, module in modules:
        if isinstance(module, torch.jit.ScriptModule):
            where = f"module {name!r}" if name else "the model"
            raise SymconvError(f"from_torch: {where} is TorchScript (torch.jit.script or "
                               "torch.jit.trace), whose operations symconv cannot see; pass "
                               "the eager nn.Module it was made from")
