"""What a trace records (:func:`symconv.frontends.trace.trace`): each call, and the run as a whole.

Examples
--------
>>> Call("relu", Sum("+"), (INPUT,), (4, 4, 8)).inputs
(-1,)
"""

from __future__ import annotations

from dataclasses import dataclass

from symconv.frontends.functions import Binary, Concat, Product
from symconv.layers import Layer

__all__ = ["INPUT", "Sum", "Skipped", "Call", "Trace"]

#: The producer of the model's input tensor.
INPUT = -1


@dataclass(frozen=True)
class Sum:
    """Two tensors added element by element, written as ``spelling`` (``"+"``, ``"torch.add"``)."""

    spelling: str


@dataclass(frozen=True)
class Skipped:
    """A part symconv cannot count, kept (``unsupported="skip"``) as a costless stage that
    hands on a tensor of the shape PyTorch produced; ``what`` is its refusal, as listed."""

    what: str


@dataclass(frozen=True)
class Call:
    """One recorded call: its unique stage ``name``, what it is (a symconv ``Layer`` or a
    :class:`Sum`), the calls that made its inputs (:data:`INPUT` for the model's input), and the
    channels-last shape of the tensor PyTorch produced."""

    name: str
    op: Layer | Sum | Binary | Concat | Skipped | Product
    inputs: tuple[int, ...]
    shape: tuple[int, ...]
    #: Why the layer's hyperparameters depend on the input size (``""``: they do not).
    size_dependent: str = ""


@dataclass(frozen=True)
class Trace:
    """What one run of a model did: its calls in order, the producer of its output, and every
    part symconv cannot count (``"name (what: why)"``)."""

    calls: tuple[Call, ...]
    output: int
    refused: tuple[str, ...]
    #: With ``skip=True``: the refusals kept as :class:`Skipped` stages (``refused`` then holds
    #: only what cannot be skipped: a value read into Python, an output that is not a tensor).
    skipped: tuple[str, ...] = ()
    #: The modules that hold parameters and did not run (:func:`~symconv.frontends.module_mode.not_run`).
    not_run: tuple[str, ...] = ()
