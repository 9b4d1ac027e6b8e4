"""``F.dropout(x, p, training=self.training)`` inside ``forward`` (issue 12): the identity at
inference, dropped in a training step, as its ``nn.Dropout`` twin. A literal ``training=False``
never drops: no stage. The model is traced in eval mode; the call's source tells the two apart
(:mod:`symconv.frontends.module_mode`); every module's mode is left as it was.

Expected numbers: the twin built of ``nn`` modules (whose counts tests/test_dropout_from_torch.py
holds by hand and against PyTorch), the real peers, and one count by hand.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402
from torch_nets import installed_peers, peer_count  # noqa: E402

from symconv import SymconvError, count, from_torch, verify  # noqa: E402
from symconv.layers import AlphaDropout, Dropout, FeatureAlphaDropout, FeatureDropout  # noqa: E402

_CONVENTIONS = ("ops", "macs", "flops", "torch", "ptflops", "thop", "fvcore", "torchinfo")
_TRAINING_CONVENTIONS = ("ops", "macs", "flops", "adds", "torch")


class _Functional(nn.Module):
    """conv → relu → a dropout function → mean → a dropout function → linear."""

    def __init__(self, first: str = "dropout2d", second: str = "dropout",
                 training: Any = "module") -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 4)
        self.first, self.second, self.mode = first, second, training

    def forward(self, x: Any) -> Any:
        first, second = getattr(F, self.first), getattr(F, self.second)
        if self.mode == "module":
            x = first(F.relu(self.conv(x)), 0.1, self.training)
            x = second(x.mean((2, 3)), p=0.5, training=self.training)
        else:
            x = first(F.relu(self.conv(x)), 0.1, False)
            x = second(x.mean((2, 3)), p=0.5, training=False)
        return self.fc(x)


def _twin(first: type[nn.Module] = nn.Dropout2d, second: type[nn.Module] = nn.Dropout
          ) -> nn.Module:
    """The same model of ``nn`` modules."""
    class Twin(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.fc = nn.Linear(8, 4)
            self.first, self.second = first(0.1), second(0.5)

        def forward(self, x: Any) -> Any:
            return self.fc(self.second(self.first(F.relu(self.conv(x))).mean((2, 3))))

    return Twin()


@pytest.mark.parametrize(("first", "second", "layers", "modules"), [
    ("dropout2d", "dropout", (FeatureDropout(0.1), Dropout(0.5)), (nn.Dropout2d, nn.Dropout)),
    ("dropout", "alpha_dropout", (Dropout(0.1), AlphaDropout(0.5)), (nn.Dropout, nn.AlphaDropout)),
    ("feature_alpha_dropout", "dropout", (FeatureAlphaDropout(0.1), Dropout(0.5)),
     (nn.FeatureAlphaDropout, nn.Dropout)),
])
def test_training_self_training_counts_as_its_module_twin(first: str, second: str,
                                                          layers: tuple[Any, ...],
                                                          modules: tuple[Any, ...]) -> None:
    net = from_torch(_Functional(first, second), (8, 8, 3))
    twin = from_torch(_twin(*modules), (8, 8, 3))
    assert tuple(layer for _, layer in net.stages
                 if isinstance(layer, (Dropout, FeatureDropout, AlphaDropout,
                                       FeatureAlphaDropout))) == layers
    for convention in _CONVENTIONS:
        assert count(net, convention=convention) == count(twin, convention=convention), convention
    for convention in _TRAINING_CONVENTIONS:   # the others count a forward pass only
        assert (count(net, convention=convention, phase="train")
                == count(twin, convention=convention, phase="train")), convention


def test_a_training_step_counts_them_by_hand() -> None:
    """``ops``: Dropout2d(0.1) on 6·6·8 = 288 elements, per element 1 mult forward (its 8 draws
    scaled: 8 divs) and 1 mult backward: 2·288 + 8 = 584; Dropout(0.5) on 8 features, per
    element 1 div + 1 mult forward, 1 mult backward: 24. The model without them differs by
    608 in a training step, and not at all at inference."""
    net = from_torch(_Functional(), (8, 8, 3))
    without = from_torch(_Functional(training=False), (8, 8, 3))
    assert count(net, convention="ops") == count(without, convention="ops")
    assert (count(net, convention="ops", phase="train")
            - count(without, convention="ops", phase="train")) == 608


def test_at_inference_the_peers_count_what_symconv_does() -> None:
    model = _Functional().eval()
    net = from_torch(model, (8, 8, 3))
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (3, 8, 8)), peer


def test_the_training_step_is_proved_by_execution() -> None:
    net = from_torch(_Functional(), (8, 8, 3))
    assert verify(net, (8, 8, 3), phase="train").ok


@pytest.mark.parametrize("spelling", ["literal", "default"])
def test_a_dropout_that_never_drops_is_no_stage(spelling: str) -> None:
    """``training=False`` written as such, and ``F.alpha_dropout``'s default (``False``)."""
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            return F.dropout(x, 0.3, False) if spelling == "literal" else F.alpha_dropout(x, 0.3)

    net = from_torch(Model(), (4, 4, 3))
    assert [name for name, _ in net.stages] == ["conv"]


