"""What every layer is: a loop nest (:class:`LoopNest`), the :class:`Layer` and
:class:`Composite` base classes, and the argument checks layers share.

Imports only the vocabulary (errors, sizes).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, ClassVar, Literal

import sympy

from symconv.errors import SymconvError
from symconv.layers.traffic import EVERY_ELEMENT, InputAccess
from symconv.sizes import Size, as_size

__all__ = ["Layer", "Composite", "LoopNest", "Accumulate", "one_of", "check_layer"]


#: The padding a convolution may be given as a string, as in PyTorch. The layer keeps the string
#: (:attr:`ConvNd.padding_string`) and its kind ends in it (``"standard:same"``): the products
#: are the same as with the padding written as numbers, but PyTorch then runs another aten op
#: (``aten::_convolution_mode``), which fvcore does not count (``docs/conventions.md``).
PADDING_STRINGS = ("same", "valid")

Accumulate = Literal["sum", "scatter", "max"]




@dataclass(frozen=True)
class LoopNest:
    """The loops a direct evaluation of one layer runs.

    Attributes
    ----------
    outer
        Extents of the independent loops: a convolution's output positions and channels; a
        transposed convolution's *input* positions and channels (scatter form).
    inner
        Extents of the loops each outer point runs over: a convolution's kernel window and input
        channels of its group; a transposed convolution's kernel window and output channels of
        its group.
    multiply
        Whether every (outer, inner) point multiplies an input by a weight.
    accumulate
        ``"sum"``: each outer point sums its inner terms (a dot product of L terms takes L − 1
        additions); ``"scatter"``: every term is added once into a zero-initialised output;
        ``"max"``: each outer point compares its inner terms (L − 1 comparisons).
    outputs
        Extents of the output tensor (spatial sizes, then channels).
    per_output
        Further operations done once per output element, as ``(kind, count)`` pairs with kind
        one of ``"mults"``, ``"adds"``, ``"divs"``, ``"comparisons"``, ``"transcendentals"``
        (a bias: one addition; a sigmoid: one exp, one addition, one division).
    per_outer
        Further operations done once per outer point, as ``(kind, count)`` pairs (a
        normalisation's variance and ``rstd``, once per row it normalises).
    parameters
        ``(name, shape)`` of each learned tensor.
    access
        Which input elements the loops read and whether they write the output
        (:class:`~symconv.layers.traffic.InputAccess`; by default every element, read once):
        what ``Cost.reads`` and ``Cost.writes`` are derived from.
    """

    outer: tuple[Size, ...]
    inner: tuple[Size, ...]
    outputs: tuple[Size, ...]
    multiply: bool = True
    accumulate: Accumulate = "sum"
    per_output: tuple[tuple[str, Size], ...] = ()
    parameters: tuple[tuple[str, tuple[Size, ...]], ...] = ()
    access: InputAccess = EVERY_ELEMENT
    per_outer: tuple[tuple[str, Size], ...] = ()

    def __init__(self, outer: tuple[Size, ...], inner: tuple[Size, ...],
                 outputs: tuple[Size, ...], multiply: bool = True, accumulate: Accumulate = "sum",
                 per_output: tuple[tuple[str, Size], ...] = (),
                 parameters: tuple[tuple[str, tuple[Size, ...]], ...] = (),
                 access: InputAccess = EVERY_ELEMENT,
                 per_outer: tuple[tuple[str, Size], ...] = ()) -> None:
        # the fields set at once: the generated __init__ of a frozen dataclass sets each through
        # object.__setattr__, and a training step's derivation builds hundreds of nests
        # (tests/test_nest_counts.py holds this to the fields, their order and defaults)
        self.__dict__.update(outer=outer, inner=inner, outputs=outputs, multiply=multiply,
                             accumulate=accumulate, per_output=per_output, parameters=parameters,
                             access=access, per_outer=per_outer)


@functools.cache
def _signature(cls: type) -> inspect.Signature:
    return inspect.signature(cls.__init__)  # type: ignore[misc]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@functools.cache
def _spec(cls: type) -> tuple[int, int, bool]:
    """``(positional, required, varargs)`` of a layer's constructor: how many arguments it takes
    by position, how many leading ones are required (and nothing else is), whether it takes
    ``*args`` — enough to accept the usual call at once."""
    parameters = list(_signature(cls).parameters.values())[1:]
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in parameters if p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    leading = len(required) if positional[:len(required)] == required else len(positional) + 1
    varargs = any(p.kind == p.VAR_POSITIONAL for p in parameters)
    return len(positional), leading, varargs


def _check_arguments(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Raise a :class:`SymconvError` when ``cls(*args, **kwargs)`` does not fit the constructor:
    a required argument missing, one too many, or a name the constructor does not know."""
    positional_count, leading, varargs = _spec(cls)
    if not kwargs and leading <= len(args) and (varargs or len(args) <= positional_count):
        return  # the usual call: the required arguments, and maybe more, by position
    parameters = list(_signature(cls).parameters.values())[1:]  # without self
    name = cls.__name__
    example = getattr(cls, "example", None)
    hint = f"; e.g. {example}" if example else ""
    positional = [p for p in parameters
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not any(p.kind == p.VAR_POSITIONAL for p in parameters) and len(args) > len(positional):
        allowed = f"at most {len(positional)}" if positional else "none"
        raise SymconvError(
            f"{name}: {len(args)} argument{'s' if len(args) > 1 else ''} given by position, "
            f"{allowed} allowed "
            f"({', '.join(p.name for p in positional) or 'it takes no arguments'}){hint}"
        )
    named = {p.name: p for p in parameters if p.kind != p.VAR_POSITIONAL}
    if not any(p.kind == p.VAR_KEYWORD for p in parameters):
        for key in kwargs:
            if key not in named or named[key].kind == named[key].POSITIONAL_ONLY:
                known = ", ".join(named) or "none"
                raise SymconvError(
                    f"{name}: no argument named {key!r}; its arguments: {known}{hint}"
                )
    given = {p.name for p in positional[:len(args)]}
    for key in kwargs:
        if key in given:
            raise SymconvError(f"{name}: {key} is given twice, by position and by name{hint}")
    missing = [
        p.name for p in parameters
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        and p.name not in given and p.name not in kwargs
    ]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise SymconvError(f"{name}: {_and(missing)} {verb} missing{hint}")


class _LayerType(type):
    """The type of every layer: arguments that do not fit a layer's constructor (one missing,
    one too many, a misspelt name) raise :class:`SymconvError` naming them, with an example of
    the call (the class's :attr:`~Layer.example`), rather than Python's ``TypeError``."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(cls, args, kwargs)
        return super().__call__(*args, **kwargs)

    def __setattr__(cls, name: str, value: Any) -> None:
        # the dataclass decorator gives a frozen layer its __hash__ once the class is made:
        # that hash, kept on the layer once worked out (:func:`_hash_kept`)
        if name == "__hash__" and value is not None:
            value = _hash_kept(value)
        super().__setattr__(name, value)


def _hash_kept(compute: Any) -> Any:
    """``compute`` (a frozen dataclass's ``__hash__``, of its fields), worked out once per
    layer and kept in its ``__dict__``: a derivation's walks key their memos on layers, and a
    block's hash is its every layer's (the backward walk and the training forward hashed each
    layer of a network again at every level above it). A layer's fields never change once
    built; the kept hash is not pickled or copied (:meth:`Layer.__getstate__`: a string's hash
    differs from one process to the next)."""

    @functools.wraps(compute)
    def __hash__(self: Any) -> int:
        known = self.__dict__.get("_hash")
        if known is None:
            known = compute(self)
            object.__setattr__(self, "_hash", known)
        return known

    return __hash__


class Layer(metaclass=_LayerType):
    """Base class of every layer description.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> Conv2d(3, 64)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Conv2d: kernel_size is missing; e.g. Conv2d(3, 64, 3)

    Subclasses set :attr:`spatial_dims` (``None`` when any rank is accepted) and implement
    :meth:`loop_nest` (single layers) or :attr:`~Composite.stages` (composites), plus
    :meth:`output_spatial` for their shape arithmetic.
    """

    #: Number of spatial axes the layer expects, or ``None`` for any.
    spatial_dims: ClassVar[int | None] = None
    #: A call that builds one, for error messages (``"Conv2d(3, 64, 3)"``).
    example: ClassVar[str] = ""
    #: Whether the layer reads its own parameters; ``False`` for one that hands them on to the
    #: stage that uses them (:class:`~symconv.layers.learned.Parameter`).
    reads_parameters: ClassVar[bool] = True
    #: Whether the layer's values depend on its input; ``False`` for one that makes them from
    #: nothing else (:class:`~symconv.layers.learned.Parameter`,
    #: :class:`~symconv.layers.windows.Constant`): no gradient flows back through it.
    reads_input: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        """A short name of the kind of layer, used in reports."""
        return type(self).__name__

    def __getstate__(self) -> dict[str, Any]:
        """The layer's ``__dict__`` for ``pickle`` and ``copy``, without its kept hash
        (:func:`_hash_kept`)."""
        state = dict(self.__dict__)
        state.pop("_hash", None)
        return state

    def in_channels_expected(self) -> Size | None:
        """The input channel count the layer needs, or ``None`` when any count fits."""
        return None

    def out_channels_for(self, in_channels: Size) -> Size:
        """The output channel count for an input with ``in_channels`` channels."""
        return in_channels

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """The loop nest of a direct evaluation, given the sizes around the layer.

        ``in_channels`` is the input's channel count; layers that fix their own (convolutions)
        may ignore it, layers that take any count (activations, pooling) need it.
        """
        raise NotImplementedError(f"{type(self).__name__} has no loop nest")

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """The SymPy symbols in the layer's sizes, those of its stages included.

        Examples
        --------
        >>> from symconv import Conv2d, Sequential
        >>> from symconv.symbols import M, N, k
        >>> sorted(Sequential(Conv2d(M, N, k), Conv2d(N, 8, 1)).free_symbols, key=str)
        [M, N, k]
        """
        known = self.__dict__.get("_free_symbols")  # found once (functools.cached_property
        if known is not None:                        # takes a lock on every read)
            return known
        found: set[sympy.Symbol] = set()
        for name in _field_names(type(self)):
            _collect_symbols(getattr(self, name), found)
        object.__setattr__(self, "_free_symbols", found)
        return found

    def constructor_arguments(self) -> tuple[tuple[object, ...], dict[str, object]]:
        """``(args, kwargs)`` such that ``type(self)(*args, **kwargs)`` builds this layer again:
        each argument of the constructor read from the attribute of its name (the layers of a
        network, a ``*layers`` argument, given by position)."""
        args: tuple[object, ...] = ()
        kwargs: dict[str, object] = {}
        for parameter in list(_signature(type(self)).parameters.values())[1:]:
            if parameter.kind == parameter.VAR_POSITIONAL:
                args = tuple(getattr(self, parameter.name))
            elif parameter.kind != parameter.VAR_KEYWORD:
                kwargs[parameter.name] = getattr(self, parameter.name)
        return args, kwargs

    def subs(self, mapping: Mapping[sympy.Basic, sympy.Expr]) -> Layer:
        """The layer with ``mapping`` substituted into its sizes, built (and so checked) again.

        Examples
        --------
        >>> from symconv import Conv2d
        >>> from symconv.symbols import M, N, k
        >>> Conv2d(M, N, k).subs({M: 3, N: 64, k: 3}) == Conv2d(3, 64, 3)
        True
        >>> Conv2d(M, N, k, groups=4).subs({M: 6, N: 8, k: 3})
        Traceback (most recent call last):
        ...
        symconv.errors.SymconvError: groups=4 must divide in_channels=6; divisors of 6: 1, 2, 3, 6
        """
        if not any(key in mapping for key in self.free_symbols):
            return self
        args, kwargs = self.constructor_arguments()
        return type(self)(*_substituted(args, mapping),
                          **{name: _substituted(value, mapping) for name, value in kwargs.items()})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    """The names of a layer class's dataclass fields (none for a class that is no dataclass)."""
    return tuple(item.name for item in fields(cls)) if is_dataclass(cls) else ()


def _collect_symbols(value: object, found: set[sympy.Symbol]) -> None:
    if isinstance(value, (int, str)) or value is None:
        return
    if isinstance(value, sympy.Basic):
        if not value.is_Number:
            found.update(value.free_symbols)
    elif isinstance(value, Layer):
        found.update(value.free_symbols)
    elif isinstance(value, (tuple, list)):
        for item in value:
            if not isinstance(item, (int, str)) and item is not None:  # sizes: no call
                _collect_symbols(item, found)


def _substituted(value: Any, mapping: Mapping[sympy.Basic, sympy.Expr]) -> Any:
    if isinstance(value, sympy.Basic):
        return value.subs(mapping)
    if isinstance(value, Layer):
        return value.subs(mapping)
    if isinstance(value, (tuple, list)):
        return tuple(_substituted(item, mapping) for item in value)
    return value


class Composite(Layer):
    """A layer made of named stages run one after the other."""

    #: Whether the composite's output must have the shape of its input (a residual block).
    preserves_shape: ClassVar[bool] = False

    @property
    def stages(self) -> tuple[tuple[str, Layer], ...]:
        """``(name, layer)`` pairs, in the order data flows through them."""
        raise NotImplementedError


def _channels(value: object, name: str) -> Size:
    return as_size(value, name, minimum=1)


def _bias(value: object) -> bool:
    if not isinstance(value, bool):
        raise SymconvError(f"bias={value!r} must be True or False")
    return value





def one_of(value: object, choices: Iterable[str], argument: str) -> str:
    """``value`` when it is one of ``choices``, else a :class:`SymconvError` naming
    ``argument`` (written as ``"Owner(name"``), the value and the choices."""
    known = list(choices)
    if not isinstance(value, str) or value not in known:
        raise SymconvError(f"{argument}={value!r}) is unknown; use one of {', '.join(known)}")
    return value


def check_layer(value: object, argument: str) -> None:
    """Raise, naming ``argument`` and saying what to pass, unless ``value`` is a layer instance.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> check_layer(Conv2d, "cost(layer")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: cost(layer=Conv2d): give a layer, not its class; e.g. Conv2d(3, 64, 3)
    >>> check_layer("conv", "cost(layer")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: cost(layer='conv'): must be a symconv layer, like Conv2d(3, 64, 3), not str
    """
    if isinstance(value, Layer):
        return
    if isinstance(value, type) and issubclass(value, Layer):
        example = value.example or f"{value.__name__}(...)"
        raise SymconvError(
            f"{argument}={value.__name__}): give a layer, not its class; e.g. {example}"
        )
    raise SymconvError(
        f"{argument}={_short(value)}): must be a symconv layer, like Conv2d(3, 64, 3), "
        f"not {type(value).__name__}"
    )


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**50 else "<a huge int>"
    return text if len(text) <= 60 else text[:57] + "..."


def _need_channels(layer: Layer, in_channels: Size | None) -> Size:
    if in_channels is None:
        raise SymconvError(
            f"{type(layer).__name__}.loop_nest needs in_channels=, the input's channel count"
        )
    return in_channels
