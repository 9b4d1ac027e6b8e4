"""The shortcuts that make ``from_torch`` + ``count`` fast give what the long way gives.

* ``count`` derives counts without memory traffic (``counts_only``): every count, params and
  shape equal those of :func:`symconv.cost`, which derives the traffic too; every convention
  equal on the rows of either.
* A derivation derives each equal (layer, input shape) once: each stage still carries its own
  layer (a frozen copy stays frozen), and its counts are those of the layer derived alone.

The tracer's own shortcuts are checked against PyTorch in tests/test_trace_shape_only.py.
"""

from __future__ import annotations

from hypothesis import given, settings

from symconv import Conv2d, cost, count
from symconv.derive.derivation import counts_only
from symconv.layers import BatchNorm2d, ReLU, Sequential
from symconv.layers.trainable import is_trainable, mark_trainable
from symconv.networks.conventions import CONVENTIONS
from symconv.networks.rows import rows
from symconv.networks.zoo import mobilenet_v1
from symconv.strategies import network_cases

_FIELDS = ("mults", "adds", "divs", "comparisons", "transcendentals", "params", "input_shape",
           "output_shape", "kind")


def _leaves(result):  # type: ignore[no-untyped-def]
    if not result.stages:
        return [result]
    return [leaf for _, stage in result.stages for leaf in _leaves(stage)]


@settings(max_examples=25, deadline=None)
@given(network_cases())
def test_counts_only_equals_cost_but_traffic(case: tuple[Sequential, tuple[int, ...]]) -> None:
    net, shape = case
    full, counted = cost(net, shape), counts_only(net, shape)
    for one, other in zip(_leaves(full), _leaves(counted), strict=True):
        assert [getattr(one, name) for name in _FIELDS] == [getattr(other, name)
                                                            for name in _FIELDS]
        assert (other.reads, other.writes) == (0, 0)
    for name, convention in CONVENTIONS.items():
        assert count(net, shape, convention=name) == convention(rows(full)), name


def test_counts_only_on_a_network_carrying_its_shape() -> None:
    net = mobilenet_v1()
    full, counted = cost(net), counts_only(net)
    assert (counted.mults, counted.adds, counted.params) == (full.mults, full.adds, full.params)
    assert full.reads > 0 and counted.reads == 0
    assert count(net, convention="ptflops") == CONVENTIONS["ptflops"](rows(full))


def test_equal_layers_are_derived_once_but_keep_their_own_layer() -> None:
    conv = Conv2d(8, 8, 3, padding=1)
    frozen = mark_trainable(conv, frozen=("weight",), parameters=("weight",))
    assert frozen == conv and frozen is not conv  # equal, as dataclasses
    net = Sequential(("a", conv), ("bn", BatchNorm2d(8)), ("relu", ReLU()), ("b", frozen),
                     ("bn2", BatchNorm2d(8)), ("relu2", ReLU()), ("c", conv))
    result = cost(net, (6, 6, 8))
    stages = dict(result.stages)
    assert stages["a"].source.layer is conv and stages["c"].source.layer is conv
    assert stages["b"].source.layer is frozen and not is_trainable(stages["b"].source.layer)
    alone = cost(conv, (6, 6, 8))
    for name in ("a", "b", "c"):
        assert (stages[name].mults, stages[name].adds, stages[name].reads) == (
            alone.mults, alone.adds, alone.reads)
    assert result.mults == 3 * alone.mults + 2 * cost(BatchNorm2d(8), (6, 6, 8)).mults
