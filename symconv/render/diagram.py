"""Diagrams of a depthwise separable convolution: its three figures drawn as 3-D blocks.

:func:`draw_separable_stages` draws what the MobileNet paper draws (Howard et al. 2017, fig. 2)
for any shape: the *standard* convolution (``N`` kernels of ``k×k×M``), and the two stages of
the depthwise separable one that replaces it, *depthwise* (``M`` kernels of ``k×k×1``, one per
input channel) and *pointwise* (``N`` kernels of ``1×1×M``). Tensors and kernels are oblique
cuboids: height ``H`` upwards, width ``W`` to the right, channels going back. Lengths are drawn
on a logarithmic scale so that a 1×1 kernel and a 224×224 input both stay readable; every label
is the exact integer. Output sizes come from :func:`symconv.cost`, never computed here.

Matplotlib is an optional dependency (``pip install 'symconv[diagrams]'``), imported only when
a diagram is drawn. SVG keeps its text as text (``svg.fonttype: none``), so the labels can be
read, searched and translated; Chinese captions (``lang="zh"``) need a CJK font for PNG and PDF
(``apt-get install fonts-noto-cjk`` or ``fonts-wqy-microhei``) and fall back to DejaVu Sans
with a warning when none is installed.

This module is one cohesive thing, over 600 lines: the three figures share one geometry (oblique
cuboids, the logarithmic scale), one layout and one set of styles and captions.

Examples
--------
The shapes the three figures of the founding example show (input, output):

>>> from symconv.render.diagram import stage_shapes
>>> for stage, (source, result) in stage_shapes((7, 7, 3), 64, 3).items():
...     print(f"{stage:9}", source, "->", result)
standard  (7, 7, 3) -> (5, 5, 64)
depthwise (7, 7, 3) -> (5, 5, 3)
pointwise (5, 5, 3) -> (5, 5, 64)
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import pathlib
import secrets
import stat
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError, shown
from symconv.layers import Conv2d, DepthwiseSeparableConv2d
from symconv.render.catalogue import CATALOGUES

__all__ = [
    "draw_separable_stages", "stage_images", "stage_shapes", "SCALES", "IMAGE_FORMATS", "LANGUAGES", "STAGES", "CAPTIONS",
]

#: The image formats a diagram can be written in (the file extension).
IMAGE_FORMATS = ("svg", "png", "pdf")
#: The three figures, in the order they are drawn and returned.
STAGES = ("standard", "depthwise", "pointwise")

#: Captions and labels, per language: ``{count}`` ``{kernels}`` (the noun, singular for one) of
#: ``{kernel}`` (like ``3×3×3``); ``{mults}`` multiplications (mults) and ``{params}`` parameters
#: of the figure's convolution; ``{shape}`` a tensor's ``H×W×C``.
#: The captions of each language, kept in the shared catalogue under ``diagram.*`` keys.
CAPTIONS: dict[str, dict[str, str]] = {
    lang: {key.removeprefix("diagram."): text for key, text in catalogue.items()
           if key.startswith("diagram.")}
    for lang, catalogue in CATALOGUES.items()
}
#: The languages captions exist in.
LANGUAGES = tuple(CAPTIONS)

#: Font families tried, in order, for languages written with CJK characters.
_CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Heiti SC",
    "AR PL UMing CN", "Noto Sans CJK JP", "Noto Sans CJK TC",
)
_CJK_LANGUAGES = frozenset({"zh"})
_LATIN_FAMILY = "DejaVu Sans"

# Geometry, in drawing units (one unit is _INCHES_PER_UNIT on paper).
_INCHES_PER_UNIT = 0.3
_DEPTH_RATIO = 0.5  # a channel is drawn half as long as a row or column (cabinet projection)
_DEPTH_ANGLE = math.radians(40)
_LARGEST_DRAWN = 4096  # larger sizes are drawn as long as this one (their labels stay exact)
_SMALLEST_DRAWN = 0.12  # on a linear scale, shorter lengths are drawn this long
_LINEAR_LONGEST = 10.0  # on a linear scale, the longest size of the three figures is this long
#: How lengths can be drawn: ``log`` (1 + log2 of the size) or ``linear`` (to scale).
SCALES = ("log", "linear")
_GAP = 0.8  # between the parts of a figure and the operator or arrow between them
_OPERATOR = 1.2  # room for the "∗" between input and kernels
_ARROW = 2.4  # length of the arrow from kernels to output
_ELLIPSIS = 1.6  # room for the "⋯" standing for the kernels not drawn
_LABEL_PAD = 0.22  # between an edge and its label
_LINE = 0.55  # height of a line of text
_MARGIN = 1.2  # left and right of a figure
_KERNEL_GAP = 0.45  # between neighbouring kernels
_MOST_KERNELS = 4  # drawn before an ellipsis stands for the rest
_MOST_SLICES = 6  # channel slices drawn one by one before the middle ones are merged
_FONT_SIZE = 10.0
_TITLE_SIZE = 13.0
_TAG_SIZE = 8.5
_COUNT_SIZE = 12.0

# Colours: channel slices (input channels, depthwise kernels and outputs), other kernels, outputs.
_CHANNEL_COLOURS = ("#4e79a7", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f")
_MERGED_COLOUR = "#d4d0cc"
_KERNEL_COLOUR = "#f28e2b"
_OUTPUT_COLOUR = "#59a14f"
_EDGE_COLOUR = "#333333"
_TEXT_COLOUR = "#222222"
_NOTE_COLOUR = "#555555"


def _length(size: int, unit: float | None = None) -> float:
    """The drawn length of an axis of ``size`` elements: ``1 + log2(size)``, clamped, or, on a
    linear scale, ``unit`` per element (at least :data:`_SMALLEST_DRAWN`, to stay visible)."""
    if unit is not None:
        return max(size * unit, _SMALLEST_DRAWN)
    return 1.0 + math.log2(min(size, _LARGEST_DRAWN))


def _times(*sizes: int) -> str:
    return "×".join(str(size) for size in sizes)


def _concrete(value: object, what: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, sympy.Integer):
        return int(value)
    raise SymconvError(
        f"{what} has the symbolic size {value}; diagrams need ints, like input_shape=(7, 7, 3)"
    )


def _concrete_pair(values: Sequence[object], what: str) -> tuple[int, int]:
    first, second = (_concrete(value, what) for value in values)
    return first, second


def _concrete_shape(values: Sequence[object], what: str) -> tuple[int, int, int]:
    height, width, channels = (_concrete(value, what) for value in values)
    return height, width, channels


@dataclass(frozen=True)
class _Stages:
    """What the three figures show: shapes, kernel sizes and costs, all concrete."""

    input_shape: tuple[int, int, int]
    hidden_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    costs: dict[str, Cost]
    bias: bool = False


def _derive(
    input_shape: object, out_channels: object, kernel_size: object, stride: object,
    padding: object, dilation: object, bias: bool = False,
) -> _Stages:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise SymconvError(
            f"input_shape={input_shape!r} must be (H, W, C), channels last, like (7, 7, 3)"
        )
    in_channels = input_shape[-1]
    separable = DepthwiseSeparableConv2d(in_channels, out_channels, kernel_size, stride, padding,
                                         dilation, bias=bias)
    standard = Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, bias=bias)
    separable_cost = cost(separable, tuple(input_shape))
    costs = {"standard": cost(standard, tuple(input_shape)), **dict(separable_cost.stages)}
    # The arguments are valid; they must also be ints, and then so are the outputs.
    shape = _concrete_shape(separable_cost.input_shape, "input_shape")
    _concrete(separable.out_channels, "out_channels")
    kernel = _concrete_pair(separable.kernel_size, "kernel_size")
    steps = _concrete_pair(separable.stride, "stride")
    pads = _concrete_pair(separable.padding, "padding")
    spread = _concrete_pair(separable.dilation, "dilation")
    return _Stages(
        input_shape=shape,
        hidden_shape=_concrete_shape(costs["depthwise"].output_shape, "the depthwise output"),
        output_shape=_concrete_shape(costs["standard"].output_shape, "the output"),
        kernel=kernel, stride=steps, padding=pads, dilation=spread, costs=costs, bias=bias,
    )


def stage_shapes(
    input_shape: Sequence[int], out_channels: int, kernel_size: int | tuple[int, int], *,
    stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]]:
    """The input and output shape of each figure, as :func:`symconv.cost` derives them.

    Parameters
    ----------
    input_shape, out_channels, kernel_size, stride, padding, dilation
        As for :func:`draw_separable_stages`.

    Returns
    -------
    dict
        ``{"standard": (input, output), "depthwise": ..., "pointwise": ...}``, channels-last
        tuples of ints.

    Examples
    --------
    >>> stage_shapes((224, 224, 32), 64, 3, stride=2, padding=1)["pointwise"]
    ((112, 112, 32), (112, 112, 64))
    """
    stages = _derive(input_shape, out_channels, kernel_size, stride, padding, dilation)
    return {
        "standard": (stages.input_shape, stages.output_shape),
        "depthwise": (stages.input_shape, stages.hidden_shape),
        "pointwise": (stages.hidden_shape, stages.output_shape),
    }


# --- geometry -------------------------------------------------------------------------------

#: Measures text: ``(text, font size, font weight) -> width in drawing units``.
Measure = Callable[[str, float, str], float]


def _measurer(font_manager: Any, textpath: Any) -> Measure:
    """A :data:`Measure` for the fonts of the current ``rcParams``."""
    to_path = textpath.TextToPath()

    def measure(text: str, size: float, weight: str) -> float:
        prop = font_manager.FontProperties(size=size, weight=weight)
        width, _, _ = to_path.get_text_width_height_descent(text, prop, ismath=False)
        return 1.05 * width / 72.0 / _INCHES_PER_UNIT  # points to units, with some slack

    return measure


@dataclass(frozen=True)
class _Cuboid:
    """An oblique cuboid: a front face ``width × height`` and ``depth`` going back."""

    width: float
    height: float
    depth: float

    @classmethod
    def of(cls, height: int, width: int, channels: int, unit: float | None = None) -> _Cuboid:
        return cls(_length(width, unit), _length(height, unit), _length(channels, unit))

    @property
    def shift(self) -> tuple[float, float]:
        """Where the back face is, relative to the front face."""
        return _depth_shift(self.depth)

    @property
    def extent(self) -> tuple[float, float]:
        """Width and height of the drawing."""
        dx, dy = self.shift
        return self.width + dx, self.height + dy


def _depth_shift(depth: float) -> tuple[float, float]:
    drawn = depth * _DEPTH_RATIO
    return drawn * math.cos(_DEPTH_ANGLE), drawn * math.sin(_DEPTH_ANGLE)


@dataclass(frozen=True)
class _Span:
    """How far a part reaches from its anchor ``x``: left, right (labels included), up, down."""

    left: float
    right: float
    up: float
    down: float


class _Canvas:
    """Draws shaded cuboids and text on one matplotlib axes, in drawing units."""

    def __init__(self, axes: Any, patches: Any, colors: Any) -> None:
        self.axes = axes
        self._polygon = patches.Polygon
        self._to_rgb = colors.to_rgb

    def _shade(self, colour: str, other: str, amount: float) -> tuple[float, ...]:
        a, b = self._to_rgb(colour), self._to_rgb(other)
        return tuple(x + (y - x) * amount for x, y in zip(a, b))

    def cuboid(self, x: float, y: float, box: _Cuboid, colour: str, behind: float = 0.0) -> None:
        """Draw ``box`` with its front face's lower left corner at ``(x, y)``, ``behind`` deep."""
        ox, oy = _depth_shift(behind)
        x, y = x + ox, y + oy
        dx, dy = box.shift
        w, h = box.width, box.height
        faces = (
            ([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], self._to_rgb(colour)),
            ([(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)],
             self._shade(colour, "white", 0.35)),
            ([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)],
             self._shade(colour, "black", 0.2)),
        )
        for corners, face in faces:
            self.axes.add_patch(self._polygon(
                corners, closed=True, facecolor=face, edgecolor=_EDGE_COLOUR, linewidth=0.8,
                joinstyle="round",
            ))

    def text(self, x: float, y: float, text: str, **style: Any) -> None:
        style.setdefault("fontsize", _FONT_SIZE)
        style.setdefault("color", _TEXT_COLOUR)
        self.axes.text(x, y, text, **style)