def test_training_true_is_refused_and_a_channel_dropout_on_permuted_axes_too() -> None:
    class Model(nn.Module):
        def __init__(self, which: str) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.which = which

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            if self.which == "true":
                return F.dropout2d(x, 0.3, True)
            return F.dropout2d(x.permute(0, 2, 3, 1), 0.3, self.training)

    with pytest.raises(SymconvError, match=r"training=True drops elements at random"):
        from_torch(Model("true"), (4, 4, 3))
    with pytest.raises(SymconvError, match=r"draws one value per channel.*permuted"):
        from_torch(Model("permuted"), (4, 4, 3))


class _Spelled(nn.Module):
    """``F.dropout`` with its ``training`` spelled as ``spelling`` says."""

    def __init__(self, spelling: str) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.spelling, self.extra = spelling, False

    def forward(self, x: Any) -> Any:
        x = self.conv(x)
        if self.spelling == "or":
            return F.dropout(x, 0.5, training=self.training or self.extra)
        if self.spelling == "bool":
            return F.dropout(x, 0.5, bool(self.training))
        if self.spelling == "lines":
            return F.dropout(
                x,
                0.5,
                self.training,
            )
        training = self.training   # through a variable: read as the False it is
        return F.dropout(x, 0.5, training)


@pytest.mark.parametrize(("spelling", "stages"), [
    ("or", ["conv", "dropout"]), ("bool", ["conv", "dropout"]), ("lines", ["conv", "dropout"]),
    ("variable", ["conv"])])
def test_the_training_argument_is_read_from_the_calls_source(spelling: str,
                                                             stages: list[str]) -> None:
    assert [name for name, _ in from_torch(_Spelled(spelling), (4, 4, 3)).stages] == stages


def test_recurrent_layers_and_torch_dropout_are_refused_by_name_and_the_model_runs_as_written(
        ) -> None:
    """The modules keep a plain ``False`` while traced: PyTorch's own kernels (``nn.LSTM``'s,
    ``torch.dropout``) take ``self.training`` as they would."""
    class Model(nn.Module):
        def __init__(self, which: str) -> None:
            super().__init__()
            self.conv = nn.Conv1d(3, 4, 1)
            self.rnn = nn.LSTM(4, 4) if which == "lstm" else nn.GRU(4, 4)
            self.which = which

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            if self.which == "dropout":
                return torch.dropout(x, 0.5, self.training)
            return self.rnn(x.permute(2, 0, 1))[0]

    for which, name in (("lstm", "nn.LSTM"), ("gru", "nn.GRU"), ("dropout", "torch.dropout")):
        with pytest.raises(SymconvError, match=rf"\({name}: symconv has no layer for it"):
            from_torch(Model(which), (5, 3))


def test_every_module_keeps_its_own_mode_and_branches_see_eval_mode() -> None:
    """The modes are put back as they were, ``True`` and ``False`` themselves; ``if
    self.training`` takes the eval branch while tracing (a branch of the training mode only, as
    GoogLeNet's auxiliary heads, is not run)."""
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.extra = nn.Conv2d(4, 4, 1)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            if self.training and self.extra.training:
                x = self.extra(x)
            return x

    model = Model()
    model.conv.eval()
    assert [name for name, _ in from_torch(model, (4, 4, 3)).stages] == ["conv"]
    assert [module.training for module in model.modules()] == [True, False, True]
