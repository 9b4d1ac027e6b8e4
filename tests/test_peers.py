"""The peer conventions against the real peers, and the PyTorch bridge.

Hypothesis builds small PyTorch models from every supported layer (convolutions of every
kind, BatchNorm, activations as modules, F-functions and torch calls, pooling, residual
additions written four ways, heads with Linear); each peer installed here counts the model, and
``count(from_torch(model, shape), convention=peer)`` must equal its number exactly. Skips
cleanly without torch; a peer that is not installed is left out.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

torch = pytest.importorskip("torch")

import sympy  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch_nets import installed_peers, mobilenet_v1, mobilenet_v2, peer_count  # noqa: E402

from symconv import SymconvError, cost, count, from_torch  # noqa: E402
from symconv.networks.conventions import CONVENTIONS, PEERS  # noqa: E402
from symconv.networks.rows import rows  # noqa: E402
from symconv.networks.zoo import network  # noqa: E402
from symconv.symbols import H, W  # noqa: E402

PEERS_HERE = installed_peers()

#: Activations as PyTorch writes them: a module class, or (namespace, function) called in
#: forward as F.relu(x) is, looked up when called (as ptflops' patching needs).
ACTIVATIONS: list[Any] = [
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    ("F", "relu"), ("F", "relu6"), ("F", "hardswish"), ("F", "leaky_relu"), ("torch", "relu"),
    ("x", "relu"),
]
ADDS = ["+", "+=", "torch.add", "x.add(y)"]


def _add(x: Any, y: Any, spelling: str) -> Any:
    if spelling == "+":
        return x + y
    if spelling == "+=":
        x += y
        return x
    if spelling == "torch.add":
        return torch.add(x, y)
    return x.add(y)


class Step(nn.Module):
    """An activation called in forward: ``F.<name>(x)``, ``torch.<name>(x)`` or ``x.<name>()``."""

    def __init__(self, namespace: str, name: str) -> None:
        super().__init__()
        self.namespace = namespace
        self.name = name

    def forward(self, x: Any) -> Any:
        if self.namespace == "x":
            return getattr(x, self.name)()
        return getattr(F if self.namespace == "F" else torch, self.name)(x)


class Residual(nn.Module):
    """``shortcut(x) + branch(x)``, the addition written one of four ways."""

    def __init__(self, branch: nn.Module, shortcut: nn.Module | None, spelling: str) -> None:
        super().__init__()
        self.branch = branch
        self.shortcut = shortcut
        self.spelling = spelling

    def forward(self, x: Any) -> Any:
        skip = x if self.shortcut is None else self.shortcut(x)
        return _add(self.branch(x), skip, self.spelling)


class Flat(nn.Module):
    """``x.view(x.size(0), -1)``, as many models flatten."""

    def forward(self, x: Any) -> Any:
        return x.view(x.size(0), -1)


def _conv_out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def models(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, int, int]]:
    """A small NCHW model and its input (C, H, W); every step keeps the shape valid."""
    c, h, w = draw(st.integers(1, 4)), draw(st.integers(3, 8)), draw(st.integers(3, 8))
    start = (c, h, w)
    steps: list[nn.Module] = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "convT", "bn", "act", "pool", "res", "drop"]))
        if kind in ("conv", "convT"):
            k, s, d = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
            p = draw(st.integers(0, 1))
            groups = draw(st.sampled_from([g for g in range(1, c + 1) if c % g == 0]))
            out = groups * draw(st.integers(1, 3))
            bias = draw(st.booleans())
            if kind == "conv":
                # padding as PyTorch takes it: numbers, "valid" (none), or "same" (stride 1
                # only; an even d·(k − 1), since symconv pads both sides alike)
                written = draw(st.sampled_from(["numbers", "valid", "same"]))
                if written == "same" and (s != 1 or d * (k - 1) % 2):
                    written = "numbers"
                if written != "numbers":
                    p = 0 if written == "valid" else d * (k - 1) // 2
                oh, ow = _conv_out(h, k, s, p, d), _conv_out(w, k, s, p, d)
                if min(oh, ow) < 1:
                    continue
                # reflect padding (PyTorch pads first, then convolves) needs p < the size
                modes = ["zeros", "reflect"] if written == "same" and p < min(h, w) else ["zeros"]
                steps.append(nn.Conv2d(c, out, k, s, p if written == "numbers" else written, d,
                                       groups, bias, padding_mode=draw(st.sampled_from(modes))))
            else:
                extra = draw(st.integers(0, max(s, d) - 1))
                oh, ow = ((size - 1) * s - 2 * p + d * (k - 1) + extra + 1 for size in (h, w))
                if min(oh, ow) < 1 or max(oh, ow) > 12:
                    continue
                steps.append(nn.ConvTranspose2d(c, out, k, s, p, extra, groups, bias, d))
            c, h, w = out, oh, ow
        elif kind == "bn":
            steps.append(nn.BatchNorm2d(c))
        elif kind == "act":
            activation = draw(st.sampled_from(ACTIVATIONS))
            steps.append(Step(*activation) if isinstance(activation, tuple) else activation())
        elif kind == "pool":
            k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
            p = draw(st.integers(0, k // 2))
            if h + 2 * p < k or w + 2 * p < k:
                continue
            pool = nn.MaxPool2d(k, s, p) if draw(st.booleans()) else nn.AvgPool2d(k, s, p)
            steps.append(pool)
            h, w = _conv_out(h, k, s, p, 1), _conv_out(w, k, s, p, 1)
        elif kind == "res":
            spelling = draw(st.sampled_from(ADDS))
            if draw(st.booleans()):
                branch = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False),
                                       nn.BatchNorm2d(c), nn.ReLU())
                steps.append(Residual(branch, None, spelling))
            else:
                out, s = draw(st.integers(1, 4)), draw(st.integers(1, 2))
                steps.append(Residual(nn.Conv2d(c, out, 1, s), nn.Sequential(
                    nn.Conv2d(c, out, 1, s, bias=False), nn.BatchNorm2d(out)), spelling))
                c, h, w = out, _conv_out(h, 1, s, 0, 1), _conv_out(w, 1, s, 0, 1)
        else:
            steps.append(draw(st.sampled_from([nn.Dropout(), nn.Identity()])))
    head = draw(st.sampled_from(["none", "gap", "view"]))
    if head != "none":
        steps += [nn.AdaptiveAvgPool2d(1), nn.Flatten()] if head == "gap" else [Flat()]
        features = c if head == "gap" else c * h * w
        out = draw(st.integers(1, 5))
        steps.append(nn.Linear(features, out, bias=draw(st.booleans())))
        if draw(st.booleans()):
            steps.append(nn.BatchNorm1d(out))
        if draw(st.booleans()):
            steps.append(nn.ReLU())
    return nn.Sequential(*steps), start


def _channels_last(chw: tuple[int, ...]) -> tuple[int, ...]:
    return (*chw[1:], chw[0])


def _assert_peers_agree(model: nn.Module, chw: tuple[int, ...],
                        peers: list[str] | None = None) -> None:
    net = from_torch(model, _channels_last(chw))
    for peer in PEERS_HERE if peers is None else peers:
        theirs = peer_count(peer, model, chw)
        ours = count(net, convention=peer)
        assert ours == theirs, f"{peer}: symconv {ours}, {peer} {theirs}\n{model}"


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@given(models())
def test_every_peer_on_generated_models(case: tuple[nn.Module, tuple[int, int, int]]) -> None:
    model, chw = case
    _assert_peers_agree(model, chw)


# 1-D and 3-D layers, and the remaining options, one model each.
OTHER_RANKS = [
    (nn.Sequential(nn.Conv1d(3, 6, 3, stride=2, padding=1, bias=True), nn.BatchNorm1d(6),
                   nn.ReLU(), nn.ConvTranspose1d(6, 4, 3, stride=2, groups=2)), (3, 9)),
    (nn.Sequential(nn.Conv3d(2, 4, 3, padding=1, groups=2), nn.ReLU6(),
                   nn.ConvTranspose3d(4, 2, 2, stride=2, bias=True)), (2, 3, 4, 5)),
    (nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(3, 2, 1, dilation=2),
                   nn.Conv2d(4, 4, 3)), (3, 11, 11)),
    (nn.Sequential(nn.Flatten(), nn.Linear(48, 10), nn.BatchNorm1d(10), nn.Dropout(),
                   nn.Linear(10, 3, bias=False)), (3, 4, 4)),
]


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize(("model", "chw"), OTHER_RANKS)
def test_every_peer_on_other_ranks(model: nn.Module, chw: tuple[int, ...]) -> None:
    _assert_peers_agree(model, chw)


STRING_PADDED = [
    (nn.Sequential(nn.Conv2d(3, 4, 3, padding="same", bias=True),
                   nn.Conv2d(4, 4, 3, padding="valid", groups=2)), (3, 7, 7)),
    (nn.Sequential(nn.Conv1d(2, 2, 5, padding="same", dilation=2, groups=2),
                   nn.Conv1d(2, 3, 1, padding="valid")), (2, 9)),
    (nn.Conv3d(2, 4, 3, padding="same"), (2, 3, 4, 5)),
    # a padding_mode other than "zeros": the module pads (F.pad) and convolves with padding 0
    (nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect"), (3, 7, 7)),
]


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize(("model", "chw"), STRING_PADDED)
def test_every_peer_on_padding_strings(model: nn.Module, chw: tuple[int, ...]) -> None:
    _assert_peers_agree(model, chw)


def test_padding_strings_are_kept_in_the_kind_and_fvcore_counts_them_zero() -> None:
    model, chw = STRING_PADDED[0]
    net = from_torch(model, _channels_last(chw))
    assert [row.kind for row in rows(net)] == ["standard:same", "grouped:valid"]
    assert count(net, convention="fvcore") == 0
    assert count(net, convention="macs") == 7 * 7 * 4 * 27 + 5 * 5 * 4 * 18
    reflect, chw = STRING_PADDED[-1]
    assert [row.kind for row in rows(from_torch(reflect, _channels_last(chw)))] == ["standard"]
    with pytest.raises(SymconvError, match="padding='same' pads unevenly"):
        from_torch(nn.Conv2d(3, 4, 2, padding="same"), (7, 7, 3))


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("name", ["mobilenet_v1", "mobilenet_v2"])
def test_zoo_mobilenets_match_their_twins_and_every_peer(name: str) -> None:
    twin = {"mobilenet_v1": mobilenet_v1, "mobilenet_v2": mobilenet_v2}[name]()
    chw = (3, 64, 64)
    _assert_peers_agree(twin, chw)
    zoo = network(name, resolution=64)
    net = from_torch(twin, (64, 64, 3))
    for convention in CONVENTIONS:
        assert count(net, convention=convention) == count(zoo, convention=convention), convention


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
def test_a_batch_costs_batch_times_one_example() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=True), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    net = from_torch(model, (9, 9, 3))
    for peer in PEERS_HERE:
        per_example = count(net, convention=peer)
        if peer == "ptflops":
            # ptflops divides its module hooks' counts by the batch but adds the patched
            # functions' counts (here F.relu 196, F.max_pool2d 196, F.adaptive_avg_pool2d 36)
            # for the whole batch: at batch 3 it reports 2·428 more than per example.
            assert peer_count(peer, model, (3, 9, 9), batch=3) == per_example + 2 * 428
        else:
            assert peer_count(peer, model, (3, 9, 9), batch=3) == 3 * per_example, peer


def test_symbolic_input_gives_formulas_in_h_and_w() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=1, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 1))
    net = from_torch(model, (H, W, 3))
    assert sympy.expand(count(net)) == 8 * 27 * H * W + 64 * H * W
    assert count(net, convention="ptflops").subs({H: 5, W: 6}) == peer_count(
        "ptflops", model, (3, 5, 6)) if "ptflops" in PEERS_HERE else True
    assert cost(net).output_shape == (H, W, 8)


def test_size_multiple_gives_polynomials_exact_where_sizes_divide() -> None:
    twin = mobilenet_v2()
    net = from_torch(twin, (H, W, 3), size_multiple=32)
    for convention in ("macs", "ptflops", "thop", "ops"):
        formula = count(net, convention=convention)
        assert not formula.has(sympy.floor)
        assert formula.subs({H: 64, W: 96}) == count(from_torch(twin, (64, 96, 3)),
                                                     convention=convention)
    with pytest.raises(SymconvError, match="size_multiple=0 must be a positive int"):
        from_torch(twin, (H, W, 3), size_multiple=0)


class SqueezeExcite(nn.Module):
    """torchvision's SqueezeExcitation as MobileNetV3 writes it (``scale * input``), with ReLU
    and Hardsigmoid; the squeeze written as ``x.mean((2, 3), keepdim=True)``, as MNASNet and
    timm do, or as adaptive pooling."""

    def __init__(self, channels: int, squeeze: int, mean: bool) -> None:
        super().__init__()
        self.mean = mean
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: Any) -> Any:
        scale = x.mean((2, 3), keepdim=True) if self.mean else self.pool(x)
        scale = self.gate(self.fc2(self.relu(self.fc1(scale))))
        return scale * x


class Arithmetic(nn.Module):
    """``a - b``, ``a / b`` (b positive), ``a *= b`` and a head ``x.mean([2, 3])`` (MNASNet)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.other = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: Any) -> Any:
        a, b = self.conv(x), self.other(x)
        y = torch.sub(a, b) / b  # values do not matter: nothing reads them
        y *= a - b
        return self.fc(torch.mean(y, [2, 3]))