@dataclass(frozen=True)
class _Block:
    """A tensor ``height × width × channels``, drawn whole or as coloured channel slices.

    Its edges are labelled with the exact sizes: height on the left, width below, channels
    beside the receding lower edge.
    """

    shape: tuple[int, int, int]
    colour: str | None = None  # None: channel slices, coloured as _channel_colours says
    unit: float | None = None  # the linear scale's length of one element; None: logarithmic

    @property
    def box(self) -> _Cuboid:
        return _Cuboid.of(*self.shape, unit=self.unit)

    def span(self, measure: Measure) -> _Span:
        height, _, channels = self.shape
        box = self.box
        dx, dy = box.shift
        return _Span(
            left=_LABEL_PAD + measure(str(height), _FONT_SIZE, "normal"),
            right=max(box.width + dx,
                      box.width + dx / 2 + _LABEL_PAD + measure(str(channels), _FONT_SIZE, "normal")),
            up=box.height + dy,
            down=_LABEL_PAD + _LINE,
        )

    def slices(self) -> list[tuple[float, str]]:
        """``(depth, colour)`` of each slice, front to back."""
        if self.colour is not None:
            return [(self.box.depth, self.colour)]
        return _slices(self.box, self.shape[2], self.unit)

    def draw(self, canvas: _Canvas, x: float, y: float) -> None:
        box = self.box
        _draw_slices(canvas, x, y, box, self.slices())
        height, width, channels = self.shape
        dx, dy = box.shift
        canvas.text(x - _LABEL_PAD, y + box.height / 2, str(height), ha="right", va="center")
        canvas.text(x + box.width / 2, y - _LABEL_PAD, str(width), ha="center", va="top")
        canvas.text(x + box.width + dx / 2 + _LABEL_PAD, y + dy / 2 - 0.1, str(channels),
                    ha="left", va="top")


