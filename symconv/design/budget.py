"""The widest and the largest-resolution zoo network within a budget, exactly, with the real
network's channel rounding.

Width: every channel count of a MobileNet is a step function of ``alpha`` (V1
``floor(alpha·c)``; V2 ``make_divisible``, a ``Max`` of ``floor`` and ``ceiling``). The steps'
places are read from the network itself, built with the symbol ``alpha`` and
``rounding="exact"``: every ``floor(a·alpha + b)`` or ``ceiling(...)`` in its channel counts
steps where its argument is a whole number. Between two steps the count is constant, and it never
decreases as ``alpha`` grows (each counted layer grows with its channels); so a binary search
over the steps and one point between each two, each evaluated by building the concrete network
``mobilenet_v2(alpha=Fraction(...))`` and counting it, finds the exact threshold. The answer is
``alpha ≤ b`` when the count fits at the step ``b`` and exceeds just above it, or ``alpha < b``
when the count already exceeds at ``b`` (a ``floor`` steps up there) while it fits everywhere
below.

Resolution: the count never decreases as the input grows (every output size is a floor of a
growing size); a search over whole pixels finds the largest ``R`` that fits; ``R + 1`` does not.

Examples
--------
>>> answer = largest_alpha("mobilenet_v1", 300_000_000)
>>> answer.relation, answer.value
('<', 369/512)
>>> answer.checks    # doctest: +NORMALIZE_WHITESPACE
(('alpha in (737/1024, 369/512)', 'macs = 299816242 ≤ 300000000'),
 ('alpha = 369/512', 'macs = 300711737 > 300000000'))

V1 rounds ``floor(alpha·c)`` with ``c`` up to 1024, so its count steps at multiples of 1/1024;
the count at 369/512 itself is above the budget, and every alpha below it fits.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import sympy

from symconv.design.answer import Answer
from symconv.errors import SymconvError
from symconv.layers.base import Composite, Layer
from symconv.networks.conventions import count
from symconv.networks.zoo import NETWORKS, network
from symconv.symbols import alpha as alpha_symbol

__all__ = ["largest_alpha", "largest_resolution", "alpha_steps", "CONVENTIONS", "MEMORY"]

#: Conventions whose counts never decrease as channels or sizes grow.
CONVENTIONS = ("macs", "flops", "mults", "params")
#: Bytes of :func:`symconv.memory` (``convention="symconv"``, inference) that never decrease as
#: channels or sizes grow: the parameters, the peak of the activations alive at once, and the
#: total (input + parameters + activations).
MEMORY = ("param_bytes", "activation_bytes", "total_bytes")
#: The widest multiplier searched.
MAX_ALPHA = 64
#: The largest resolution searched, in pixels.
MAX_RESOLUTION = 2**16


def _budget(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SymconvError(f"budget={value!r} must be a positive int, like 300_000_000")
    return int(value)


def _checked(name: object, convention: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(name, str) or name not in NETWORKS:
        raise SymconvError(f"network={name!r} is unknown; use one of {', '.join(NETWORKS)}")
    _checked_convention(convention, allowed)


def _checked_convention(convention: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(convention, str) or convention not in allowed:
        raise SymconvError(f"convention={convention!r} cannot be searched; use one of "
                           f"{', '.join(allowed)} (counts and bytes that never decrease as the "
                           "network grows)")


def _measure(model: Layer, convention: str, dtype_bytes: int) -> sympy.Integer:
    """``count(model, convention)``, or the bytes of :func:`symconv.memory` for a
    :data:`MEMORY` convention."""
    if convention in MEMORY:
        from symconv.networks.memory import memory

        found = getattr(memory(model, dtype_bytes=dtype_bytes), convention)
        assert isinstance(found, sympy.Integer)
        return found
    return count(model, convention=convention)


def _dtype(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise SymconvError(f"dtype_bytes={value!r} must be a positive int (4 for float32)")
    return int(value)


def _unit(convention: str, dtype_bytes: int) -> str:
    return (f" ({dtype_bytes}-byte elements; symconv.memory at inference: "
            "activations are the peak alive at once)" if convention in MEMORY else "")


def _leaves(layer: Layer) -> list[Layer]:
    if isinstance(layer, Composite):
        return [leaf for _, stage in layer.stages for leaf in _leaves(stage)]
    return [layer]


def alpha_steps(name: str, upto: sympy.Rational, built: Layer | None = None
                ) -> list[sympy.Rational]:
    """Every ``alpha`` in ``(0, upto]`` where a channel count of network ``name`` may change,
    read from the network built with the symbol ``alpha`` and ``rounding="exact"`` (``built``,
    when already at hand).

    Examples
    --------
    >>> alpha_steps("mobilenet_v1", sympy.Rational(1, 64))   # floor(32·alpha), ..., floor(1024·alpha)
    [1/1024, 1/512, 3/1024, 1/256, 5/1024, 3/512, 7/1024, 1/128, 9/1024, 5/512, 11/1024, 3/256, 13/1024, 7/512, 15/1024, 1/64]
    """
    roundings: set[sympy.Basic] = set()
    symbolic = network(name, alpha_symbol, rounding="exact") if built is None else built
    for leaf in _leaves(symbolic):
        for value in vars(leaf).values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, sympy.Basic) and alpha_symbol in item.free_symbols:
                    roundings |= item.atoms(sympy.floor, sympy.ceiling)
    steps: set[sympy.Rational] = set()
    for rounding in roundings:
        argument = sympy.Poly(rounding.args[0], alpha_symbol)
        if argument.degree() != 1:
            raise SymconvError(f"{name}: the channel rounding {rounding} is not linear in alpha")
        slope, offset = argument.all_coeffs()
        first, last = sympy.ceiling(offset), sympy.floor(slope * upto + offset)
        steps.update((whole - offset) / slope for whole in range(int(first), int(last) + 1))
    return sorted(step for step in steps if 0 < step <= upto)


def _search(fits: Callable[[int], bool], size: int) -> int:
    """The last index in ``range(size)`` where ``fits`` holds, for a ``fits`` that holds up to
    some index and fails after it (``-1`` when it fails at 0)."""
    low, high = -1, size
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def largest_alpha(name: str, budget: int, *, convention: str = "macs",
                  resolution: int = 224, dtype_bytes: int = 4) -> Answer:
    """The widest ``alpha`` for which zoo network ``name`` counts at most ``budget``.

    Parameters
    ----------
    name
        ``"mobilenet_v1"`` or ``"mobilenet_v2"``.
    budget
        The largest count allowed, an int.
    convention
        ``"macs"`` (default), ``"flops"``, ``"mults"`` or ``"params"``; or bytes of
        :func:`symconv.memory`: ``"param_bytes"``, ``"activation_bytes"`` (the peak alive at
        once at inference) or ``"total_bytes"``.
    resolution
        Input pixels (default 224).
    dtype_bytes
        Bytes per element, for the memory conventions (default 4, float32).

    Raises
    ------
    SymconvError
        When even the narrowest network exceeds the budget, or no ``alpha`` up to 64 does; for a
        network that is not a zoo name (a PyTorch model has no width multiplier).

    Examples
    --------
    The widest MobileNet V1 whose activations, float32 at 128×128, peak at 2 MB at most. The
    peak is block 1's pointwise output and its BatchNorm's, 2·floor(64·alpha) channels of 64×64
    at 4 bytes: ≤ 2 000 000 for floor(64·alpha) ≤ 61, that is alpha < 62/64:

    >>> answer = largest_alpha("mobilenet_v1", 2_000_000, convention="activation_bytes",
    ...                        resolution=128)
    >>> answer.relation, answer.value
    ('<', 31/32)
    >>> answer.checks[1]
    ('alpha = 31/32', 'activation_bytes = 2031616 > 2000000')
    """
    if not isinstance(name, str):
        raise SymconvError(
            f"network={type(name).__name__}: alpha is the width multiplier of the zoo's "
            f"MobileNets ({', '.join(NETWORKS)}); a PyTorch model has none to vary. Ask for "
            "its largest resolution: solve('resolution', network=model, channels=3, ...)")
    _checked(name, convention, CONVENTIONS + MEMORY)
    limit, dtype = _budget(budget), _dtype(dtype_bytes)
    symbolic = network(name, alpha_symbol, resolution=resolution, rounding="exact")
    # the bytes' formula (a Max over the live tensors) is slow to build: search the networks
    formula = None if convention in MEMORY else count(symbolic, convention=convention)
    found = _threshold(name, limit, convention, resolution, symbolic, formula, dtype)
    if found is None:     # the formula disagreed with a network built: search the networks
        found = _threshold(name, limit, convention, resolution, symbolic, None, dtype)
    assert found is not None
    relation, value, checks, steps, upper, built = found
    function = sympy.Function(convention.upper() if convention not in ("params", *MEMORY)
                              else convention)
    what = f"{convention} of {name} at {resolution}×{resolution} pixels"
    searched = "the exact formula in alpha and checked on" if formula is not None else ""
    return Answer(
        question=f"largest width multiplier alpha with {what} ≤ {limit}",
        inequality=function(alpha_symbol) <= limit, variable=alpha_symbol,
        relation=relation, value=value, checks=checks,
        notes=(f"channel counts rounded as the network does; {steps} steps of the count in "
               f"(0, {upper}], searched on {searched} {built} networks built and "
               f"counted{_unit(convention, dtype)}".replace("  ", " "),),
    )


def _threshold(name: str, limit: int, convention: str, resolution: int, symbolic: Layer,
               formula: sympy.Expr | None, dtype_bytes: int = 4) -> tuple[Any, ...] | None:
    """Search the steps of the count in alpha, evaluated by ``formula`` (or, for ``None``, by
    building every network), and check the answer on networks built. ``None`` when a network
    built disagrees with the formula."""
    values: dict[sympy.Rational, sympy.Integer | None] = {}
    networks: dict[sympy.Rational, sympy.Integer | None] = {}

    def built(width: sympy.Rational) -> sympy.Integer | None:
        if width not in networks:
            try:
                made = network(name, Fraction(int(width.p), int(width.q)),
                               resolution=resolution)
            except SymconvError:
                networks[width] = None          # too narrow: a layer would have no channels
            else:
                networks[width] = _measure(made, convention, dtype_bytes)
        return networks[width]

    def counted(width: sympy.Rational) -> sympy.Integer | None:
        if formula is None:
            return built(width)
        if width not in values:
            values[width] = formula.xreplace({alpha_symbol: width})
        return values[width]

    def fits(width: sympy.Rational) -> bool:
        found = counted(width)
        return found is None or found <= limit

    upper = sympy.Integer(2)
    while fits(upper):
        if upper >= MAX_ALPHA:
            raise SymconvError(f"budget={limit} fits {name} even at alpha={MAX_ALPHA}; "
                               "nothing to search")
        upper *= 2
    steps = alpha_steps(name, upper, symbolic)
    bounds = [*steps, upper] if not steps or steps[-1] != upper else steps
    probes: list[tuple[sympy.Rational, int]] = []          # (alpha, index of its step or -1)
    previous = sympy.Integer(0)
    for index, step in enumerate(bounds):
        probes += [((previous + step) / 2, -1), (step, index)]
        previous = step
    last = _search(lambda index: fits(probes[index][0]), len(probes))
    width, step_index = probes[last] if last >= 0 else probes[0]
    if last < 0 or built(width) is None:
        narrowest = next((value for value in sorted(networks) if networks[value] is not None),
                         None)
        shown = f"at alpha={narrowest} already" if narrowest is not None else "at every alpha"
        raise SymconvError(f"no alpha fits budget={limit}: {name} counts more {convention} "
                           f"{shown}; the narrowest network that can be built exceeds it")
    above = probes[last + 1][0]
    if formula is not None and (built(width) != counted(width) or built(above) != counted(above)):
        return None
    over = built(above)
    if step_index >= 0:     # fits at the step itself, exceeds just above it
        checks = ((f"alpha = {width}", f"{convention} = {built(width)} ≤ {limit}"),
                  (f"alpha just above {width}", f"{convention} = {over} > {limit}"))
        return "<=", width, checks, len(steps), upper, len(networks)
    start = bounds[last // 2 - 1] if last >= 2 else sympy.Integer(0)
    checks = ((f"alpha in ({start}, {above})", f"{convention} = {built(width)} ≤ {limit}"),
              (f"alpha = {above}", f"{convention} = {over} > {limit}"))
    return "<", above, checks, len(steps), upper, len(networks)


def _builder(name: object, alpha: object, channels: object) -> tuple[Callable[[int], Layer], str]:
    """How to build the network at ``R×R`` pixels, and what to call it: a zoo network by name
    (``alpha``), or a PyTorch module traced by ``from_torch`` at ``(R, R, channels)``."""
    if isinstance(name, str):
        if channels is not None:
            raise SymconvError(f"channels={channels!r} is for a PyTorch model; {name} takes 3")
        _checked(name, "macs", CONVENTIONS)

        def zoo(pixels: int) -> Layer:
            return network(name, alpha, resolution=pixels)

        width = sympy.Rational(str(alpha)) if not isinstance(alpha, Fraction) else \
            sympy.Rational(alpha.numerator, alpha.denominator)
        return zoo, f"{name} (alpha = {width})"
    if not callable(getattr(name, "named_modules", None)):
        raise SymconvError(f"network={name!r} must be a zoo name ({', '.join(NETWORKS)}) or a "
                           "PyTorch module (torch.nn.Module)")
    if alpha != 1:
        raise SymconvError(f"alpha={alpha!r}: a PyTorch model has no width multiplier; leave "
                           "alpha out")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise SymconvError(f"channels={channels!r} must be the model's input channels, a "
                           "positive int, like channels=3")
    from symconv.frontends.torch import from_torch

    def traced(pixels: int) -> Layer:
        return from_torch(name, (pixels, pixels, channels))

    return traced, f"{type(name).__name__} (from_torch, {channels} input channels)"


def largest_resolution(name: object, budget: int, *, convention: str = "macs",
                       alpha: object = 1, channels: int | None = None,
                       dtype_bytes: int = 4) -> Answer:
    """The largest input resolution (square, in pixels) at which a network counts at most
    ``budget``.

    Parameters
    ----------
    name
        A zoo network (``"mobilenet_v1"``, ``"mobilenet_v2"``), or a PyTorch module, traced by
        :func:`~symconv.from_torch` at every resolution tried (``channels`` then needed).
    budget
        The largest count (or bytes) allowed, an int.
    convention
        ``"macs"`` (default), ``"flops"``, ``"mults"``, or bytes of :func:`symconv.memory`:
        ``"activation_bytes"`` or ``"total_bytes"`` (parameters do not grow with the input).
    alpha
        A zoo network's width multiplier (default 1).
    channels
        A PyTorch model's input channels.
    dtype_bytes
        Bytes per element, for the memory conventions (default 4).

    The count never decreases as the input grows (every output size is a floor of a growing
    size); the search doubles the resolution until the budget is exceeded, then halves the gap.
    Resolutions at which a model cannot be built (a window larger than its input) are skipped
    at the low end. The answer is checked at ``R`` and ``R + 1``.

    Examples
    --------
    >>> answer = largest_resolution("mobilenet_v2", 300_000_000)
    >>> answer.value, answer.checks[1]
    (220, ('resolution = 221', 'macs = 300060672 > 300000000'))
    """
    _checked_convention(convention, tuple(c for c in CONVENTIONS + MEMORY
                                          if c not in ("params", "param_bytes")))
    limit, dtype = _budget(budget), _dtype(dtype_bytes)
    build, title = _builder(name, alpha, channels)
    values: dict[int, sympy.Integer | None] = {}

    def counted(pixels: int) -> sympy.Integer | None:
        if pixels not in values:
            try:
                model = build(pixels)
            except SymconvError:
                values[pixels] = None       # too small for the model
            else:
                values[pixels] = _measure(model, convention, dtype)
        return values[pixels]

    def fits(pixels: int) -> bool:
        found = counted(pixels)
        if found is None:
            raise SymconvError(f"{title} cannot be built at {pixels}×{pixels} pixels, though it "
                               "can at a smaller size; its count cannot be searched")
        return found <= limit

    smallest = 1
    while counted(smallest) is None:
        if smallest >= MAX_RESOLUTION:
            raise SymconvError(f"{title} cannot be built at any resolution up to "
                               f"{MAX_RESOLUTION} pixels")
        smallest *= 2
    if not fits(smallest):
        raise SymconvError(f"no resolution fits budget={limit}: {title} counts "
                           f"{counted(smallest)} {convention} at {smallest}×{smallest} pixels, "
                           "the smallest it can be built at")
    upper = 2 * smallest
    while fits(upper):
        if upper >= MAX_RESOLUTION:
            raise SymconvError(f"budget={limit} fits {title} even at {MAX_RESOLUTION} pixels")
        upper *= 2
    low = upper // 2
    best = low + _search(lambda offset: fits(low + offset), upper - low)
    fits(best + 1)
    R = sympy.Symbol("R", positive=True, integer=True)
    function = sympy.Function(convention.upper() if convention not in MEMORY else convention)
    return Answer(
        question=f"largest resolution R of {title} with {convention} ≤ {limit}",
        inequality=function(R) <= limit, variable=R, relation="<=", value=sympy.Integer(best),
        checks=((f"resolution = {best}", f"{convention} = {counted(best)} ≤ {limit}"),
                (f"resolution = {best + 1}", f"{convention} = {counted(best + 1)} > {limit}")),
        notes=(f"square inputs of R×R pixels; {len(values)} networks built and "
               f"counted{_unit(convention, dtype)}",),
    )
