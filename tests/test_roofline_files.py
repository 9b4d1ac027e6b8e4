"""``symconv net MODEL --memory`` and ``symconv roofline MODEL`` on PyTorch model files
(``path.py:factory`` and ``package.module:factory``), checked by hand and against torchinfo."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from symconv.cli import main

torch = pytest.importorskip("torch")

MODEL = textwrap.dedent("""
    import torch

    def small(width=8):
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, width, 3, padding=1, bias=False), torch.nn.ReLU(),
            torch.nn.Conv2d(width, 4, 1, bias=True))
""")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_net_memory_of_a_model_file_by_hand(model, capsys):
    report = _json(capsys, ["net", f"{model}:small", "--input", "8x8x3", "--memory",
                            "--format", "json"])
    # input 8·8·3 floats; params 3·3·3·8 + 8·4 + 4 = 252; peak: ReLU's input and output,
    # 8·8·8 floats each
    assert report["memory"] == {"input_bytes": "768", "param_bytes": "1008",
                                "activation_bytes": "4096", "total_bytes": str(768 + 1008 + 4096)}
    last = report["layers"][-1]
    # 1x1 conv 8 -> 4 with bias on 8x8: reads 512 inputs + 32 weights + 4 biases, writes 256
    assert (last["reads"], last["writes"], last["bound"]) == ("548", "256", "memory")
    assert report["counted_mode"] == "eval" and report["uncounted"] == []


def test_net_memory_of_a_model_file_agrees_with_torchinfo(model, capsys):
    torchinfo = pytest.importorskip("torchinfo")
    from symconv.frontends.torch import load_model

    report = _json(capsys, ["net", f"{model}:small", "--input", "8x8x3", "--memory",
                            "--factory-kwargs", '{"width": 6}', "--format", "json"])
    stats = torchinfo.summary(load_model(f"{model}:small", {"width": 6}),
                              input_size=(1, 3, 8, 8), verbose=0)
    # torchinfo's "Params size" is the parameter bytes, the convention symconv follows
    assert int(report["memory"]["param_bytes"]) == stats.total_param_bytes
    # its "Input size" is the same bytes plus the 64 bytes of the tensor's Python object
    assert int(report["memory"]["input_bytes"]) + 64 == stats.total_input


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_net_memory_of_a_package_module_in_every_format(tmp_path, monkeypatch, capsys, fmt):
    package = tmp_path / "symconv_roofline_zoo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODEL)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["net", "symconv_roofline_zoo.models:small", "--input", "8x8x3", "--memory",
                 "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "548" in out and "eval" in out


def test_roofline_of_a_model_file_draws_every_layer(model, tmp_path, capsys):
    out = tmp_path / "roofline.svg"
    assert main(["roofline", f"{model}:small", "--input", "8x8x3", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.lstrip().startswith(("<?xml", "<svg"))
    for name in (">0<", ">1<", ">2<"):      # the Sequential's children, as from_torch names them
        assert name in text


@pytest.mark.parametrize(("argv", "message"), [
    (["net", "MODEL", "--memory"], "needs --input"),
    (["net", "MODEL", "--memory", "--input", "8x8x3", "--alpha", "0.5"], "for the zoo"),
    (["roofline", "MODEL", "--input", "8x8x3", "--resolution", "32", "--out", "r.svg"],
     "for the zoo"),
    (["roofline", "mobilenet_v1", "--input", "8x8x3", "--out", "r.svg"], "models from a file"),
    (["net", "mobilenet_v1", "--memory", "--factory-kwargs", "{}"], "models from a file"),
])
def test_misplaced_options_are_refused(model, capsys, argv, message):
    argv = [str(model) + ":small" if part == "MODEL" else part for part in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
