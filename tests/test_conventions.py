"""Named counting conventions: what each includes, on counts worked out by hand."""

from __future__ import annotations

import pytest
import sympy
from hypothesis import given

from symconv import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    DepthwiseSeparableConv2d,
    Linear,
    ReLU,
    ReLU6,
    Residual,
    Sequential,
    SymconvError,
    cost,
    count,
)
from symconv.layers import Activation, Softmax
from symconv.networks.conventions import CONVENTIONS, PEERS, breakdown, describe
from symconv.strategies import network_cases
from symconv.symbols import H, M, N, W, k


def block() -> Sequential:
    """Conv 3→4 (3×3, bias) on 4×4×3, BatchNorm, ReLU6, a residual 1×1, 2×2 average pool, FC."""
    return Sequential(
        ("conv", Conv2d(3, 4, 3, padding=1, bias=True)),
        ("bn", BatchNorm2d(4)),
        ("relu6", ReLU6()),
        ("res", Residual(Conv2d(4, 4, 1))),
        ("pool", AvgPool2d(2)),
        ("fc", Linear(4, 2)),
    )


# By hand, on (4, 4, 3):
# conv:  4·4·4 = 64 outputs × 27 products: 1728 mults, 64·26 + 64 (bias) = 1728 adds; 112 params
# bn:    64 elements: 64 mults, 64 adds; 8 params
# relu6: 64 elements × 2 = 128 comparisons
# res:   1×1 conv: 64 outputs × 4 = 256 mults, 64·3 = 192 adds; + 64 residual adds; 16 params
# pool:  2·2·4 = 16 outputs: 3 adds and 1 division each: 48 adds, 16 divs
# fc:    on (2, 2, 4): 4 positions × 2 outputs = 8 outputs × 4 = 32 mults, 8·3 + 8 = 32 adds;
#        10 params
BY_HAND = {
    "macs": 1728 + 256 + 32,
    "flops": 2 * (1728 + 256 + 32),
    "mults": 1728 + 64 + 256 + 32,
    "adds": 1728 + 64 + 192 + 64 + 48 + 32,
    "divs": 16,
    "comparisons": 128,
    "transcendentals": 0,
    "ops": (1728 + 64 + 256 + 32) + (1728 + 64 + 192 + 64 + 48 + 32) + 16 + 128,
    "params": 112 + 8 + 16 + 10,
    # The peers' rules (docs/conventions.md): conv and fc with biases, BN 2/element, ReLU6
    # 1/element, avg pool 2/input element; a + b is not counted.
    "ptflops": (1728 + 64) + 2 * 64 + 64 + 256 + 2 * 64 + (32 + 8),
    # No biases, BN 4/element, ReLU6 0, avg pool 1/output element.
    "thop": 1728 + 4 * 64 + 256 + 16 + 32,
    # No biases, BN 2/element, nothing for activations, pooling or additions.
    "fvcore": 1728 + 2 * 64 + 256 + 32,
    "torch": 2 * (1728 + 256 + 32),
    # Conv: parameters × output positions (112·16, 16·16); BN and fc: their parameters.
    "torchinfo": 112 * 16 + 8 + 16 * 16 + 10,
}


def transcendental_block() -> Sequential:
    """SiLU then a channel softmax, on 2×2×3."""
    return Sequential(("silu", Activation("silu")), ("softmax", Softmax()))


# By hand, on (2, 2, 3): SiLU x / (1 + exp(−x)), 12 elements: 12 exp, 12 adds, 12 divs.
# Softmax over 3 channels at 4 positions: 4·2 comparisons (max), 4·3 adds (x − max),
# 4·3 exp, 4·2 adds (the sum), 4 divs (1/sum), 4·3 mults.
TRANSCENDENTAL_BY_HAND = {
    "transcendentals": 12 + 12,
    "ops": (12 + 12 + 12) + (8 + 12 + 12 + 8 + 4 + 12),
    "macs": 0,
}


