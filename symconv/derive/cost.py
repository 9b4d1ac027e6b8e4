"""The result of a derivation: :class:`Cost`, its substitution, and the counts it carries.

What is counted is said in :mod:`symconv.derive`. Pure SymPy.
"""

from __future__ import annotations

import fractions
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any

import sympy

from symconv.errors import SymconvError
from symconv.layers.sequential import long_repr
from symconv.sizes import MAX_DIGITS, Size, as_expr, check_digits
from symconv.symbols import LATEX_NAMES

__all__ = ["Cost", "Source", "COUNT_KINDS", "substitution", "register_markdown"]


#: The operation counts a :class:`Cost` carries, in report order.
COUNT_KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

_ZERO = sympy.Integer(0)

#: SymPy's own singletons of the small integers, by value.
_SMALL = {-1: sympy.S.NegativeOne, 0: sympy.S.Zero, 1: sympy.S.One}
_BASIC_NEW = sympy.Basic.__new__


def _integer(number: int) -> sympy.Integer:
    """``sympy.Integer(number)`` for a Python int, made as its constructor makes it (0, 1 and
    -1 its singletons; else a new ``Integer`` whose ``p`` is ``number``) without going through
    SymPy's cache (a miss costs three times the object: a training step's derivation makes
    hundreds of new counts). Equal, of the same class and hash as ``sympy.Integer(number)``
    (tests/test_nest_counts.py holds it to that); only its identity may differ, which nothing
    in SymPy relies on (a full cache makes new objects too).

    Examples
    --------
    >>> _integer(12) == sympy.Integer(12), type(_integer(12)), _integer(1) is sympy.S.One
    (True, <class 'sympy.core.numbers.Integer'>, True)
    """
    small = _SMALL.get(number)
    if small is not None:
        return small
    made = _BASIC_NEW(sympy.Integer)
    made.p = number
    return made




def _sum(values: Iterable[Size]) -> sympy.Expr:
    """``sympy.Add`` of the values; one ``Integer`` summed in Python where all are integers (a
    network at one input size adds hundreds of them, and ``Add`` asks each its assumptions)."""
    terms = values if isinstance(values, list) else list(values)
    if set(map(type, terms)) <= _INTEGER_CLASSES:  # every one an integer: summed at C speed
        return sympy.Integer(sum(map(int, terms)))
    whole = 0
    for value in terms:   # a plain loop: this runs for every nest and every sum of stages
        if not isinstance(value, _INTEGERS):   # zeros left out: Add would drop them anyway
            return sympy.Add(*(as_expr(value) for value in terms
                               if value is not _ZERO and not (type(value) is int and value == 0)))
        whole += int(value)
    return sympy.Integer(whole)


def _summed(costs: list[Any], kinds: tuple[str, ...]) -> dict[str, sympy.Expr]:
    """Each of the counts ``kinds`` of ``costs`` (:class:`Cost` objects), summed as
    :func:`_sum` sums them: in one pass of Python ints while every count is an integer.

    Examples
    --------
    >>> from symconv.symbols import H
    >>> one = Cost(mults=sympy.Integer(2), adds=H, params=_ZERO, input_shape=(), output_shape=())
    >>> _summed([one, one], ("mults", "divs")), _summed([one, one], ("adds",))
    ({'mults': 4, 'divs': 0}, {'adds': 2*H})
    """
    whole = dict.fromkeys(kinds, 0)
    for cost in costs:
        values = cost.__dict__
        for kind in kinds:
            value = values[kind]
            if value is _ZERO:   # most counts of most layers
                continue
            if type(value) in _SYMPY_INTEGER_CLASSES:
                whole[kind] += value.p
            elif type(value) is int:
                whole[kind] += value
            else:
                return {kind: _sum([getattr(cost, kind) for cost in costs]) for kind in kinds}
    return {kind: sympy.Integer(number) if number else _ZERO for kind, number in whole.items()}


def _product(values: tuple[Size, ...]) -> sympy.Expr:
    whole = 1
    for value in values:
        if not isinstance(value, _INTEGERS):
            return sympy.Mul(*(as_expr(value) for value in values))
        whole *= int(value)
    return sympy.Integer(whole)  # one Integer, not a Mul


_INTEGERS = (int, sympy.Integer)
#: The classes of integers (SymPy's 0, 1 and -1 are classes of their own).
_INTEGER_CLASSES = frozenset({int, sympy.Integer, type(sympy.S.Zero), type(sympy.S.One),
                              type(sympy.S.NegativeOne)})
