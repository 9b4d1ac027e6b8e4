"""The tracer's part for tensors computed from parameters, not from the input (*parameter
chains*, :mod:`symconv.layers.learned`): Swin's and MaxViT's relative position bias
``table[index].view(N, N, -1).permute(2, 0, 1).contiguous().unsqueeze(0)``, Swin V2's
``16 * torch.sigmoid(...)`` of its ``cpb_mlp`` output gathered so, and its
``torch.clamp(logit_scale, max=log 100).exp()``.

Such calls run on no tensor computed from the input, so the tracer makes no stage of them (a
constant, docs/conventions.md). This keeps, beside the constant, how it was computed: from a
learned ``nn.Parameter`` (``requires_grad``; a frozen one stays a constant: it folds in
training too) or from the output of a ``torch.nn`` layer run on a constant (``cpb_mlp``),
through

* data movement (indexing by a fixed index tensor, views, reshapes, permutes, copies): the same
  call run on a tensor of *element ids* (each element's position in the source) says where
  each element comes from, so any sequence of them is one :class:`~symconv.layers.learned.Gather`
  (by rows, ``columns=c``, where it takes whole rows of a table column by column: the heads);
* elementwise steps: ``torch.sigmoid``, a product with a number, ``torch.clamp``, ``exp``.

Only where such a tensor meets one computed from the input (``attn + bias``, ``attn * scale``:
:meth:`ChainCalls.chain_operand`) are its stages recorded: the
:class:`~symconv.layers.learned.Parameter`, each elementwise step after the gather that feeds
it, all :class:`~symconv.layers.learned.Folded`, then the addition or product reads the last.
A chain that only moves (``x + p.view(C, 1, 1)``, ``x + mlp(table).permute(0, 3, 1, 2)``) is
recorded so too, its move a view or a gather: its source gets its gradient in a training step
(before, it was left a constant, and the parameter's gradient was missed). Any other call on
such a tensor ends its chain there (the result is a constant); one that writes in place
(``zero_``, ``x[i] = v``) leaves every chain through what it wrote a constant.

This module imports torch inside its functions only (the id tensors).

Examples
--------
>>> CHAIN_STEPS["Tensor.exp"], "Tensor.__getitem__" in MOVES
('exp', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from symconv.frontends.layouts import Layout

__all__ = ["ChainCalls", "MOVES", "CHAIN_STEPS"]

#: Data movement: the call run again on element ids says where each element comes from.
MOVES = frozenset({
    "Tensor.__getitem__", "Tensor.view", "Tensor.reshape", "torch.reshape", "Tensor.permute",
    "torch.permute", "Tensor.contiguous", "Tensor.unsqueeze", "torch.unsqueeze",
    "Tensor.squeeze", "torch.squeeze", "Tensor.flatten", "torch.flatten", "Tensor.transpose",
    "torch.transpose", "Tensor.expand", "Tensor.clone", "torch.clone"})

#: Moves whose result holds the same elements in the same order as their input (a copy): the
#: ids as they are (``view`` after them runs as ``reshape`` on the ids, which may not be
#: contiguous where the tensor is).
COPIES = frozenset({"Tensor.contiguous", "Tensor.clone", "torch.clone"})

#: Elementwise steps, by qualified name.
CHAIN_STEPS = {
    "torch.sigmoid": "sigmoid", "Tensor.sigmoid": "sigmoid", "torch.exp": "exp",
    "Tensor.exp": "exp", "torch.clamp": "clamp", "Tensor.clamp": "clamp",
    "torch.clamp_max": "clamp", "Tensor.clamp_max": "clamp", "torch.clamp_min": "clamp",
    "Tensor.clamp_min": "clamp", "Tensor.__mul__": "mul", "Tensor.__rmul__": "mul",
    "Tensor.mul": "mul", "torch.mul": "mul"}


@dataclass(eq=False)
class _Source:
    """Where a chain starts: a parameter (``tensor``, its dotted ``name``) or the output of
    a recorded stage (``stage``, its ``layout``)."""

    tensor: Any = None
    name: str = ""
    stage: int | None = None
    layout: Layout = ()
    written: bool = False   # written in place since (its chains are then constants)


@dataclass(eq=False)
class _Step:
    """An elementwise ``layer`` run on ``input`` (a chain), named ``where``."""

    layer: Any
    input: _Chain
    where: str
    stage: int | None = None
    written: bool = False


@dataclass(eq=False)
class _Chain:
    """A tensor of a chain: ``ids`` (its shape) holds, for each element, its position in the
    row-major output of ``base``."""

    base: _Source | _Step
    ids: Any


def _exact(value: Any) -> Any:
    """A clamp bound or factor as an exact SymPy number (a float at its shortest decimal)."""
    import sympy

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int):
        return sympy.Integer(value)
    fraction = Fraction(repr(value))
    return sympy.Rational(fraction.numerator, fraction.denominator)


class ChainCalls:
    """Calls on tensors computed from parameters, followed on the recorder this is mixed
    into."""

    if TYPE_CHECKING:
        tensor_type: Any
        folded: set[int]
        calls: list[Any]
        frames: list[Any]

        def producer(self, tensor: Any) -> int | None: ...
        def layout(self, tensor: Any) -> Layout: ...
        def unique(self, name: str) -> str: ...
        def record(self, name: str, op: Any, inputs: tuple[int, ...], output: Any,
                   size_dependent: str = "", layout: Layout | None = None) -> None: ...

    def _ids(self, count: int) -> Any:
        """``torch.arange(count)``, made once per trace: ids tensors are only ever read (a move
        makes a view or a copy of them), so one serves every chain of that size."""
        made: dict[int, Any] = self.__dict__.setdefault("_aranges", {})
        ids = made.get(count)
        if ids is None:
            import torch

            ids = made[count] = torch.arange(count)
        return ids

    def _chains(self) -> dict[int, tuple[Any, _Chain]]:
        table: dict[int, tuple[Any, _Chain]] | None = self.__dict__.get("_chain_table")
        if table is None:
            table = self.__dict__["_chain_table"] = {}
            self.__dict__["_chain_sources"] = {}
        return table

    def chain_of(self, tensor: Any) -> _Chain | None:
        """The chain ``tensor`` is (only if a call made it so), else ``None``."""
        entry = self._chains().get(id(tensor))
        return entry[1] if entry is not None and entry[0] is tensor else None

    def _start(self, tensor: Any) -> _Chain | None:
        """``tensor``'s chain: known, or starting at a learned parameter or a stage on
        constants (``cpb_mlp``'s output)."""
        found = self.chain_of(tensor)
        if found is not None or not isinstance(tensor, self.tensor_type):
            return found
        sources: dict[int, tuple[Any, _Source]] = self.__dict__["_chain_sources"]
        known = sources.get(id(tensor))
        if known is not None and known[0] is tensor:
            source = known[1]
        elif type(tensor).__name__ == "Parameter" and tensor.requires_grad:
            source = _Source(tensor=tensor, name=self._parameter_name(tensor))
        elif (index := self.producer(tensor)) is not None and index in self.folded:
            source = _Source(stage=index, layout=self.layout(tensor))
        else:
            return None
        sources[id(tensor)] = (tensor, source)
        return _Chain(source, self._source_ids(tensor, source, self._ids(tensor.numel())))

    def _parameter_name(self, tensor: Any) -> str:
        """The dotted name of a parameter of the module the call runs in."""
        for frame in reversed(self.frames):
            for name, parameter in frame.module.named_parameters():
                if parameter is tensor:
                    return f"{frame.name}.{name}" if frame.name else name
        return "parameter"

    @staticmethod
    def _source_ids(tensor: Any, source: _Source, ids: Any) -> Any:
        """Each element's position in the source's symconv (row-major) array (``ids``:
        ``torch.arange`` of its size)."""
        if source.stage is None:
            return ids.view(tuple(tensor.shape))
        layout = source.layout
        full = len(layout) == tensor.dim()
        sizes = [0] * len(layout)
        for size, axis in zip(tuple(tensor.shape)[0 if full else 1:], layout):
            sizes[axis] = int(size)
        ids = ids.view(tuple(sizes)).permute(*layout)
        return ids if full else ids.unsqueeze(0)

    def chain_call(self, function: Any, qualified: str, where: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any], result: Any) -> None:
        """Follow a call on constants only (no stage): where it moves or transforms a chain
        tensor, its result is one too."""
        tensors = [item for item in (*args, *kwargs.values()) if isinstance(item, self.tensor_type)]
        chains = [(item, self._start(item)) for item in tensors]
        chained = [(item, chain) for item, chain in chains if chain is not None]
        if not chained or not isinstance(result, self.tensor_type):
            return
        made = None
        if len(chained) == 1 and args and args[0] is chained[0][0]:
            with _quiet():
                made = self._follow(function, qualified, where, args, kwargs, result,
                                    chained[0][1])
        if made is None:   # an end; a write in place (zero_, x[i] = v) spoils what it wrote
            if qualified.endswith("_") or qualified == "Tensor.__setitem__":
                for _, chain in chained:
                    chain.base.written = True
            return
        self._chains()[id(result)] = (result, made)

    def _follow(self, function: Any, qualified: str, where: str, args: tuple[Any, ...],
                kwargs: dict[str, Any], result: Any, chain: _Chain) -> _Chain | None:
        if qualified in COPIES:
            return chain if tuple(chain.ids.shape) == tuple(result.shape) else None
        if qualified in MOVES:
            if qualified == "Tensor.view":    # of the ids, which a copy may have left strided
                function = self.tensor_type.reshape
            try:
                ids = function(chain.ids, *args[1:], **kwargs)
            except Exception:
                return None
            if not isinstance(ids, self.tensor_type) or tuple(ids.shape) != tuple(result.shape):
                return None
            return _Chain(chain.base, ids)
        layer = self._step(CHAIN_STEPS.get(qualified), args, kwargs)
        if layer is None:
            return None
        step = _Step(layer, chain, where)
        return _Chain(step, self._ids(result.numel()).view(tuple(result.shape)))

    def _step(self, step: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """:meth:`_step_layer`, made once per trace for each step and numbers (every block
        of a model clamps and scales alike)."""
        given = (*args[1:], *kwargs.items())
        if step is None or not all(type(item) in (int, float) or item is None or (
                type(item) is tuple and type(item[1]) in (int, float)) for item in given):
            return self._step_layer(step, args, kwargs)
        key = (step, tuple((type(item), item) for item in given))
        made: dict[Any, Any] = self.__dict__.setdefault("_steps", {})
        if key not in made:
            made[key] = self._step_layer(step, args, kwargs)
        return made[key]

    @staticmethod
    def _step_layer(step: str | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        from symconv.layers import Activation
        from symconv.layers.learned import Clamp, Exp
        from symconv.layers.products import MulScalar

        rest = args[1:]
        if step == "sigmoid" and not rest and not kwargs:
            return Activation("sigmoid", spelling="torch")
        if step == "exp" and not rest and not kwargs:
            return Exp()
        if step == "mul" and len(rest) == 1 and not kwargs and _exact(rest[0]) is not None:
            return MulScalar(_exact(rest[0]))
        if step == "clamp":
            names = ("min", "max")
            given = dict(zip(names, rest))
            given.update((name, value) for name, value in kwargs.items() if name in names)
            if set(kwargs) - set(names) or len(rest) > 2:
                return None
            low, high = (_exact(given.get(name)) for name in names)
            if (given.get("min") is not None and low is None) or (
                    given.get("max") is not None and high is None) or (low is None and high is None):
                return None
            return Clamp(low, high)
        return None

    # --- where a chain meets the input's path -----------------------------------------------
    def chain_operand(self, where: str, tensor: Any, padded: tuple[int, ...], layout: Layout,
                      full: bool) -> tuple[int, tuple[int, ...]] | None:
        """The stage whose output is ``tensor`` (a chain that gathered or transformed), in the
        symconv order of an operand of ``layout`` (``padded``: its PyTorch shape with leading
        ones, ``full``: whether the layout covers the first axis), its stages recorded; and
        that output's shape. ``None`` for a tensor that is no such chain."""
        chain = self.chain_of(tensor)
        if chain is None or self._spoiled(chain):
            return None
        with _quiet():
            ids = chain.ids.reshape(padded)
            if not full:
                ids = ids[0]
            order = [layout.index(axis) for axis in range(len(layout))]
            return self._gathered(where, chain.base, ids.permute(*order))

    @staticmethod
    def _spoiled(chain: _Chain) -> bool:
        """Whether a value the chain reads was written in place (its ids no longer say it)."""
        value: _Source | _Step = chain.base
        while isinstance(value, _Step):
            if value.written:
                return True
            value = value.input.base
        return value.written

    def _value(self, value: _Source | _Step) -> int:
        """The stage that computes ``value``, recorded once."""
        if value.stage is not None:
            return value.stage
        if isinstance(value, _Source):
            from symconv.layers.learned import Parameter

            shape = tuple(int(size) for size in value.tensor.shape) or (1,)
            value.stage = self._made(value.name, Parameter(shape), (-1,), shape)
            return value.stage
        from symconv.layers.learned import Folded

        source = self._gathered(value.where, value.input.base, value.input.ids)[0]
        shape = tuple(int(size) for size in value.input.ids.shape) or (1,)
        value.stage = self._made(value.where, Folded(value.layer), (source,), shape)
        return value.stage

    def _gathered(self, where: str, base: _Source | _Step, ids: Any) -> tuple[int, tuple[int, ...]]:
        """The stage whose output is ``base``'s elements at ``ids`` (symconv order), in
        ``ids``' shape: ``base`` itself where they are its elements in order, else a
        gather."""
        from symconv.layers.learned import Folded

        source = self._value(base)
        shape = tuple(int(size) for size in ids.shape) or (1,)
        have = tuple(self.calls[source].shape)
        flat = ids.reshape(-1)
        if flat.numel() == _numel(have) and self._in_order(flat):
            if shape[len(shape) - len(have):] == have and all(
                    size == 1 for size in shape[:len(shape) - len(have)]):
                return source, have    # broadcasts as it is
            from symconv.layers.tokens import Reshape

            return self._made(f"{where}.view", Folded(Reshape(shape)), (source,), shape), shape
        return self._made(f"{where}.gather", Folded(self._gather(flat, shape)), (source,),
                          shape), shape

    def _gather(self, flat: Any, shape: tuple[int, ...]) -> Any:
        """The gather of the positions ``flat`` in ``shape``, made once per trace: equal blocks
        gather alike (found by their sum, then compared)."""
        import torch

        made: dict[tuple[tuple[int, ...], int], list[tuple[Any, Any]]] = self.__dict__.setdefault(
            "_gathers", {})
        alike = made.setdefault((shape, int(flat.sum())), [])
        for positions, layer in alike:
            if torch.equal(positions, flat):
                return layer
        layer = _gather(flat, shape, self._ids)
        alike.append((flat, layer))
        return layer

    def _in_order(self, flat: Any) -> bool:
        """Whether ``flat`` (1-D) is ``0, 1, …``: a view of the shared ``arange`` at its start
        is, without a look at its elements."""
        import torch

        ids = self._ids(flat.numel())
        return (flat.data_ptr() == ids.data_ptr() and flat.is_contiguous()) or torch.equal(
            flat, ids)

    def _made(self, name: str, layer: Any, inputs: tuple[int, ...], shape: tuple[int, ...]) -> int:
        """Record a stage of a chain (its output a fresh tensor of ``shape``, symconv order)."""
        import torch

        self.record(self.unique(name), layer, inputs, torch.empty(shape),
                    layout=tuple(range(len(shape))))
        return len(self.calls) - 1


def _quiet() -> Any:
    """Calls on id tensors need not go through the tracer's mode."""
    import contextlib

    import torch

    return getattr(torch._C, "DisableTorchFunction", contextlib.nullcontext)()


def _gather(flat: Any, shape: tuple[int, ...], ids: Any) -> Any:
    """The :class:`~symconv.layers.learned.Gather` of the positions ``flat`` (1-D) in ``shape``:
    by rows (``columns=c``) where ``flat`` is whole rows of a table of ``c`` columns, taken
    column by column (``c`` a product of ``shape``'s leading sizes, the largest that fits:
    Swin's heads), else position by position. ``ids(n)`` is ``torch.arange(n)``."""
    import torch

    from symconv.layers.learned import Gather

    total = flat.numel()
    for end in range(len(shape) - 1, 0, -1):
        columns = _numel(shape[:end])
        if columns < 2 or total % columns:
            continue
        grid = flat.view(columns, total // columns)
        first = grid[0]
        if bool((first % columns == 0).all()) and torch.equal(
                grid, first + ids(columns).view(columns, 1)):
            return Gather(tuple((first // columns).tolist()), shape, columns=columns)
    return Gather(tuple(flat.tolist()), shape)


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total