BROADCAST = [
    (nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), SqueezeExcite(8, 4, mean=False)), (3, 7, 6)),
    (nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), SqueezeExcite(8, 4, mean=True)), (3, 5, 5)),
    (Arithmetic(), (3, 6, 5)),
    # pooling as SqueezeNet, GoogLeNet, VGG and AlexNet write it: ceil_mode, adaptive to a size
    (nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(3, 2, ceil_mode=True),
                   nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False),
                   nn.AdaptiveAvgPool2d((3, 2)), nn.AdaptiveMaxPool2d(2)), (3, 17, 16)),
    (nn.Sequential(nn.Conv2d(3, 4, 1), nn.AdaptiveAvgPool2d(3), nn.Flatten(),
                   nn.Linear(36, 5)), (3, 9, 12)),
]


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize(("model", "chw"), BROADCAST)
def test_every_peer_on_broadcast_arithmetic_and_means(model: nn.Module, chw: tuple[int, ...]
                                                      ) -> None:
    _assert_peers_agree(model, chw)


def test_mul_spelled_as_ptflops_counts_it_is_refused_by_name() -> None:
    class Spelled(nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.mul(x.relu(), x)

    with pytest.raises(SymconvError, match=r"torch\.mul: ptflops counts torch\.mul"):
        from_torch(Spelled(), (4, 4, 3))


def test_unsupported_parts_are_listed_by_name() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.act = nn.GELU()
            self.up = nn.Upsample(scale_factor=2, mode="bicubic")

        def forward(self, x: Any) -> Any:
            return self.up(torch.cat([self.act(self.conv(x)), torch.sigmoid(x)], 1))

    with pytest.raises(SymconvError) as error:
        from_torch(Model(), (8, 8, 3))
    message = str(error.value)
    # GELU, sigmoid, cat and nearest/bilinear upsampling are counted now; bicubic is not
    assert message.startswith("from_torch: symconv cannot count 1 part of the model: up "
                              "(nn.Upsample")


@pytest.mark.parametrize(("model", "shape", "words"), [
    (nn.Sequential(nn.Conv2d(3, 4, 1), nn.Linear(5, 2)), (5, 5, 3), "flatten before it"),
    # nn.BatchNorm2d(affine=False) is mapped now (tests/test_batchnorm_affine_torch.py)
    (nn.MaxPool2d(2, return_indices=True), (5, 5, 3), "return_indices=True"),
])
def test_layers_symconv_cannot_mirror_are_refused(model: nn.Module, shape: tuple[int, ...],
                                                  words: str) -> None:
    with pytest.raises(SymconvError, match=words):
        from_torch(model, shape)


def test_data_dependent_control_flow_runs_and_its_tensor_ops_are_named() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 1)

        def forward(self, x: Any) -> Any:
            return self.conv(x) if x.sum() > 0 else x

    # The model runs as it is written (torch.fx cannot trace it); the reduction and the
    # comparison that decide the branch are computations symconv does not count, named by
    # their module path.
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Sequential(nn.ReLU(), Branchy()))
    with pytest.raises(SymconvError, match=r"cannot count 2 parts of the model: 1\.1\.sum "
                                           r"\(Tensor\.sum: .*\); 1\.1\.gt \(Tensor\.gt"):
        from_torch(model, (5, 5, 3))


