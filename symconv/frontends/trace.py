"""Run a PyTorch model once and record what it runs: :func:`trace`.

The model runs on a tensor of zeros of one concrete shape (batch 1, in eval mode, without
gradients), and two things watch it:

* a ``torch.overrides.TorchFunctionMode`` sees every call at the Python level with its
  spelling (``F.relu``, ``torch.relu``, ``x.relu()``, ``x + y``, ``torch.add``, ...);
* module hooks say which module each call ran inside, by its dotted name, and whether it ran
  in a ``torch.nn`` layer's own ``forward`` (then the layer is recorded as one call, with the
  arguments it was called with) or in a hook of the user's.

Which call made each tensor is known by the tensor's identity, so the record is the dataflow
graph of what ran: a model's own ``forward`` (loops, branches, a layer run twice or not at all),
hooks, keyword arguments and replaced ``forward`` methods included. Anything symconv cannot
count is recorded by name, as a refusal.

``Module.__call__`` runs global hooks before a module's own, so two global hooks (registered for
the trace only) and, on a module that has hooks of the user's, one more appended after them,
cut every call in phases::

    enter (global pre-hook) | user pre-hooks | start (appended pre-hook; or at enter) |
    forward | done (global forward hook) | user forward hooks | leave (appended; or at done)

A call made between ``enter`` and ``start`` runs in a pre-hook of the user's, one between
``done`` and ``leave`` in a forward hook; calls between ``start`` and ``done`` of a ``torch.nn``
layer are its own implementation and are not followed. ``x.add(y)`` and ``x + y`` reach the mode
as the same function: while tracing, ``torch.Tensor.add`` is wrapped (as ptflops patches it) to
tell a method call apart.

Inside a ``torch.nn`` layer, the convolution and linear kernels are not computed: the layer is
counted from its hyperparameters, and PyTorch's meta kernel gives the output's shape (an
uninitialised tensor of that shape goes on to the next layer); BatchNorm and the activations
symconv counts keep their input's shape (an uninitialised tensor of it, or the input itself in
place). Every other function runs for real. So no count may depend on a value: reading a value
computed from the input into Python (``bool(t)``, ``t.item()``) is refused by name; the input is
zeros (the cheapest to make), the tensors the layers hand on uninitialised, and symconv counts a
model whatever its input.

This module imports torch inside its functions only; ``import symconv`` never imports it.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from symconv.errors import SymconvError, shown
from symconv.frontends.functions import (
    Binary,
    Concat,
    Product,
    binary_operands,
    cat_operands,
    function_layer,
    tensors_of,
)
from symconv.frontends.functions import (
    output_padding as padding_of,
)
from symconv.frontends.input_check import check_eager
from symconv.frontends.kernels import mode_class
from symconv.frontends.layouts import Layout, default_layout, symconv_shape
from symconv.frontends.load import _first_line
from symconv.frontends.mapping import (
    FUNCTIONS,
    METADATA,
    VALUE_READS,
    Unsupported,
    is_leaf,
    refusal,
)
from symconv.frontends.module_mode import in_eval_mode, not_run, restore
from symconv.frontends.requires_grad import with_requires_grad
from symconv.frontends.resize import interpolate_layer
from symconv.frontends.shuffle import SHUFFLE_PATTERN, ChannelMoves
from symconv.frontends.trace_dropout import functional_dropout
from symconv.frontends.trace_records import INPUT, Call, Skipped, Sum, Trace
from symconv.frontends.trace_transformer import REFUSED, TransformerCalls, constant_movement, leaf_layer, transformer_function
from symconv.layers import Flatten, Layer

__all__ = ["Call", "Sum", "Binary", "Concat", "Skipped", "Trace", "trace", "INPUT"]

#: A tensor made by a part symconv cannot count (already refused by name).
_REFUSED = REFUSED
#: Tensor methods wrapped while tracing, so that ``x.add(y)`` is told apart from ``x + y``
#: (ptflops patches these attributes: it counts the first and not the second).
_METHODS = ("add", "mul", "matmul")
_WRAPPED = frozenset(f"Tensor.{name}" for name in _METHODS)


def _qualified(function: Any, wrappers: Any) -> str:
    """The name a function is known by in :data:`~symconv.frontends.mapping.FUNCTIONS`."""
    for name, wrapper in wrappers.items():
        if function is wrapper:
            return f"Tensor.{name}"
    name = getattr(function, "__name__", None) or type(function).__name__
    owner = getattr(function, "__self__", None)
    if name == "__get__" and owner is not None:  # a tensor attribute: x.shape, x.T, ...
        return f"Tensor.{getattr(owner, '__name__', '?')}"
    qualname = getattr(function, "__qualname__", "") or ""
    if qualname.startswith(("TensorBase.", "Tensor.")):
        return f"Tensor.{name}"
    if qualname.startswith("_VariableFunctionsClass."):
        return f"torch.{name}"
    module = getattr(function, "__module__", None)
    return f"{module}.{name}" if module else name


def _short(qualified: str) -> str:
    """A call's name in its stage name: ``add`` for ``Tensor.__add__``, ``relu`` for ``F.relu``."""
    last = qualified.rsplit(".", 1)[-1]
    return last.strip("_") or last


