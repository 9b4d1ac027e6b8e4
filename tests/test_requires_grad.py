"""``from_torch`` reads ``requires_grad``: frozen layers get no gradient, the layers before the
first trainable one no backward at all; checked against FlopCounterMode's count of
``model(x).sum().backward()`` and by hand."""

from __future__ import annotations

import pytest

from symconv import cost, count, verify
from symconv.errors import SymconvError
from symconv.frontends.requires_grad import frozen_stages

torch = pytest.importorskip("torch")
nn = torch.nn
FlopCounterMode = pytest.importorskip("torch.utils.flop_counter").FlopCounterMode

from symconv import from_torch  # noqa: E402


def _flop_counter_train(model, shape):
    x = torch.randn(1, shape[-1], *shape[:-1])
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return int(counter.get_total_flops())


def _model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),   # 0-2
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8),    # 3-4
        nn.ReLU(), nn.Conv2d(8, 16, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),     # 5-8
        nn.Linear(16, 10))                                                          # 9


def test_a_frozen_backbone_counts_as_flop_counter_mode_without_frozen_given():
    model = _model()
    for parameter in model[:5].parameters():
        parameter.requires_grad_(False)
    net = from_torch(model, (8, 8, 3))
    assert frozen_stages(net.stages) == ["0", "1", "3", "4"]
    expected = _flop_counter_train(model, (8, 8, 3))
    assert count(net, convention="torch", phase="train") == expected
    # by hand, 8×8 maps: forward 2·(8·8·8·27 + 8·8·8·9 + 8·8·16·8 + 16·10);
    # backward: conv 6's weight gradient (its input needs none: all before it is frozen) and
    # the linear layer's weight and input gradients, 2· each
    forward = 2 * (13824 + 4608 + 8192 + 160)
    backward = 2 * 8192 + 2 * (160 + 160)
    assert expected == forward + backward
    derived = dict(cost(net, phase="backward").stages)
    for name in ("0", "1", "2", "3", "4", "5"):
        assert derived[name].mults == derived[name].adds == 0, name
    assert [part for part, _ in derived["6"].gradients] == ["weight_grad", "bias_grad"]


def test_a_frozen_head_still_passes_the_gradient_back():
    model = _model()
    for parameter in model[9].parameters():
        parameter.requires_grad_(False)
    net = from_torch(model, (8, 8, 3))
    assert count(net, convention="torch", phase="train") == _flop_counter_train(model, (8, 8, 3))
    derived = dict(cost(net, phase="backward").stages)
    assert [part for part, _ in derived["9"].gradients] == ["input_grad"]
    assert verify(net, phase="train").ok


def test_everything_trainable_is_unchanged_and_partial_freezing_is_refused_by_name():
    model = _model()
    assert frozen_stages(from_torch(model, (8, 8, 3)).stages) == []
    model[6].bias.requires_grad_(False)
    net = from_torch(model, (8, 8, 3))
    assert count(net) == count(from_torch(_model(), (8, 8, 3)))   # forward: nothing changes
    with pytest.raises(SymconvError, match="layer 6: bias has requires_grad=False but weight "
                                           "has requires_grad=True"):
        cost(net, phase="train")
    assert cost(net, phase="train", frozen=("6",)).mults > 0