@pytest.mark.parametrize("convention", sorted(TRANSCENDENTAL_BY_HAND))
def test_transcendentals_and_ops_by_hand(convention: str) -> None:
    assert (count(transcendental_block(), (2, 2, 3), convention=convention)
            == TRANSCENDENTAL_BY_HAND[convention])


@pytest.mark.parametrize("convention", sorted(BY_HAND))
def test_each_convention_by_hand(convention: str) -> None:
    assert count(block(), (4, 4, 3), convention=convention) == BY_HAND[convention]


def test_every_registered_convention_is_tested_and_described() -> None:
    assert set(CONVENTIONS) == set(BY_HAND)
    for name in CONVENTIONS:
        assert describe(name) and describe(name)[0].isupper()


def test_founding_example() -> None:
    # 5·5·64 outputs of 27 products: 43200; a bias adds 1600 to the 41600 accumulations.
    assert count(Conv2d(3, 64, 3), (7, 7, 3)) == 43200
    assert count(Conv2d(3, 64, 3, bias=True), (7, 7, 3), convention="macs") == 43200
    assert count(Conv2d(3, 64, 3), (7, 7, 3), convention="ops") == 43200 + 41600
    assert count(Conv2d(3, 64, 3, bias=True), (7, 7, 3), convention="ops") == 43200 + 41600 + 1600
    assert count(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3)) == 675 + 4800
    assert count(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3), convention="params") == 219


def test_transposed_convolutions_are_macs() -> None:
    # Scatter form: 5·5·8 input elements × 9 × 4 output channels = 7200.
    assert count(ConvTranspose2d(8, 4, 3, stride=2), (5, 5, 8)) == 7200


def test_symbolic() -> None:
    assert count(Conv2d(M, N, k), (H, W, M)) == M * N * k**2 * (H - k + 1) * (W - k + 1)
    with_bn = Sequential(Conv2d(M, N, 1), BatchNorm2d(N), ReLU())
    assert sympy.expand(count(with_bn, (H, W, M), convention="ops")
                        - (M * N * H * W + (M - 1) * N * H * W + 2 * N * H * W + N * H * W)) == 0


def test_breakdown_by_kind() -> None:
    parts = breakdown(block(), (4, 4, 3))
    assert list(parts) == ["standard", "batchnorm", "relu6", "pointwise", "add", "avgpool", "linear"]
    # Conv2d(4, 4, 1) is of the "pointwise" kind: 256 mults + 192 adds.
    assert parts["standard"] == 1728 + 1728 and parts["pointwise"] == 256 + 192
    assert parts["batchnorm"] == 128 and parts["relu6"] == 128 and parts["add"] == 64
    assert breakdown(block(), (4, 4, 3), convention="macs") == {
        "standard": 1728, "pointwise": 256, "linear": 32
    }
    for convention in CONVENTIONS:
        assert sum(breakdown(block(), (4, 4, 3), convention=convention).values()) == BY_HAND[convention]


def test_count_takes_a_cost() -> None:
    result = cost(block(), (4, 4, 3))
    assert count(result, convention="ops") == BY_HAND["ops"]


@pytest.mark.parametrize("name", ["gflops", "MACs", "", 2])
def test_unknown_conventions_list_the_known_ones(name: object) -> None:
    with pytest.raises(SymconvError, match="is unknown; use one of macs, flops, ops, mults, adds, divs, "
                       "comparisons, transcendentals, params"):
        count(Conv2d(3, 64, 3), (7, 7, 3), convention=name)  # type: ignore[arg-type]


@given(network_cases())
def test_every_peer_convention_has_a_rule_for_every_layer_symconv_builds(
    case: tuple[Sequential, tuple[int, ...]],
) -> None:
    net, shape = case
    for name in PEERS:
        value = count(net, shape, convention=name)
        assert value.is_Integer and value >= 0, name