def _slices(box: _Cuboid, channels: int, unit: float | None) -> list[tuple[float, str]]:
    """``(depth, colour)`` of each channel slice of ``box``, front to back: every channel, or
    the first three, the middle ones merged, and the last."""
    colours = _channel_colours(channels)
    if channels <= _MOST_SLICES:
        return [(box.depth / channels, colour) for colour in colours]
    thin = min(_length(1, unit), box.depth / (_MOST_SLICES + 1))
    *front, last = colours
    middle = box.depth - thin * len(colours)
    return [*((thin, colour) for colour in front), (middle, _MERGED_COLOUR), (thin, last)]


def _draw_slices(canvas: _Canvas, x: float, y: float, box: _Cuboid,
                 slices: list[tuple[float, str]]) -> None:
    placed = []
    behind = 0.0
    for thickness, colour in slices:
        placed.append((behind, thickness, colour))
        behind += thickness
    for behind, thickness, colour in reversed(placed):  # back to front
        canvas.cuboid(x, y, _Cuboid(box.width, box.height, thickness), colour, behind)


def _channel_colours(channels: int) -> list[str]:
    """Colours of the channel slices drawn: every channel, or the first three and the last."""
    if channels <= _MOST_SLICES:
        return list(_CHANNEL_COLOURS[:channels])
    return [*_CHANNEL_COLOURS[:3], _CHANNEL_COLOURS[3]]


