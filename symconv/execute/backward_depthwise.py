"""The fast backward pass of a depthwise convolution (one input and one output channel per
group), in blocks of input-gradient rows that stay in cache, on :data:`~symconv.execute.conv.THREADS`
threads for large inputs.

It performs the same operations as the per-offset loop of
:mod:`symconv.execute.backward_layers`, in another order:

* the input gradient in scatter form: for each kernel offset, every output gradient times the
  offset's weight (one multiplication), added into the zero-initialised padded input gradient
  where that product lands (one addition per product);
* the weight gradient at each offset: the sum over output positions of input tap times output
  gradient, ``P`` multiplications and ``P − 1`` additions per channel — summed block by block,
  then the blocks' (and the threads') partial sums added together, which takes as many
  additions as one sum: ``Σ (P_b − 1) + (B − 1) = P − 1``.

The padded input gradient is split into blocks of rows along the first spatial axis; a block
takes, for each offset, the output rows whose products land in it. Each thread owns whole
blocks, so no two threads add into the same element; the rows are split over threads whenever
the forward pass splits its own (:func:`_threaded`). Every count is taken by the
:class:`~symconv.execute.counter.Counter` from the arrays each operation is handed.
"""

from __future__ import annotations

import math

import numpy as np

from symconv.execute import conv
from symconv.execute.counter import Array, Counter
from symconv.execute.geometry import Window, kernel_offsets, taps

__all__ = ["depthwise_backward"]

#: einsum letters of the spatial axes.
_POSITIONS = "uvwxyz"

#: Bytes of output-gradient rows a block works on: larger than the forward's
#: (:data:`~symconv.execute.conv.DEPTHWISE_BLOCK`), since a block runs four NumPy operations per
#: kernel offset and smaller blocks spend their time in Python (measured in
#: ``benchmarks/backward.py``: 2¹⁸ bytes took 1.7× as long as 2²⁰ on 112×112×32).
BLOCK = 2**20


