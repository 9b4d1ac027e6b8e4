"""Hostile values (issue 16): every public constructor, ``cost``, ``ratio`` and ``Cost.subs``
answer a bad value with a :class:`SymconvError` that names the argument — never a TypeError,
an AttributeError or a ValueError from deep inside, and never a silently wrong number.

The tables list, per constructor, a valid call and the arguments that are sizes; every size
argument is then given every hostile value in turn.
"""

from __future__ import annotations

import fractions
from collections.abc import Callable
from typing import Any

import pytest
import sympy

from symconv import (
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Linear,
    MaxPool2d,
    PointwiseConv2d,
    ReLU,
    Residual,
    Sequential,
    SymconvError,
    cost,
    ratio,
)
from symconv.layers import Activation, Add, BatchNorm1d, Graph, Reuse
from symconv.symbols import H, M, N, W, g, k, p, s


def _id(value: object) -> str:
    """A short test id, also for integers too long to print."""
    if isinstance(value, int) and abs(value) > 10**50:
        return "huge"
    text = str(value) if not isinstance(value, dict) else ",".join(map(str, value))
    return text[:30]


# (constructor, valid keyword arguments, spatial dims (None: sizes are scalars),
#  size arguments of minimum 1, size arguments of minimum 0)
CONSTRUCTORS: list[tuple[Callable[..., Any], dict[str, Any], int | None, tuple[str, ...], tuple[str, ...]]] = [
    (Conv1d, dict(in_channels=2, out_channels=4, kernel_size=3), 1,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"), ("padding",)),
    (Conv2d, dict(in_channels=2, out_channels=4, kernel_size=3), 2,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"), ("padding",)),
    (Conv3d, dict(in_channels=2, out_channels=4, kernel_size=3), 3,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"), ("padding",)),
    (ConvTranspose1d, dict(in_channels=2, out_channels=4, kernel_size=3), 1,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"),
     ("padding", "output_padding")),
    (ConvTranspose2d, dict(in_channels=2, out_channels=4, kernel_size=3), 2,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"),
     ("padding", "output_padding")),
    (ConvTranspose3d, dict(in_channels=2, out_channels=4, kernel_size=3), 3,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "groups"),
     ("padding", "output_padding")),
    (DepthwiseConv2d, dict(channels=2, kernel_size=3), 2,
     ("channels", "kernel_size", "stride", "dilation"), ("padding",)),
    (PointwiseConv2d, dict(in_channels=2, out_channels=4), None,
     ("in_channels", "out_channels"), ()),
    (DepthwiseSeparableConv2d, dict(in_channels=2, out_channels=4, kernel_size=3), 2,
     ("in_channels", "out_channels", "kernel_size", "stride", "dilation"), ("padding",)),
    (BatchNorm2d, dict(channels=4), None, ("channels",), ()),
    (BatchNorm1d, dict(channels=4), None, ("channels",), ()),
    (Linear, dict(in_features=4, out_features=2), None, ("in_features", "out_features"), ()),
    (AvgPool2d, dict(kernel_size=3), 2, ("kernel_size",), ("padding",)),
    (MaxPool2d, dict(kernel_size=3), 2, ("kernel_size", "dilation"), ("padding",)),
]

# Values no size may take, whatever its minimum: (value, words the message must hold).
HOSTILE_SIZES: list[tuple[object, str]] = [
    (None, "NoneType"),
    ("3", "str"),
    (2.5, "whole number"),
    (3.0, "never floats"),
    (float("nan"), "whole number"),
    (float("inf"), "whole number"),
    (True, "boolean"),
    (-1, "at least"),
    (10**500, "digits"),
    (sympy.nan, "finite"),
    (sympy.oo, "finite"),
    (sympy.zoo, "finite"),
    (sympy.Float(2), "never floats"),
    (sympy.Float(2) * k, "float"),
    (sympy.Rational(3, 2), "whole number"),
    (fractions.Fraction(3, 1), "int"),
    (3 + 0j, "complex"),
    (Conv2d, "not the class Conv2d"),
    (ReLU(), "ReLU"),
    (-k, "at least"),
]


def _hostile_cases() -> list[Any]:
    cases = []
    for make, valid, dims, positive, nonnegative in CONSTRUCTORS:
        for argument in (*positive, *nonnegative):
            values = list(HOSTILE_SIZES)
            if argument in positive:
                values.append((0, "at least 1"))
            if dims is not None and argument not in ("in_channels", "out_channels", "channels",
                                                     "groups"):
                values.append(((3,) * (dims + 1), f"tuple of {dims}"))
                values.append((((3, 3),) * dims, "tuple"))
            if make in (AvgPool2d, MaxPool2d) and argument == "padding":
                values = [(value, words) for value, words in values if value is not None]
            cases.append(pytest.param(make, valid, argument, values,
                                      id=f"{make.__name__}-{argument}"))
    return cases


@pytest.mark.parametrize(("make", "valid", "argument", "values"), _hostile_cases())
def test_every_constructor_names_a_hostile_size(make: Callable[..., Any], valid: dict[str, Any],
                                                argument: str,
                                                values: list[tuple[object, str]]) -> None:
    make(**valid)  # the valid call works
    for value, words in values:
        with pytest.raises(SymconvError) as caught:
            make(**{**valid, argument: value})
        message = str(caught.value)
        assert argument in message, (value, message)
        if isinstance(value, str) and argument == "padding" and make in (
            Conv1d, Conv2d, Conv3d, DepthwiseConv2d, DepthwiseSeparableConv2d
        ):  # convolutions take a padding string: "same" or "valid"
            words = "is unknown; use one of same, valid, or numbers"
        assert words in message, (value, message)


# A constructor called with too few, too many or misspelt arguments.
BAD_CALLS: list[tuple[Callable[[], object], str]] = [
    (lambda: Conv2d(3, 4), "Conv2d: kernel_size is missing; e.g. Conv2d(3, 64, 3)"),
    (lambda: Conv2d(), "Conv2d: in_channels, out_channels and kernel_size are missing"),
    (lambda: DepthwiseSeparableConv2d(), "DepthwiseSeparableConv2d: in_channels, out_channels and "
                                         "kernel_size are missing; e.g. DepthwiseSeparableConv2d(3, 64, 3)"),
    (lambda: DepthwiseConv2d(8), "DepthwiseConv2d: kernel_size is missing; e.g. DepthwiseConv2d(32, 3)"),
    (lambda: PointwiseConv2d(8), "PointwiseConv2d: out_channels is missing"),
    (lambda: ConvTranspose2d(8, 4), "ConvTranspose2d: kernel_size is missing"),
    (lambda: Conv3d(1), "Conv3d: out_channels and kernel_size are missing; e.g. Conv3d(3, 64, 3)"),
    (lambda: BatchNorm2d(), "BatchNorm2d: channels is missing; e.g. BatchNorm2d(64)"),
    (lambda: Linear(1024), "Linear: out_features is missing; e.g. Linear(1024, 1000)"),
    (lambda: AvgPool2d(), "AvgPool2d: kernel_size is missing; e.g. AvgPool2d(2)"),
    (lambda: Activation(), "Activation: function is missing"),
    (lambda: Reuse("input"), "Reuse: shape is missing"),
    (lambda: Residual(), "Residual: block is missing"),
    (lambda: ReLU(3), "ReLU: 1 argument given by position, none allowed"),
    (lambda: Linear(1, 2, True, 4), "Linear: 4 arguments given by position, at most 3 allowed"),
    (lambda: Conv2d(3, 4, 3, strides=2), "Conv2d: no argument named 'strides'; its arguments: "
                                         "in_channels, out_channels, kernel_size, stride"),
    (lambda: Conv2d(3, 4, 3, in_channels=3), "Conv2d: in_channels is given twice"),
    (lambda: Conv2d(3, 4, 3, stride="2"), "stride='2' must be an int or a SymPy expression, not str"),
    (lambda: Conv2d(3, 4, 3, bias=1), "bias=1 must be True or False"),
    (lambda: Conv2d(6, 8, 3, groups=4), "groups=4 must divide in_channels=6"),
    (lambda: Activation("swish"), "Activation(function='swish') is unknown"),
    (lambda: Activation(None), "Activation(function=None) is unknown"),
    (lambda: Add(None), "Add(other=None) must name a stage"),
    (lambda: Reuse("input", None), "Reuse(shape=None) must be the channels-last shape"),
    (lambda: Reuse("input", (7, -7, 3)), "shape=-7 must be at least 1"),
    (lambda: Residual(Conv2d), "Residual(block=Conv2d): give a layer, not its class"),
    (lambda: Residual("conv"), "Residual(block='conv'): must be a symconv layer"),
    (lambda: Sequential(Conv2d), "give a layer, not its class; e.g. Conv2d(3, 64, 3)"),
    (lambda: Sequential(None), "Sequential: layer 0 is None"),
    (lambda: Sequential(ReLU(), input_shape="224x224x3"), "input_shape='224x224x3' must be a tuple"),
    (lambda: Sequential(ReLU(), input_shape=(224, 10**500, 3)), "input_shape is an integer of 501 digits"),
    (lambda: Sequential(ReLU(), size_multiple=0), "size_multiple=0 must be a positive int"),
    (lambda: Graph(("relu", ReLU)), "Graph(stage 0=ReLU): give a layer, not its class"),
    (lambda: Graph(ReLU()), "Graph: stage 0 is ReLU(); pass (name, layer) pairs"),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS, ids=_id)
def test_bad_calls_name_the_argument(call: Callable[[], object], message: str) -> None:
    with pytest.raises(SymconvError) as caught:
        call()
    assert message in str(caught.value)


BAD_COSTS: list[tuple[object, object, str]] = [
    ("conv", (7, 7, 3), "cost(layer='conv'): must be a symconv layer, like Conv2d(3, 64, 3), not str"),
    (None, (7, 7, 3), "cost(layer=None): must be a symconv layer"),
    (Conv2d, (7, 7, 3), "cost(layer=Conv2d): give a layer, not its class; e.g. Conv2d(3, 64, 3)"),
    (DepthwiseSeparableConv2d, (7, 7, 3), "e.g. DepthwiseSeparableConv2d(3, 64, 3)"),
    (42, (7, 7, 3), "not int"),
    (Conv2d(3, 4, 3), "7x7x3", "input_shape='7x7x3' must be a tuple of sizes"),
    (Conv2d(3, 4, 3), None, "input_shape is missing"),
    (Conv2d(3, 4, 3), (7, 7), "must have 3 sizes (H, W, C)"),
    (Conv2d(3, 4, 3), (7, 7, 3, 1), "must have 3 sizes"),
    (Conv2d(3, 4, 3), (7.0, 7, 3), "input_shape=7.0 must be a whole number"),
    (Conv2d(3, 4, 3), ((7, 7), 7, 3), "not tuple"),
    (Conv2d(3, 4, 3), (0, 7, 3), "input_shape=0 must be at least 1"),
    (Conv2d(3, 4, 3), (-7, 7, 3), "input_shape=-7 must be at least 1"),
    (Conv2d(3, 4, 3), (10**500, 7, 3), "input_shape is an integer of 501 digits"),
    (Conv2d(3, 4, 3), (sympy.nan, 7, 3), "finite"),
    (Conv2d(3, 4, 3), (True, 7, 3), "boolean"),
    (Conv2d(3, 4, 3), (None, 7, 3), "input_shape=None"),
    (Conv2d(3, 4, 9), (7, 7, 3), "kernel_size=9 (spanning 9 with dilation=1) is larger than the padded input"),
    # Two symbols both named H: they print alike, but SymPy takes them for two sizes.
    (Conv2d(3, 4, 3), (sympy.Symbol("H"), H, 3), "two different symbols are named H: "),
    (Conv2d(3, 4, 3), (sympy.Symbol("H"), H, 3), "Symbol('H') with no assumptions"),
    (Conv2d(3, 4, 3), (sympy.Symbol("H"), H, 3), "Symbol('H', integer=True, positive=True"),
    (Conv2d(3, 4, (k, sympy.Symbol("k"))), (H, W, 3), "two different symbols are named k"),
    (Sequential(Conv2d(3, 4, k), Conv2d(4, 4, sympy.Symbol("k", integer=True))), (H, W, 3),
     "two different symbols are named k"),
]


@pytest.mark.parametrize(("layer", "shape", "message"), BAD_COSTS, ids=_id)
def test_cost_names_a_bad_layer_or_shape(layer: object, shape: object, message: str) -> None:
    with pytest.raises(SymconvError) as caught:
        cost(layer, shape)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_huge_sizes_made_by_layers_are_refused_where_they_are_used() -> None:
    # Each stride-10**399 transposed convolution multiplies the size by 10**399: the second
    # layer would get an 800-digit input, and its counts could not be printed.
    net = Sequential(*[ConvTranspose2d(1, 1, 1, stride=10**399) for _ in range(3)])
    with pytest.raises(SymconvError, match=r"layer 1 \(transposed\): its input size is an integer of 400 "
                                           r"digits|layer 2 \(transposed\): its input size is an integer of 799"):
        cost(net, (2, 2, 1))
    # The largest sizes allowed still give counts that print.
    big = 10**400 - 1
    result = cost(Conv3d(big, big, big, groups=1), (big, big, big, big))
    assert len(str(result.mults)) < 4300


BAD_RATIOS: list[tuple[object, object, str]] = [
    ("a", 2, "numerator='a' must be a number or a SymPy expression"),
    (2, "b", "denominator='b'"),
    (None, 2, "numerator=None must be an int, a Fraction or a SymPy expression"),
    (True, 2, "numerator=True"),
    (sympy.nan, 2, "numerator=nan must be a finite number"),
    (2, sympy.nan, "denominator=nan must be a finite number"),
    (float("nan"), 2, "numerator=nan must be exact"),
    (float("inf"), 2, "numerator=inf must be exact"),
    (sympy.oo, 2, "numerator=oo must be a finite number"),
    (sympy.zoo, 2, "finite"),
    (2, -sympy.oo, "finite"),
    (sympy.Float(0.5), 2, "must be exact"),
    (sympy.Float(0.5) * H, 2, "must be exact"),
    (H + sympy.nan, 2, "finite"),
    (2, 0, "the denominator is zero"),
    (10**5000, 2, "numerator is an integer of 5001 digits"),
    (cost(Conv2d(3, 4, 3), (7, 7, 3)), 2, "numerator is a whole Cost; give one of its counts, like cost(...).mults"),
]


@pytest.mark.parametrize(("top", "bottom", "message"), BAD_RATIOS, ids=_id)
def test_ratio_refuses_what_is_no_count(top: object, bottom: object, message: str) -> None:
    with pytest.raises(SymconvError) as caught:
        ratio(top, bottom)
    assert message in str(caught.value)


SYMBOLIC = cost(Conv2d(M, N, k, stride=s, padding=p, groups=g), (H, W, M))
GOOD = {H: 7, W: 7, M: 4, N: 8, k: 3, s: 1, p: 0, g: 2}

BAD_SUBS: list[tuple[dict[Any, Any], str]] = [
    # The layer's own checks, made again on the values (a kernel larger than the input, groups
    # that do not divide the channels, ...): concrete cost() refuses these layers.
    ({H: 2, k: 5}, "kernel_size=5 (spanning 5 with dilation=1) is larger than the padded input along H"),
    ({M: 6, g: 4}, "groups=4 must divide in_channels=6"),
    ({N: 6, g: 4, M: 8}, "groups=4 must divide out_channels=6"),
    # The symbols' assumptions: sizes are positive integers, padding a non-negative integer.
    ({H: -2}, "H=-2 must be positive: H is declared a positive integer"),
    ({H: 0}, "H=0 must be positive"),
    ({H: sympy.Rational(15, 2)}, "H=15/2 must be an integer"),
    ({p: -1}, "p=-1 must be at least 0: p is declared a non-negative integer"),
    ({k: -k}, "k=-k must be positive"),
    ({H: 7.0}, "must be exact"),
    ({H: "7"}, "H='7' must be a number or a SymPy expression"),
    ({H: None}, "H=None"),
    ({H: True}, "H=True"),
    ({H: sympy.nan}, "finite"),
    ({H: sympy.oo}, "finite"),
    ({H: 10**500}, "H is an integer of 501 digits"),
    ({sympy.Symbol("H"): 7}, "the key H is not the H here"),
    ({"H": 7}, "subs key 'H' must be a SymPy symbol"),
]


@pytest.mark.parametrize(("values", "message"), BAD_SUBS, ids=_id)
def test_subs_checks_what_it_is_given(values: dict[Any, Any], message: str) -> None:
    with pytest.raises(SymconvError) as caught:
        SYMBOLIC.subs({**GOOD, **values})
    assert message in str(caught.value)


def test_subs_of_the_issue_example_is_refused_as_cost_refuses_it() -> None:
    # The example of issue 16: 9600 "multiplications" of a layer whose kernel does not fit.
    symbolic = cost(Conv2d(M, N, k), (H, W, M))
    with pytest.raises(SymconvError, match="kernel_size=5"):
        symbolic.subs({H: 2, W: 3, M: 3, N: 64, k: 5})
    with pytest.raises(SymconvError, match="kernel_size=5"):
        cost(Conv2d(3, 64, 5), (2, 3, 3))
    with pytest.raises(SymconvError, match="H=-2 must be positive"):
        symbolic.subs(H=-2, W=3, M=3, N=64, k=5)


def test_subs_by_numbers_gives_what_cost_of_numbers_gives() -> None:
    # 7×7×4 → (7 - 3)//2 + 1 = 3 per axis with stride 2; 8 channels of 3·3·(4/2) products.
    concrete = SYMBOLIC.subs({**GOOD, s: 2})
    assert concrete.output_shape == (3, 3, 8)
    assert concrete.mults == 3 * 3 * 8 * (3 * 3 * 2) == 1296
    assert concrete == cost(Conv2d(4, 8, 3, stride=2, groups=2), (7, 7, 4))
    # Stages are derived again too.
    separable = cost(DepthwiseSeparableConv2d(M, N, k), (H, W, M)).subs({H: 7, W: 7, M: 3, N: 64, k: 3})
    assert [(name, stage.mults) for name, stage in separable.stages] == [("depthwise", 675), ("pointwise", 4800)]


def test_subs_symbol_for_expression_still_works() -> None:
    q = sympy.Symbol("q", positive=True, integer=True)
    odd = cost(Conv2d(M, N, k, padding=p), (H, W, M)).subs({k: 2 * q + 1, p: q})
    # "same" padding for an odd kernel 2q + 1 with padding q: H_o = H.
    assert odd.output_shape == (H, W, N)
    assert sympy.expand(odd.mults - H * W * N * M * (2 * q + 1) ** 2) == 0
    # Renaming a size keeps it a size: the result is the layer's on (2H, W, M).
    doubled = cost(Conv2d(M, N, 3), (H, W, M)).subs({H: 2 * H})
    assert doubled.output_shape == (2 * H - 2, W - 2, N)
    # A padding may become another non-negative integer expression, not a negative one.
    with pytest.raises(SymconvError, match="must be at least 0"):
        cost(Conv2d(M, N, k, padding=p), (H, W, M)).subs({p: -q})


def test_a_rewritten_cost_still_has_its_values_checked() -> None:
    from symconv.derive import in_output_symbols
    from symconv.symbols import H_o, W_o

    written = in_output_symbols(cost(Conv2d(M, N, k, stride=s), (H, W, M)))
    assert written.subs({H_o: 5, W_o: 5, M: 3, N: 64, k: 3}).mults == 43200
    with pytest.raises(SymconvError, match="H_o=-5 must be positive"):
        written.subs({H_o: -5})