def _channel_numbers(channels: int) -> list[int]:
    """The channels (counted from 1) that :func:`_channel_colours` colours, in order."""
    if channels <= _MOST_SLICES:
        return list(range(1, channels + 1))
    return [1, 2, 3, channels]


@dataclass(frozen=True)
class _Kernels:
    """``count`` kernels of ``k_h × k_w × depth`` in a row: a few drawn, an ellipsis for the rest."""

    count: int
    kernel: tuple[int, int]
    depth: int
    colours: tuple[str, ...]  # one per kernel drawn
    tags: tuple[str, ...] = ()  # written above each kernel drawn: the channel it reads
    sliced: bool = False  # each kernel drawn as its channel slices, coloured as the input's
    unit: float | None = None  # the linear scale's length of one element; None: logarithmic

    @property
    def box(self) -> _Cuboid:
        return _Cuboid.of(self.kernel[0], self.kernel[1], self.depth, unit=self.unit)

    @property
    def elided(self) -> bool:
        return self.count > _MOST_KERNELS

    def positions(self, measure: Measure) -> list[float]:
        """Where each kernel drawn starts, leaving room for the tags and the ellipsis."""
        box = self.box
        widest = max((measure(tag, _TAG_SIZE, "normal") for tag in self.tags), default=0.0)
        step = max(box.width, widest - box.shift[0]) + _KERNEL_GAP
        positions = [i * step for i in range(min(self.count, _MOST_KERNELS))]
        if self.elided:
            positions[-1] += _ELLIPSIS
        return positions

    def _count_label(self) -> str:
        return f"×{self.count}"

    def span(self, measure: Measure) -> _Span:
        box = self.box
        width, height = box.extent
        widest = max((measure(tag, _TAG_SIZE, "normal") for tag in self.tags), default=0.0)
        count = measure(self._count_label(), _COUNT_SIZE, "bold")
        return _Span(
            left=max(0.0, (widest - width) / 2),
            right=self.positions(measure)[-1] + width + _LABEL_PAD + count,
            up=height + (_LABEL_PAD + _LINE if self.tags else 0.0),
            down=0.0,
        )

    def draw(self, canvas: _Canvas, x: float, y: float, measure: Measure) -> None:
        box = self.box
        dx, dy = box.shift
        positions = self.positions(measure)
        for position, colour in zip(positions, self.colours):
            if self.sliced:  # a kernel reads every input channel: one slice per channel
                _draw_slices(canvas, x + position, y, box, _slices(box, self.depth, self.unit))
            else:
                canvas.cuboid(x + position, y, box, colour)
        for position, tag in zip(positions, self.tags):
            canvas.text(x + position + (box.width + dx) / 2, y + box.height + dy + _LABEL_PAD, tag,
                        ha="center", va="bottom", fontsize=_TAG_SIZE, color=_NOTE_COLOUR)
        if self.elided:
            gap_start = positions[-2] + box.width
            # Low down, clear of the long side faces of deep kernels.
            canvas.text(x + (gap_start + positions[-1]) / 2, y + min(box.height / 2, 0.4), "⋯",
                        ha="center", va="center", fontsize=_FONT_SIZE * 1.6)
        canvas.text(x + positions[-1] + box.width + dx + _LABEL_PAD, y + (box.height + dy) / 2,
                    self._count_label(), ha="left", va="center", fontsize=_COUNT_SIZE,
                    fontweight="bold")


# --- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    """One of the three figures: an input, kernels, an output and their captions."""

    stage: str
    source: _Block
    kernels: _Kernels
    result: _Block
    caption: str
    notes: tuple[str, ...]
    labels: tuple[str, str, str]  # under input, kernels and output
    scale: str  # a note on the scale lengths are drawn to


def _unit(stages: _Stages, scale: str) -> float | None:
    """The length of one element on a linear scale (the longest size of the three figures
    drawn :data:`_LINEAR_LONGEST` long), or ``None`` for the logarithmic scale."""
    if scale == "log":
        return None
    longest = max(*stages.input_shape, *stages.hidden_shape, *stages.output_shape, *stages.kernel)
    return _LINEAR_LONGEST / longest