def test_residual_graph_rows_name_torch_modules() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 1), Residual(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1),
                                                       "torch.add"))
    names = [(row.name, row.kind) for row in rows(from_torch(model, (5, 5, 3)))]
    # forward computes the shortcut first; the branch starts again from the output of "0"
    assert names == [("0", "pointwise"), ("1.shortcut", "pointwise"), ("reuse:0", "reuse"),
                     ("1.branch", "pointwise"), ("1.add", "torch.add")]


def test_peer_conventions_refuse_kinds_they_have_no_rule_for() -> None:
    from symconv.networks.conventions import _peer

    bare = _peer("bare", "A convention that knows nothing.", {})
    from symconv import Conv2d

    with pytest.raises(SymconvError, match="has no rule for layer standard of kind 'standard'"):
        bare(rows(Conv2d(3, 4, 3), (5, 5, 3)))
    assert set(PEERS) <= set(CONVENTIONS)


def test_importing_symconv_does_not_import_torch() -> None:
    code = "import sys, symconv, symconv.cli, symconv.networks.conventions; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


class Concatenated(nn.Module):
    """Three branches concatenated along the channels (an inception block's join), then a
    one-tensor ``torch.cat`` (DenseNet's first layer) and a 1×1 convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 4, 1)
        self.b = nn.Conv2d(3, 2, 3, padding=1)
        self.c = nn.MaxPool2d(3, 1, 1)
        self.out = nn.Conv2d(9, 2, 1)

    def forward(self, x: Any) -> Any:
        joined = torch.cat([self.a(x), self.b(x), self.c(x)], 1)
        return self.out(torch.cat([joined], dim=1))


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
def test_every_peer_on_concatenation() -> None:
    _assert_peers_agree(Concatenated(), (3, 6, 7))
    kinds = [row.kind for row in rows(from_torch(Concatenated(), (6, 7, 3)))]
    assert kinds.count("cat") == 2  # a chain of two-tensor concatenations; cat([x]) is x


class FunctionalPools(nn.Module):
    """Pooling called as functions, as Inception V3 (``F.avg_pool2d``, ``F.max_pool2d``) and
    MobileNet V2 / DenseNet (``F.adaptive_avg_pool2d(x, (1, 1))``) write it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: Any) -> Any:
        x = F.avg_pool2d(self.conv(x), kernel_size=3, stride=1, padding=1)
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        return torch.flatten(F.adaptive_avg_pool2d(x, (1, 1)), 1)


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
def test_every_peer_on_functional_pooling() -> None:
    _assert_peers_agree(FunctionalPools(), (3, 11, 10))
    kinds = [row.kind for row in rows(from_torch(FunctionalPools(), (11, 10, 3)))]
    assert kinds[1:4] == ["F.avgpool", "F.maxpool", "F.globalavgpool"]


