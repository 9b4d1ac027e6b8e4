"""From a PyTorch ``nn.Module`` to a symconv network: :func:`from_torch`.

Importing symconv never imports torch; this module imports it when :func:`from_torch` runs
(``pip install 'symconv[torch]'``). The model is run once on an input of zeros of the
given size, in eval mode, and every call it makes is recorded as it runs
(:mod:`symconv.frontends.trace`): its own ``forward`` with its loops and branches, hooks,
call-time arguments and replaced ``forward`` methods are seen as they run, and size arithmetic
(``x.size(1) // 2``, ``torch._assert``) simply runs. Every call becomes a symconv layer, a
routing stage, or a refusal by name: symconv counts what runs or refuses, and nothing is
counted as zero because symconv does not know it. Each layer comes from its hyperparameters;
its output shape is derived by symconv's own arithmetic and checked against the one PyTorch
produced.

A symbolic input shape (``(H, W, 3)``) is traced at two concrete sizes (``H = 224, W = 256``,
then ``256, 288``, multiples of ``size_multiple``: :func:`trace_sizes`), and every shape symconv
derives is checked against PyTorch's at both; if the model runs different layers at the two,
or a layer whose hyperparameters depend on the input size (a transposed convolution called
with ``output_size``), it is refused by name: give a concrete shape.

The model is counted in **eval mode** (``model.eval()``, as ptflops and thop put it:
Dropout is an identity, BatchNorm uses its running statistics, or the batch's where it keeps
none, ``track_running_stats=False``, as PyTorch does; :data:`COUNTED_MODE`); each
module's mode is restored afterwards. :func:`load_model` returns a model already in eval mode.

Running the model runs its code: one forward pass (two for a symbolic shape), without the
convolution and linear arithmetic inside ``torch.nn`` layers (PyTorch's meta kernels give
their output shapes). A ``forward`` that never returns is stopped with Ctrl-C: the
``KeyboardInterrupt`` goes through untouched, every hook the tracer added is removed.

What is understood (shapes are channels last, ``(H, W, C)``; PyTorch's are ``(N, C, H, W)``):

==========================================================  ======================================
PyTorch                                                     symconv
==========================================================  ======================================
``nn.Conv1d/2d/3d``, ``nn.ConvTranspose1d/2d/3d``           ``Conv*d``, ``ConvTranspose*d``
``nn.Conv*d(..., padding="same")`` (or ``"valid"``)          ``Conv*d(..., padding="same")``
                                                            (kind ``"standard:same"``, ...)
``nn.Linear`` (on ``(N, F)``)                               ``Linear``
``nn.BatchNorm1d/2d`` (``affine`` either way;               ``BatchNorm1d``, ``BatchNorm2d``
``track_running_stats`` either way)                         (``track_running_stats=False``:
                                                            batch statistics in eval mode too)
``nn.ReLU``, ``nn.ReLU6``                                   ``ReLU``, ``ReLU6``
``nn.LeakyReLU``, ``nn.Hardtanh``, ``nn.Hardswish``,        ``Activation("leakyrelu")``, ...
``nn.Hardsigmoid``
``F.relu``, ``F.relu6``, ... / ``torch.relu``, ``x.relu()``  ``Activation(..., spelling="F")`` /
                                                            ``spelling="torch"``
``nn.MaxPool2d``, ``nn.AvgPool2d`` (``ceil_mode=False``)      ``MaxPool2d``, ``AvgPool2d``
``nn.AdaptiveAvgPool2d(1)``                                 ``GlobalAvgPool2d``
``nn.Flatten()``, ``torch.flatten(x, 1)``,                  ``Flatten``
``x.view(x.size(0), -1)``
``nn.Dropout(p)``, torchvision's ``StochasticDepth``        ``Dropout``, ``StochasticDepth``
                                                            (nothing at inference; ``p = 0``:
                                                            left out)
``nn.Dropout1d/2d/3d`` (on ``(N, C, *spatial)``),            ``FeatureDropout``,
``nn.AlphaDropout``, ``nn.FeatureAlphaDropout``             ``AlphaDropout``,
                                                            ``FeatureAlphaDropout`` (the same)
``F.dropout(x, p, training=self.training)``, ...             the same as its ``nn`` module
``nn.Identity``, ``F.dropout(x, p, training=False)``         nothing (the identity)
``nn.Upsample``, ``F.interpolate`` (nearest, bilinear)      ``Upsample`` (``spelling="F"``)
``nn.PReLU``                                                ``PReLU``
``x.chunk(2, 1)``, ``x.split(sizes, 1)``                    ``Slice`` per part
``x.view(N, g, C // g, H, W)``, ``transpose(1, 2)``,        ``ChannelShuffle(g)``
``contiguous()``, ``view(N, C, H, W)``
``a + b``, ``a += b``, ``a.add_(b)`` /                     ``Add(..., "+")`` /
``torch.add(a, b)``, ``a.add(b)``                           ``Add(..., "torch.add")``
                                                            (``Reuse`` where a branch starts)
``x.permute(...)``, ``x.transpose(a, b)``                   nothing: the order of the axes is
(the batch axis kept first)                                 kept
``nn.LayerNorm``, ``F.layer_norm``, ``nn.Linear`` on        ``LayerNorm``, ``Linear``
PyTorch's last axis, the channels (ConvNeXt, ViT)
``F.gelu(x, approximate=...)``, ``scale * x``               ``Activation``, ``LayerScale``
``x.reshape``, ``x.view``, ``x.flatten``, ``x[:, i]``       ``Reshape``/``Rearrange``, ``Select``
``torch.cat([token, x], 1)``, ``x + parameter``             ``ClassToken``, ``AddParameter``
``nn.MultiheadAttention``: ``attn(x, x, x,                  ``multihead_attention`` (a ``Graph``)
need_weights=False)``, ``batch_first=True``
``a @ b``, ``torch.matmul``, ``F.softmax``, ``x * 0.5``     ``MatMul``, ``Softmax``, ``MulScalar``
``nn.Softmax(dim)``, ``torch.einsum`` (batched products)    ``Softmax``, ``MatMul``
``F.linear(x, w, b)``, ``torch.roll``, ``F.pad``            ``Linear``, ``Roll``, ``Pad``
``x[..., ::2, 1::2, :]``, ``x[:, :H, :W]``                  ``Strided``
``reshape(B·nW, N, C)`` (windows of a batch of one)         ``Reshape``/``Rearrange``
``F.normalize``, ``x * constant``, ``x + constant``         ``Normalize``, ``MulParameter``,
                                                            ``AddParameter``
calls on constants only (a mask, a bias table)              nothing (docs/conventions.md)
an ``nn`` layer on a constant (Swin V2's ``cpb_mlp``)       ``Constant``, then the layer
==========================================================  ======================================

Training (``cost(net, phase="train")``, ``count(..., phase="train")``): a layer whose parameters
all have ``requires_grad=False`` is marked not trainable (:mod:`symconv.layers.trainable`): it
gets no weight or bias gradient, and the layers before the first trainable one run no backward
at all, as in autograd. A layer with some parameters frozen and others not is refused when its
backward is derived.

Counts are per example (batch size 1): every layer here costs the same for each example of a
batch, so a batch of ``B`` costs ``B`` times as much (multiply by a symbol ``B`` for a formula
in the batch size), as thop, fvcore, FlopCounterMode and torchinfo count it; ptflops' number at
a batch above one is neither (see ``docs/conventions.md``).

Examples
--------
>>> import pytest; torch = pytest.importorskip("torch")
>>> from torch import nn
>>> from symconv import cost, count, from_torch
>>> from symconv.symbols import H, W
>>> model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
...                       nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
>>> net = from_torch(model, (H, W, 3))
>>> count(net)
216*H*W + 80
>>> count(net, (32, 32, 3), convention="ptflops")
270426
"""

