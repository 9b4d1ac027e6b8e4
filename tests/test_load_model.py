"""load_model never crashes: every failure of a path, a file or a factory is one SymconvError line
(issues 10, 16); only KeyboardInterrupt goes through, so that Ctrl-C stops user code."""

from __future__ import annotations

import pathlib
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

from symconv import SymconvError  # noqa: E402
from symconv.frontends.torch import load_model  # noqa: E402

GOOD = """
    from torch import nn

    def small(width=8):
        return nn.Sequential(nn.Conv2d(3, width, 3), nn.ReLU())

    model = nn.Sequential(nn.Conv2d(3, 2, 1))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)

        def forward(self, x):
            return self.conv(x)

    def training():
        return small().train()

    def talkative():
        print("building the model")
        return small()

    def broken():
        raise RuntimeError("no weights here\\nsecond line")

    def exits():
        raise SystemExit("bye")

    def generator_exit():
        raise GeneratorExit

    def interrupted():
        raise KeyboardInterrupt

    def not_a_model():
        return 42
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return write(tmp_path, "model.py", GOOD)


def one_line(error: pytest.ExceptionInfo[SymconvError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_a_factory_a_class_and_an_instance(good: Path) -> None:
    assert isinstance(load_model(f"{good}:small"), nn.Sequential)
    assert isinstance(load_model(f"{good}:Net"), nn.Module)
    instance = load_model(f"{good}:model")
    assert instance[0].out_channels == 2
    assert load_model(f"{good}:small", {"width": 5})[0].out_channels == 5


def test_the_model_comes_back_in_eval_mode(good: Path) -> None:
    model = load_model(f"{good}:training")
    assert not any(module.training for module in model.modules())


@pytest.mark.parametrize(("factory", "kwargs", "words"), [
    ("broken", None, r"broken\(\) raised RuntimeError: no weights here$"),
    ("exits", None, r"the model file exited \(exits\(\)\): 'bye'$"),
    ("generator_exit", None, r"generator_exit\(\) raised GeneratorExit: \(no message\)$"),
    ("not_a_model", None, r"not_a_model\(\) returned int, not a torch\.nn\.Module$"),
    ("nothing", None, r"has no function nothing; its functions and classes: broken, exits, "
                      r"generator_exit, interrupted, not_a_model, small, talkative, training, "
                      r"Net; its models: model$"),
    ("smal", None, r"has no function smal; did you mean small\?; its functions"),
    ("small", {"depth": 3}, r"small\(\) raised TypeError: .*unexpected keyword argument 'depth'"),
    ("model", {"width": 3}, r"model is a model, not a function: it takes no factory_kwargs"),
    ("small", {1: 2}, r"factory_kwargs=\{1: 2\} must map argument names to values"),
])
def test_factory_failures_are_one_line(good: Path, factory: str, kwargs: Any, words: str) -> None:
    with pytest.raises(SymconvError, match=words) as error:
        load_model(f"{good}:{factory}", kwargs)
    one_line(error)


def test_ctrl_c_in_the_factory_goes_through_and_sys_path_is_restored(good: Path) -> None:
    path = list(sys.path)
    with pytest.raises(KeyboardInterrupt):
        load_model(f"{good}:interrupted")
    assert sys.path == path


@pytest.mark.parametrize(("text", "words"), [
    ("raise ValueError('bad file')", r"importing .*model\.py raised ValueError: bad file$"),
    ("import sys\nsys.exit(3)", r"the model file exited \(importing .*model\.py\): 3$"),
    ("import sys\nsys.exit()", r"the model file exited \(importing .*model\.py\): 0$"),
    ("import argparse\nparser = argparse.ArgumentParser()\nparser.add_argument('--depth', "
     "required=True)\nparser.parse_args()",
     r"the model file exited \(importing .*model\.py\): 2 \(model\.py: error: the following "
     r"arguments are required: --depth\)$"),
    ("raise GeneratorExit", r"importing .*model\.py raised GeneratorExit"),
    ("def f(:\n    pass", r"importing .*model\.py raised SyntaxError: "),
])
def test_a_file_that_fails_at_import_is_one_line_and_prints_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str) -> None:
    path = write(tmp_path, "model.py", text)
    with pytest.raises(SymconvError, match=words) as error:
        load_model(f"{path}:small")
    one_line(error)
    assert capsys.readouterr() == ("", "")  # argparse's usage is captured, not printed


def test_ctrl_c_at_import_goes_through(tmp_path: Path) -> None:
    path = write(tmp_path, "model.py", "raise KeyboardInterrupt")
    with pytest.raises(KeyboardInterrupt):
        load_model(f"{path}:small")


def test_module_level_argparse_sees_no_symconv_option(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["symconv", "net", "model.py:small", "--input", "8x8x3"])
    path = write(tmp_path, "model.py", textwrap.dedent(GOOD) + textwrap.dedent("""
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--width", type=int, default=6)
        WIDTH = parser.parse_args().width

        def wide():
            return small(WIDTH)
    """))
    assert load_model(f"{path}:wide")[0].out_channels == 6
    assert sys.argv[0] == "symconv"


def test_what_the_user_code_prints_goes_to_stderr(good: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    load_model(f"{good}:talkative")
    out, err = capsys.readouterr()
    assert out == "" and err == "building the model\n"


def test_sibling_imports_and_dataclasses_work_and_sys_path_is_restored(tmp_path: Path) -> None:
    write(tmp_path, "blocks_for_symconv_test.py", """
        from torch import nn

        def block(width):
            return nn.Conv2d(3, width, 1)
    """)
    path = write(tmp_path, "model.py", """
        import dataclasses
        from torch import nn
        from blocks_for_symconv_test import block

        @dataclasses.dataclass
        class Config:
            width: int = 7

        def small():
            return nn.Sequential(block(Config().width))
    """)
    before = list(sys.path)
    try:
        assert load_model(f"{path}:small")[0].out_channels == 7
        assert sys.path == before
    finally:
        sys.modules.pop("blocks_for_symconv_test", None)


def test_a_package_module_and_its_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "symconv_test_zoo"
    package.mkdir()
    write(package, "__init__.py", "")
    write(package, "models.py", GOOD)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_model("symconv_test_zoo.models:small", {"width": 3})[0].out_channels == 3
    with pytest.raises(SymconvError, match=r"there is no module 'symconv_no_such_zoo'") as error:
        load_model("symconv_no_such_zoo.models:small")
    one_line(error)
    with pytest.raises(SymconvError, match=r"broken\(\) raised RuntimeError"):
        load_model("symconv_test_zoo.models:broken")
    # a package re-exporting its submodules' builders, as torchvision.models does: they are
    # its functions (the listing used to say "none"), and a misspelt one is suggested
    exporting = tmp_path / "symconv_test_exports"
    exporting.mkdir()
    write(exporting, "builders.py", GOOD)
    write(exporting, "__init__.py", "from symconv_test_exports.builders import small, Net\n")
    with pytest.raises(SymconvError, match=r"symconv_test_exports has no function smal; did you "
                                           r"mean small\?; its functions and classes: small, Net$"):
        load_model("symconv_test_exports:smal")


def test_paths_that_cannot_be_read_are_one_line(tmp_path: Path, good: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {
        f"{tmp_path / 'missing.py'}:small": "there is no file",
        f"{tmp_path / ('x' * 5000)}.py:small": "cannot read .*: File name too long",
        f"{tmp_path}:small": "is a directory; name a .py file",
        f"{write(tmp_path, 'model.txt', GOOD)}:small": r"is not a \.py file",
        "model.py": r"write a model file as path/to/model\.py:factory",
        f"{good}:not-a-name": r"write a model file as path/to/model\.py:factory",
        "bad\n\x1b[31m.py:small": r"there is no file bad\\n\\x1b\[31m\.py",
    }
    for reference, words in cases.items():
        with pytest.raises(SymconvError, match=words) as error:
            load_model(reference)
        assert len(one_line(error)) < 600

    def refused(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pathlib.Path, "open", refused)  # root reads any file: refuse it here
    with pytest.raises(SymconvError, match=r"cannot read .*model\.py: Permission denied$"):
        load_model(f"{good}:small")


def test_a_wrong_path_is_named_even_without_torch(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    # a machine without torch: `import torch` fails, as it does when torch is not installed
    for name in [name for name in sys.modules if name == "torch" or name.startswith("torch.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(SymconvError, match="there is no file"):
        load_model(f"{tmp_path}/missing.py:model")
    (tmp_path / "model.py").write_text("def model():\n    return None\n", encoding="utf-8")
    with pytest.raises(SymconvError, match="models from a file need PyTorch"):
        load_model(f"{tmp_path}/model.py:model")
