"""The ``TorchFunctionMode`` the tracer runs a model under (:func:`mode_class`), and how it
skips the arithmetic inside ``torch.nn`` layers (:mod:`symconv.frontends.trace` says why).

This module imports torch inside its functions only.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

__all__ = ["mode_class"]


def _per_axis(value: Any, dims: int) -> tuple[int, ...] | None:
    if type(value) is int:
        return (value,) * dims
    if isinstance(value, (tuple, list)) and len(value) == dims:
        for item in value:
            if type(item) is not int:
                return None
        return tuple(value)
    return None


def _direct_shape(func: Any, args: Any, kwargs: Any, linear: Any, convs: Any,
                  adaptive_avg: Any) -> tuple[int, ...] | None:
    """The output shape of a convolution (padding given as numbers), a linear layer or an
    adaptive average pooling called as ``nn.Conv*d``, ``nn.Linear`` and
    ``nn.AdaptiveAvgPool2d`` call them, by PyTorch's formula; ``None`` for anything else (or
    anything PyTorch would refuse), which the meta kernel then handles."""
    if kwargs or len(args) < 2:
        return None
    if func is adaptive_avg:  # F.adaptive_avg_pool2d(x, output_size) on (N, C, H, W)
        shape = tuple(args[0].shape)
        size = _per_axis(args[1], 2) if not isinstance(args[1], (tuple, list)) or None not in (
            args[1]) else tuple(value if value is not None else shape[2 + axis]
                               for axis, value in enumerate(args[1]))
        if len(args) != 2 or len(shape) != 4 or size is None or len(size) != 2 or min(size) < 1:
            return None
        return (*shape[:2], *size)
    first, weight = args[0], args[1]
    shape, kernel = tuple(first.shape), tuple(weight.shape)
    if func is linear:
        if len(kernel) == 2 and shape and shape[-1] == kernel[1]:
            return (*shape[:-1], kernel[0])
        return None
    if func not in convs or len(args) != 7 or len(shape) != len(kernel) or len(shape) < 3:
        return None
    dims = len(shape) - 2
    stride, padding, dilation = (_per_axis(value, dims) for value in args[3:6])
    groups = args[6]
    if stride is None or padding is None or dilation is None or not isinstance(groups, int) or (
            groups < 1 or shape[1] != kernel[1] * groups or kernel[0] % groups):
        return None
    out = tuple((size + 2 * p - d * (k - 1) - 1) // s + 1 for size, k, s, p, d
                in zip(shape[2:], kernel[2:], stride, padding, dilation))
    if min(out) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        return None
    return (shape[0], kernel[0], *out)


def _shape_only(func: Any, args: Any, kwargs: Any) -> Any:
    """``func``'s result as an uninitialised tensor of the shape PyTorch gives it: by PyTorch's
    formula for a convolution or a linear layer as the modules call them, else found by its
    meta kernel (no arithmetic); the real kernel where the meta one fails."""
    import torch
    import torch.nn.functional as F

    if args and isinstance(args[0], torch.Tensor) and len(args) > 1 and (
            func is F.adaptive_avg_pool2d or (isinstance(args[1], torch.Tensor)
            and args[0].dtype == args[1].dtype)):
        direct = _direct_shape(func, args, kwargs, F.linear,
                               (torch.conv1d, torch.conv2d, torch.conv3d), F.adaptive_avg_pool2d)
        if direct is not None:
            return torch.empty(direct, dtype=args[0].dtype)

    def meta(value: Any) -> Any:
        return value.to("meta") if isinstance(value, torch.Tensor) else value

    try:
        shaped = func(*map(meta, args), **{name: meta(value) for name, value in kwargs.items()})
    except Exception:  # no meta kernel for these arguments: compute it
        return func(*args, **kwargs)
    if not isinstance(shaped, torch.Tensor):
        return func(*args, **kwargs)
    return torch.empty(shaped.shape, dtype=shaped.dtype)


def _fresh_copy(func: Any, args: Any, kwargs: Any, cat: Any, contiguous: Any) -> Any:
    """The result of ``torch.cat(tensors, dim)`` (tensors of one dtype and rank, equal off
    ``dim``) or of ``x.contiguous()`` on a non-contiguous ``x`` as an uninitialised tensor of its
    shape, without copying values (a fresh tensor either way, as PyTorch's); ``None`` for any
    other call, which then runs."""
    import torch

    if func is contiguous:
        if len(args) == 1 and not kwargs and not args[0].is_contiguous():
            return torch.empty(args[0].shape, dtype=args[0].dtype)
        return None
    if func is not cat or not args or len(args) > 2 or set(kwargs) - {"dim"}:
        return None
    tensors, dim = args[0], args[1] if len(args) > 1 else kwargs.get("dim", 0)
    if not isinstance(tensors, (tuple, list)) or not tensors or not isinstance(dim, int) or not all(
            isinstance(tensor, torch.Tensor) for tensor in tensors):
        return None
    first = tensors[0]
    rank = first.dim()
    if rank < 1 or not -rank <= dim < rank:
        return None
    dim %= rank
    shape = list(first.shape)
    for tensor in tensors[1:]:
        other = tensor.shape
        if tensor.dtype != first.dtype or len(other) != rank or any(
                other[axis] != shape[axis] for axis in range(rank) if axis != dim):
            return None
        shape[dim] += other[dim]
    return torch.empty(shape, dtype=first.dtype)


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


def _broadcast_only(args: Any, kwargs: Any, inplace: bool) -> Any:
    """The result of ``a + b``, ``a - b``, ``a * b`` or ``a / b`` (tensors or numbers, at least
    one tensor, a floating result; in place: ``a`` itself, where PyTorch would not broadcast it)
    as an uninitialised tensor of PyTorch's broadcast shape and type, without computing it;
    ``None`` for anything else (``alpha=``, ``out=``, integer results, a non-contiguous operand,
    shapes that do not broadcast), which then runs.

    Examples
    --------
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> scale, x = torch.ones(1, 16, 1, 1), torch.ones(1, 16, 56, 56)
    >>> tuple(_broadcast_only((scale, x), {}, False).shape), _broadcast_only((x, scale), {}, True) is x
    ((1, 16, 56, 56), True)
    >>> _broadcast_only((scale, x), {}, True), _broadcast_only((x, 2), {"alpha": 3}, False)
    (None, None)
    """
    import torch

    if kwargs or len(args) != 2:
        return None
    tensors = []
    for value in args:
        if isinstance(value, torch.Tensor):
            if not value.is_contiguous():  # PyTorch's result may keep another memory layout
                return None
            tensors.append(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
    if not tensors:
        return None
    dtype = torch.result_type(*args)
    if not dtype.is_floating_point:
        return None
    shape = _broadcast(*(tuple(tensor.shape) for tensor in tensors))
    if shape is None:  # PyTorch raises: let it, with its own message
        return None
    first = args[0]
    if inplace:
        if not isinstance(first, torch.Tensor) or tuple(first.shape) != shape or (
                first.dtype != dtype):
            return None
        return first
    return torch.empty(shape, dtype=dtype, device=tensors[0].device)


def _broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    """PyTorch's broadcast of shapes, right-aligned; ``None`` where two sizes differ and neither
    is 1.

    Examples
    --------
    >>> _broadcast((1, 16, 1, 1), (1, 16, 56, 56)), _broadcast((5,), ()), _broadcast((2,), (3,))
    ((1, 16, 56, 56), (5,), None)
    """
    rank = max(len(shape) for shape in shapes)
    result = [1] * rank
    for shape in shapes:
        for axis, size in enumerate(shape, start=rank - len(shape)):
            if size != 1:
                if result[axis] not in (1, size):
                    return None
                result[axis] = size
    return tuple(result)


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
                         # pooling inside nn.*Pool2d: the meta kernel gives the shape
                         F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.max_pool2d,
                         F.avg_pool2d, F.scaled_dot_product_attention})
    elementwise = frozenset({F.batch_norm, F.relu, F.relu6, F.hardtanh, F.leaky_relu,
                             F.hardswish, F.hardsigmoid,
                             # the transcendental activations' modules (EfficientNet's SiLU
                             # and SE's Sigmoid), and nn.PReLU's F.prelu
                             F.silu, torch.sigmoid, torch.tanh, F.gelu, F.elu, F.mish,
                             F.softplus, F.prelu, F.layer_norm})
    copies = frozenset({torch.cat, torch.Tensor.contiguous})
    # attention's products (always a fresh contiguous result), and softmax, roll and
    # F.normalize on a contiguous tensor in forward: their meta kernels give the shape
    shaped = frozenset({torch.matmul, torch.bmm, torch.Tensor.bmm, torch.roll,
                        torch.Tensor.roll, F.softmax, torch.softmax, torch.Tensor.softmax,
                        F.normalize})
    # a + b, a * b, ... in forward (residual additions, SE's scaling): their result's shape,
    # not its values (x + y and x * y reach the mode as Tensor.add and Tensor.mul, wrapped
    # while tracing: the recorder's wrappers)
    binary = frozenset({torch.add, torch.sub, torch.mul, torch.div, torch.Tensor.add,
                        torch.Tensor.sub, torch.Tensor.mul, torch.Tensor.div})
    in_place = frozenset({torch.Tensor.add_, torch.Tensor.sub_, torch.Tensor.mul_,
                          torch.Tensor.div_})

    class _Mode(TorchFunctionMode):
        def __init__(self, recorder: Any, flags: threading.local) -> None:
            super().__init__()
            self.recorder = recorder
            self.flags = flags
            # Tensor.add and Tensor.mul as wrapped while tracing: x + y and x * y reach the
            # mode as them
            self.wrapped = frozenset(recorder.wrappers[name] for name in ("add", "mul")
                                     if name in recorder.wrappers)
            matmul = {recorder.wrappers["matmul"]} if "matmul" in recorder.wrappers else set()
            self.products = frozenset({torch.matmul, torch.bmm, torch.Tensor.bmm, *matmul})
            self.shaped = shaped | self.products

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
            result = None
            if recorder.busy or not args:
                pass
            elif func in binary or func in in_place or func in self.wrapped:
                # a + b, SE's scale * x, x += y in forward, on a tensor computed from the input
                if any(recorder.producer(value) is not None for value in args[:2]):
                    result = _broadcast_only(args, kwargs, func in in_place)
            elif func in kernels or func in elementwise:
                # F.linear in forward (Swin's qkv and proj), DenseNet's F.relu, ... on a tensor
                # computed from the input: its values are never needed either, its shape is
                # (x.mean(...) runs: its meta kernel, PyTorch's Python reference, takes longer)
                first = args[0]
                if (func is F.linear or (isinstance(first, torch.Tensor) and first.is_contiguous())
                        ) and recorder.producer(first) is not None:
                    result = (_same_shape(func, args, kwargs) if func in elementwise
                              else _shape_only(func, args, kwargs))
            elif func in self.shaped and "out" not in kwargs and any(
                    recorder.producer(value) is not None for value in args[:2]) and (
                    func in self.products or args[0].is_contiguous()):
                # a @ b, softmax, roll, F.normalize on tensors computed from the input: their
                # values are never needed either
                result = _shape_only(func, args, kwargs)
            elif func in copies and any(
                    recorder.producer(tensor) is not None for tensor in (
                        args[0] if isinstance(args[0], (tuple, list)) else args[:1])):
                # DenseNet's concatenations, ShuffleNet's shuffle: copies of tensors computed
                # from the input, whose values are never needed
                result = _fresh_copy(func, args, kwargs, torch.cat, torch.Tensor.contiguous)
            if result is None:
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