@dataclass(slots=True)
class _Frame:
    """One module call in progress: its module, dotted name, and phase."""

    module: Any
    name: str
    phase: str = "pre"  # "pre": its pre-hooks; "forward"; "post": its forward hooks
    leaf: bool = False
    inside: bool = False  # called from inside a torch.nn layer's forward: not followed


class _Recorder(TransformerCalls):
    """The state of one trace; the mode and the hooks call into it."""

    def __init__(self, modules: list[tuple[str, Any]], tensor_type: Any, wrappers: Any,
                 skip: bool = False) -> None:
        self.skip = skip
        self.skipped: list[str] = []
        self.names = {id(module): name for name, module in modules}
        self.leaves = {id(module) for _, module in modules if is_leaf(module)}
        #: Modules with hooks of the user's, before and after forward.
        self.pre_hooked = {id(module) for _, module in modules if module._forward_pre_hooks}
        self.post_hooked = {id(module) for _, module in modules if module._forward_hooks}
        self.tensor_type = tensor_type
        self.wrappers = wrappers
        self.calls: list[Call] = []
        self.refused: list[str] = []
        self.values: dict[int, tuple[Any, int]] = {}  # id(tensor) -> (tensor, producer)
        #: id(tensor) -> its layout, where it is not the default (PyTorch permuted it)
        self.layouts: dict[int, Layout] = {}
        self.frames: list[_Frame] = []
        self.ran: set[str] = set()  # the modules that ran (their dotted names)
        self.taken: set[str] = {"input"}
        self.named: list[str] = []  # the names given, in order (release)
        self.folded: set[int] = set()  # stages run on constants only (trace_windows)
        self.opaque = 0  # > 0 inside a torch.nn layer's own forward
        self.busy = False  # inside our own hooks and bookkeeping
        self.moves = ChannelMoves(self, _REFUSED)  # channel shuffle, chunk and split

    def unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.taken:
            candidate, number = f"{name}#{number}", number + 1
        self.taken.add(candidate)
        self.named.append(candidate)
        return candidate

    def release(self, mark: tuple[int, int]) -> None:
        """Free the names given since ``mark`` (``len(self.named), len(self.calls)``) that no
        stage took: a call refused while its layer was being built keeps its own name, not
        ``name#2``."""
        named, calls = mark
        kept = {call.name for call in self.calls[calls:]}
        for name in self.named[named:]:
            if name not in kept:
                self.taken.discard(name)
        del self.named[named:]

    def producer(self, tensor: Any) -> int | None:
        """The call that made ``tensor``; ``None`` for a tensor from elsewhere (a parameter,
        a buffer, a constant)."""
        entry = self.values.get(id(tensor))
        return entry[1] if entry is not None and entry[0] is tensor else None

    def set(self, tensor: Any, producer: int, layout: Layout | None = None) -> None:
        self.values[id(tensor)] = (tensor, producer)
        self.remember_layout(tensor, layout)

    def refuse(self, where: str, what: str, why: str) -> None:
        self.refused.append(f"{where} ({what}: {why})")

    def unsupported(self, where: str, what: str, why: str, outputs: list[Any],
                    inputs: list[Any]) -> None:
        """A call symconv cannot count: refused by name, or (skip mode) a :class:`Skipped` stage
        per output, fed by an input of its shape (``scale * x``: ``x``), else the first."""
        if not self.skip or not outputs:
            self.refuse(where, what, why)
            for tensor in outputs:
                self.set(tensor, _REFUSED)
            return
        text = f"{where} ({what}: {why})"
        self.skipped.append(text)
        computed = [(tensor, found) for tensor in inputs
                    if (found := self.producer(tensor)) is not None and found != _REFUSED]
        for number, tensor in enumerate(outputs):
            same = [found for item, found in computed if tuple(item.shape) == tuple(tensor.shape)]
            source = same[0] if same else computed[0][1] if computed else INPUT
            name = where if number == 0 else self.unique(f"{where}[{number}]")
            self.record(name, Skipped(text), (source,), tensor)

    def nested(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """The tensors among a call's arguments, in lists and tuples too (``torch.cat([a, b])``)."""
        found: list[Any] = []
        for item in (*args, *kwargs.values()):
            if isinstance(item, (list, tuple)):
                found.extend(value for value in item if isinstance(value, self.tensor_type))
            elif isinstance(item, self.tensor_type):
                found.append(item)
        return found

    def scope(self) -> tuple[str, str]:
        """The module the current call runs in, and the words for where in it."""
        for frame in reversed(self.frames):
            if not frame.inside:
                hook = {"pre": "in a forward pre-hook of ", "post": "in a forward hook of "}
                where = hook.get(frame.phase, "")
                return frame.name, f"{where}{frame.name or 'the model'}" if where else ""
        return "", ""

    def record(self, name: str, op: Layer | Sum | Binary | Concat | Product | Skipped, inputs: tuple[int, ...], output: Any,
               size_dependent: str = "", layout: Layout | None = None) -> None:
        shape = symconv_shape(output.shape, layout or default_layout(output.dim() - 1))
        self.calls.append(Call(name, op, inputs, shape, size_dependent))
        self.set(output, len(self.calls) - 1, layout)

    # --- hooks ------------------------------------------------------------------------
    def enter(self, module: Any, args: Any) -> None:
        """Global pre-hook: before the module's own pre-hooks."""
        name = self.names.get(id(module))
        if name is None:  # not a module of the model (made in forward, another model)
            return
        self.frames.append(_Frame(module, name, inside=self.opaque > 0))
        self.ran.add(name)
        if id(module) not in self.pre_hooked:
            self.start(module, args, {})

    def start(self, module: Any, args: Any, kwargs: Any) -> None:
        """After the module's own pre-hooks, as its forward starts."""
        frame = self.frames[-1]
        if frame.inside:
            return
        frame.phase = "forward"
        if id(module) in self.leaves:
            frame.leaf = True
            self.opaque += 1

    def done(self, module: Any, args: Any, *rest: Any) -> None:
        """Global forward hook: after forward, before the module's own forward hooks (called
        ``(module, args, output)``, without kwargs, when forward raised)."""
        if id(module) not in self.names:
            return
        if len(rest) != 2 or not self.frames or self.frames[-1].module is not module:
            self.leave(module)  # forward raised, or a frame was left behind by an error
            return
        kwargs, output = rest
        frame = self.frames[-1]
        if not frame.inside:
            frame.phase = "post"
            if frame.leaf:
                self.opaque -= 1
                frame.leaf = False
                self.leaf_call(frame, tuple(args), dict(kwargs), output)
        if id(module) not in self.post_hooked:
            self.leave(module)

    def leave(self, module: Any, *rest: Any) -> None:
        """After the module's own forward hooks (or at once, without any)."""
        if id(module) not in self.names:
            return
        while self.frames:
            frame = self.frames.pop()
            if frame.leaf:  # its forward raised: done() never recorded it
                self.opaque -= 1
            if frame.module is module:
                return

    # --- a torch.nn layer's call ----------------------------------------------------------
    def leaf_call(self, frame: _Frame, args: tuple[Any, ...], kwargs: dict[str, Any],
                  output: Any) -> None:
        module = frame.module
        where = frame.name or "model"
        what = f"nn.{type(module).__name__}"
        if not args and "input" in kwargs:  # self.conv(input=x)
            kwargs = dict(kwargs)
            args = (kwargs.pop("input"),)
        first = args[0] if args else None
        outputs = tensors_of(output, self.tensor_type)
        if type(module).__name__ == "MultiheadAttention":
            self.attention_call(self.unique(where), what, module, args, kwargs, outputs)
            return
        try:
            if not isinstance(first, self.tensor_type):
                raise Unsupported("called without a tensor as its first argument")
            output_padding, size_dependent = None, ""
            extra = dict(kwargs)
            if len(args) > 1:
                if type(module).__name__.startswith("ConvTranspose") and len(args) == 2:
                    extra["output_size"] = args[1]
                else:
                    raise Unsupported(f"called with {len(args)} arguments; symconv follows "
                                      "one input tensor")
            if extra:
                if set(extra) != {"output_size"} or not type(module).__name__.startswith(
                        "ConvTranspose"):
                    raise Unsupported(f"called with {', '.join(sorted(extra))}=...; symconv "
                                      "follows the layer's own arguments only")
                if extra["output_size"] is not None:
                    output_padding = padding_of(module, first, output)
                    size_dependent = (f"called with output_size={shown(extra['output_size'])}, "
                                      "which fixes its output size")
            layer, layout = leaf_layer(module, first, output_padding, self.input_layout(first, module))
            if layer is not None:
                layer = with_requires_grad(layer, module)
            if len(outputs) != 1 or not isinstance(output, self.tensor_type):
                raise Unsupported("returns more than one tensor")
        except Unsupported as reason:
            inputs = [item for item in (*args, *kwargs.values())
                      if isinstance(item, self.tensor_type)]
            self.unsupported(self.unique(where), what, str(reason), outputs, inputs)
            return
        if self.moves.uses_pending([first]):
            self.refuse(self.unique(where), what, SHUFFLE_PATTERN)
            for tensor in outputs:
                self.set(tensor, _REFUSED)
            return
        source = self.producer(first)
        if source is None:  # a constant: an identity keeps it one; a layer runs on its stage
            if layer is None:
                return
            source = self.constant_stage(where, first, layout or self.layout(first))
        if source == _REFUSED:
            self.set(output, _REFUSED)
        elif layer is None:  # an identity at inference
            self.set(output, source, layout)
        else:
            self.record(self.unique(where), layer, (source,), output, size_dependent, layout)
            self.fold(source)

    def binary(self, where: str, kind: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any) -> None:
        """``a * b``, ``a - b``, ``a / b`` of two tensors computed from the input."""
        operands = binary_operands(args, kwargs, self.tensor_type)
        self.record(self.unique(where), Binary(kind), tuple(map(self.producer, operands)),  # type: ignore[arg-type]
                    result)

    def cat(self, where: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any) -> None:
        """``torch.cat([a, b, ...], dim=1)`` of tensors computed from the input."""
        sources = tuple(map(self.producer, cat_operands(args, kwargs, self.tensor_type)))
        if _REFUSED in sources:  # a part already refused by name feeds it
            self.set(result, _REFUSED)
            return
        if None in sources:
            raise Unsupported("it uses a tensor that is not computed from the model's input "
                              "(a parameter, a buffer or a constant)")
        if len(sources) == 1:  # torch.cat([x], 1): x again (DenseNet's first layer)
            self.set(result, sources[0])  # type: ignore[arg-type]
            return
        self.record(self.unique(where), Concat(), sources, result)  # type: ignore[arg-type]

    # --- a function call --------------------------------------------------------------
    def function_call(self, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                      result: Any, method: bool) -> None:
        qualified = _qualified(function, self.wrappers)
        scope, hook = self.scope()
        short = _short(qualified)
        where = f"{scope}.{short}" if scope else short
        what = f"{qualified} {hook}" if hook else qualified
        outputs = tensors_of(result, self.tensor_type)
        key = f"{qualified}:method" if method and qualified in _WRAPPED else qualified
        known = FUNCTIONS.get(key) or transformer_function(key)
        tensors_in = [item for item in (*args, *kwargs.values())
                      if isinstance(item, self.tensor_type)]
        try:
            if self.moves.handle(qualified, where, args, kwargs, result, self.tensor_type):
                return
        except Unsupported as reason:
            self.refuse(self.unique(where), what, str(reason))
            for tensor in outputs:
                self.set(tensor, _REFUSED)
            return
        if self.moves.uses_pending(self.nested(args, kwargs)):
            self.refuse(self.unique(where), what, SHUFFLE_PATTERN)
            for tensor in outputs:
                self.set(tensor, _REFUSED)
            return
        sources = [None if found in self.folded else found
                   for found in map(self.producer, tensors_in)]
        if constant_movement(qualified, sources):  # on parameters and constants: no stage
            return self.chain_call(function, qualified, where, args, kwargs, result)
        if known is None:
            if not outputs and qualified in METADATA:
                return
            if qualified in VALUE_READS:
                if any(source is not None and source != _REFUSED for source in sources):
                    self.refuse(self.unique(where), what, "it reads the values of a tensor "
                                "computed from the input into Python; symconv counts a model "
                                "whatever its input's values, so not control flow on them")
                return
            self.unsupported(self.unique(where), what, refusal(short), outputs,
                             self.nested(args, kwargs))
            return
        if _REFUSED in sources:
            for tensor in outputs:
                self.set(tensor, _REFUSED)
            return
        mark = len(self.named), len(self.calls)
        try:
            self.known_call(known.role, known, where, args, kwargs, result, sources)
        except Unsupported as reason:
            self.release(mark)
            self.unsupported(self.unique(where), what, str(reason), outputs,
                             self.nested(args, kwargs))

    def known_call(self, role: str, known: Any, where: str, args: tuple[Any, ...],
                   kwargs: dict[str, Any], result: Any, sources: list[int | None]) -> None:
        tensor_type = self.tensor_type
        if self.transformer_call(role, known.spelling, where, args, kwargs, result, sources):
            return
        if role == "cat":
            self.cat(where, args, kwargs, result)
            return
        first = args[0] if args else kwargs.get("input")
        if not isinstance(first, tensor_type) or not isinstance(result, tensor_type):
            raise Unsupported("symconv follows it on one tensor, returning one tensor")
        layout = self.layout(first)
        if None in sources:
            raise Unsupported("it uses a tensor that is not computed from the model's input "
                              "(a parameter, a buffer or a constant)")
        source = self.producer(first)
        assert source is not None
        self.check_layouts(role, first, self.nested(args, kwargs), layout, where)
        if role == "dropout":
            dropped = functional_dropout(known.spelling, first.dim() - 1, args, kwargs,
                                         channels_first=layout == default_layout(first.dim() - 1))
            if dropped is not None:   # training=self.training: a dropout of the training step
                self.record(self.unique(where), dropped, (source,), result, layout=layout)
                return
        if role == "refused":
            raise Unsupported(known.spelling)
        if role in ("identity", "dropout"):
            self.set(result, source, layout)
        elif role == "binary":
            self.binary(where, known.spelling, args, kwargs, result)
        elif role == "interpolate":
            self.record(self.unique(where), interpolate_layer(first, args, kwargs), (source,),
                        result)
        elif role in ("mean", "pool"):
            self.record(self.unique(where), function_layer(role, known.spelling, first, args,
                                                           kwargs), (source,), result)
        elif role == "layer":
            # its other arguments (negative_slope, min_val, inplace, ...) change values, not
            # the operations done per element; a second tensor is refused above (sources)
            if len(sources) != 1:
                raise Unsupported("symconv follows it on one tensor")
            self.record(self.unique(where), known.layer, (source,), result, layout=layout)
        elif role == "flatten":
            total = 1
            for size in first.shape[1:]:
                total *= int(size)
            if tuple(result.shape) != (first.shape[0], total) or first.shape[0] != 1:
                raise Unsupported(f"reshapes {tuple(first.shape)} to {tuple(result.shape)}; "
                                  "symconv follows flattening to (batch, features) only, as "
                                  "x.view(x.size(0), -1) or torch.flatten(x, 1)")
            self.record(self.unique(where), Flatten(), (source,), result)
        else:  # "add"
            other = args[1] if len(args) > 1 else kwargs.get("other")
            if not isinstance(other, tensor_type):
                raise Unsupported(f"adds {type(other).__name__} {shown(other, 20)}; symconv adds "
                                  "two tensors")
            if set(kwargs) - {"other"} or len(args) > 2:
                raise Unsupported("only a + b of two tensors is supported (no alpha, no out)")
            if tuple(first.shape) != tuple(other.shape):
                raise Unsupported(f"adds tensors of shapes {tuple(first.shape)} and "
                                  f"{tuple(other.shape)}; symconv adds tensors of one shape "
                                  "(no broadcasting)")
            second = self.producer(other)
            assert second is not None
            self.record(self.unique(where), Sum(known.spelling), (source, second), result,
                        layout=layout)


def trace(model: Any, shape: tuple[int, ...], *, skip: bool = False) -> Trace:
    """Run ``model`` once on an input of zeros of channels-last ``shape`` and record what it ran.

    The model runs in eval mode (``model.eval()``: Dropout is an identity, BatchNorm uses its
    running statistics) without gradients, on a batch of one; every module's mode is restored
    afterwards (:mod:`~symconv.frontends.module_mode`), and every hook removed. With ``skip``, a part symconv cannot count that makes
    tensors is recorded as a :class:`Skipped` call (listed in ``Trace.skipped``) instead of
    refused.

    Raises
    ------
    SymconvError
        When the model raises while it runs (the error's type and first line said), or returns
        no tensor.
    KeyboardInterrupt
        Untouched: Ctrl-C stops a model that does not finish.
    """
    import torch

    torch_shape = (1, shape[-1], *shape[:-1]) if len(shape) > 1 else (1, *shape)
    x = torch.zeros(torch_shape)  # its values are never needed (and randn's cost 0.7 ms)
    flags = threading.local()
    own = {name: vars(torch.Tensor).get(name) for name in _METHODS}

    def wrapped(original: Any) -> Any:
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            flags.method = getattr(flags, "method", 0) + 1
            try:
                return original(self, *args, **kwargs)
            finally:
                flags.method -= 1
        return method

    wrappers = {name: wrapped(getattr(torch.Tensor, name)) for name in _METHODS}
    modules = list(model.named_modules())
    check_eager(modules)
    recorder = _Recorder(modules, torch.Tensor, wrappers, skip)
    recorder.set(x, INPUT)

    # Inside the hooks, reading a tensor's shape need not go through the mode.
    quiet = getattr(torch._C, "DisableTorchFunction", contextlib.nullcontext)

    def hooked(hook: Any) -> Any:
        def run(*arguments: Any) -> None:
            if recorder.busy:
                return
            recorder.busy = True
            try:
                with quiet():
                    hook(*arguments)
            finally:
                recorder.busy = False
        return run

    from torch.nn.modules.module import (
        register_module_forward_hook,
        register_module_forward_pre_hook,
    )

    handles, modes = [], []
    try:
        # Hooks on every module, global; a module with hooks of the user's gets one more
        # before forward (after the user's pre-hooks) or after them (after the user's hooks).
        handles.append(register_module_forward_pre_hook(hooked(recorder.enter)))
        handles.append(register_module_forward_hook(hooked(recorder.done), with_kwargs=True,
                                                    always_call=True))
        # before any global forward hook of the user's, so that what those do is recorded
        global_hooks: Any = getattr(torch.nn.modules.module, "_global_forward_hooks", None)
        if hasattr(global_hooks, "move_to_end"):
            global_hooks.move_to_end(handles[-1].id, last=False)
        for _, module in modules:
            if id(module) in recorder.pre_hooked:
                handles.append(module.register_forward_pre_hook(hooked(recorder.start),
                                                                with_kwargs=True))
            if id(module) in recorder.post_hooked:
                handles.append(module.register_forward_hook(hooked(recorder.leave),
                                                            always_call=True))
        modes = in_eval_mode(model, [module for _, module in modules])
        for name, wrapper in wrappers.items():
            setattr(torch.Tensor, name, wrapper)
        with torch.no_grad(), mode_class()(recorder, flags):
            output = model(x)
    except (Exception, SystemExit) as error:
        shape_text = "×".join(str(size) for size in torch_shape)
        before = f"; before that: {'; '.join(recorder.refused)}" if recorder.refused else ""
        raise SymconvError(
            f"from_torch: the model raised {type(error).__name__} when run on an input of "
            f"PyTorch shape {shape_text}: {first_line(error)}{before}"
        ) from None
    finally:
        for method, kept in own.items():
            if kept is None:
                delattr(torch.Tensor, method)
            else:
                setattr(torch.Tensor, method, kept)
        for handle in handles:
            handle.remove()
        restore(modes)
    for where, what, why in recorder.moves.unmerged():
        recorder.refuse(recorder.unique(where), what, why)
    if not isinstance(output, torch.Tensor):
        recorder.refused.append(f"model (returns {type(output).__name__}, not one tensor; "
                                "symconv follows a model with one output tensor)")
        produced = _REFUSED
    else:
        found = recorder.producer(output)
        if found is None:
            recorder.refused.append("model (returns a tensor that is not computed from its "
                                    "input)")
            found = _REFUSED
        produced = found
    return Trace(tuple(recorder.calls), produced, tuple(recorder.refused),
                 tuple(recorder.skipped), not_run(modules, recorder.ran))


def first_line(error: BaseException) -> str:
    """The first line of an error's message, control characters escaped, at most 200
    characters."""
    return _first_line(error)
