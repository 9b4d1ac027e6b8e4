"""symconv.memory: peaks of live tensors worked out by hand, the train rule, and torchinfo's
figures reproduced exactly on torch models."""

from __future__ import annotations

import time

import pytest
import sympy

from symconv import Conv2d, Linear, ReLU, Sequential
from symconv.errors import SymconvError
from symconv.layers import BatchNorm2d, Flatten, GlobalAvgPool2d, Residual
from symconv.layers.graph import Add, Graph, Reuse
from symconv.networks.memory import memory
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2


def test_sequential_peak_by_hand():
    # 8x8: input 3 ch (192), conv 8 ch (512), relu 8 ch (512), conv 4 ch (256) elements.
    net = Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), Conv2d(8, 4, 1))
    m = memory(net, (8, 8, 3), dtype_bytes=2)
    # the peak is during relu (or conv2): 512 + 512 elements alive
    assert m.activation_bytes == 2 * 1024
    assert m.input_bytes == 2 * 192 and m.param_bytes == 2 * (216 + 32)
    assert m.total_bytes == m.input_bytes + m.param_bytes + m.activation_bytes


def test_residual_keeps_the_block_input_alive():
    # conv (512) -> residual[conv (512) -> relu (512) -> add (512)]: during the block's relu,
    # the block input, the conv output and the relu output are alive: 1536.
    net = Sequential(Conv2d(3, 8, 1), Residual(Sequential(Conv2d(8, 8, 1), ReLU())))
    assert memory(net, (8, 8, 3), dtype_bytes=1).activation_bytes == 1536
    plain = Sequential(Conv2d(3, 8, 1), Conv2d(8, 8, 1), ReLU())
    assert memory(plain, (8, 8, 3), dtype_bytes=1).activation_bytes == 1024


def test_graph_reuse_and_add_liveness():
    # conv a (4x4x8=128) ; from input: shortcut (128); add a + shortcut (128).
    # During 'add': a, shortcut and the sum are alive: 384. Reuse makes no tensor.
    net = Graph(("a", Conv2d(3, 8, 1)), ("from input", Reuse("input", (4, 4, 3))),
                ("shortcut", Conv2d(3, 8, 1)), ("add", Add(other="a")))
    assert memory(net, (4, 4, 3), dtype_bytes=1).activation_bytes == 384


def test_flatten_makes_no_tensor():
    net = Sequential(GlobalAvgPool2d(), Flatten(), Linear(8, 2))
    m = memory(net, (4, 4, 8), dtype_bytes=1)
    assert m.activation_bytes == 8 + 2      # pooled (= flattened) and the linear output


def test_train_rule():
    # conv1 keeps the input (in input_bytes), bn keeps conv1's output (512), relu bn's (512),
    # conv2 relu's (512); the output (256) is kept for the loss.
    net = Sequential(Conv2d(3, 8, 3, padding=1), BatchNorm2d(8), ReLU(), Conv2d(8, 4, 1))
    assert memory(net, (8, 8, 3), dtype_bytes=1, phase="train").activation_bytes == \
        3 * 512 + 256


def test_symbolic_dtype_and_resolution():
    b = sympy.Symbol("b", positive=True, integer=True)
    H = sympy.Symbol("H", positive=True, integer=True)
    net = Sequential(Conv2d(3, 8, 1), ReLU())
    m = memory(net, (H, H, 3), dtype_bytes=b)
    assert sympy.simplify(m.activation_bytes - 16 * H**2 * b) == 0


def test_mobilenet_v2_symbolic_is_quick():
    H = sympy.Symbol("H", positive=True, integer=True)
    start = time.perf_counter()
    m = memory(mobilenet_v2(resolution=H))
    elapsed = time.perf_counter() - start
    assert m.activation_bytes.subs(H, 224) == memory(mobilenet_v2()).activation_bytes
    assert elapsed < 30   # loose: the target (< 1 s) is measured in benchmarks/traffic.py


@pytest.mark.parametrize(("argument", "message"), [
    ({"convention": "keras"}, "memory(convention='keras')"),
    ({"phase": "backward"}, "memory(phase='backward')"),
    ({"dtype_bytes": 0}, "dtype_bytes=0"),
    ({"batch": 0}, "memory(batch=0)"),
    ({"convention": "torchinfo", "phase": "train"}, "one figure"),
])
def test_bad_arguments(argument, message):
    with pytest.raises(SymconvError, match=message.replace("(", r"\(").replace(")", r"\)")):
        memory(Sequential(Conv2d(3, 8, 1)), (4, 4, 3), **argument)


# ------------------------------------------------------------------ torchinfo, exactly

torch_nets = pytest.importorskip("tests.torch_nets")
torchinfo = pytest.importorskip("torchinfo")


def _torchinfo(model, input_chw, batch=1):
    stats = torchinfo.summary(model.eval(), input_size=(batch, *input_chw), verbose=0)
    return stats.total_input, stats.total_param_bytes, stats.total_output_bytes


@pytest.mark.parametrize(("twin", "ours"), [("mobilenet_v1", mobilenet_v1),
                                            ("mobilenet_v2", mobilenet_v2)])
def test_torchinfo_on_the_mobilenet_twins(twin, ours):
    expected = _torchinfo(getattr(torch_nets, twin)(), (3, 224, 224))
    m = memory(ours(), convention="torchinfo")
    assert (m.input_bytes, m.param_bytes, m.activation_bytes) == expected


@pytest.mark.parametrize("batch", [1, 3])
def test_torchinfo_on_a_small_model_through_from_torch(batch):
    torch = pytest.importorskip("torch")
    from symconv import from_torch

    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1, bias=True), torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 4, 1),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 5),
    )
    expected = _torchinfo(model, (3, 16, 16), batch)
    net = from_torch(model, (16, 16, 3))   # channels last
    m = memory(net, convention="torchinfo", batch=batch)
    assert (m.input_bytes, m.param_bytes, m.activation_bytes) == expected
