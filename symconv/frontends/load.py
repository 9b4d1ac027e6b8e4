"""Build a user's PyTorch model from a reference: :func:`load_model`.

``path/to/model.py:factory`` imports the file and calls ``factory()``;
``package.module:factory`` imports the module (``torchvision.models:resnet18``). The factory
may be a function, a class, or a model instance (``model.py:model`` where ``model = Net()``).
This runs the user's own code, as intended; nothing typed is evaluated.

Every failure is one :class:`~symconv.errors.SymconvError` line, whatever the user's code does:
a missing, unreadable or too long path, a directory, a file that is not ``.py``, a file or
factory that raises any ``Exception``, exits (``sys.exit``, module-level ``argparse``) or raises
``GeneratorExit``. Only ``KeyboardInterrupt`` goes through untouched, so that Ctrl-C stops an
import or a factory that never finishes (an infinite loop cannot be detected), and the CLI
exits 130.

While the file is imported and the factory runs:

* the file's folder is first on ``sys.path``, so that it imports its siblings (that entry is
  removed afterwards; anything the file added stays);
* ``sys.argv`` is ``[path]``, so that a module-level ``argparse`` sees no symconv option;
* what the code prints is captured: on success it is written to stderr (stdout stays clean for
  ``--format json``); on failure the message quotes its last line (an ``argparse`` usage error).

The model is returned in eval mode (``model.eval()``), as :func:`~symconv.from_torch` counts it.

**torchvision with a CPU-only torch.** torchvision's PyPI wheel is built against a CUDA torch;
with the CPU wheel (``torch==2.13.0+cpu``), ``import torchvision`` raises ``RuntimeError:
operator torchvision::nms does not exist`` in ``torchvision/_meta_registrations.py``, which
registers meta kernels for torchvision's compiled operators (``nms``, ``roi_align``, ...). The
classification models need none of them. So when importing ``package.module`` fails with a
``RuntimeError`` raised in that very file, :func:`load_model` imports it again with that one
module replaced by an empty one, and says so on stderr (``symconv: warning: ...``). Every other
failure is reported as it is. The tests do the same (``tests/torchvision_models.py``).
"""

from __future__ import annotations

import contextlib
import difflib
import io
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from symconv.errors import SymconvError, escape_controls, shown

__all__ = ["load_model"]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = escape_controls(text.splitlines()[0]) if text else "(no message)"
    return line if len(line) <= 200 else f"{line[:200]}…"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    line = escape_controls(lines[-1].strip()) if lines else ""
    return line if len(line) <= 200 else f"{line[:200]}…"


def _path(text: str) -> str:
    """A path as a message shows it: control characters escaped, cut at 200 characters."""
    line = escape_controls(text)
    return line if len(line) <= 200 else f"{line[:200]}…({len(line) - 200} more characters)"


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except OSError:
        return False


class _Captured:
    """What user code printed while it ran."""

    def __init__(self) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()

    def text(self) -> str:
        return self.stdout.getvalue() + self.stderr.getvalue()


@contextlib.contextmanager
def _user_code(folder: Path | None, argv0: str, captured: _Captured) -> Iterator[None]:
    """Run user code with ``folder`` first on ``sys.path``, ``sys.argv = [argv0]`` and its
    output captured; everything restored afterwards."""
    entry = str(folder) if folder is not None else None
    if entry is not None:
        sys.path.insert(0, entry)
    argv = sys.argv
    sys.argv = [argv0]
    try:
        with contextlib.redirect_stdout(captured.stdout), \
                contextlib.redirect_stderr(captured.stderr):
            yield
    finally:
        sys.argv = argv
        if entry is not None:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)


def _failure(reference: str, doing: str, error: BaseException, captured: _Captured) -> SymconvError:
    """One line for user code that raised or exited while ``doing``."""
    where = f"network {shown(reference)}"
    if isinstance(error, SystemExit):
        code = error.code
        said = _last_line(captured.text())
        detail = f"{shown(code)}" if code is not None else "0"
        if said:
            detail += f" ({said})"
        return SymconvError(f"{where}: the model file exited ({doing}): {detail}")
    return SymconvError(f"{where}: {doing} raised {type(error).__name__}: {_first_line(error)}")


def _run(reference: str, doing: str, captured: _Captured, call: Any) -> Any:
    try:
        return call()
    except (Exception, SystemExit, GeneratorExit) as error:  # the user's code may do anything
        raise _failure(reference, doing, error, captured) from None


