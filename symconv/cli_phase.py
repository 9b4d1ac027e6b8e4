"""The command line's training options: ``--phase forward|backward|train`` (``compare``,
``derive``, ``verify``, ``net``), ``--no-input-grad`` (``compare``, ``derive``, ``verify``: the layer
is a network's first, its input is data) and ``--optimizer`` (``net --phase train``);
:func:`forward_only` refuses a backward or training phase where a report has none.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_phase(parser, layer=True)
>>> phase(parser.parse_args(["--phase", "train", "--no-input-grad"]))
{'phase': 'train', 'input_grad': False}
>>> phase(parser.parse_args([]))
{}
"""

from __future__ import annotations

import argparse
from typing import Any

from symconv.errors import SymconvError, shown

__all__ = ["add_phase", "phase", "forward_only", "add_optimizer", "optimizer", "PHASES"]

PHASES = ("forward", "backward", "train")


def add_phase(parser: argparse.ArgumentParser, *, layer: bool = False) -> None:
    """``--phase``; for a single layer (``layer=True``) also ``--no-input-grad``."""
    if layer:
        parser.add_argument("--phase", default="forward", metavar="{forward,backward,train}",
                            help="the forward pass (default), the backward pass (gradients), or "
                                 "a training step (both); the layer is taken to sit inside a "
                                 "network: its input gradient is computed (see --no-input-grad)")
        parser.add_argument("--no-input-grad", action="store_true",
                            help="with --phase backward or train: the layer is a network's "
                                 "first, its input is data and needs no gradient")
        return
    parser.add_argument("--phase", default="forward", metavar="{forward,backward,train}",
                        help="the forward pass (default), the backward pass (gradients), or a "
                             "training step (both); a network's input needs no gradient")


def phase(args: argparse.Namespace) -> dict[str, Any]:
    """``{"phase": ...}`` (and ``"input_grad": False`` with ``--no-input-grad``) when
    ``--phase`` is not the forward pass, checked."""
    chosen = getattr(args, "phase", "forward")
    if chosen not in PHASES:
        raise SymconvError(f"--phase {shown(chosen, bare=True)} is unknown; use forward, "
                           "backward or train")
    no_input_grad = getattr(args, "no_input_grad", False)
    if chosen == "forward":
        if no_input_grad:
            raise SymconvError("--no-input-grad is about the backward pass; add --phase "
                               "backward or train, or drop it")
        return {}
    return {"phase": chosen, **({"input_grad": False} if no_input_grad else {})}


def forward_only(args: argparse.Namespace, option: str, reason: str) -> None:
    """Refuse ``--phase backward|train`` with ``option``, a report of the forward pass only
    (``reason`` says why); ``--phase forward`` is accepted.

    Examples
    --------
    >>> forward_only(argparse.Namespace(phase="forward"), "--memory", "it sizes inference")
    >>> forward_only(argparse.Namespace(phase="train"), "--memory", "it sizes inference")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    symconv.errors.SymconvError: --phase train does nothing with --memory, ... drop --phase
    """
    chosen = phase(args).get("phase", "forward")
    if chosen != "forward":
        raise SymconvError(f"--phase {chosen} does nothing with {option}, which reports the "
                           f"forward pass only ({reason}); drop --phase")


def add_optimizer(parser: argparse.ArgumentParser) -> None:
    """``--optimizer`` of ``net``."""
    from symconv.layers.optimizers import OPTIMIZERS

    parser.add_argument("--optimizer", metavar="{" + ",".join(OPTIMIZERS) + "}",
                        help="with --phase train: one optimizer step more, torch.optim's "
                             "per-parameter operations (defaults of torch.optim; sgd_momentum: "
                             "0.9) on the trainable parameters")


def optimizer(args: argparse.Namespace) -> dict[str, Any]:
    """``{"optimizer": name}`` when ``--optimizer`` is given, checked against ``--phase``."""
    name = getattr(args, "optimizer", None)
    if name is None:
        return {}
    from symconv.layers.optimizers import OPTIMIZERS

    if name not in OPTIMIZERS:
        raise SymconvError(f"--optimizer {shown(name, bare=True)} is unknown; use one of "
                           f"{', '.join(OPTIMIZERS)}")
    if getattr(args, "phase", "forward") != "train":
        raise SymconvError("--optimizer adds a step of training; add --phase train, or drop "
                           "--optimizer")
    return {"optimizer": name}
