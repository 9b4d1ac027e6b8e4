"""One optimizer step: derived (``cost(..., phase="train", optimizer=...)``) against a NumPy step
that counts what it computes, and its values against ``torch.optim`` in float64.

Hand count of the network below: conv 3·3·3·4 + 4 = 112, BatchNorm 4 + 4 = 8, linear 4·5 + 5 =
25: 145 trainable parameters. Per element (docs/conventions.md, convention ``torch.optim``):
SGD 1 mult + 1 add (``param.add_(grad, alpha=-lr)``); with momentum, every step after the first
3 mults + 2 adds; Adam 5 mults, 5 adds, 2 divs, 1 sqrt.
"""

from __future__ import annotations

import numpy as np
import pytest

from symconv import cost, count, execute
from symconv.errors import SymconvError
from symconv.execute.optimizers import OptimizerState, step
from symconv.layers import BatchNorm2d, Conv2d, GlobalAvgPool2d, Linear, ReLU, Sequential
from symconv.layers.optimizers import SGD, Adam, optimizer
from symconv.networks.rows import rows

NET = Sequential(Conv2d(3, 4, 3, bias=True), BatchNorm2d(4), ReLU(), GlobalAvgPool2d(),
                 Linear(4, 5))
SHAPE = (6, 6, 3)
PARAMS = 145

CASES = [
    ("sgd", {"mults": PARAMS, "adds": PARAMS}),
    ("sgd_momentum", {"mults": 3 * PARAMS, "adds": 2 * PARAMS}),
    (SGD(momentum=0.9, weight_decay=1e-4, nesterov=True), {"mults": 5 * PARAMS,
                                                           "adds": 4 * PARAMS}),
    ("adam", {"mults": 5 * PARAMS, "adds": 5 * PARAMS, "divs": 2 * PARAMS,
              "transcendentals": PARAMS}),
    ("adamw", {"mults": 6 * PARAMS, "adds": 5 * PARAMS, "divs": 2 * PARAMS,
               "transcendentals": PARAMS}),
    (Adam(weight_decay=0.1, amsgrad=True), {"mults": 6 * PARAMS, "adds": 6 * PARAMS,
                                            "divs": 2 * PARAMS, "comparisons": PARAMS,
                                            "transcendentals": PARAMS}),
]
KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")


def _flat(params: dict, prefix: str = "") -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for name, value in params.items():
        path = f"{prefix}.{name}" if prefix else name
        found.update(_flat(value, path) if isinstance(value, dict) else {path: value})
    return found


def _step_cost(spec, **options):
    return dict(cost(NET, SHAPE, phase="train", optimizer=spec, **options).stages)["optimizer"]


@pytest.mark.parametrize(("spec", "hand"), CASES)
def test_a_counted_numpy_step_equals_the_derived_step_and_the_hand_count(spec, hand):
    derived = _step_cost(spec)
    assert derived.input_shape == (PARAMS,)
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == {
        kind: hand.get(kind, 0) for kind in KINDS}
    params = _flat(execute(NET, np.ones(SHAPE)).params)
    rng = np.random.default_rng(0)
    state = OptimizerState()
    opt = optimizer(spec)
    for _ in range(3):   # later steps count as the first (SGD's momentum: see below)
        grads = {name: rng.standard_normal(value.shape) for name, value in params.items()}
        counted = step(opt, params, grads, state)
    assert counted.as_dict() == {kind: hand.get(kind, 0) for kind in KINDS}


def test_sgd_momentum_first_step_copies_the_gradient():
    params = {"w": np.ones(10)}
    counted = step(optimizer("sgd_momentum"), params, {"w": np.ones(10)}, OptimizerState())
    first = _step_cost(SGD(momentum=0.9, first_step=True))
    assert counted.as_dict()["mults"] == 10 and counted.adds == 10   # the update only
    assert (first.mults, first.adds) == (PARAMS, PARAMS)


def test_frozen_parameters_take_no_step_and_conventions_count_it():
    assert _step_cost("sgd", frozen=("0",)).mults == PARAMS - 112
    assert count(NET, SHAPE, convention="ops", phase="train", optimizer="adam") == (
        count(NET, SHAPE, convention="ops", phase="train") + 13 * PARAMS)
    assert count(NET, SHAPE, convention="macs", phase="train", optimizer="adam") == (
        count(NET, SHAPE, convention="macs", phase="train"))   # no MACs in a step
    names = [row.name for row in rows(NET, SHAPE, phase="train", optimizer="sgd")]
    assert names[-1] == "optimizer" and names[0].startswith("forward.")


def test_bad_optimizers_are_refused():
    with pytest.raises(SymconvError, match="optimizer='rmsprop' is unknown; use one of sgd"):
        cost(NET, SHAPE, phase="train", optimizer="rmsprop")
    with pytest.raises(SymconvError, match="goes with phase='train', not phase='backward'"):
        count(NET, SHAPE, phase="backward", optimizer="adam")


# ------------------------------------------------------------------ against torch.optim


def _torch_case(spec, foreach):
    torch = pytest.importorskip("torch")
    opt = optimizer(spec)
    if isinstance(opt, SGD):
        return torch.optim.SGD, dict(lr=opt.lr, momentum=opt.momentum, dampening=opt.dampening,
                                     weight_decay=opt.weight_decay, nesterov=opt.nesterov,
                                     foreach=foreach)
    kind = torch.optim.AdamW if opt.decoupled_weight_decay else torch.optim.Adam
    return kind, dict(lr=opt.lr, betas=opt.betas, eps=opt.eps, weight_decay=opt.weight_decay,
                      amsgrad=opt.amsgrad, foreach=foreach)


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize(("spec", "hand"), CASES)
def test_values_equal_torch_optim_in_float64(spec, hand, foreach):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    from symconv import from_torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 5)).double()
    import copy

    net = from_torch(copy.deepcopy(model).float(), SHAPE)
    derived = dict(cost(net, phase="train", optimizer=spec).stages)["optimizer"]
    kind, options = _torch_case(spec, foreach)
    torch_optimizer = kind(model.parameters(), **options)
    params = {name: value.detach().numpy().copy() for name, value in model.named_parameters()}
    state = OptimizerState()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    for _ in range(3):
        torch_optimizer.zero_grad()
        model(x).square().sum().backward()
        grads = {name: value.grad.numpy().copy() for name, value in model.named_parameters()}
        with FlopCounterMode(display=False) as counter:
            torch_optimizer.step()
        assert counter.get_total_flops() == 0   # why convention "torch" counts a step as 0
        counted = step(optimizer(spec), params, grads, state)
        for name, value in model.named_parameters():
            np.testing.assert_allclose(params[name], value.detach().numpy(), rtol=1e-13,
                                       atol=1e-15)
    assert counted.as_dict() == {kind: int(getattr(derived, kind)) for kind in KINDS}