_SYMPY_INTEGER_CLASSES = _INTEGER_CLASSES - {int}


@dataclass(frozen=True)
class Source:
    """What a :class:`Cost` was derived from: the layer, the input shape given (``None`` when a
    network carried its own), and the derivation to run again (:func:`symconv.derive.cost`)."""

    layer: Any
    shape: tuple[sympy.Expr, ...] | None
    derive: Callable[[Any, Any], Cost]

    def derive_again(self, mapping: Mapping[sympy.Basic, sympy.Expr]) -> Cost:
        """The cost of the layer and shape with ``mapping`` substituted (checked again)."""
        shape = None if self.shape is None else tuple(size.subs(mapping) for size in self.shape)
        return self.derive(self.layer.subs(mapping), shape)


@dataclass(frozen=True)
class Cost:
    """What one layer, composite or network costs, as SymPy expressions.

    Attributes
    ----------
    mults, adds
        Scalar multiplications and additions of a direct evaluation (see the module docstring).
    params
        Learned parameters: weights, biases where present, BatchNorm's γ and β.
    divs, comparisons
        Divisions and comparisons, kept apart from mults and adds.
    transcendentals
        Evaluations of exp, log, erf, tanh, sqrt, rsqrt and non-integer powers (XLA's cost
        analysis keeps the same category), kept apart as well.
    reads, writes
        Elements moved under the compulsory-traffic model (:mod:`symconv.derive.traffic`):
        every distinct input element the loop nest touches plus every weight and bias; every
        output element written. Bytes are these times the dtype size.
    input_shape, output_shape
        Channels-last shapes as tuples of SymPy expressions.
    stages
        ``(name, Cost)`` of each stage of a composite, in order; empty for a single layer.
    kind
        The kind of layer (``"standard"``, ``"depthwise"``, ``"separable"``, ...).

    Examples
    --------
    >>> from symconv import Conv2d, cost
    >>> from symconv.symbols import H, W, k
    >>> c = cost(Conv2d(3, 64, k, bias=True), (H, W, 3))
    >>> c.params
    192*k**2 + 64
    >>> c.subs(H=7, W=7, k=3).adds
    43200
    """

    mults: sympy.Expr
    adds: sympy.Expr
    params: sympy.Expr
    input_shape: tuple[sympy.Expr, ...]
    output_shape: tuple[sympy.Expr, ...]
    divs: sympy.Expr = _ZERO
    comparisons: sympy.Expr = _ZERO
    transcendentals: sympy.Expr = _ZERO
    reads: sympy.Expr = _ZERO
    writes: sympy.Expr = _ZERO
    stages: tuple[tuple[str, Cost], ...] = field(default=())
    kind: str = ""
    #: ``(name, Cost)`` of each gradient a single layer's backward pass computes
    #: (``"input_grad"``, ``"weight_grad"``, ...; :mod:`symconv.layers.backward`); empty otherwise.
    gradients: tuple[tuple[str, Cost], ...] = field(default=())
    #: ``(name, Cost)`` of each part a single layer's forward pass runs in training mode where
    #: it differs from inference (BatchNorm: ``"statistics"``, ``"running_stats"``,
    #: ``"constants"``, ``"normalise"``; :mod:`symconv.layers.batchnorm_train`); empty otherwise.
    parts: tuple[tuple[str, Cost], ...] = field(default=())

    #: How this cost was derived, so that :meth:`subs` can derive it again from the substituted
    #: layer and shape; ``None`` once the expressions were rewritten (:meth:`xreplace`,
    #: :meth:`map`) or for a cost built by hand.
    source: Source | None = field(default=None, compare=False, repr=False)

    def __repr__(self) -> str:
        """Short, for a REPL: the kind, the counts that are not zero, the shapes; a hint of more.

        Examples
        --------
        >>> from symconv import Conv2d, DepthwiseSeparableConv2d, cost
        >>> cost(Conv2d(3, 64, 3), (7, 7, 3))
        Cost(standard: mults=43200, adds=41600, params=1728, reads=1875, writes=1600; 7×7×3 → 5×5×64)
        >>> cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))  # doctest: +NORMALIZE_WHITESPACE
        Cost(separable of 2 layers: mults=5475, adds=3800, params=219, reads=...)
        """
        counts = ", ".join(
            f"{name}={getattr(self, name)}"
            for name in ("mults", "adds", "divs", "comparisons", "transcendentals", "params",
                         "reads", "writes")
            if getattr(self, name) != 0 or name in ("mults", "params")
        )
        shapes = " → ".join("×".join(str(size) for size in shape)
                            for shape in (self.input_shape, self.output_shape))
        if not self.stages:
            return f"Cost({self.kind or 'layer'}: {counts}; {shapes})"
        layers = _leaf_count(self)
        return (f"Cost({self.kind or 'network'} of {layers} layers: {counts}; {shapes}; "
                "each layer in .stages or symconv.network.rows(...), every field in "
                ".long_repr())")

    def long_repr(self) -> str:
        """Every field, nested stages included (the dataclass form)."""
        return long_repr(self)

    def map(self, transform: Callable[[sympy.Expr], sympy.Expr]) -> Cost:
        """Apply ``transform`` to every expression, stages included.

        The result no longer knows how it was derived (its :attr:`source` is dropped): its
        expressions may say something else than the layer's derivation, so :meth:`subs` on it
        checks the values given but derives nothing again.
        """
        return self._map(transform, keep_source=False)

    def _map(self, transform: Callable[[sympy.Expr], sympy.Expr], *, keep_source: bool) -> Cost:
        source = None
        if keep_source and self.source is not None:
            source = replace(self.source, shape=None if self.source.shape is None else
                             tuple(transform(size) for size in self.source.shape))
        return replace(
            self,
            mults=transform(self.mults),
            adds=transform(self.adds),
            params=transform(self.params),
            divs=transform(self.divs),
            comparisons=transform(self.comparisons),
            transcendentals=transform(self.transcendentals),
            reads=transform(self.reads),
            writes=transform(self.writes),
            input_shape=tuple(transform(size) for size in self.input_shape),
            output_shape=tuple(transform(size) for size in self.output_shape),
            stages=tuple((name, stage._map(transform, keep_source=keep_source))
                         for name, stage in self.stages),
            gradients=tuple((name, part._map(transform, keep_source=keep_source))
                            for name, part in self.gradients),
            parts=tuple((name, part._map(transform, keep_source=keep_source))
                        for name, part in self.parts),
            source=source,
        )

    def subs(
        self, values: Mapping[sympy.Basic, object] | None = None, /, **by_name: object
    ) -> Cost:
        """Substitute values for symbols, given as a mapping and/or by symbol name, checked.

        Values must be numbers (ints, fractions) or SymPy expressions; strings, floats, NaN and
        infinities are refused, as symconv never evaluates text and counts are exact. Each value
        must agree with what its symbol declares (:mod:`symconv.symbols`): a size (positive
        integer) takes a positive integer, a padding (non-negative integer) an integer of at
        least 0; a symbol may also be replaced by an expression (``k`` by ``2*q + 1``).

        A cost from :func:`~symconv.derive.cost` remembers the layer and the input shape it
        was derived from (:attr:`source`), and ``subs`` derives it again from the layer and the
        shape with the values substituted: every check :func:`~symconv.derive.cost` makes (a
        kernel that fits the padded input, groups that divide the channels, ...) is made on the
        values, and a stride's floors are evaluated at them. A cost whose expressions were
        rewritten (:meth:`xreplace`) only has its values checked and substituted.

        Examples
        --------
        >>> from symconv import Conv2d, cost
        >>> from symconv.symbols import H, W, M, N, k
        >>> c = cost(Conv2d(M, N, k), (H, W, M))
        >>> c.subs({H: 7, W: 7, M: 3}, N=64, k=3).mults
        43200
        >>> c.subs({H: 2, W: 3, M: 3, N: 64, k: 5})
        Traceback (most recent call last):
        ...
        symconv.errors.SymconvError: subs(H=2, W=3, M=3, N=64, k=5): kernel_size=5 (spanning 5 with
        dilation=1) is larger than the padded input along H: 2 + 2·0 = 2; ...
        """
        mapping = substitution(self._free_symbols(), values, by_name)
        if self.source is None or not mapping:
            return self.map(lambda expr: expr.subs(mapping))
        try:
            return self.source.derive_again(mapping)
        except SymconvError as error:
            given = ", ".join(f"{key}={value}" for key, value in mapping.items())
            raise SymconvError(f"subs({given}): {error}") from None

    def xreplace(self, mapping: Mapping[sympy.Basic, sympy.Basic]) -> Cost:
        """Replace exact subexpressions (for instance output-size expressions by ``H_o``)."""
        return self.map(lambda expr: expr.xreplace(dict(mapping)))

    def _free_symbols(self) -> set[sympy.Symbol]:
        found: set[sympy.Symbol] = set()
        self.map(lambda expr: found.update(expr.free_symbols) or expr)  # type: ignore[func-returns-value]
        return found

    def _latex(self, printer: Any) -> str:
        rows = [
            rf"\text{{{name}}} &= {printer._print(getattr(self, name))}"
            for name in ("mults", "adds", "params")
        ]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + sympy.latex(self, symbol_names=LATEX_NAMES) + "$"


    def _repr_markdown_(self) -> str | None:
        """A table of the layers for notebooks, when there are stages and a display is
        registered (:func:`register_markdown`); else the LaTeX shows."""
        if not self.stages or not _MARKDOWN_DISPLAY:
            return None
        return _MARKDOWN_DISPLAY[-1](self)