def _figures(stages: _Stages, lang: str, scale: str = "log") -> list[_Figure]:
    text = CAPTIONS[lang]
    unit = _unit(stages, scale)
    k_h, k_w = stages.kernel
    m = stages.input_shape[2]
    n = stages.output_shape[2]
    geometry: tuple[str, ...] = ()
    if (stages.stride, stages.padding, stages.dilation) != ((1, 1), (0, 0), (1, 1)):
        geometry = (text["geometry"].format(
            stride=_pair(stages.stride), padding=_pair(stages.padding),
            dilation=_pair(stages.dilation),
        ),)
    channel_tags = tuple(text["channel"].format(channel=c) for c in _channel_numbers(m))
    plain = (_KERNEL_COLOUR,) * min(n, _MOST_KERNELS)
    parts = {
        "standard": (stages.input_shape, _Kernels(n, (k_h, k_w), m, plain, sliced=True, unit=unit),
                     stages.output_shape, _OUTPUT_COLOUR, geometry),
        "depthwise": (stages.input_shape,
                      _Kernels(m, (k_h, k_w), 1, tuple(_channel_colours(m)), channel_tags,
                               unit=unit),
                      stages.hidden_shape, None, geometry),
        "pointwise": (stages.hidden_shape, _Kernels(n, (1, 1), m, plain, sliced=True, unit=unit),
                      stages.output_shape, _OUTPUT_COLOUR, ()),
    }
    figures = []
    for stage, (source, kernels, result, result_colour, setting) in parts.items():
        kernel = _times(*kernels.kernel, kernels.depth)
        noun = text["kernel"] if kernels.count == 1 else text["kernels"]
        stage_cost = stages.costs[stage]
        figures.append(_Figure(
            stage=stage,
            source=_Block(source, unit=unit),
            kernels=kernels,
            result=_Block(result, result_colour, unit),
            caption=text[stage].format(count=kernels.count, kernels=noun, kernel=kernel),
            notes=(
                text[f"{stage}_note"],
                *setting,
                text["counts_bias" if stages.bias else "counts"].format(
                    mults=stage_cost.mults, params=stage_cost.params),
            ),
            labels=(
                text["input"].format(shape=_times(*source)),
                text["kernel_label"].format(count=kernels.count, kernels=noun, kernel=kernel),
                text["output"].format(shape=_times(*result)),
            ),
            scale=text["scale" if unit is None else "scale_linear"],
        ))
    return figures


