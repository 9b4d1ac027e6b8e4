"""The counts of one loop nest in Python ints against SymPy's arithmetic, and the costs the
training derivation builds without the dataclass's ``__init__``."""

from __future__ import annotations

import dataclasses

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import BatchNorm2d, Conv2d, ReLU, cost
from symconv.derive.cost import _ZERO, COUNT_KINDS, Cost, _built, _changed, _integer, _sum, _summed
from symconv.derive.nest_counts import counts_cost, nest_counts, symbolic_counts, whole_counts
from symconv.layers import LoopNest, Residual, Sequential
from symconv.symbols import C, H, W

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

sizes = st.tuples(*[st.integers(1, 6)] * 3)
tables = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 4)), max_size=3).map(tuple)


@settings(max_examples=40, deadline=None)
@given(outer=sizes, inner=st.tuples(st.integers(1, 5), st.integers(1, 5)),
       outputs=sizes, multiply=st.booleans(),
       accumulate=st.sampled_from(("sum", "scatter", "max")),
       per_output=tables, per_outer=tables)
def test_integer_counts_are_sympys_counts(outer, inner, outputs, multiply, accumulate,
                                          per_output, per_outer) -> None:
    nest = LoopNest(outer=outer, inner=inner, outputs=outputs, multiply=multiply,
                    accumulate=accumulate, per_output=per_output, per_outer=per_outer)
    whole = whole_counts(nest)
    assert whole is not None
    by_sympy = symbolic_counts(nest)
    assert {kind: sympy.Integer(whole.get(kind, 0)) for kind in COUNT_KINDS} == by_sympy
    assert nest_counts(nest) == by_sympy
    for kind in COUNT_KINDS:   # the same objects' classes: Integer, or the zero itself
        assert type(nest_counts(nest)[kind]) is type(by_sympy[kind])


def test_counts_by_hand() -> None:
    # 2 x 3 outer points of 4 terms summed: 24 products, 6·3 additions; per outer point one
    # division; per output element (5 of them) two comparisons
    nest = LoopNest(outer=(2, 3), inner=(4,), outputs=(5,), per_outer=(("divs", 1),),
                    per_output=(("comparisons", 2),))
    assert whole_counts(nest) == {"mults": 24, "adds": 18, "divs": 6, "comparisons": 10}
    assert whole_counts(LoopNest(outer=(H, 3), inner=(4,), outputs=(5,))) is None
    assert symbolic_counts(LoopNest(outer=(H, 3), inner=(4,), outputs=(5,)))["adds"] == 9 * H


def test_a_gradient_has_counts_only() -> None:
    nest = LoopNest(outer=(2, 3), inner=(4,), outputs=(2, 3),
                    parameters=(("weight", (4,)),))
    part, whole = counts_cost(nest, (sympy.Integer(2), sympy.Integer(4)), "x", params=False)
    assert (part.params, part.reads, part.writes, part.source) == (0, 0, 0, None)
    assert all(isinstance(size, sympy.Integer) for size in part.output_shape)
    assert whole == {"mults": 24, "adds": 18}
    kept, _ = counts_cost(nest, (2, 4), "x")
    assert kept.params == 4


def test_cost_builds_nothing_it_would_skip() -> None:
    """``_built`` and ``_changed`` skip ``Cost.__init__``: they are only right while it sets
    the fields and nothing else."""
    assert not hasattr(Cost, "__post_init__")
    values = dict(mults=H * W, adds=_ZERO, params=sympy.Integer(3), input_shape=(H, W, C),
                  output_shape=(H, W, C), kind="x", divs=sympy.Integer(2))
    made, expected = _built(**values), Cost(**values)
    for item in dataclasses.fields(Cost):
        assert getattr(made, item.name) == getattr(expected, item.name)
    assert made.__dict__ == expected.__dict__
    changes = dict(adds=H, stages=(("a", expected),), source=None)
    assert _changed(expected, **changes).__dict__ == dataclasses.replace(
        expected, **changes).__dict__