def _checked_file(reference: str, path_text: str) -> Path:
    """The user's file ``path_text``, checked to exist, be a readable ``.py`` file; else one line.

    Checked before torch is imported, so that a wrong path is named as such on any machine."""
    path = Path(path_text)
    where = f"network {shown(reference)}"
    try:
        if not path.exists():
            raise SymconvError(f"{where}: there is no file {_path(path_text)}")
        if path.is_dir():
            raise SymconvError(f"{where}: {_path(path_text)} is a directory; name a .py file")
        if path.suffix != ".py":
            raise SymconvError(f"{where}: {_path(path_text)} is not a .py file; write "
                               "path/to/model.py:factory or package.module:factory")
        with path.open("rb") as stream:
            stream.read(1)
    except OSError as error:
        reason = escape_controls(error.strerror or type(error).__name__)
        raise SymconvError(f"{where}: cannot read {_path(path_text)}: {reason}") from None
    return path


def _file_module(reference: str, path_text: str, captured: _Captured) -> Any:
    """Import the user's file ``path_text``."""
    import importlib.util

    path = _checked_file(reference, path_text)
    where = f"network {shown(reference)}"
    folder = path.resolve().parent
    name = f"symconv_user_model_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SymconvError(f"{where}: {_path(path_text)} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def load() -> Any:
        sys.modules[name] = module  # as importlib does: dataclasses and pickle look it up
        try:
            loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module

    with _user_code(folder, str(path), captured):
        return _run(reference, f"importing {_path(path_text)}", captured, load)


def _meta_registrations_failed(error: BaseException) -> bool:
    """Whether ``error`` is torchvision's failure to register its compiled operators' meta
    kernels (a CPU torch under a CUDA-built torchvision): a RuntimeError raised in
    ``torchvision/_meta_registrations.py``."""
    import traceback

    if not isinstance(error, RuntimeError):
        return False
    return any(Path(frame.f_code.co_filename).parts[-2:] == ("torchvision",
                                                             "_meta_registrations.py")
               for frame, _ in traceback.walk_tb(error.__traceback__))


def _without_meta_registrations() -> None:
    """Forget the half-imported torchvision, and give it an empty ``_meta_registrations``."""
    import types

    for name in [name for name in sys.modules
                 if name == "torchvision" or name.startswith("torchvision.")]:
        del sys.modules[name]
    sys.modules["torchvision._meta_registrations"] = types.ModuleType(
        "torchvision._meta_registrations")


def _package_module(reference: str, dotted: str, captured: _Captured) -> Any:
    """Import ``package.module`` (torchvision without its compiled operators' meta kernels
    where those cannot load: see the module docstring)."""
    import importlib

    where = f"network {shown(reference)}"

    def load() -> Any:
        try:
            return importlib.import_module(dotted)
        except ModuleNotFoundError as error:
            if error.name is not None and dotted.startswith(error.name):
                raise SymconvError(f"{where}: there is no module {shown(error.name)} (and no "
                                   f"file {shown(dotted)}); install it, or write "
                                   "path/to/model.py:factory") from None
            raise

    with _user_code(None, dotted, captured):
        try:
            try:
                return load()
            except RuntimeError as error:
                if not _meta_registrations_failed(error):
                    raise
            _without_meta_registrations()
            module = load()
            sys.stderr.write("symconv: warning: torchvision's compiled operators cannot load "
                             "with this torch (a CPU wheel under torchvision's CUDA build); "
                             "its models were imported without them (the classification "
                             "models need none)\n")
            return module
        except SymconvError:
            raise
        except (Exception, SystemExit, GeneratorExit) as error:
            raise _failure(reference, f"importing {dotted}", error, captured) from None


def _defined_in(value: Any, module_name: str, package: bool) -> bool:
    """Whether ``value`` is defined in the module ``module_name`` (or, for a package, in one
    of its submodules), not imported into it from elsewhere."""
    defined = getattr(value, "__module__", None)
    if not isinstance(defined, str):
        return False
    return defined == module_name or (package and defined.startswith(module_name + "."))