def _pair(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else f"({values[0]}, {values[1]})"


def _width(figure: _Figure, measure: Measure) -> float:
    """The width a figure needs, in drawing units: its drawing or its widest caption."""
    return _layout(figure, measure).width


@dataclass(frozen=True)
class _Layout:
    """Where the parts of a figure go (see :func:`_layout`)."""

    xs: list[float]
    ys: list[float]
    rights: list[float]
    bodies: list[float]
    top: float
    bottom: float
    label_y: float
    width: float


#: Room for the captions above the drawing, in inches: padding, the title, a line per note.
_TITLE_ROOM, _NOTE_ROOM, _CAPTION_PAD = 0.42, 0.24, 0.18


def _layout(figure: _Figure, measure: Measure, least_width: float = 0.0) -> _Layout:
    """Lay out one figure left to right: parts vertically centred on ``y = 0``, each in a slot
    wide enough for its labels, the "∗" between input and kernels, an arrow to the output."""
    source, kernels, result = figure.source, figure.kernels, figure.result
    spans = [source.span(measure), kernels.span(measure), result.span(measure)]
    heights = [source.box.extent[1], kernels.box.extent[1], result.box.extent[1]]
    labels = [measure(label, _FONT_SIZE, "bold") for label in figure.labels]
    # Each label is centred under the drawn body of its part, from x to x + body.
    bodies = [
        source.box.extent[0],
        kernels.positions(measure)[-1] + kernels.box.extent[0],
        result.box.extent[0],
    ]
    lefts = [max(span.left, label / 2 - body / 2) for span, label, body in zip(spans, labels, bodies)]
    rights = [max(span.right, body / 2 + label / 2) for span, label, body in zip(spans, labels, bodies)]
    between = (_OPERATOR, _ARROW)
    xs = [_MARGIN + lefts[0]]
    for i in (1, 2):
        xs.append(xs[i - 1] + rights[i - 1] + _GAP + between[i - 1] + _GAP + lefts[i])
    drawing_width = xs[2] + rights[2] + _MARGIN
    ys = [-height / 2 for height in heights]
    top = max(y + span.up for y, span in zip(ys, spans)) + 0.5
    label_y = min(y - span.down for y, span in zip(ys, spans)) - 0.8
    bottom = label_y - 3 * _LINE
    widest = max(
        measure(figure.caption, _TITLE_SIZE, "bold"),
        *(measure(note, _FONT_SIZE, "normal") for note in figure.notes),
    )
    width = max(drawing_width, widest + 2 * _MARGIN, least_width)
    return _Layout(xs, ys, rights, bodies, top, bottom, label_y, width)


def _draw(figure: _Figure, figure_class: Any, patches: Any, colors: Any, measure: Measure,
          least_width: float = 0.0) -> Any:
    """Draw one figure as :func:`_layout` places it, at least ``least_width`` wide, under its
    captions; return the matplotlib figure."""
    source, kernels, result = figure.source, figure.kernels, figure.result
    place = _layout(figure, measure, least_width)
    xs, ys, rights, bodies = place.xs, place.ys, place.rights, place.bodies
    top, bottom, label_y, width = place.top, place.bottom, place.label_y, place.width
    # Captions take a fixed room in inches above the drawing.
    title, line, pad = _TITLE_ROOM, _NOTE_ROOM, _CAPTION_PAD
    caption_room = pad + title + line * len(figure.notes) + pad
    size = (width * _INCHES_PER_UNIT, (top - bottom) * _INCHES_PER_UNIT + caption_room)
    fig = figure_class(figsize=size)
    axes = fig.add_axes((0.0, 0.0, 1.0, 1.0 - caption_room / size[1]))
    axes.set_xlim(0.0, width)
    axes.set_ylim(bottom, top)
    axes.set_aspect("equal")
    axes.axis("off")
    canvas = _Canvas(axes, patches, colors)
    source.draw(canvas, xs[0], ys[0])
    kernels.draw(canvas, xs[1], ys[1], measure)
    result.draw(canvas, xs[2], ys[2])
    operator_x = xs[0] + rights[0] + _GAP + _OPERATOR / 2
    canvas.text(operator_x, 0.0, "∗", ha="center", va="center", fontsize=_FONT_SIZE * 2.2)
    arrow_x = xs[1] + rights[1] + _GAP
    axes.annotate("", xy=(arrow_x + _ARROW, 0.0), xytext=(arrow_x, 0.0),
                  arrowprops={"arrowstyle": "-|>", "color": _EDGE_COLOUR, "linewidth": 1.5,
                              "mutation_scale": 16})
    for x, body, label in zip(xs, bodies, figure.labels):
        canvas.text(x + body / 2, label_y, label, ha="center", va="top", fontweight="bold")
    canvas.text(width - _MARGIN / 2, bottom + 0.3, figure.scale, ha="right", va="bottom",
                fontsize=_TAG_SIZE, color=_NOTE_COLOUR, fontstyle="italic")
    left = _MARGIN * _INCHES_PER_UNIT / size[0]
    fig.text(left, 1.0 - pad / size[1], figure.caption, ha="left", va="top",
             fontsize=_TITLE_SIZE, fontweight="bold", color=_TEXT_COLOUR)
    for number, note in enumerate(figure.notes):
        fig.text(left, 1.0 - (pad + title + line * number) / size[1], note, ha="left", va="top",
                 fontsize=_FONT_SIZE, color=_NOTE_COLOUR)
    return fig


# --- files ----------------------------------------------------------------------------------


def _check_out_dir(out_dir: object) -> pathlib.Path:
    """``out_dir`` as a path, refused when empty or when something else than a directory stands
    there; it need not exist yet (see :func:`_make_out_dir`)."""
    if not isinstance(out_dir, (str, os.PathLike)):
        raise SymconvError(f"out_dir={shown(out_dir)} must be a path to a directory")
    text = os.fsdecode(os.fspath(out_dir))
    if not text.strip():
        raise SymconvError(f"out_dir={shown(text)} is empty; give a directory, like 'figs'")
    path = pathlib.Path(text)
    try:
        if path.exists() and not path.is_dir():
            raise SymconvError(f"out_dir={shown(text)} is not a directory; give a directory")
    except OSError as error:  # a name too long, a component that is not a directory, ...
        raise SymconvError(f"out_dir={shown(text)}: {error.strerror}; choose another directory") \
            from None
    return path


def _make_out_dir(path: pathlib.Path) -> list[pathlib.Path]:
    """Create ``path`` and its missing parents, as ``mkdir -p`` does; return those created,
    outermost first, so that a failure can remove them again."""
    missing = []
    try:
        for directory in (path, *path.parents):
            if directory.exists():
                break
            missing.append(directory)
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        for directory in missing:  # innermost first: the parents made before the failure
            _remove(directory, directory=True)
        raise SymconvError(f"out_dir={shown(str(path))} cannot be created ({error.strerror}); "
                           "choose another directory") from None
    if not os.access(path, os.W_OK | os.X_OK):
        for directory in missing:
            _remove(directory, directory=True)
        raise SymconvError(f"out_dir={shown(str(path))} is not writable; choose another directory")
    return missing[::-1]


def _check_target(final: pathlib.Path) -> None:
    """Refuse to replace what is not a figure of ours: a directory, a special file, or a file
    made read-only (which says: keep it). A writable file of the same name is replaced."""
    try:
        status = final.lstat()
    except FileNotFoundError:
        return
    except OSError as error:
        raise SymconvError(f"{shown(str(final))} cannot be checked ({error.strerror}); choose "
                           "another out_dir") from None
    if stat.S_ISDIR(status.st_mode):
        raise SymconvError(f"{shown(str(final))} is a directory; move it away or choose another "
                           "out_dir (nothing was written)")
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode)):
        raise SymconvError(f"{shown(str(final))} is not a regular file; move it away or choose "
                           "another out_dir (nothing was written)")
    if stat.S_ISREG(status.st_mode) and not status.st_mode & stat.S_IWUSR:
        raise SymconvError(f"{shown(str(final))} is read-only; make it writable (chmod u+w) to "
                           "have it replaced, or choose another out_dir (nothing was written)")


