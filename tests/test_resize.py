"""Upsample (nearest, bilinear; nn.Upsample and F.interpolate) and PReLU: counts by hand,
fast == reference == derived (verify, traffic included), values equal to PyTorch's in float64,
and every peer tool on a small segmentation-like head (the torch parts skip without torch)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import Layer, PReLU, Upsample
from symconv.networks.rows import rows
from symconv.symbols import C, H, W

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

# By hand, on a 4×5×3 input (60 elements):
# * nearest: a copy, nothing counted; every input element read, every output written.
# * bilinear: per output element 2 row interpolations of 2 products and 1 sum, then 2 products
#   by the row weights and 1 sum: 6 mults, 3 adds. scale 2 → 8×10×3 = 240 outputs: 1440, 720.
# * size (7, 11) bilinear: 7·11·3 = 231 outputs: 1386 mults, 693 adds.
# * scale 1.5 nearest: floor(6)×floor(7.5) = 6×7.
# * PReLU: per element 1 mult, 1 comparison; 60 each; params 3 (per channel) or 1.
HAND: list[tuple[Layer, tuple[int, ...], dict[str, int], int, tuple[int, ...]]] = [
    (Upsample(scale_factor=2), (4, 5, 3), {}, 0, (8, 10, 3)),
    (Upsample(scale_factor=1.5), (4, 5, 3), {}, 0, (6, 7, 3)),
    (Upsample(size=(7, 9)), (4, 5, 3), {}, 0, (7, 9, 3)),
    (Upsample(scale_factor=2, mode="bilinear"), (4, 5, 3), {"mults": 1440, "adds": 720}, 0,
     (8, 10, 3)),
    (Upsample(size=(7, 11), mode="bilinear", align_corners=True), (4, 5, 3),
     {"mults": 1386, "adds": 693}, 0, (7, 11, 3)),
    (Upsample(scale_factor=(1.5, 2), mode="bilinear", recompute_scale_factor=True), (4, 5, 3),
     {"mults": 6 * 6 * 10 * 3, "adds": 3 * 6 * 10 * 3}, 0, (6, 10, 3)),
    (PReLU(3), (4, 5, 3), {"mults": 60, "comparisons": 60}, 3, (4, 5, 3)),
    (PReLU(), (4, 5, 3), {"mults": 60, "comparisons": 60}, 1, (4, 5, 3)),
    (PReLU(), (6,), {"mults": 6, "comparisons": 6}, 1, (6,)),
]


@pytest.mark.parametrize(("layer", "shape", "expected", "params", "out"), HAND)
def test_counts_by_hand(layer: Layer, shape: tuple[int, ...], expected: dict[str, int],
                        params: int, out: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-13, atol=1e-15)
    full = {kind: expected.get(kind, 0) for kind in KINDS}
    assert fast.counts is not None and fast.counts.as_dict() == full
    assert reference.counts == fast.counts
    derived = cost(layer, shape)
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == full
    assert derived.params == params and derived.output_shape == out
    assert fast.output.shape == out
    assert verify(layer, shape).ok and verify(layer, shape, method="reference").ok  # traffic too


def test_traffic_by_hand() -> None:
    # every input element read once (upsampling touches them all), every output written
    c = cost(Upsample(scale_factor=2, mode="bilinear"), (4, 5, 3))
    assert (c.reads, c.writes) == (60, 240)
    c = cost(PReLU(3), (4, 5, 3))
    assert (c.reads, c.writes) == (60 + 3, 60)


def test_symbolic_formulas() -> None:
    c = cost(Upsample(scale_factor=2, mode="bilinear"), (H, W, C))
    assert c.output_shape == (2 * H, 2 * W, C)
    assert (c.mults, c.adds) == (24 * C * H * W, 12 * C * H * W)
    assert cost(Upsample(scale_factor=3), (H, W, C)).output_shape == (3 * H, 3 * W, C)
    assert cost(PReLU(C), (H, W, C)).mults == C * H * W


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Upsample(), "exactly one of size"),
    (lambda: Upsample(size=4, scale_factor=2), "exactly one of size"),
    (lambda: Upsample(scale_factor=2, mode="bicubic"), "Upsample(mode='bicubic') is not described"),
    (lambda: Upsample(scale_factor=0.1), "not exact in binary"),
    (lambda: Upsample(scale_factor="2"), "must be a positive number"),
    (lambda: Upsample(scale_factor=-2), "must be positive"),
    (lambda: Upsample(scale_factor=2, align_corners=True), "bilinear mode only"),
    (lambda: cost(Upsample(size=(2, 9)), (4, 5, 3)), "upsampling only"),
    (lambda: cost(Upsample(scale_factor=2), (4, 3)), "must have 3 sizes (H, W, C)"),
    (lambda: cost(PReLU(4), (4, 5, 3)), "must be 1 or the input's 3 channels"),
    (lambda: PReLU(0), "PReLU(num_parameters"),
])
def test_bad_arguments_are_refused(make: Any, message: str) -> None:
    with pytest.raises(SymconvError, match=re.escape(message)):
        make()


# --- PyTorch ------------------------------------------------------------------------------

VALUE_CASES = [
    dict(scale_factor=2), dict(scale_factor=3), dict(size=(7, 9)), dict(scale_factor=1.5),
    dict(scale_factor=(2, 3), recompute_scale_factor=True), dict(size=(11, 5)),
    dict(scale_factor=2, mode="bilinear", align_corners=False),
    dict(scale_factor=2, mode="bilinear", align_corners=True),
    dict(size=(7, 11), mode="bilinear", align_corners=False),
    dict(size=(9, 13), mode="bilinear", align_corners=True),
    dict(scale_factor=(1.5, 2.5), mode="bilinear", align_corners=False),
    dict(scale_factor=2.5, mode="bilinear", align_corners=False, recompute_scale_factor=True),
    dict(size=(4, 5), mode="bilinear", align_corners=False),
]


@pytest.mark.parametrize("arguments", VALUE_CASES, ids=repr)
def test_values_equal_torch(arguments: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch")
    layer = Upsample(**arguments)
    x = np.random.default_rng(1).standard_normal((4, 5, 3))
    expected = torch.nn.functional.interpolate(
        torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy()), **arguments)[0]
    expected = np.moveaxis(expected.numpy(), 0, -1)
    for method in ("fast", "reference"):
        out = execute(layer, x, method=method).output
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu_values_equal_torch(channels: int) -> None:
    torch = pytest.importorskip("torch")
    module = torch.nn.PReLU(channels).double()
    with torch.no_grad():
        module.weight.copy_(torch.linspace(-0.5, 0.7, channels, dtype=torch.float64))
    x = np.random.default_rng(2).standard_normal((4, 5, 3))
    x[0, 0, 0] = np.nan
    with torch.no_grad():
        expected = module(torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy()))[0].numpy()
    for method in ("fast", "reference"):
        out = execute(PReLU(channels), x, method=method,
                      params={"weight": module.weight.detach().numpy()}).output
        np.testing.assert_allclose(out, np.moveaxis(expected, 0, -1), rtol=0, atol=0)


def _head(mode: str, align: bool | None, size: tuple[int, int], factor: Any) -> Any:
    """A small segmentation-like head: conv, BN, PReLU (per channel, then shared), an
    nn.Upsample, a 1×1 classifier, and F.interpolate to a given size."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    from torch import nn

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.bn = nn.BatchNorm2d(8)
            self.act = nn.PReLU(8)
            self.act2 = nn.PReLU()
            options = {"align_corners": align} if mode == "bilinear" else {}
            self.up = nn.Upsample(scale_factor=factor, mode=mode, **options)
            self.cls = nn.Conv2d(8, 4, 1)

        def forward(self, x: Any) -> Any:
            y = self.cls(self.up(self.act2(self.act(self.bn(self.conv(x))))))
            options = {"align_corners": align} if mode == "bilinear" else {}
            return F.interpolate(y, size=size, mode=mode, **options)

    del torch
    return Head().eval()