from __future__ import annotations

from typing import Any

import sympy

from symconv.errors import SymconvError
from symconv.frontends.build import Uncounted, build, uncounted
from symconv.frontends.load import load_model
from symconv.frontends.mapping import SUPPORTED_MODULES
from symconv.layers import Graph
from symconv.sizes import as_expr, as_size

__all__ = ["from_torch", "load_model", "SUPPORTED_MODULES", "COUNTED_MODE", "UNSUPPORTED",
           "trace_sizes", "uncounted", "Uncounted"]

#: The mode every model is counted in: ``model.eval()`` (restored afterwards).
COUNTED_MODE = "eval"

#: What :func:`from_torch` does with a part it cannot count: ``"refuse"`` (the default: one
#: error naming every such part) or ``"skip"`` (count it as zero, listed by :func:`uncounted`).
UNSUPPORTED = ("refuse", "skip")


def trace_sizes(shape: tuple[sympy.Expr, ...], size_multiple: int = 1
                ) -> list[dict[sympy.Symbol, int]]:
    """The two sizes a symbolic input shape is traced at: a value for each symbol.

    224 and 256 for 1-D and 2-D inputs (64 and 96 for 3-D ones), one symbol 32 above the
    previous (so that ``H`` and ``W`` differ), rounded up to a multiple of ``size_multiple``,
    and moved up until every size of ``shape`` is a positive integer.

    Examples
    --------
    >>> from symconv.symbols import H, W
    >>> trace_sizes((H, W, 3))
    [{H: 224, W: 256}, {H: 256, W: 288}]
    >>> trace_sizes((H, 3 * H + 1, 3), size_multiple=100)
    [{H: 300}, {H: 400}]
    """
    symbols = sorted(set().union(*(as_expr(size).free_symbols for size in shape)), key=str)
    start = 224 if len(shape) <= 3 else 64
    step = 32
    chosen: list[dict[sympy.Symbol, int]] = []
    for first in (start, start + step):
        for attempt in range(16):
            values = {}
            for index, symbol in enumerate(symbols):
                size = first + step * (index + attempt)
                values[symbol] = -(-size // size_multiple) * size_multiple
            sizes = [as_expr(size).subs(values) for size in shape]
            if all(size.is_Integer and size > 0 for size in sizes) and values not in chosen:
                chosen.append(values)
                break
        else:
            raise SymconvError(f"from_torch: input_shape={shape!r} has no positive integer sizes "
                               "near 224 to trace the model at; give simpler sizes")
    return chosen


def _refused(parts: tuple[str, ...], skip: bool = False) -> SymconvError:
    count = len(parts)
    if skip:
        return SymconvError(
            f"from_torch: {count} part{'s' if count > 1 else ''} of the model cannot be "
            f"skipped (unsupported='skip' counts a layer or function as zero, not these): "
            f"{'; '.join(parts)}"
        )
    return SymconvError(
        f"from_torch: symconv cannot count {count} part{'s' if count > 1 else ''} of the "
        f"model: {'; '.join(parts)}; replace them with supported layers "
        f"(torch.nn: {', '.join(sorted(SUPPORTED_MODULES))}) or leave them out of the model "
        "you count"
    )


def from_torch(module: Any, input_shape: object, *, size_multiple: int = 1,
               unsupported: str = "refuse") -> Graph:
    """A symconv network for a PyTorch model, on one input of channels-last shape ``input_shape``.

    The model runs once (twice for a symbolic shape) on an input of zeros, in eval mode and
    without gradients; what it runs is what is counted (see the module docstring).

    Parameters
    ----------
    module
        A ``torch.nn.Module`` built from the layers in the module docstring's table, with
        residual additions in its ``forward`` as it likes.
    input_shape
        The shape of one example, channels last: ``(H, W, C)`` for a model taking
        ``(N, C, H, W)``; ``(L, C)`` in 1-D, ``(D, H, W, C)`` in 3-D, ``(F,)`` for features.
        Sizes may be SymPy expressions: ``(H, W, 3)`` gives formulas in ``H`` and ``W``, with
        ``floor`` for every stride (exact for every size); the channels must be a number.
    size_multiple
        Take symbolic spatial sizes to be multiples of this (the product of the model's
        strides, 32 for the MobileNets): the formulas are then polynomials, exact wherever the
        sizes do divide evenly. ``1`` (the default) assumes nothing.
    unsupported
        ``"refuse"`` (the default): a model with any part symconv cannot count is refused,
        every such part named. ``"skip"``: each such layer or function is counted as zero, as
        an :class:`Uncounted` stage (kind ``"uncounted"``) that hands on the tensor PyTorch
        produced; :func:`uncounted` lists them, and every report and JSON output of the CLI
        shows them (``"uncounted": [...]``). Reading a computed value into Python, or a model
        that returns no single tensor, is refused either way.

    Returns
    -------
    Graph
        Stages named by PyTorch's module paths (``"features.0.0"``), and function calls by
        the module they ran in and the function (``"layer1.0.add"``, ``"3.relu#2"`` for its
        second call), carrying ``input_shape``: ``cost(net)`` and
        ``count(net, convention=...)`` need nothing more. Counts are per example.

    Raises
    ------
    SymconvError
        When torch is missing, for a bad shape, when the model raises while it runs, or
        listing every module and function symconv cannot count, by name, in one message.

    Examples
    --------
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> from torch import nn
    >>> from symconv import count
    >>> class Block(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
    ...         self.act = nn.Softmin(dim=1)
    ...     def forward(self, x):
    ...         return x + self.act(self.conv(x))
    >>> from_torch(Block(), (8, 8, 4))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: from_torch: symconv cannot count 1 part of the model: act (nn.Softmin: symconv has no layer for it); ...
    >>> block = Block()
    >>> block.act = nn.ReLU()
    >>> net = from_torch(block, (8, 8, 4))
    >>> [name for name, _ in net.stages], count(net, convention="adds")
    (['conv', 'act', 'add'], 9216)

    Counting the Softmin as zero instead, on request, and saying so (8·8·4 outputs of 35 adds,
    then 256 for the residual):

    >>> net = from_torch(Block(), (8, 8, 4), unsupported="skip")
    >>> count(net, convention="adds"), uncounted(net)
    (9216, ['act (nn.Softmin: symconv has no layer for it)'])
    """
    try:
        import torch.nn as nn
    except ImportError:
        raise SymconvError(
            "from_torch needs PyTorch: pip install 'symconv[torch]' (or torch==2.13.0)"
        ) from None
    from symconv.frontends.input_check import channels_first_suggestion, check_input_fits
    from symconv.frontends.trace import trace

    if unsupported not in UNSUPPORTED:
        raise SymconvError(f"from_torch(unsupported={unsupported!r}) must be 'refuse' (the "
                           "default) or 'skip' (count unsupported parts as zero, listed)")
    skip = unsupported == "skip"
    if not isinstance(module, nn.Module):
        raise SymconvError(f"from_torch(module={type(module).__name__}): pass a torch.nn.Module")
    if not isinstance(input_shape, (tuple, list)) or not 1 <= len(input_shape) <= 4:
        raise SymconvError(
            f"input_shape={input_shape!r} must be one example's shape, channels last, like "
            "(224, 224, 3) for a model taking (N, 3, 224, 224)"
        )
    shape = tuple(as_expr(as_size(size, "input_shape")) for size in input_shape)
    Graph(input_shape=shape, size_multiple=size_multiple)  # checks size_multiple
    if not shape[-1].is_Integer:
        raise SymconvError(f"input_shape={input_shape!r}: the channels (the last size) must be "
                           "a number, the one the model's first layer takes")
    if all(size.is_Integer for size in shape):
        concrete = tuple(int(size) for size in shape)
        check_input_fits((1, concrete[-1], *concrete[:-1]) if len(concrete) > 1
                         else (1, *concrete))
        try:
            first = trace(module, concrete, skip=skip)
        except SymconvError as error:
            found = channels_first_suggestion(module, concrete)
            if found is None:
                raise
            raise SymconvError(f"{error}; input_shape={input_shape!r}: {found[0]}: did you "
                               f"mean {found[1]!r}?") from None
        if first.refused:
            raise _refused(first.refused, skip)
        return build([({}, first)], shape, size_multiple=size_multiple)
    runs = []
    for values in trace_sizes(shape, size_multiple):
        run = trace(module, tuple(int(as_expr(size).subs(values)) for size in shape),
                    skip=skip)
        if run.refused:
            raise _refused(run.refused, skip)
        runs.append((values, run))
    (at_a, a), (at_b, b) = runs
    dependent = [f"{call.name} ({call.size_dependent})" for call in a.calls if call.size_dependent]
    if dependent:
        raise SymconvError(f"from_torch: {'; '.join(dependent)}: its layer depends on the input "
                           "size, so symconv counts it at a concrete input_shape only")
    if _structure(a) != _structure(b):
        raise SymconvError(
            f"from_torch: the model runs other layers at {_sizes(at_a)} than at {_sizes(at_b)} "
            f"({_difference(a, b)}); its structure depends on the input size, so symconv "
            "counts it at a concrete input_shape only"
        )
    return build(runs, shape, size_multiple=size_multiple)




def _sizes(values: dict[sympy.Symbol, int]) -> str:
    return ", ".join(f"{symbol}={value}" for symbol, value in values.items())


def _op(call: Any) -> object:
    """What a call is, for comparing two runs (a skipped part's refusal may quote sizes)."""
    return "skipped" if type(call.op).__name__ == "Skipped" else call.op


def _structure(run: Any) -> tuple[object, ...]:
    return (run.output, tuple((call.name, _op(call), call.inputs) for call in run.calls))


def _difference(a: Any, b: Any) -> str:
    """Where two runs first differ, in words."""
    for one, other in zip(a.calls, b.calls):
        if (one.name, _op(one), one.inputs) != (other.name, _op(other), other.inputs):
            return f"first at {one.name} against {other.name}"
    if len(a.calls) != len(b.calls):
        return f"{len(a.calls)} against {len(b.calls)} calls"
    return "it returns another tensor"
