"""The Hypothesis strategies: bounds checked at once, every drawn case valid and within its
bounds, and every kind, rank and option actually drawn."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings

from symconv import (
    Conv2d,
    ConvTranspose1d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
    SymconvError,
    cost,
)
from symconv.layers import ConvNd, ConvTransposeNd, Layer
from symconv.strategies import channels_and_groups, conv_cases, conv_layers, input_shapes, kernel_sizes

Case = tuple[Layer, tuple[int, ...]]

BAD_BOUNDS = [
    ({"min_size": 5, "max_size": 3}, "min_size=5 must not exceed max_size=3"),
    ({"min_channels": 9}, "min_channels=9 must not exceed max_channels=8"),
    ({"min_kernel": 4}, "min_kernel=4 must not exceed max_kernel=3"),
    ({"min_size": 0}, "min_size=0 must be at least 1"),
    ({"max_stride": 0}, "max_stride=0 must be at least 1"),
    ({"max_padding": -1}, "max_padding=-1 must be at least 0"),
    ({"max_dilation": 2.5}, "max_dilation=2.5 must be an int"),
    ({"max_groups": True}, "max_groups=True must be an int"),
    ({"kinds": ("standard", "dilated")}, "'dilated' is not one of ('standard', 'grouped'"),
    ({"kinds": ()}, "kinds=() must be a non-empty tuple"),
    ({"dims": (2, 4)}, "dims=(2, 4): 4 is not one of (1, 2, 3)"),
    ({"kinds": ("separable",), "dims": (1, 3)}, "kinds includes 'separable', which is 2-D only, but dims=(1, 3)"),
    ({"min_kernel": 5, "max_kernel": 5, "max_size": 2, "max_padding": 1},
     "min_kernel=5 does not fit an input of at most max_size=2 padded by at most max_padding=1"),
    ({"kinds": ("grouped",), "max_groups": 1}, "kinds includes 'grouped' but no groups from 2 to max_groups=1"),
    ({"kinds": ("grouped",), "min_channels": 5, "max_channels": 5, "max_groups": 4},
     "no groups from 2 to max_groups=4 divide a channel count from min_channels=5 to max_channels=5"),
    ({"bias": "yes"}, "bias='yes' must be True, False or None"),
]


@pytest.mark.parametrize("strategy", [conv_cases, conv_layers])
@pytest.mark.parametrize(("bounds", "message"), BAD_BOUNDS)
def test_bad_bounds_are_refused_at_once(strategy: Callable[..., Any], bounds: dict[str, Any], message: str) -> None:
    with pytest.raises(SymconvError) as error:
        strategy(**bounds)  # before anything is drawn
    assert message in str(error.value)


def test_finer_strategies_check_their_bounds() -> None:
    with pytest.raises(SymconvError, match="min_kernel=3 must not exceed max_kernel=2"):
        kernel_sizes(2, min_kernel=3, max_kernel=2)
    with pytest.raises(SymconvError, match="max_groups=0 must be at least 1"):
        channels_and_groups(max_groups=0)
    with pytest.raises(SymconvError, match="min_size=4 must not exceed max_size=2"):
        input_shapes(Conv2d(3, 8, 1), min_size=4, max_size=2)
    with pytest.raises(SymconvError, match="Conv2d needs inputs of at least 7 along spatial axis 1, more than max_size=6"):
        input_shapes(Conv2d(3, 8, (1, 4), dilation=2), max_size=6)
    with pytest.raises(SymconvError, match="input_shapes knows the input sizes of convolution layers only"):
        input_shapes(Layer(), max_size=6)


BOUNDS = {"min_size": 2, "max_size": 6, "min_channels": 2, "max_channels": 6, "min_kernel": 2, "max_kernel": 3,
          "max_stride": 3, "max_dilation": 2, "max_padding": 2, "max_groups": 3}


@given(conv_cases(**BOUNDS))
def test_drawn_cases_are_valid_and_within_bounds(case: Case) -> None:
    layer, shape = case
    assert all(BOUNDS["min_size"] <= size <= BOUNDS["max_size"] for size in shape[:-1])
    derived = cost(layer, shape)  # raises on an invalid pair
    assert all(size >= 1 for size in derived.output_shape)
    convs = [stage for _, stage in layer.stages] if isinstance(layer, DepthwiseSeparableConv2d) else [layer]
    for conv in convs:
        assert isinstance(conv, (ConvNd, ConvTransposeNd))
        assert BOUNDS["min_channels"] <= conv.in_channels <= BOUNDS["max_channels"]
        assert BOUNDS["min_channels"] <= conv.out_channels <= BOUNDS["max_channels"]
        kernels = [1] if isinstance(conv, PointwiseConv2d) else range(BOUNDS["min_kernel"], BOUNDS["max_kernel"] + 1)
        assert all(size in kernels for size in conv.kernel_size)
        assert all(1 <= size <= BOUNDS["max_stride"] for size in conv.stride)
        assert all(1 <= size <= BOUNDS["max_dilation"] for size in conv.dilation)
        assert all(0 <= size <= BOUNDS["max_padding"] for size in conv.padding)
        if not isinstance(conv, DepthwiseConv2d):
            assert conv.groups <= BOUNDS["max_groups"]
    assert shape[-1] == layer.in_channels_expected()


def test_min_size_equal_to_max_size_pins_every_size() -> None:
    @settings(max_examples=15)
    @given(conv_cases(min_size=4, max_size=4))
    def check(case: Case) -> None:
        assert case[1][:-1] == (4,) * (len(case[1]) - 1)

    check()


# The kinds a drawn layer of each requested kind may report: a standard convolution with a 1×1
# kernel reports "pointwise", a grouped one with as many groups as channels "depthwise".
REPORTED_KINDS = {"standard": {"standard", "pointwise"}, "grouped": {"grouped", "depthwise"},
                  "depthwise": {"depthwise"}, "pointwise": {"pointwise"}, "separable": {"separable"},
                  "transposed": {"transposed"}}


@pytest.mark.parametrize("kind", sorted(REPORTED_KINDS))
def test_kinds_draw_only_that_kind(kind: str) -> None:
    @settings(max_examples=15)
    @given(conv_cases(kinds=(kind,)))
    def check(case: Case) -> None:
        layer = case[0]
        assert layer.kind in REPORTED_KINDS[kind]
        if kind in ("standard", "pointwise"):
            assert isinstance(layer, ConvNd) and layer.groups == 1
        if kind == "grouped":
            assert isinstance(layer, ConvNd) and layer.groups > 1
        if kind == "depthwise":
            assert isinstance(layer, ConvNd) and layer.groups == layer.in_channels == layer.out_channels
        assert isinstance(layer, DepthwiseConv2d) == (kind == "depthwise")
        assert isinstance(layer, PointwiseConv2d) == (kind == "pointwise")
        assert isinstance(layer, DepthwiseSeparableConv2d) == (kind == "separable")
        assert isinstance(layer, ConvTransposeNd) == (kind == "transposed")

    check()


# Each a property some drawn case must have: found by search, so each option is reachable.
REACHABLE: list[tuple[dict[str, Any], Callable[[Case], bool]]] = [
    ({"kinds": ("standard",), "dims": (1,)}, lambda case: len(case[1]) == 2),
    ({"kinds": ("standard",), "dims": (3,)}, lambda case: len(case[1]) == 4),
    ({"kinds": ("grouped",), "dims": (3,)}, lambda case: case[0].groups > 1 and len(case[1]) == 4),
    ({"kinds": ("transposed",), "dims": (1,)}, lambda case: case[0].groups > 1),
    ({"kinds": ("transposed",)}, lambda case: any(case[0].output_padding) and any(case[0].padding)),
    ({"kinds": ("standard",), "dims": (3,)}, lambda case: len(set(case[0].kernel_size)) == 3),
    ({"kinds": ("standard",), "dims": (2,)},
     lambda case: any(case[0].dilation[i] > 1 and case[0].padding[i] > 0 for i in range(2))),
    ({"kinds": ("standard",)}, lambda case: any(size > 1 for size in case[0].stride)),
    ({"kinds": ("separable",)}, lambda case: case[0].bias and case[0].in_channels != case[0].out_channels),
    ({"kinds": ("depthwise",)}, lambda case: case[0].in_channels > 1 and case[0].kernel_size == (3, 3)),
    ({"kinds": ("pointwise",)}, lambda case: case[0].bias),
    ({}, lambda case: not case[0].bias),
]


@pytest.mark.parametrize(("bounds", "condition"), REACHABLE)
def test_every_option_is_drawn(bounds: dict[str, Any], condition: Callable[[Case], bool]) -> None:
    # Generation only: the first case found is enough, shrinking it would only take time.
    quick = settings(max_examples=2000, phases=[Phase.generate], derandomize=True, database=None)
    assert condition(find(conv_cases(**bounds), condition, settings=quick))


@given(input_shapes(ConvTranspose1d(2, 2, 1, padding=2), max_size=8))
def test_input_shapes_leave_a_transposed_output(shape: tuple[int, ...]) -> None:
    # (L − 1)·1 + 0 + 0 + 1 − 2·2 >= 1 needs L >= 5.
    assert 5 <= shape[0] <= 8 and shape[1] == 2
    cost(ConvTranspose1d(2, 2, 1, padding=2), shape)


@given(channels_and_groups(min_channels=3, max_channels=9, min_groups=2, max_groups=3))
def test_channels_are_multiples_of_groups(case: tuple[int, int, int]) -> None:
    in_channels, out_channels, groups = case
    assert 2 <= groups <= 3
    assert in_channels % groups == 0 and out_channels % groups == 0
    assert 3 <= in_channels <= 9 and 3 <= out_channels <= 9


@given(kernel_sizes(3, min_kernel=2, max_kernel=4))
def test_kernel_sizes_one_per_axis(kernel: tuple[int, ...]) -> None:
    assert len(kernel) == 3 and all(2 <= size <= 4 for size in kernel)


def test_importing_symconv_does_not_import_hypothesis() -> None:
    code = "import sys, symconv; symconv.Conv2d(3, 8, 3); print('hypothesis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert result.stdout.strip() == "False"
