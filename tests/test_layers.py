"""Layer descriptions: argument normalisation and the bad inputs each refuses, with their messages."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symconv import (
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
    SymconvError,
    cost,
)
from symconv.symbols import H, M, N, W, k

BAD_LAYERS = [
    (lambda: Conv2d(6, 8, 3, groups=4), "groups=4 must divide in_channels=6; divisors of 6: 1, 2, 3, 6"),
    (lambda: Conv2d(4, 6, 3, groups=4), "groups=4 must divide out_channels=6"),
    (lambda: Conv2d(0, 8, 3), "in_channels=0 must be at least 1"),
    (lambda: Conv2d(3, -1, 3), "out_channels=-1 must be at least 1"),
    (lambda: Conv2d(3, 8, 2.5), "kernel_size=2.5 must be a whole number"),
    (lambda: Conv2d(3, 8, "3"), "kernel_size='3' must be an int or a SymPy expression, not str"),
    (lambda: Conv2d(3, 8, (3, 3, 3)), "kernel_size=(3, 3, 3) must be one size or a tuple of 2"),
    (lambda: Conv2d(3, 8, 3, stride=0), "stride=0 must be at least 1"),
    (lambda: Conv2d(3, 8, 3, padding=-1), "padding=-1 must be at least 0"),
    (lambda: Conv2d(3, 8, 3, dilation=0), "dilation=0 must be at least 1"),
    (lambda: Conv2d(3, 8, 3, bias="yes"), "bias='yes' must be True or False"),
    (lambda: Conv2d(True, 8, 3), "in_channels=True must be an integer, not a boolean"),
    (lambda: Conv2d(3, 8, sympy.Rational(3, 2)), "kernel_size=3/2 must be a whole number"),
    (lambda: Conv2d(3, 8, -k), "kernel_size=-k must be at least 1"),
    (lambda: ConvTranspose2d(3, 8, 3, stride=2, output_padding=2), "output_padding=2 must be smaller than stride=2 or dilation=1"),
]


@pytest.mark.parametrize(("make", "message"), BAD_LAYERS)
def test_bad_layers_name_argument_and_fix(make: object, message: str) -> None:
    with pytest.raises(SymconvError) as caught:
        make()  # type: ignore[operator]
    assert message in str(caught.value)


BAD_SHAPES = [
    (Conv2d(3, 8, 3), (7, 7), "must have 3 sizes (H, W, C)"),
    (Conv2d(3, 8, 3), (7, 7, 4), "has 4 channels but Conv2d expects in_channels=3"),
    (Conv2d(3, 8, 9), (7, 7, 3), "kernel_size=9 (spanning 9 with dilation=1) is larger than the padded input along H"),
    (Conv2d(3, 8, 3, dilation=4), (7, 7, 3), "spanning 9 with dilation=4"),
    (Conv2d(3, 8, 3), (0, 7, 3), "input_shape=0 must be at least 1"),
    (Conv2d(3, 8, 3), "7x7x3", "must be a tuple of sizes"),
    (ConvTranspose2d(3, 3, 1, padding=2), (2, 2, 3), "crops the whole output"),
]


@pytest.mark.parametrize(("layer", "shape", "message"), BAD_SHAPES)
def test_bad_shapes(layer: object, shape: object, message: str) -> None:
    with pytest.raises(SymconvError) as caught:
        cost(layer, shape)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_symconv_error_is_a_value_error() -> None:
    assert issubclass(SymconvError, ValueError)


def test_undecidable_symbolic_conditions_are_accepted() -> None:
    # whether g divides M cannot be decided for symbols: accepted
    from symconv.symbols import g

    Conv2d(M, N, k, groups=g)
    # a kernel larger than a symbolic input cannot be decided either
    cost(Conv2d(M, N, 9), (H, W, M))


def test_sizes_normalise() -> None:
    layer = Conv2d(np.int64(3), 8, (3, 5), stride=[2, 1])
    assert layer.kernel_size == (3, 5) and layer.stride == (2, 1) and layer.in_channels == 3
    assert isinstance(layer.in_channels, int)
    assert Conv2d(3, 8, sympy.Integer(3)).kernel_size == (3, 3)


def test_kinds_and_equality() -> None:
    assert Conv2d(3, 8, 3).kind == "standard"
    assert Conv2d(4, 8, 3, groups=2).kind == "grouped"
    assert DepthwiseConv2d(4, 3).kind == "depthwise"
    assert PointwiseConv2d(4, 8).kind == "pointwise"
    assert DepthwiseSeparableConv2d(4, 8, 3).kind == "separable"
    assert Conv2d(3, 8, 3) == Conv2d(3, 8, (3, 3))
    assert DepthwiseConv2d(4, 3) != Conv2d(4, 4, 3, groups=4)
    assert hash(Conv2d(3, 8, 3)) == hash(Conv2d(3, 8, 3))


def test_layers_are_frozen() -> None:
    layer = Conv2d(3, 8, 3)
    with pytest.raises(AttributeError):
        layer.in_channels = 4  # type: ignore[misc]


def test_separable_stages_carry_the_settings() -> None:
    layer = DepthwiseSeparableConv2d(8, 16, 3, stride=2, padding=1, dilation=2, bias=True)
    (dw_name, dw), (pw_name, pw) = layer.stages
    assert (dw_name, pw_name) == ("depthwise", "pointwise")
    assert dw == DepthwiseConv2d(8, 3, 2, 1, 2, bias=True)
    assert pw == PointwiseConv2d(8, 16, bias=True)
    assert cost(layer, (W, W, 8)).params == 8 * 9 + 8 + 8 * 16 + 16


def test_a_layers_kept_hash_is_its_fields_hash_and_is_not_pickled() -> None:
    """A layer keeps its hash once worked out (the derivation's memos hash every layer at
    every level): equal layers still hash alike, the kept value is the dataclass's hash of the
    fields, and it is neither pickled (a string's hash differs between processes) nor copied."""
    import copy
    import dataclasses
    import pickle

    from symconv import BatchNorm2d, Sequential

    conv = Conv2d(3, 8, 3, padding=1)
    net = Sequential(("conv", conv), ("bn", BatchNorm2d(8)))
    fields = tuple(getattr(conv, item.name) for item in dataclasses.fields(conv)
                   if item.compare and item.hash is not False)
    assert "_hash" not in conv.__dict__
    assert hash(conv) == hash(fields) == conv.__dict__["_hash"]
    assert hash(net) == hash(Sequential(("conv", Conv2d(3, 8, 3, padding=1)),
                                        ("bn", BatchNorm2d(8))))
    for again, original in ((pickle.loads(pickle.dumps(net)), net), (copy.copy(conv), conv),
                            (copy.deepcopy(net), net)):
        assert "_hash" not in again.__dict__ and again == original
    assert hash(pickle.loads(pickle.dumps(conv))) == hash(conv)