#: How a cost with stages shows as Markdown in a notebook. The derivation knows no output format:
#: :mod:`symconv.render.notebook` registers the table when it is imported (``import symconv``
#: does).
#: Cost's fields that have defaults, with them.
_DEFAULTS = {item.name: item.default for item in fields(Cost) if item.default is not MISSING}


def _built(**values: Any) -> Cost:
    """``Cost(**values)``, built without the dataclass's ``__init__`` (which sets each of the 16
    fields through ``object.__setattr__``, a third of the time the backward walk spent building
    its hundreds of costs): ``Cost`` checks nothing when built and has no ``__post_init__``
    (tests/test_nest_counts.py holds it to that), so the result is the same. Every field
    without a default must be given.

    Examples
    --------
    >>> _built(mults=_ZERO, adds=_ZERO, params=_ZERO, input_shape=(), output_shape=()) == Cost(
    ...     mults=_ZERO, adds=_ZERO, params=_ZERO, input_shape=(), output_shape=())
    True
    """
    made = object.__new__(Cost)
    made.__dict__.update(_DEFAULTS)
    made.__dict__.update(values)
    return made


def _changed(cost: Cost, **changes: Any) -> Cost:
    """``dataclasses.replace(cost, **changes)`` as :func:`_built` builds: no ``__init__``."""
    made = object.__new__(Cost)
    made.__dict__.update(cost.__dict__)
    made.__dict__.update(changes)
    return made


