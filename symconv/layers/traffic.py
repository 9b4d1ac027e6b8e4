"""Which input elements a loop nest touches: the description the traffic of a layer
(``Cost.reads``, ``Cost.writes``) is derived from.

A loop nest reads its input in one of three ways, said by :class:`InputAccess`:

* every element (an elementwise layer, a linear layer, a global pooling, a transposed
  convolution in scatter form, which multiplies every input element);
* through windows (:class:`AxisWindow` per spatial axis): along an axis, window ``o`` of the
  ``placements`` reads positions ``o·stride + j·dilation − padding`` for ``j < kernel``, and only
  those inside ``[0, size)`` are real input (the others are padding). A 1×1 window with stride 2
  reads every second position; windows wider than their stride overlap and read a position once;
* nothing (a reshape, a reused tensor), ``copies=0``.

``copies`` is how many tensors of the input's shape are read (an addition of two: 2). Every
channel of a read position is read (a group reads the channels of its group, and the groups
cover them all). Outputs are written once each unless :attr:`InputAccess.writes` is false.

Imports only the vocabulary.

Examples
--------
>>> from symconv import Conv2d
>>> nest = Conv2d(8, 16, 1, stride=2).loop_nest((7, 7), (4, 4))
>>> nest.access.windows[0]
AxisWindow(size=7, placements=4, kernel=1, stride=2, dilation=1, padding=0)
"""

from __future__ import annotations

from dataclasses import dataclass

from symconv.sizes import Size

__all__ = ["AxisWindow", "InputAccess", "EVERY_ELEMENT", "NOTHING", "windows"]


@dataclass(frozen=True)
class AxisWindow:
    """How one spatial axis of the input is read: ``placements`` windows of ``kernel`` taps,
    ``stride`` apart, taps ``dilation`` apart, over an input of ``size`` padded by ``padding``
    on each side."""

    size: Size
    placements: Size
    kernel: Size = 1
    stride: Size = 1
    dilation: Size = 1
    padding: Size = 0


@dataclass(frozen=True)
class InputAccess:
    """Which elements of its input a loop nest reads, and whether it writes its output.

    Attributes
    ----------
    windows
        One :class:`AxisWindow` per spatial axis; ``()``: every element is read.
    copies
        How many tensors of the input's shape are read (0: none; 2: an addition of two).
    writes
        Whether the output's elements are written (false for a reshape or a reused tensor, which
        hand on memory already there).
    extra
        Elements read besides ``copies`` tensors of the input's shape: a second operand of
        another shape (a broadcast ``x * s``, a concatenated tensor).
    parameters
        Whether the nest reads its parameters (once each); false for a
        :class:`~symconv.layers.learned.Parameter` stage, which hands its tensor on: the stage
        that uses it reads it, or, at inference, a folded chain's value stands for it.
    """

    windows: tuple[AxisWindow, ...] = ()
    copies: int = 1
    writes: bool = True
    extra: Size = 0
    parameters: bool = True


#: Every input element read once, every output element written.
EVERY_ELEMENT = InputAccess()
#: Nothing read or written: the output is memory already there (a reshape, a reused tensor).
NOTHING = InputAccess(copies=0, writes=False)


def windows(
    input_spatial: tuple[Size, ...],
    output_spatial: tuple[Size, ...],
    kernel: tuple[Size, ...],
    stride: tuple[Size, ...],
    dilation: tuple[Size, ...] | None = None,
    padding: tuple[Size, ...] | None = None,
) -> InputAccess:
    """The access of a window slid over every spatial axis (a convolution, a pooling).

    Examples
    --------
    >>> windows((5,), (3,), (3,), (1,)).windows
    (AxisWindow(size=5, placements=3, kernel=3, stride=1, dilation=1, padding=0),)
    """
    dims = len(kernel)
    dilation = dilation or (1,) * dims
    padding = padding or (0,) * dims
    return InputAccess(windows=tuple(
        AxisWindow(size, placed, k, s, d, p) for size, placed, k, s, d, p
        in zip(input_spatial, output_spatial, kernel, stride, dilation, padding)
    ))
