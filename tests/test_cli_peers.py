"""``symconv net`` with the peer conventions, ``--compare-conventions``, and model files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from symconv.cli import main

MODEL_FILE = textwrap.dedent("""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(c)

        def forward(self, x):
            return torch.relu(x + self.bn(self.conv(x)))

    def small():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), Block(8),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

    def broken():
        raise RuntimeError("no weights here")

    def not_a_model():
        return 42
""")


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(MODEL_FILE)
    return path


def test_zoo_net_under_a_peer_convention(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["net", "mobilenet_v1", "--alpha", "1", "--resolution", "224", "--convention",
                 "ptflops", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["total"]["ptflops"]["value"] == 589012456  # what ptflops 0.7.5 prints


def test_compare_conventions_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["net", "mobilenet_v1", "--compare-conventions"]) == 0
    text = capsys.readouterr().out
    assert "ptflops = macs + 20272104:" in text
    assert "double count" in text and "ptflops/pytorch_ops.py" in text
    assert main(["net", "mobilenet_v2", "--resolution", "160", "--compare-conventions",
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = [line["name"] for line in report["conventions"]]
    assert names[:2] == ["macs", "flops"] and "torchinfo" in names
    thop = next(line for line in report["conventions"] if line["name"] == "thop")
    assert {d["kind"] for d in thop["differences"]} == {"batchnorm", "globalavgpool"}
    assert all(d["reason"] for d in thop["differences"])


def test_compare_conventions_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["net", "mobilenet_v1", "--compare-conventions", "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("**MobileNet") and "every convention" in lines[0]
    assert lines[2:4] == ["| convention | value | what it counts |", "|---|---|---|"]
    assert "| ptflops | 589012456 | MACs of ptflops" in text
    assert "**ptflops = macs + 20272104**" in lines
    header = lines.index("**ptflops = macs + 20272104**") + 2
    assert lines[header] == "| kind | ptflops | macs | difference | why (the tool's source) |"
    assert lines[header + 3].startswith("| relu | 10085376 | 0 | + 10085376 | "
                                        "relu_flops_counter_hook")
    assert "**macs" not in text and "**torch =" in text  # torch: 2·macs, a difference per kind
    assert main(["net", "mobilenet_v1", "--compare-conventions", "--format", "markdown",
                 "--lang", "zh"]) == 0
    assert "| 计数约定 | 数值 | 计数内容 |" in capsys.readouterr().out


def test_compare_conventions_markdown_shows_fvcore_skipping_padding_strings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "same.py"
    path.write_text("from torch import nn\n\ndef model():\n"
                    "    return nn.Sequential(nn.Conv2d(3, 4, 3, padding='same'), nn.ReLU(),\n"
                    "                         nn.Conv2d(4, 4, 3, padding=1))\n")
    assert main(["net", f"{path}:model", "--input", "8x8x3", "--compare-conventions",
                 "--format", "markdown"]) == 0
    text = capsys.readouterr().out
    # 8·8·4·27 products under padding="same": fvcore skips aten::_convolution_mode
    assert "| standard:same | 0 | 6912 | − 6912 | with padding='same' / 'valid' F.conv*d" in text
    assert "| standard | " not in text.split("**fvcore")[1].split("**torch")[0]


def test_model_file(model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    reference = f"{model_file}:small"
    assert main(["net", reference, "--input", "16x16x3", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # conv 3→8: 256·8·27; block conv 8→8: 256·8·72; linear 8·10
    assert report["total"]["macs"]["value"] == 256 * 8 * 27 + 256 * 8 * 72 + 80
    assert [layer["name"] for layer in report["layers"]][-3:] == ["3", "4", "5"]
    assert main(["net", reference, "--input", "16x16x3", "--compare-conventions"]) == 0
    assert "double count" in capsys.readouterr().out  # nn.ReLU under ptflops


def test_the_mode_note_follows_the_phase(model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # inference is counted in eval mode; a training step as PyTorch trains (BatchNorm's batch
    # statistics): the note said "eval mode, BatchNorm uses its running statistics" for both
    pytest.importorskip("torch")
    reference = f"{model_file}:small"
    assert main(["net", reference, "--input", "16x16x3"]) == 0
    out = capsys.readouterr().out
    assert "Counted in eval mode" in out and "as PyTorch trains" not in out
    for phase in ("backward", "train"):
        assert main(["net", reference, "--input", "16x16x3", "--phase", phase]) == 0
        out = capsys.readouterr().out
        assert "counted as PyTorch trains: BatchNorm with batch statistics" in out
        assert "Counted in eval mode" not in out
        assert main(["net", reference, "--input", "16x16x3", "--phase", phase,
                     "--format", "json"]) == 0
        assert json.loads(capsys.readouterr().out)["counted_mode"] == "train"
    assert main(["net", reference, "--input", "16x16x3", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["counted_mode"] == "eval"


@pytest.mark.parametrize(("arguments", "words"), [
    (["{file}:nothing", "--input", "8x8x3"], "has no function nothing; its functions and "
                                             "classes: broken, not_a_model, small, Block"),
    (["{dir}/missing.py:small", "--input", "8x8x3"], "there is no file"),
    (["{file}:broken", "--input", "8x8x3"], "broken() raised RuntimeError: no weights here"),
    (["{file}:not_a_model", "--input", "8x8x3"], "returned int, not a torch.nn.Module"),
    (["{file}:small"], "needs --input"),
    (["{file}", "--input", "8x8x3"], "write a model file as path/to/model.py:factory"),
    (["{file}:small", "--input", "8x8x3", "--alpha", "1"], "--alpha is for the zoo networks"),
    (["mobilenet_v1", "--input", "8x8x3"], "--input is for models from a file"),
])
def test_model_file_errors_are_one_line(model_file: Path, capsys: pytest.CaptureFixture[str],
                                        arguments: list[str], words: str) -> None:
    if any("{file}" in argument for argument in arguments) and "missing" not in arguments[0]:
        pytest.importorskip("torch")
    filled = [argument.format(file=model_file, dir=model_file.parent) for argument in arguments]
    assert main(["net", *filled]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and words in error