def load_model(reference: str, factory_kwargs: Mapping[str, object] | None = None) -> Any:
    """Build the model of ``path/to/model.py:factory`` or ``package.module:factory``.

    Parameters
    ----------
    reference
        ``path/to/model.py:factory`` (the file is imported; its folder is on ``sys.path`` while
        it is) or ``package.module:factory`` (imported from ``sys.path``). ``factory`` is a
        function or class called with ``factory_kwargs``, or a model instance.
    factory_kwargs
        Keyword arguments for the factory (the CLI's ``--factory-kwargs`` JSON, parsed with
        ``json.loads``, never evaluated). Not for a model instance.

    Returns
    -------
    torch.nn.Module
        The model, in eval mode.

    Raises
    ------
    SymconvError
        One line for every failure: a bad reference, a path that is missing, unreadable, too
        long, a directory or not ``.py``; a file or factory that raises any ``Exception``, exits
        (``SystemExit``: "the model file exited ...") or raises ``GeneratorExit``; a missing
        factory; a factory that returns no ``torch.nn.Module``.
    KeyboardInterrupt
        Untouched, from the import or the factory: Ctrl-C stops user code that never finishes.

    Examples
    --------
    >>> load_model("model.py")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: network 'model.py': write a model file as path/to/model.py:factory (or ...
    """
    if not isinstance(reference, str):
        raise SymconvError(f"network={shown(reference)} must be a string like "
                           "path/to/model.py:factory")
    where = f"network {shown(reference)}"
    source, _, factory_name = reference.rpartition(":")
    if not source or not factory_name.isidentifier():
        raise SymconvError(f"{where}: write a model file as path/to/model.py:factory (or "
                           "package.module:factory), with the function that builds the model")
    if factory_kwargs is not None and (not isinstance(factory_kwargs, Mapping) or not all(
            isinstance(key, str) and key.isidentifier() for key in factory_kwargs)):
        raise SymconvError(f"factory_kwargs={shown(factory_kwargs)} must map argument names "
                           "to values, like {\"num_classes\": 10}")
    dotted = all(part.isidentifier() for part in source.split("."))
    if not dotted or source.endswith(".py") or _is_file(source):
        _checked_file(reference, source)  # a wrong path is named before torch is needed
    try:
        import torch.nn as nn
    except ImportError:
        raise SymconvError("models from a file need PyTorch: pip install 'symconv[torch]' "
                           "(or torch==2.13.0)") from None
    captured = _Captured()
    if dotted and not source.endswith(".py") and not _is_file(source):
        user_module = _package_module(reference, source, captured)
        folder = None
    else:
        user_module = _file_module(reference, source, captured)
        folder = Path(source).resolve().parent
    try:
        factory = getattr(user_module, factory_name, None)
    except (Exception, SystemExit, GeneratorExit) as error:  # a module __getattr__ of the user's
        raise _failure(reference, f"reading {factory_name}", error, captured) from None
    if isinstance(factory, nn.Module):
        if factory_kwargs:
            raise SymconvError(f"{where}: {factory_name} is a model, not a function: it takes "
                               "no factory_kwargs")
        model = factory
    elif callable(factory):
        kwargs = dict(factory_kwargs or {})
        with _user_code(folder, source, captured):
            model = _run(reference, f"{factory_name}()", captured, lambda: factory(**kwargs))
    else:
        module_name = getattr(user_module, "__name__", "")
        members = vars(user_module).items()
        # a package's own functions include those its submodules define and it re-exports
        # (torchvision.models' builders live in torchvision.models.resnet, ...)
        package = hasattr(user_module, "__path__")
        known = [name for name, _ in sorted(  # functions first, then classes
            ((name, value) for name, value in members if callable(value)
             and not name.startswith("_") and not isinstance(value, nn.Module)
             and _defined_in(value, module_name, package)),
            key=lambda item: (isinstance(item[1], type), item[0]))]
        models = sorted(name for name, value in members
                        if isinstance(value, nn.Module) and not name.startswith("_"))
        close = difflib.get_close_matches(factory_name, [*known, *models], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        text = ", ".join(known[:20]) + (f", ... ({len(known)} in all)" if len(known) > 20 else "")
        extra = f"; its models: {', '.join(models[:20])}" if models else ""
        raise SymconvError(f"{where}: {_path(source)} has no function {factory_name}{hint}; "
                           f"its functions and classes: {text or 'none'}{extra}")
    if not isinstance(model, nn.Module):
        raise SymconvError(f"{where}: {factory_name}() returned {type(model).__name__}, not a "
                           "torch.nn.Module")
    with _user_code(folder, source, captured):
        _run(reference, f"{factory_name}.eval()", captured, model.eval)
    output = captured.text()
    if output:
        sys.stderr.write(output if output.endswith("\n") else output + "\n")
    return model
