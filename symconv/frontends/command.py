"""What ``symconv net path/to/model.py:factory`` (or ``package.module:factory``) does with the
model: :func:`count_model_file`.

* ``--factory-kwargs '{"num_classes": 10}'`` is parsed with ``json.loads`` (never evaluated) and
  must be a JSON object; its keys are the factory's keyword arguments (:func:`factory_kwargs`).
* ``--input 3x224x224`` for a model whose first layer takes 3 channels is refused with "did you
  mean 224x224x3?" (:func:`check_channels_last`): symconv's shapes are channels last.
* ``--skip-unsupported`` counts the parts symconv cannot count as zero
  (``from_torch(..., unsupported="skip")``).
* Every report says the model was counted in eval mode (:data:`~symconv.frontends.torch.COUNTED_MODE`;
  with ``--phase backward|train``, as PyTorch trains it: BatchNorm's batch statistics, Dropout),
  and lists every uncounted part; JSON gets ``"counted_mode"`` (``"eval"``, ``"train"``) and ``"uncounted"``
  (:func:`noted`).

Examples
--------
>>> factory_kwargs('{"num_classes": 10}')
{'num_classes': 10}
>>> factory_kwargs("dict(num_classes=10)")
Traceback (most recent call last):
...
symconv.errors.SymconvError: --factory-kwargs 'dict(num_classes=10)' is not JSON (Expecting value: line 1 column 1 (char 0)); ...
>>> print(with_notes('{\\n  "total": 3\\n}', "json", ["act (nn.Mish: ...)"]))
{
  "total": 3,
  "counted_mode": "eval",
  "uncounted": [
    "act (nn.Mish: ...)"
  ]
}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from symconv.errors import SymconvError, shown

__all__ = ["count_model_file", "load_model_file", "factory_kwargs", "check_channels_last", "noted", "with_notes"]

_EVAL = ("Counted in eval mode (model.eval(): Dropout is an identity, BatchNorm uses its running "
         "statistics, or the batch's where it keeps none).")
_TRAIN = ("Traced in eval mode (model.eval()), counted as PyTorch trains: BatchNorm with batch "
          "statistics, Dropout applied.")


def factory_kwargs(text: str | None) -> dict[str, object] | None:
    """``--factory-kwargs``: a JSON object of keyword arguments (``None`` when not given)."""
    if text is None:
        return None
    example = "give a JSON object like '{\"num_classes\": 10}'"
    try:
        value = json.loads(text)
    except ValueError as error:
        reason = str(error).splitlines()[0]
        raise SymconvError(f"--factory-kwargs {shown(text)} is not JSON ({reason}); "
                           f"{example}") from None
    if not isinstance(value, dict):
        raise SymconvError(f"--factory-kwargs {shown(text)} is a JSON {type(value).__name__}, "
                           f"not an object of keyword arguments; {example}")
    bad = [key for key in value if not key.isidentifier()]
    if bad:
        raise SymconvError(f"--factory-kwargs {shown(text)}: {shown(bad[0])} is not an argument "
                           f"name; {example}")
    return value


def check_channels_last(model: Any, text: str, shape: Sequence[int | object]) -> None:
    """Refuse ``--input`` written channels first (``3x224x224``) for a model whose first layer
    takes as many channels as the first size and not as the last."""
    from symconv.frontends.input_check import channels_first_suggestion

    found = channels_first_suggestion(model, shape)
    if found is not None:
        why, suggested = found
        raise SymconvError(f"--input {text}: {why}: did you mean "
                           f"{'x'.join(str(size) for size in suggested)}?")


def with_notes(text: str, format_name: str, skipped: Sequence[str],
               phase: str = "forward", not_run: Sequence[str] = ()) -> str:
    """A report with the note on the mode it was counted in (eval; for a ``phase`` other than
    ``"forward"``, training, and the modules with parameters that did not run in eval mode:
    ``Graph.not_run``) and the list of uncounted parts, in its format."""
    mode_note = _EVAL if phase == "forward" else _TRAIN
    if phase != "forward" and not_run:
        mode_note += (" Not counted: modules that hold parameters but did not run in eval mode, "
                      "which the model may run in training mode only (if self.training: ..., "
                      f"as auxiliary classifiers): {', '.join(not_run)}.")
    if format_name == "json":
        data = json.loads(text)
        data["counted_mode"] = "eval" if phase == "forward" else "train"
        data["uncounted"] = list(skipped)
        if phase != "forward":
            data["not_run"] = list(not_run)
        return json.dumps(data, ensure_ascii=False, indent=2)
    heading = (f"Not counted (--skip-unsupported: 0 in every count above), {len(skipped)} "
               f"part{'s' if len(skipped) != 1 else ''}:")
    if format_name == "latex":
        def escape(line: str) -> str:
            for old, new in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("#", r"\#"),
                             ("%", r"\%"), ("&", r"\&"), ("$", r"\$"), ("{", r"\{"),
                             ("}", r"\}"), ("^", r"\^{}"), ("~", r"\~{}")):
                line = line.replace(old, new) if old != "\\" else line.replace(old, "\0")
            return line.replace("\0", r"\textbackslash{}")

        notes = "\n\n" + escape(mode_note)
        if skipped:
            items = "\n".join(rf"  \item {escape(part)}" for part in skipped)
            notes += f"\n\n{escape(heading)}\n\\begin{{itemize}}\n{items}\n\\end{{itemize}}"
        end = r"\end{document}"
        if end in text:
            head, _, tail = text.rpartition(end)
            return f"{head.rstrip()}{notes}\n{end}{tail}"
        return text.rstrip("\n") + notes
    bullet = "- " if format_name == "markdown" else "  "
    notes = "\n\n" + mode_note
    if skipped:
        notes += "\n" + heading + "".join(f"\n{bullet}{part}" for part in skipped)
    return text.rstrip("\n") + notes


def noted(write: Callable[..., str], net: Any, format_name: str,
          phase: str = "forward") -> Callable[..., str]:
    """``write`` (a renderer), its report followed by :func:`with_notes`'s notes for ``net``."""
    from symconv.frontends.build import uncounted

    skipped = uncounted(net)
    idle = getattr(net, "not_run", ())

    def written(*values: Any, **keywords: Any) -> str:
        return with_notes(write(*values, **keywords), format_name, skipped, phase, idle)

    return written