def _check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise SymconvError(f"{name}={value!r} is not known; use one of {', '.join(choices)}")
    return value


def _font_families(lang: str, font_manager: Any) -> list[str]:
    if lang not in _CJK_LANGUAGES:
        return [_LATIN_FAMILY]
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in installed:
            return [_LATIN_FAMILY, family]
    warnings.warn(
        f"no CJK font found for lang={lang!r}: Chinese captions will not show in PNG or PDF "
        "(SVG keeps them as text); install one, e.g. apt-get install fonts-noto-cjk",
        stacklevel=3,
    )
    return [_LATIN_FAMILY]


@contextlib.contextmanager
def _quiet_fonts() -> Iterator[None]:
    """Silence matplotlib's per-glyph and per-weight font complaints (one warning says it all)."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            yield
    finally:
        logger.setLevel(level)


def _temporary(final: pathlib.Path) -> pathlib.Path:
    """Create an empty hidden file beside ``final`` (permissions as the umask says)."""
    for _ in range(100):
        path = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as error:
            raise SymconvError(
                f"out_dir={shown(str(final.parent))} is not writable ({error.strerror}); "
                "choose another directory"
            ) from None
        return path
    raise SymconvError(f"out_dir={shown(str(final.parent))}: no free temporary name; clean it up")


def _remove(path: pathlib.Path, directory: bool = False) -> None:
    """Remove a temporary file or a directory we created; what cannot be removed stays."""
    with contextlib.suppress(OSError):
        if directory:
            path.rmdir()
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def _pending(created: list[pathlib.Path]) -> Iterator[list[tuple[pathlib.Path, pathlib.Path]]]:
    """Collect ``(temporary, final)`` paths; when the block succeeds rename them all, and on any
    failure remove every temporary file and the directories ``created`` (if still empty)."""
    pending: list[tuple[pathlib.Path, pathlib.Path]] = []
    try:
        yield pending
        for done, (temporary, final) in enumerate(pending):
            try:
                os.replace(temporary, final)
            except OSError as error:  # checked before drawing: only a race gets here
                replaced = ", ".join(str(final) for _, final in pending[:done]) or "none"
                raise SymconvError(f"{shown(str(final))} could not be replaced "
                                   f"({error.strerror}); replaced before it: {replaced}") from None
    except BaseException:
        for temporary, _ in pending:
            _remove(temporary)
        for directory in reversed(created):
            _remove(directory, directory=True)
        raise


def draw_separable_stages(
    input_shape: Sequence[int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    bias: bool = False,
    out_dir: str | os.PathLike[str],
    image: str = "svg",
    lang: str = "en",
    scale: str = "log",
) -> list[pathlib.Path]:
    """Draw the standard, depthwise and pointwise convolution of the founding example as 3-D blocks.

    Writes ``standard.<image>`` (the input ``H×W×M``, ``N`` kernels of ``k×k×M``, the output
    ``H_o×W_o×N``), ``depthwise.<image>`` (``M`` kernels of ``k×k×1``, one per channel, coloured
    like the channel they read) and ``pointwise.<image>`` (``N`` kernels of ``1×1×M``). Every
    figure is captioned with its kernels and what it costs: multiplications of a direct
    evaluation (mults) and parameters (weights, no bias).

    Parameters
    ----------
    input_shape
        ``(H, W, M)``, channels last, of positive ints.
    out_channels
        ``N``.
    kernel_size, stride, padding, dilation
        As for :class:`symconv.DepthwiseSeparableConv2d`: an int or one per axis ``(h, w)``;
        stride, padding and dilation belong to the depthwise stage.
    bias
        Whether each convolution has a bias: the parameters in the captions count them.
    out_dir
        A directory, created with its parents when missing. Writable files of the same names
        are replaced; a directory, a special file or a read-only file standing there is refused
        before anything is written.
    image
        ``"svg"`` (text kept as text), ``"png"`` or ``"pdf"``.
    lang
        ``"en"`` or ``"zh"``: the language of captions and labels.
    scale
        ``"log"`` (lengths ``1 + log2(size)``, so that a 1×1 kernel and a 224×224 input both
        stay readable) or ``"linear"`` (to scale: the longest size of the three figures drawn
        10 units long, the shortest at least 0.12).

    Returns
    -------
    list of pathlib.Path
        The three files written, in the order standard, depthwise, pointwise.

    Raises
    ------
    SymconvError
        For an ``out_dir`` that is empty, not a directory, cannot be created or is not writable,
        a target that must not be replaced (above), a file that cannot be written (a full
        disk), an unknown image format or language, sizes that do not fit together, symbolic
        sizes, and when matplotlib is not installed. Nothing is left behind then: every target
        is checked first, files are drawn to temporary names in ``out_dir`` and renamed only
        when all three are done, and on a failure the temporary files and the directories
        created are removed.

    Examples
    --------
    >>> import tempfile
    >>> from symconv.render.diagram import draw_separable_stages
    >>> with tempfile.TemporaryDirectory() as out_dir:
    ...     paths = draw_separable_stages((7, 7, 3), 64, 3, out_dir=out_dir)
    ...     print([path.name for path in paths])
    ...     print("5×5×64" in paths[0].read_text(encoding="utf-8"))
    ['standard.svg', 'depthwise.svg', 'pointwise.svg']
    True

    Bad arguments are refused before anything is written:

    >>> with tempfile.TemporaryDirectory() as out_dir:
    ...     draw_separable_stages((7, 7, 3), 64, 3, out_dir=out_dir, image="jpg")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: image='jpg' is not known; use one of svg, png, pdf
    """
    image = _check_choice(image, "image", IMAGE_FORMATS)
    lang = _check_choice(lang, "lang", LANGUAGES)
    scale = _check_choice(scale, "scale", SCALES)
    directory = _check_out_dir(out_dir)
    stages = _derive(input_shape, out_channels, kernel_size, stride, padding, dilation, bias)
    finals = [directory / f"{stage}.{image}" for stage in STAGES]
    for final in finals:
        _check_target(final)
    created = _make_out_dir(directory)
    with _pending(created) as pending, _drawn(stages, lang, image, scale) as figures:
        for (drawn, metadata), final in zip(figures, finals):
            temporary = _temporary(final)
            pending.append((temporary, final))
            try:
                drawn.savefig(temporary, format=image, metadata=metadata, dpi=150)
            except OSError as error:  # a full disk, a quota
                raise SymconvError(f"{shown(str(final))} could not be written "
                                   f"({error.strerror}); nothing was written") from None
    return finals


@contextlib.contextmanager
def _drawn(stages: _Stages, lang: str, image: str,
           scale: str = "log") -> Iterator[Iterator[tuple[Any, dict[str, Any]]]]:
    """The three matplotlib figures, drawn one at a time with symconv's style, and the metadata
    to save each with; the three share one width (the widest one's), so that side by side or
    one under the other they are drawn to one scale."""
    try:
        import matplotlib
    except ImportError as error:
        raise SymconvError("diagrams need matplotlib: pip install 'symconv[diagrams]'") from error
    # No pyplot: a bare Figure renders headless through its format's own canvas and leaves
    # the user's backend (a notebook's, say) alone, as matplotlib.use("Agg") would not.
    from matplotlib import colors, font_manager, patches, textpath
    from matplotlib.figure import Figure

    style: Any = {  # matplotlib types its keys as Literals
        # Every family listed is a fallback for glyphs the ones before it lack; the generic
        # "sans-serif" last lets SVG viewers fall back to a font of their own.
        "font.family": [*_font_families(lang, font_manager), "sans-serif"],
        "font.sans-serif": [_LATIN_FAMILY],
        "svg.fonttype": "none",
        "svg.hashsalt": "symconv",
        "pdf.fonttype": 42,
        "axes.unicode_minus": False,
    }
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[image]
    with matplotlib.rc_context(style), _quiet_fonts():
        measure = _measurer(font_manager, textpath)
        figures = _figures(stages, lang, scale)
        width = max(_width(figure, measure) for figure in figures)
        yield ((_draw(figure, Figure, patches, colors, measure, width), metadata)
               for figure in figures)


def stage_images(
    input_shape: Sequence[int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    bias: bool = False,
    image: str = "svg",
    lang: str = "en",
    scale: str = "log",
) -> list[bytes]:
    """The three figures of :func:`draw_separable_stages` in memory, as the bytes of their files
    (for a report that embeds them: SVG inline in HTML).

    Examples
    --------
    >>> svgs = stage_images((7, 7, 3), 64, 3)
    >>> [svg.decode().count("<svg") for svg in svgs], "5×5×64" in svgs[0].decode()
    ([1, 1, 1], True)
    """
    import io

    image = _check_choice(image, "image", IMAGE_FORMATS)
    lang = _check_choice(lang, "lang", LANGUAGES)
    scale = _check_choice(scale, "scale", SCALES)
    stages = _derive(input_shape, out_channels, kernel_size, stride, padding, dilation, bias)
    files = []
    with _drawn(stages, lang, image, scale) as figures:
        for drawn, metadata in figures:
            buffer = io.BytesIO()
            drawn.savefig(buffer, format=image, metadata=metadata, dpi=150)
            files.append(buffer.getvalue())
    return files