def _rows_span(first: int, last: int, start: int, stride: int, outputs: int) -> tuple[int, int]:
    """The output rows ``p`` whose product at this offset lands in padded rows
    ``first ≤ p·stride + start < last``: ``(low, high)``, empty when ``low ≥ high``."""
    low = max(0, -(-(first - start) // stride))
    high = min(outputs, -(-(last - start) // stride))
    return low, high


def _blocks(counter: Counter, padded: Array, weight: Array, g: Array, shape: Window,
            dx: Array | None, first: int, last: int, rows: int,
            partial: dict[tuple[int, ...], Array | None]) -> None:
    """Padded input-gradient rows ``first:last``, ``rows`` at a time: every product landing
    there, and the weight gradient's partial sums over the output rows concerned."""
    output = g.shape[:-1]
    letters = _POSITIONS[:len(output)]
    spec = f"{letters}c,{letters}c->c"
    offsets = list(kernel_offsets(shape.kernel))
    for start in range(first, last, rows):
        stop = min(start + rows, last)
        for offset in offsets:
            reach = offset[0] * shape.dilation[0]
            low, high = _rows_span(start, stop, reach, shape.stride[0], output[0])
            if low >= high:
                continue
            lead = slice(low * shape.stride[0] + reach, (high - 1) * shape.stride[0] + reach + 1,
                         shape.stride[0])
            where = (lead, *taps(offset[1:], shape.dilation[1:], shape.stride[1:], output[1:]))
            grad = g[low:high]
            if dx is not None:
                product = conv._workspace("depthwise backward",
                                          (min(rows, output[0]), *g.shape[1:]))[:high - low]
                counter.multiply(grad, weight[offset].reshape(-1), out=product)
                counter.add_into(dx[where], product)
            if offset not in partial:       # no weight gradient wanted
                continue
            part = counter.einsum(spec, padded[where], grad)
            if partial[offset] is None:
                partial[offset] = part
            else:
                counter.add_into(partial[offset], part)   # type: ignore[arg-type]


def _threaded(g: Array, blocks: int) -> bool:
    """Whether the rows are split over :data:`~symconv.execute.conv.THREADS` threads: whenever
    the forward pass on this output splits its own (its blocks of
    :data:`~symconv.execute.conv.DEPTHWISE_BLOCK` bytes, at least 4 a thread), so that forward
    and backward run on as many cores (with one of them on two threads and the other on one,
    their ratio swung with whether the machine had a second core free), and there is a block
    for each thread."""
    forward_rows = max(1, conv.DEPTHWISE_BLOCK // max(1, math.prod(g.shape[1:]) * 8))
    forward_blocks = -(-g.shape[0] // forward_rows)
    return conv.THREADS >= 2 and forward_blocks >= 4 * conv.THREADS and blocks >= conv.THREADS


def depthwise_backward(counter: Counter, padded: Array, weight: Array, g: Array, shape: Window,
                       *, input_grad: bool, trainable: bool) -> tuple[Array | None, Array | None]:
    """The padded input gradient (``None`` unless ``input_grad``) and the weight gradient
    (``None`` unless ``trainable``) of a depthwise convolution.

    ``padded`` is the zero-padded input; ``weight`` is ``(*kernel, 1, C)``; ``g`` the output
    gradient ``(*output, C)``. The padded input gradient is a scratch array, overwritten by
    the next call: copy out what is kept.

    Examples
    --------
    >>> import numpy as np
    >>> from symconv.execute.geometry import Window
    >>> shape = Window(kernel=(2,), stride=(1,), padding=(0,), dilation=(1,), reach=(2,))
    >>> counter = Counter()
    >>> dx, dw = depthwise_backward(counter, np.array([[1.0], [2.0], [3.0]]),
    ...                             np.array([[[10.0]], [[100.0]]]), np.array([[1.0], [1.0]]),
    ...                             shape, input_grad=True, trainable=True)
    >>> dx.ravel().copy(), dw.ravel()           # dx: 1·10, 1·100 + 1·10, 1·100; dw: 1+2, 2+3
    (array([ 10., 110., 100.]), array([3., 5.]))
    >>> counter.mults, counter.adds      # 4 + 4 products; 4 adds into zeros + 2·(2 − 1)
    (8, 6)
    """
    channels = weight.shape[-1]
    dx = None
    if input_grad:   # a scratch array: the caller copies its interior out
        dx = conv._workspace("depthwise input gradient", padded.shape)
        dx.fill(0.0)
        counter.wrote(dx)
    row_bytes = max(1, math.prod(g.shape[1:]) * 8)
    rows = max(1, BLOCK // row_bytes)
    total = padded.shape[0]
    blocks = -(-total // rows)
    offsets = list(kernel_offsets(shape.kernel))
    def empty() -> dict[tuple[int, ...], Array | None]:
        return {offset: None for offset in offsets} if trainable else {}

    if not _threaded(g, blocks):
        parts = [(empty(), counter)]
        _blocks(counter, padded, weight, g, shape, dx, 0, total, rows, parts[0][0])
    else:
        per_thread = -(-blocks // conv.THREADS) * rows
        parts = [(empty(), Counter(enabled=counter.enabled)) for _ in range(0, total, per_thread)]
        counter.read(padded, weight, g)   # the threads' counters track nothing: marked here
        futures = [conv._pool().submit(_blocks, tally, padded, weight, g, shape, dx, first,
                                       min(first + per_thread, total), rows, partial)
                   for (partial, tally), first in zip(parts, range(0, total, per_thread))]
        for future in futures:
            future.result()
        for _, tally in parts:
            counter.absorb(tally)
    if not trainable:
        return dx, None
    dw = np.empty(weight.shape)
    for offset in offsets:
        sums = [found for partial, _ in parts if (found := partial[offset]) is not None]
        total_sum = sums[0]
        for other in sums[1:]:
            counter.add_into(total_sum, other)
        dw[offset] = total_sum.reshape(1, channels)
    return dx, dw
