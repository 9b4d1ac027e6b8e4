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
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.layers import Conv2d, DepthwiseSeparableConv2d

__all__ = [
    "draw_separable_stages", "stage_shapes", "IMAGE_FORMATS", "LANGUAGES", "STAGES", "CAPTIONS",
]

#: The image formats a diagram can be written in (the file extension).
IMAGE_FORMATS = ("svg", "png", "pdf")
#: The three figures, in the order they are drawn and returned.
STAGES = ("standard", "depthwise", "pointwise")

#: Captions and labels, per language. ``{count}`` kernels of ``{kernel}`` (like ``3×3×3``);
#: ``{mults}`` multiplications (mults) and ``{params}`` parameters of the figure's convolution.
CAPTIONS: dict[str, dict[str, str]] = {
    "en": {
        "standard": "Standard convolution: {count} kernels of {kernel}",
        "depthwise": "Depthwise convolution: {count} kernels of {kernel}, one per input channel",
        "pointwise": "Pointwise convolution: {count} kernels of {kernel}",
        "standard_note": "replaced by a depthwise separable convolution: depthwise, then pointwise",
        "depthwise_note": "depthwise separable convolution, stage 1 of 2",
        "pointwise_note": "depthwise separable convolution, stage 2 of 2",
        "counts": "{mults} multiplications, {params} parameters",
        "geometry": "stride {stride}, padding {padding}, dilation {dilation}",
        "scale": "lengths drawn on a logarithmic scale; labels are exact",
        "channel": "channel {channel}",
        "input": "input {shape}",
        "kernels": "{count} kernels {kernel}",
        "output": "output {shape}",
    },
    "zh": {
        "standard": "标准卷积：{count} 个 {kernel} 卷积核",
        "depthwise": "深度卷积：{count} 个 {kernel} 卷积核，每个输入通道一个",
        "pointwise": "逐点卷积：{count} 个 {kernel} 卷积核",
        "standard_note": "可由深度可分离卷积代替：先深度卷积，再逐点卷积",
        "depthwise_note": "深度可分离卷积，第 1 步（共 2 步）",
        "pointwise_note": "深度可分离卷积，第 2 步（共 2 步）",
        "counts": "乘法 {mults} 次，参数 {params} 个",
        "geometry": "步长 {stride}，填充 {padding}，膨胀 {dilation}",
        "scale": "长度按对数比例绘制；标注为精确值",
        "channel": "通道 {channel}",
        "input": "输入 {shape}",
        "kernels": "{count} 个卷积核 {kernel}",
        "output": "输出 {shape}",
    },
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
_GAP = 0.8  # between the parts of a figure
_MARGIN = 1.2  # left and right of a figure
_KERNEL_GAP = 0.45  # between neighbouring kernels
_MOST_KERNELS = 4  # drawn before an ellipsis stands for the rest
_MOST_SLICES = 6  # channel slices drawn one by one before the middle ones are merged
_FONT_SIZE = 10.0

# Colours: channel slices (input channels, depthwise kernels and outputs), other kernels, outputs.
_CHANNEL_COLOURS = ("#4e79a7", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f")
_MERGED_COLOUR = "#d4d0cc"
_KERNEL_COLOUR = "#f28e2b"
_OUTPUT_COLOUR = "#59a14f"
_EDGE_COLOUR = "#333333"
_TEXT_COLOUR = "#222222"
_NOTE_COLOUR = "#555555"


def _length(size: int) -> float:
    """The drawn length of an axis of ``size`` elements: ``1 + log2(size)``, clamped."""
    return 1.0 + math.log2(min(size, _LARGEST_DRAWN))


def _times(*sizes: int) -> str:
    return "×".join(str(size) for size in sizes)


def _concrete(value: object, what: str) -> int:
    expr = sympy.sympify(value) if not isinstance(value, int) else value
    if isinstance(expr, int):
        return expr
    if isinstance(expr, sympy.Integer):
        return int(expr)
    raise SymconvError(
        f"{what}={value} is symbolic; diagrams need concrete sizes, like input_shape=(7, 7, 3)"
    )


def _shape(values: Sequence[object], what: str) -> tuple[int, int, int]:
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


def _derive(
    input_shape: object, out_channels: object, kernel_size: object, stride: object,
    padding: object, dilation: object,
) -> _Stages:
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise SymconvError(
            f"input_shape={input_shape!r} must be (H, W, C), channels last, like (7, 7, 3)"
        )
    in_channels = input_shape[-1]
    separable = DepthwiseSeparableConv2d(in_channels, out_channels, kernel_size, stride, padding,
                                         dilation)
    standard = Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation)
    separable_cost = cost(separable, tuple(input_shape))
    costs = {"standard": cost(standard, tuple(input_shape)), **dict(separable_cost.stages)}
    kernel = tuple(_concrete(size, "kernel_size") for size in separable.kernel_size)
    return _Stages(
        input_shape=_shape(separable_cost.input_shape, "input_shape"),
        hidden_shape=_shape(costs["depthwise"].output_shape, "input_shape"),
        output_shape=_shape(costs["standard"].output_shape, "input_shape"),
        kernel=(kernel[0], kernel[1]),
        stride=(_concrete(separable.stride[0], "stride"), _concrete(separable.stride[1], "stride")),
        padding=(_concrete(separable.padding[0], "padding"),
                 _concrete(separable.padding[1], "padding")),
        dilation=(_concrete(separable.dilation[0], "dilation"),
                  _concrete(separable.dilation[1], "dilation")),
        costs=costs,
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


@dataclass(frozen=True)
class _Cuboid:
    """An oblique cuboid: a front face ``width × height`` and ``depth`` going back."""

    width: float
    height: float
    depth: float

    @classmethod
    def of(cls, height: int, width: int, channels: int) -> _Cuboid:
        return cls(_length(width), _length(height), _length(channels))

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


def _mix(colour: str, other: str, amount: float, to_rgb: Any) -> tuple[float, float, float]:
    a, b = to_rgb(colour), to_rgb(other)
    return (
        a[0] + (b[0] - a[0]) * amount,
        a[1] + (b[1] - a[1]) * amount,
        a[2] + (b[2] - a[2]) * amount,
    )


class _Canvas:
    """Draws cuboids and labels on one matplotlib axes, remembering how far the drawing goes."""

    def __init__(self, axes: Any, patches: Any, colors: Any) -> None:
        self.axes = axes
        self._polygon = patches.Polygon
        self._to_rgb = colors.to_rgb
        self.bottom = 0.0

    def cuboid(self, x: float, y: float, box: _Cuboid, colour: str, depth_offset: float = 0.0,
               line_width: float = 0.8) -> None:
        ox, oy = _depth_shift(depth_offset)
        x, y = x + ox, y + oy
        dx, dy = box.shift
        w, h = box.width, box.height
        faces = (
            ([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], _mix(colour, "white", 0.0, self._to_rgb)),
            ([(x, y + h), (x + w, y + h), (x + w + dx, y + h + dy), (x + dx, y + h + dy)],
             _mix(colour, "white", 0.35, self._to_rgb)),
            ([(x + w, y), (x + w + dx, y + dy), (x + w + dx, y + h + dy), (x + w, y + h)],
             _mix(colour, "black", 0.2, self._to_rgb)),
        )
        for corners, face in faces:
            self.axes.add_patch(self._polygon(
                corners, closed=True, facecolor=face, edgecolor=_EDGE_COLOUR,
                linewidth=line_width, joinstyle="round",
            ))

    def text(self, x: float, y: float, text: str, **style: Any) -> None:
        style.setdefault("fontsize", _FONT_SIZE)
        style.setdefault("color", _TEXT_COLOUR)
        self.axes.text(x, y, text, **style)


@dataclass(frozen=True)
class _Block:
    """A tensor ``height × width × channels``, drawn whole or as coloured channel slices."""

    shape: tuple[int, int, int]
    colour: str | None = None  # None: one slice per channel, coloured as _channel_colours says

    @property
    def box(self) -> _Cuboid:
        return _Cuboid.of(*self.shape)

    @property
    def extent(self) -> tuple[float, float]:
        return self.box.extent

    def slices(self) -> list[tuple[float, str]]:
        """``(depth, colour)`` of each slice, front to back."""
        box = self.box
        if self.colour is not None:
            return [(box.depth, self.colour)]
        channels = self.shape[2]
        colours = _channel_colours(channels)
        if channels <= _MOST_SLICES:
            return [(box.depth / channels, colour) for colour in colours]
        thin = min(_length(1), box.depth / (_MOST_SLICES + 1))
        *front, last = colours
        middle = box.depth - thin * len(colours)
        return [*((thin, colour) for colour in front), (middle, _MERGED_COLOUR), (thin, last)]

    def draw(self, canvas: _Canvas, x: float, y: float) -> None:
        offsets = []
        depth = 0.0
        for thickness, colour in self.slices():
            offsets.append((depth, thickness, colour))
            depth += thickness
        box = self.box
        for offset, thickness, colour in reversed(offsets):
            canvas.cuboid(x, y, _Cuboid(box.width, box.height, thickness), colour, offset)
        height, width, channels = self.shape
        dx, dy = box.shift
        canvas.text(x - 0.2, y + box.height / 2, str(height), ha="right", va="center")
        canvas.text(x + box.width / 2, y - 0.2, str(width), ha="center", va="top")
        canvas.text(x + box.width + dx / 2 + 0.25, y + dy / 2 - 0.1, str(channels),
                    ha="left", va="top")


def _channel_colours(channels: int) -> list[str]:
    """Colours of the channel slices drawn: every channel, or the first three and the last."""
    if channels <= _MOST_SLICES:
        return [_CHANNEL_COLOURS[i] for i in range(channels)]
    return [*_CHANNEL_COLOURS[:3], _CHANNEL_COLOURS[3]]


def _channel_names(channels: int) -> list[int]:
    """The channel numbers (from 1) that :func:`_channel_colours` colours, in order."""
    if channels <= _MOST_SLICES:
        return list(range(1, channels + 1))
    return [1, 2, 3, channels]


@dataclass(frozen=True)
class _Kernels:
    """``count`` kernels of ``k_h × k_w × depth``: a few drawn in a row, an ellipsis for the rest."""

    count: int
    kernel: tuple[int, int]
    depth: int
    colours: tuple[str, ...]  # one per kernel drawn
    tags: tuple[str, ...] = ()  # written above each kernel drawn: the channel it reads

    @property
    def box(self) -> _Cuboid:
        return _Cuboid.of(self.kernel[0], self.kernel[1], self.depth)

    @property
    def drawn(self) -> int:
        return min(self.count, _MOST_KERNELS)

    @property
    def elided(self) -> bool:
        return self.count > _MOST_KERNELS

    def _positions(self) -> list[float]:
        step = self.box.width + _KERNEL_GAP
        positions = [i * step for i in range(self.drawn)]
        if self.elided:
            positions[-1] += self._ellipsis_width
        return positions

    @property
    def _ellipsis_width(self) -> float:
        return 1.6

    @property
    def extent(self) -> tuple[float, float]:
        width, height = self.box.extent
        return self._positions()[-1] + width + 1.9, height

    def draw(self, canvas: _Canvas, x: float, y: float) -> None:
        box = self.box
        positions = self._positions()
        dx, dy = box.shift
        for position, colour in zip(positions, self.colours):
            canvas.cuboid(x + position, y, box, colour)
        for position, tag in zip(positions, self.tags):
            canvas.text(x + position + (box.width + dx) / 2, y + box.height + dy + 0.2, tag,
                        ha="center", va="bottom", fontsize=_FONT_SIZE * 0.85, color=_NOTE_COLOUR)
        if self.elided:
            gap_start = positions[-2] + box.width
            # Low down, clear of the long side faces of deep kernels.
            canvas.text(x + (gap_start + positions[-1]) / 2, y + min(box.height / 2, 0.4), "⋯",
                        ha="center", va="center", fontsize=_FONT_SIZE * 1.6)
        canvas.text(x + positions[-1] + box.width + dx + 0.3, y + (box.height + dy) / 2,
                    f"×{self.count}", ha="left", va="center", fontsize=_FONT_SIZE * 1.2,
                    fontweight="bold")


def _kernel_colours(kernels: int, per_channel: bool) -> tuple[str, ...]:
    if per_channel:
        return tuple(_channel_colours(kernels))
    return (_KERNEL_COLOUR,) * min(kernels, _MOST_KERNELS)


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


def _figures(stages: _Stages, lang: str) -> list[_Figure]:
    text = CAPTIONS[lang]
    k_h, k_w = stages.kernel
    m = stages.input_shape[2]
    n = stages.output_shape[2]
    geometry = ""
    if (stages.stride, stages.padding, stages.dilation) != ((1, 1), (0, 0), (1, 1)):
        geometry = text["geometry"].format(
            stride=_pair(stages.stride), padding=_pair(stages.padding),
            dilation=_pair(stages.dilation),
        )
    kernel_shapes = {
        "standard": (n, _times(k_h, k_w, m)),
        "depthwise": (m, _times(k_h, k_w, 1)),
        "pointwise": (n, _times(1, 1, m)),
    }
    blocks = {
        "standard": (stages.input_shape, stages.output_shape, _OUTPUT_COLOUR),
        "depthwise": (stages.input_shape, stages.hidden_shape, None),
        "pointwise": (stages.hidden_shape, stages.output_shape, _OUTPUT_COLOUR),
    }
    kernels = {
        "standard": _Kernels(n, (k_h, k_w), m, _kernel_colours(n, per_channel=False)),
        "depthwise": _Kernels(m, (k_h, k_w), 1, _kernel_colours(m, per_channel=True),
                              tuple(text["channel"].format(channel=c) for c in _channel_names(m))),
        "pointwise": _Kernels(n, (1, 1), m, _kernel_colours(n, per_channel=False)),
    }
    figures = []
    for stage in STAGES:
        count, kernel = kernel_shapes[stage]
        source, result, result_colour = blocks[stage]
        stage_cost = stages.costs[stage]
        counts = text["counts"].format(mults=stage_cost.mults, params=stage_cost.params)
        notes: tuple[str, ...] = (text[f"{stage}_note"], counts)
        if geometry and stage != "pointwise":
            notes = (notes[0], geometry, counts)
        figures.append(_Figure(
            stage=stage,
            source=_Block(source),
            kernels=kernels[stage],
            result=_Block(result, result_colour),
            caption=text[stage].format(count=count, kernel=kernel),
            notes=notes,
            labels=(
                text["input"].format(shape=_times(*source)),
                text["kernels"].format(count=count, kernel=kernel),
                text["output"].format(shape=_times(*result)),
            ),
            scale=text["scale"],
        ))
    return figures


def _pair(values: tuple[int, int]) -> str:
    return str(values[0]) if values[0] == values[1] else _times(*values)


def _draw(figure: _Figure, plt: Any, patches: Any, colors: Any) -> Any:
    """Lay out one figure left to right under its captions and return the matplotlib figure."""
    parts: list[Any] = [figure.source, figure.kernels, figure.result]
    widths = [part.extent[0] for part in parts]
    heights = [part.extent[1] for part in parts]
    operator = 1.2  # room for the "∗" between input and kernels
    arrow = 2.4
    xs = [_MARGIN]
    xs.append(xs[0] + widths[0] + _GAP + operator + _GAP)
    xs.append(xs[1] + widths[1] + _GAP + arrow + _GAP)
    tallest = max(heights)
    ys = [-height / 2 for height in heights]
    label_y = -tallest / 2 - 1.5
    tagged = 0.8 if figure.kernels.tags else 0.0
    width = xs[2] + widths[2] + _MARGIN
    top, bottom = max(tallest / 2, heights[1] / 2 + tagged) + 0.5, label_y - 1.8
    # Captions take a fixed room in inches above the drawing.
    title, line, pad = 0.42, 0.24, 0.18
    caption = pad + title + line * len(figure.notes) + pad
    size = (width * _INCHES_PER_UNIT, (top - bottom) * _INCHES_PER_UNIT + caption)
    fig = plt.figure(figsize=size)
    axes = fig.add_axes((0.0, 0.0, 1.0, 1.0 - caption / size[1]))
    axes.set_xlim(0.0, width)
    axes.set_ylim(bottom, top)
    axes.set_aspect("equal")
    axes.axis("off")
    canvas = _Canvas(axes, patches, colors)
    for part, x, y in zip(parts, xs, ys):
        part.draw(canvas, x, y)
    canvas.text(xs[0] + widths[0] + _GAP + operator / 2, 0.0, "∗", ha="center", va="center",
                fontsize=_FONT_SIZE * 2.2)
    arrow_start = xs[1] + widths[1] + _GAP
    axes.annotate("", xy=(arrow_start + arrow, 0.0), xytext=(arrow_start, 0.0),
                  arrowprops={"arrowstyle": "-|>", "color": _EDGE_COLOUR, "linewidth": 1.5,
                              "mutation_scale": 16})
    for part, x, label in zip(parts, xs, figure.labels):
        canvas.text(x + part.extent[0] / 2, label_y, label, ha="center", va="top",
                    fontweight="bold")
    canvas.text(width - _MARGIN / 2, bottom + 0.3, figure.scale, ha="right", va="bottom",
                fontsize=_FONT_SIZE * 0.8, color=_NOTE_COLOUR, fontstyle="italic")
    left = _MARGIN * _INCHES_PER_UNIT / size[0]
    fig.text(left, 1.0 - pad / size[1], figure.caption, ha="left", va="top",
             fontsize=_FONT_SIZE * 1.3, fontweight="bold", color=_TEXT_COLOUR)
    for number, note in enumerate(figure.notes):
        fig.text(left, 1.0 - (pad + title + line * number) / size[1], note, ha="left", va="top",
                 fontsize=_FONT_SIZE, color=_NOTE_COLOUR)
    return fig


# --- files ----------------------------------------------------------------------------------


def _check_out_dir(out_dir: object) -> pathlib.Path:
    if not isinstance(out_dir, (str, os.PathLike)):
        raise SymconvError(f"out_dir={out_dir!r} must be a path to a directory")
    path = pathlib.Path(out_dir)
    if not path.exists():
        raise SymconvError(f"out_dir={str(path)!r} does not exist; create it first (mkdir -p)")
    if not path.is_dir():
        raise SymconvError(f"out_dir={str(path)!r} is not a directory; give a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise SymconvError(f"out_dir={str(path)!r} is not writable; choose another directory")
    return path


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
                f"out_dir={str(final.parent)!r} is not writable ({error.strerror}); "
                "choose another directory"
            ) from error
        return path
    raise SymconvError(f"out_dir={str(final.parent)!r}: no free temporary name; clean it up")


@contextlib.contextmanager
def _pending(out_dir: pathlib.Path) -> Iterator[list[tuple[pathlib.Path, pathlib.Path]]]:
    """Collect ``(temporary, final)`` paths; rename them all on success, remove them on failure."""
    pending: list[tuple[pathlib.Path, pathlib.Path]] = []
    try:
        yield pending
    except BaseException:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, final in pending:
        os.replace(temporary, final)


def draw_separable_stages(
    input_shape: Sequence[int],
    out_channels: int,
    kernel_size: int | tuple[int, int],
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    out_dir: str | os.PathLike[str],
    image: str = "svg",
    lang: str = "en",
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
    out_dir
        An existing, writable directory. Files of the same names are replaced.
    image
        ``"svg"`` (text kept as text), ``"png"`` or ``"pdf"``.
    lang
        ``"en"`` or ``"zh"``: the language of captions and labels.

    Returns
    -------
    list of pathlib.Path
        The three files written, in the order standard, depthwise, pointwise.

    Raises
    ------
    SymconvError
        For an ``out_dir`` that is missing, not a directory or not writable, an unknown image
        format or language, sizes that do not fit together, symbolic sizes, and when matplotlib
        is not installed. Nothing is written then: files are drawn to temporary names in
        ``out_dir`` and renamed only when all three are done.

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
    directory = _check_out_dir(out_dir)
    stages = _derive(input_shape, out_channels, kernel_size, stride, padding, dilation)
    try:
        import matplotlib
    except ImportError as error:
        raise SymconvError("diagrams need matplotlib: pip install 'symconv[diagrams]'") from error
    matplotlib.use("Agg")
    from matplotlib import colors, font_manager, patches
    from matplotlib import pyplot as plt

    style: Any = {  # matplotlib types its keys as Literals
        "font.family": "sans-serif",  # SVG viewers fall back to their own sans-serif font
        "font.sans-serif": _font_families(lang, font_manager),
        "svg.fonttype": "none",
        "svg.hashsalt": "symconv",
        "pdf.fonttype": 42,
        "axes.unicode_minus": False,
    }
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[image]
    paths = []
    with _pending(directory) as pending, matplotlib.rc_context(style), _quiet_fonts():
        for figure in _figures(stages, lang):
            final = directory / f"{figure.stage}.{image}"
            temporary = _temporary(final)
            pending.append((temporary, final))
            drawn = _draw(figure, plt, patches, colors)
            try:
                drawn.savefig(temporary, format=image, metadata=metadata, dpi=150)
            finally:
                plt.close(drawn)
            paths.append(final)
    return paths