def _torchvision_blocks() -> list[tuple[str, Any, tuple[int, ...]]]:
    """The blocks torchvision's models are made of, as torchvision defines them."""
    from torchvision_models import models

    models()  # torchvision importable here, or the test skips
    from torchvision.models.densenet import _DenseBlock
    from torchvision.models.googlenet import Inception
    from torchvision.models.inception import InceptionA, InceptionB
    from torchvision.models.mobilenetv3 import InvertedResidual, InvertedResidualConfig
    from torchvision.models.squeezenet import Fire

    se = InvertedResidualConfig(8, 3, 16, 8, True, "HS", 1, 1, 1.0)  # SE and Hardswish
    return [
        ("dense block", _DenseBlock(3, 8, 2, 4, 0.0), (8, 7, 6)),
        ("googlenet inception", Inception(8, 4, 3, 4, 2, 4, 4), (8, 7, 7)),
        ("inception A", InceptionA(8, 4), (8, 9, 9)),
        ("inception B", InceptionB(8), (8, 9, 9)),
        ("fire", Fire(8, 3, 4, 4), (8, 7, 7)),
        ("inverted residual with SE", InvertedResidual(se, nn.BatchNorm2d), (8, 7, 7)),
    ]


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
def test_every_peer_on_torchvision_blocks() -> None:
    for name, block, chw in _torchvision_blocks():
        try:
            _assert_peers_agree(block.eval(), chw)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None


TRANSCENDENTAL = [nn.Sigmoid(), nn.SiLU(), nn.Tanh(), nn.GELU(), nn.GELU(approximate="tanh"),
                  nn.ELU(), nn.Softplus(), nn.Mish(), Step("F", "silu"), Step("F", "sigmoid"),
                  Step("F", "tanh"), Step("F", "elu"), Step("F", "softplus"), Step("F", "mish"),
                  Step("torch", "sigmoid"), Step("torch", "tanh"), Step("x", "sigmoid")]


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("activation", TRANSCENDENTAL, ids=repr)
def test_every_peer_on_transcendental_activations(activation: nn.Module) -> None:
    _assert_peers_agree(nn.Sequential(nn.Conv2d(3, 4, 3), activation), (3, 6, 5))
