"""Functions a traced ``forward`` calls that take more than one tensor, or arguments symconv
reads: their operands and layers (:mod:`symconv.frontends.trace` records them).

* ``a * b``, ``a - b``, ``a / b`` (:func:`binary_operands`): a :class:`Binary` call;
* ``torch.cat([a, b, ...], 1)`` (:func:`cat_operands`): a :class:`Concat` call;
* ``x.mean(dims, keepdim)``, ``F.adaptive_avg_pool2d(x, 1)``, ``F.avg_pool2d``, ``F.max_pool2d``
  (:func:`function_layer`): a layer (the pooling functions keep their spelling in their kind,
  :mod:`symconv.frontends.spelled`).

Nothing here imports torch: tensors are read by their ``shape`` and ``dim()``.

Examples
--------
>>> torch_axis(1, 4), torch_axis(-1, 4), torch_axis(2, 4)
(-1, 1, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symconv.errors import SymconvError, shown
from symconv.frontends.mapping import Unsupported
from symconv.layers import Layer

__all__ = ["Binary", "Concat", "Product", "binary_operands", "cat_operands", "function_layer", "torch_axis",
           "tensors_of", "output_padding"]


@dataclass(frozen=True)
class Binary:
    """Two tensors combined element by element with broadcasting, ``kind`` ``"mul"``, ``"sub"``
    or ``"div"``; the call's inputs are its operands in the order written."""

    kind: str


@dataclass(frozen=True)
class Product:
    """``a @ b`` of two tensors (``b`` transposed in its last two axes where
    ``transpose_other``), written as ``spelling`` (``"@"`` or ``"torch.matmul"``); the call's
    inputs are ``a`` and ``b``."""

    transpose_other: bool
    spelling: str


@dataclass(frozen=True)
class Concat:
    """Tensors concatenated along the channels, the call's inputs in the order written."""


def torch_axis(dim: object, rank: int) -> int:
    """A PyTorch dim of an ``(N, C, *spatial)`` tensor as a channels-last axis (``-1``: the
    channels); the batch axis is refused."""
    if not isinstance(dim, int) or isinstance(dim, bool) or not -rank <= dim < rank:
        raise Unsupported(f"dim={dim!r}: symconv follows whole axes given as ints")
    dim %= rank
    if dim == 0:
        raise Unsupported("it reduces over the batch axis, which symconv counts per example")
    return -1 if dim == 1 else dim - 2


def binary_operands(args: tuple[Any, ...], kwargs: dict[str, Any], tensor_type: Any
                    ) -> tuple[Any, Any]:
    """The two tensors of ``a op b``, in the order written."""
    first: Any = args[0] if args else kwargs.get("input")
    other = args[1] if len(args) > 1 else kwargs.get("other")
    if not isinstance(other, tensor_type) or other.dim() != first.dim():
        raise Unsupported(f"its operands are {type(first).__name__} {tuple(first.shape)} "
                          f"and {type(other).__name__} {shown(other, 30)}; symconv "
                          "combines two tensors of one rank")
    if set(kwargs) - {"input", "other"} or len(args) > 2:
        raise Unsupported("only a op b of two tensors is supported (no alpha, rounding_mode "
                          "or out)")
    return first, other


def cat_operands(args: tuple[Any, ...], kwargs: dict[str, Any], tensor_type: Any) -> list[Any]:
    """The tensors ``torch.cat`` joins along the channels."""
    tensors = args[0] if args else kwargs.get("tensors")
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    if not isinstance(tensors, (list, tuple)) or not tensors or not all(
            isinstance(item, tensor_type) for item in tensors):
        raise Unsupported("symconv follows torch.cat of a list of tensors")
    rank = tensors[0].dim()
    if rank < 2 or not isinstance(dim, int) or dim % rank != 1:
        raise Unsupported(f"dim={dim!r}: symconv concatenates along the channels (dim=1)")
    return list(tensors)


_POOL_ARGUMENTS = {
    "avg": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
            "divisor_override"),
    "max": ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices"),
}


def _arguments(names: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> dict[str, Any]:
    given = dict(zip(names, args[1:]))
    given.update((name, value) for name, value in kwargs.items() if name != "input")
    unknown = set(given) - set(names)
    if unknown:
        raise Unsupported(f"called with {', '.join(sorted(unknown))}=...")
    return given


def function_layer(role: str, spelling: str, first: Any, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Layer:
    """The layer of a mean or a pooling function called in ``forward``."""
    from symconv.frontends import spelled
    from symconv.layers import Mean

    try:
        if role == "mean":
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            keepdim = args[2] if len(args) > 2 else kwargs.get("keepdim", False)
            if dim is None or set(kwargs) - {"dim", "keepdim", "input"} or len(args) > 3:
                raise Unsupported("symconv follows x.mean(dims, keepdim) over given axes only")
            dims = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
            return Mean(tuple(torch_axis(d, first.dim()) for d in dims), keepdim=bool(keepdim))
        if first.dim() != 4:
            raise Unsupported(f"symconv pools (N, C, H, W), not {tuple(first.shape)}")
        if spelling == "adaptive_avg":
            size = _arguments(("output_size",), args, kwargs).get("output_size")
            if size not in (1, (1, 1), [1, 1]):
                raise Unsupported(f"output_size={size!r}: symconv follows the functional form "
                                  "to 1 only (nn.AdaptiveAvgPool2d takes any size)")
            return spelled.FunctionalGlobalAvgPool2d()
        given = _arguments(_POOL_ARGUMENTS[spelling], args, kwargs)
        if given.pop("return_indices", False):
            raise Unsupported("return_indices=True")
        if given.get("stride") in ((), []):  # F.*_pool2d's default stride: the kernel
            given.pop("stride")
        pool = spelled.FunctionalAvgPool2d if spelling == "avg" else spelled.FunctionalMaxPool2d
        return pool(**given)
    except SymconvError as error:
        raise Unsupported(str(error)) from None


def tensors_of(value: Any, tensor_type: Any) -> list[Any]:
    """The tensors in a call's result (a tensor, or a tuple or list of them)."""
    if isinstance(value, tensor_type):
        return [value]
    if isinstance(value, (tuple, list)):
        return [item for item in value if isinstance(item, tensor_type)]
    return []


def output_padding(module: Any, first: Any, output: Any) -> tuple[int, ...]:
    """The output padding a transposed convolution ran with, from the sizes it ran at."""
    spatial = len(module.kernel_size)
    sizes_in, sizes_out = tuple(first.shape[-spatial:]), tuple(output.shape[-spatial:])
    return tuple(
        out - ((size - 1) * s - 2 * p + d * (k - 1) + 1)
        for size, out, k, s, p, d in zip(sizes_in, sizes_out, module.kernel_size,
                                         module.stride, module.padding, module.dilation)
    )