@pytest.mark.parametrize("counts", [
    [(1, 2), (3, 0)],
    [(H, 2), (3, 0)],
    [(0, 0)],
    [],
])
def test_summed_is_each_kind_summed(counts) -> None:
    costs = [Cost(mults=sympy.Integer(0) + mults, adds=sympy.Integer(0) + adds, params=_ZERO,
                  input_shape=(), output_shape=()) for mults, adds in counts]
    expected = {kind: _sum([getattr(cost, kind) for cost in costs]) for kind in COUNT_KINDS}
    assert _summed(costs, COUNT_KINDS) == expected


@pytest.mark.parametrize("shape", [(9, 9, 3), (H, W, 3)])
def test_training_composites_count_what_their_stages_count(shape) -> None:
    """A training forward's composite adjusts the inference counts by its changed stages;
    summing its stages instead gives the same counts."""
    block = Sequential(("conv", Conv2d(8, 8, 3, padding=1)), ("bn", BatchNorm2d(8)),
                       ("relu", ReLU()))
    net = Sequential(("stem", Conv2d(3, 8, 3, padding=1)), ("bn", BatchNorm2d(8)),
                     ("block", Residual(block)), ("again", Residual(block)))
    train = dict(cost(net, shape, phase="train").stages)["forward"]
    for whole in (train, dict(train.stages)["block"]):
        for kind in COUNT_KINDS:
            assert sympy.expand(getattr(whole, kind) - sympy.Add(
                *(getattr(stage, kind) for _, stage in whole.stages))) == 0


def test_loop_nest_sets_its_fields_as_a_dataclass_would() -> None:
    """``LoopNest`` writes its own ``__init__`` (for speed): it must take the fields in their
    order with their defaults, and set them all."""
    import inspect

    parameters = list(inspect.signature(LoopNest.__init__).parameters.values())[1:]
    assert [p.name for p in parameters] == [f.name for f in dataclasses.fields(LoopNest)]
    for parameter, item in zip(parameters, dataclasses.fields(LoopNest)):
        expected = inspect.Parameter.empty if item.default is dataclasses.MISSING else item.default
        assert parameter.default == expected
    nest = LoopNest((2,), (3,), (2,), False, "max", (("adds", 1),), (("w", (3,)),),
                    per_outer=(("divs", 1),))
    assert dataclasses.asdict(nest) == dataclasses.asdict(dataclasses.replace(nest))
    assert nest.accumulate == "max" and nest.per_outer == (("divs", 1),) and not nest.multiply
    with pytest.raises(dataclasses.FrozenInstanceError):
        nest.outer = (1,)  # type: ignore[misc]


@pytest.mark.parametrize("number", [-(10**50), -7, -1, 0, 1, 2, 3, 1000, 3 * 2**70])
def test_integers_made_without_the_cache_are_sympys(number) -> None:
    """``_integer`` skips SymPy's cache: the object must be SymPy's own ``Integer(number)`` in
    all but identity (the singletons 0, 1, -1 themselves)."""
    made, expected = _integer(number), sympy.Integer(number)
    assert type(made) is type(expected) and made == expected and hash(made) == hash(expected)
    assert sympy.srepr(made) == sympy.srepr(expected) and int(made) == number
    assert made.is_Integer and made.is_positive == expected.is_positive
    for fact in ("even", "prime", "composite", "zero", "nonnegative", "finite", "rational"):
        assert getattr(made, f"is_{fact}") == getattr(expected, f"is_{fact}"), fact
    assert made + H == expected + H and made * 3 == expected * 3 and made - expected == 0
    if number in (-1, 0, 1):
        assert made is expected


def test_a_walks_integers_are_shared_not_kept() -> None:
    """Equal counts of a walk's parts share one ``Integer``; two derivations share none of the
    walk's own (each makes its own: no cache between derivations)."""
    net = Sequential(("conv", Conv2d(3, 8, 3, padding=1)), ("bn", BatchNorm2d(8)),
                     ("again", BatchNorm2d(8)))

    def gradients():
        backward = dict(cost(net, (9, 9, 3), phase="train").stages)["backward"]
        return dict(dict(backward.stages)["bn"].gradients)

    first, second = gradients(), gradients()
    # a BatchNorm's centre (H·W·C adds) and dot (H·W·C mults): one value, one object
    assert first["centre"].adds == first["dot"].mults == 9 * 9 * 8
    assert first["centre"].adds is first["dot"].mults
    assert first["centre"].adds == second["centre"].adds
    assert first["centre"].adds is not second["centre"].adds