HEADS = [("nearest", None, (40, 44), 2), ("bilinear", False, (33, 37), 2),
         ("bilinear", True, (40, 40), (2, 3))]


@pytest.mark.parametrize(("mode", "align", "size", "factor"), HEADS)
def test_every_peer_on_a_segmentation_head(mode: str, align: bool | None,
                                           size: tuple[int, int], factor: Any) -> None:
    pytest.importorskip("torch")
    from torch_nets import installed_peers, peer_count

    from symconv import count, from_torch

    model = _head(mode, align, size, factor)
    net = from_torch(model, (12, 13, 3))
    kinds = [row.kind for row in rows(net) if ":" in row.kind or row.kind == "prelu"]
    assert kinds == ["prelu", "prelu", f"upsample:{mode}", f"F.interpolate:{mode}"]
    peers = installed_peers()
    if not peers:
        pytest.skip("no peer installed")
    for peer in peers:
        assert count(net, convention=peer) == peer_count(peer, model, (3, 12, 13)), peer


def test_ptflops_counts_a_fractional_scale_factor_as_the_documented_difference() -> None:
    # docs/conventions.md, note 8: ptflops' patched F.interpolate counts n_in·s² for a scale
    # factor s, not the output's elements: 12·13·8·1.5² = 2808 against 18·19·8 = 2736.
    pytest.importorskip("torch")
    from torch_nets import installed_peers, peer_count

    from symconv import count, from_torch

    if "ptflops" not in installed_peers():
        pytest.skip("ptflops not installed")
    model = _head("nearest", None, (31, 40), 1.5)
    ours = count(from_torch(model, (12, 13, 3)), convention="ptflops")
    assert peer_count("ptflops", model, (3, 12, 13)) - ours == 2808 - 2736


def test_from_torch_refuses_other_modes_and_downsampling_by_name() -> None:
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F
    from torch import nn

    from symconv import from_torch

    class Resize(nn.Module):
        def __init__(self, **options: Any) -> None:
            super().__init__()
            self.options = options

        def forward(self, x: Any) -> Any:
            return F.interpolate(x, **self.options)

    for options, message in [
        (dict(scale_factor=2, mode="bicubic"), "mode='bicubic'"),
        (dict(scale_factor=0.5), "upsampling only"),
        (dict(scale_factor=2, mode="bilinear", antialias=True), "antialias=True"),
    ]:
        with pytest.raises(SymconvError, match=message):
            from_torch(Resize(**options), (8, 8, 3))
    with pytest.raises(SymconvError, match=r"nn\.Upsample.*mode='nearest-exact'"):
        from_torch(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest-exact")), (8, 8, 3))
    del torch