def load_model_file(args: Any, shape: tuple[Any, ...]) -> Any:
    """Load ``args.network`` with ``--factory-kwargs``, check ``--input``'s layout (``shape``),
    and trace it with ``from_torch`` (``--skip-unsupported``): the network."""
    from symconv.frontends.torch import from_torch, load_model

    keywords = factory_kwargs(getattr(args, "factory_kwargs", None))
    model = load_model(args.network) if keywords is None else load_model(args.network, keywords)
    try:
        check_channels_last(model, args.input, shape)
    except SymconvError:
        # the refusal says "did you mean ...?" itself: drop --input's warning that repeats it
        warnings = getattr(args, "warnings", None)
        if warnings:
            warnings[:] = [line for line in warnings if "looks channels-first" not in line]
        raise
    skip = bool(getattr(args, "skip_unsupported", False))
    return from_torch(model, shape, unsupported="skip") if skip else from_torch(model, shape)


def count_model_file(args: Any, shape: tuple[Any, ...], write: Callable[..., str]
                     ) -> tuple[Any, Callable[..., str]]:
    """Load ``args.network`` with ``--factory-kwargs``, check ``--input``'s layout, trace it
    (``--skip-unsupported``), and return the network and ``write`` with the notes added."""
    from symconv.frontends.build import uncounted

    net = load_model_file(args, shape)
    if getattr(args, "verify", False) and uncounted(net):
        raise SymconvError("--verify executes every layer, and --skip-unsupported left "
                           f"{len(uncounted(net))} parts uncounted ({uncounted(net)[0]}, ...); "
                           "drop one of them")
    return net, noted(write, net, args.format, getattr(args, "phase", None) or "forward")
