"""The ``TorchFunctionMode`` the tracer runs a model under (:func:`mode_class`), and how it
skips the arithmetic inside ``torch.nn`` layers (:mod:`symconv.frontends.trace` says why).

This module imports torch inside its functions only.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

__all__ = ["mode_class"]


def _shape_only(func: Any, args: Any, kwargs: Any) -> Any:
    """``func``'s result as an uninitialised tensor of the shape PyTorch gives it, found by its
    meta kernel (no arithmetic); the real kernel where the meta one fails."""
    import torch

    def meta(value: Any) -> Any:
        return value.to("meta") if isinstance(value, torch.Tensor) else value

    try:
        shaped = func(*map(meta, args), **{name: meta(value) for name, value in kwargs.items()})
    except Exception:  # no meta kernel for these arguments: compute it
        return func(*args, **kwargs)
    if not isinstance(shaped, torch.Tensor):
        return func(*args, **kwargs)
    return torch.empty(shaped.shape, dtype=shaped.dtype)


def _same_shape(func: Any, args: Any, kwargs: Any) -> Any:
    """An elementwise function's result (BatchNorm, an activation) as an uninitialised tensor of
    its input's shape, or its input itself when it works in place; computed where its input is not one tensor, or
    where BatchNorm's statistics do not fit the channels (PyTorch then raises)."""
    import torch

    first = args[0] if args else kwargs.get("input")
    if not isinstance(first, torch.Tensor) or first.dim() < 2:
        return func(*args, **kwargs)
    if getattr(func, "__name__", "") == "batch_norm":
        statistics = args[1] if len(args) > 1 else kwargs.get("running_mean")
        training = args[5] if len(args) > 5 else kwargs.get("training", False)
        if training or statistics is None or statistics.numel() != first.shape[1]:
            return func(*args, **kwargs)
    if kwargs.get("inplace"):
        return first
    return torch.empty_like(first)


@functools.cache
def mode_class() -> type:
    """The ``TorchFunctionMode`` that reports every call to a recorder (built once, lazily).

    Inside a ``torch.nn`` layer's own forward, the convolution and linear kernels (most of a
    model's arithmetic) are not computed: symconv counts the layer from its hyperparameters,
    and the next layer needs only a tensor of the right shape, which PyTorch's meta kernel
    gives (an uninitialised tensor of that shape is handed on). BatchNorm and the activations
    symconv counts keep their input's shape (an uninitialised tensor of it is handed on, the
    input itself when in place). Values are never needed: reading a value computed from the
    input into Python is refused (:data:`~symconv.frontends.mapping.VALUE_READS`).
    """
    import torch
    import torch.nn.functional as F
    from torch.overrides import TorchFunctionMode

    kernels = frozenset({torch.conv1d, torch.conv2d, torch.conv3d, torch.conv_transpose1d,
                         torch.conv_transpose2d, torch.conv_transpose3d, F.linear,
                         F.scaled_dot_product_attention})
    elementwise = frozenset({F.batch_norm, F.relu, F.relu6, F.hardtanh, F.leaky_relu,
                             F.hardswish, F.hardsigmoid, F.gelu, F.layer_norm})

    class _Mode(TorchFunctionMode):
        def __init__(self, recorder: Any, flags: threading.local) -> None:
            super().__init__()
            self.recorder = recorder
            self.flags = flags

        def __torch_function__(self, func: Any, types: Any, args: Any = (),
                               kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            recorder = self.recorder
            if recorder.opaque and not recorder.busy:
                if func in kernels:
                    return _shape_only(func, args, kwargs)
                if func in elementwise:
                    return _same_shape(func, args, kwargs)
                if func is F.multi_head_attention_forward and not kwargs.get("need_weights"):
                    return torch.empty_like(args[0]), None  # (L, N, E) as the query's
            method = getattr(self.flags, "method", 0) > 0
            result = func(*args, **kwargs)
            if recorder.busy or recorder.opaque:
                return result
            recorder.busy = True
            try:
                recorder.function_call(func, tuple(args), dict(kwargs), result, method)
            finally:
                recorder.busy = False
            return result

    return _Mode