_MARKDOWN_DISPLAY: list[Callable[[Cost], str]] = []


def register_markdown(display: Callable[[Cost], str]) -> None:
    """Make ``display(cost)`` the Markdown a composite's or network's cost shows in notebooks."""
    _MARKDOWN_DISPLAY.append(display)



def substitution(
    free: set[sympy.Symbol],
    values: Mapping[sympy.Basic, object] | None,
    by_name: Mapping[str, object],
) -> dict[sympy.Basic, sympy.Expr]:
    """Build a checked substitution from a mapping and names of ``free`` symbols.

    Keys that are not among ``free`` are left out (a mapping of values may serve several
    costs), unless a symbol of ``free`` has the same name: two symbols named ``H`` with
    different assumptions print alike but are different, and substituting the one would leave
    the other in place. Every value is checked against its symbol's assumptions.

    Examples
    --------
    >>> from symconv.symbols import H, p
    >>> substitution({H, p}, {H: 7}, {"p": 0})
    {H: 7, p: 0}
    >>> substitution({H}, {sympy.Symbol("H"): 7}, {})
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: subs: the key H is not the H here: they print alike but the one
    given is declared with no assumptions, the one here is declared a positive integer; ...
    >>> substitution({p}, {p: -1}, {})
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: p=-1 must be at least 0: p is declared a non-negative integer
    """
    mapping: dict[sympy.Basic, sympy.Expr] = {}
    named = {symbol.name: symbol for symbol in free}
    for key, value in (values or {}).items():
        if not isinstance(key, sympy.Basic):
            raise SymconvError(
                f"subs key {key!r} must be a SymPy symbol; pass names as keywords instead"
            )
        name = str(key)
        if key not in free:
            twin = named.get(name) if isinstance(key, sympy.Symbol) else None
            if twin is not None:
                raise SymconvError(
                    f"subs: the key {name} is not the {name} here: they print alike but the "
                    f"one given {_declared(key)}, the one here {_declared(twin)}; "
                    f"use symconv.symbols.{name} or pass {name}=... by name"
                )
            continue
        mapping[key] = _checked(key, _number(value, name, _digits_for(key)), name)
    for name, value in by_name.items():
        if name not in named:
            known = ", ".join(sorted(named)) or "none"
            raise SymconvError(f"subs({name}=...): no symbol {name!r} here; symbols: {known}")
        symbol = named[name]
        mapping[symbol] = _checked(symbol, _number(value, name, _digits_for(symbol)), name)
    return mapping


def _digits_for(symbol: sympy.Basic) -> int:
    """Sizes (integer symbols) take at most :data:`~symconv.sizes.MAX_DIGITS` digits."""
    return MAX_DIGITS if getattr(symbol, "is_integer", None) else MAX_NUMBER_DIGITS


def _declared(symbol: sympy.Basic) -> str:
    """What ``symbol`` is declared: ``"is declared a positive integer"``."""
    if symbol.is_integer and symbol.is_positive:
        what = "a positive integer"
    elif symbol.is_integer and symbol.is_nonnegative:
        what = "a non-negative integer"
    elif symbol.is_integer:
        what = "an integer"
    elif symbol.is_positive:
        what = "positive"
    elif symbol.is_nonnegative:
        what = "non-negative"
    else:
        what = "with no assumptions"
    return f"is declared {what}"


def _checked(symbol: sympy.Basic, value: sympy.Expr, name: str) -> sympy.Expr:
    """``value`` when nothing shows it breaks what ``symbol`` is declared to be."""
    if not isinstance(symbol, sympy.Symbol):
        return value
    broken = None
    if symbol.is_integer and value.is_integer is False:
        broken = "an integer"
    elif symbol.is_positive and value.is_positive is False:
        broken = "positive"
    elif symbol.is_nonnegative and value.is_nonnegative is False:
        broken = "at least 0"
    if broken is not None:
        raise SymconvError(f"{name}={value} must be {broken}: {symbol} {_declared(symbol)}")
    return value


#: The most digits a number given to :func:`ratio` or to ``Cost.subs`` for a symbol that is not
#: a size may have: Python prints integers of at most 4300 digits. Sizes take fewer
#: (:data:`~symconv.sizes.MAX_DIGITS`).
MAX_NUMBER_DIGITS = 4000


def _number(value: object, name: str, limit: int = MAX_NUMBER_DIGITS) -> sympy.Expr:
    """An exact, finite SymPy number or expression from what a user gave, or a SymconvError.

    Examples
    --------
    >>> _number(sympy.nan, "numerator")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: numerator=nan must be a finite number: NaN and infinities are no count
    """
    if isinstance(value, bool) or isinstance(value, str):
        raise SymconvError(f"{name}={value!r} must be a number or a SymPy expression")
    if isinstance(value, numbers.Integral):
        check_digits(int(value), name, limit=limit)
        return sympy.Integer(int(value))
    if isinstance(value, fractions.Fraction):
        check_digits(value.numerator, name, limit=limit)
        check_digits(value.denominator, name, limit=limit)
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Expr):
        for number in value.atoms(sympy.Rational):
            check_digits(int(number.p), name, limit=limit)
            check_digits(int(number.q), name, limit=limit)
        if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise SymconvError(
                f"{name}={value} must be a finite number: NaN and infinities are no count"
            )
        if value.has(sympy.Float):
            raise SymconvError(f"{name}={value} must be exact; use sympy.Rational, not floats")
        return value
    if isinstance(value, Cost):
        raise SymconvError(
            f"{name} is a whole Cost; give one of its counts, like cost(...).mults"
        )
    if isinstance(value, float):
        raise SymconvError(
            f"{name}={value!r} must be exact: floats are not (NaN and infinities are no count "
            "either); use an int, a Fraction or sympy.Rational"
        )
    raise SymconvError(
        f"{name}={value!r} must be an int, a Fraction or a SymPy expression "
        f"(floats are not exact: use sympy.Rational)"
    )


def _leaf_count(result: Cost) -> int:
    """How many single layers a cost's stages hold, nested composites looked through."""
    return sum(_leaf_count(stage) if stage.stages else 1 for _, stage in result.stages)
