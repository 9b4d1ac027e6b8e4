"""A branch a model runs only in training mode (``if self.training:``, GoogLeNet's auxiliary
classifiers) does not run when ``from_torch`` traces it in eval mode, so a training step cannot
count it: ``Graph.not_run`` names the modules that hold parameters and did not run, and the
CLI's training reports say so (issue 12, found by the acceptance trial). Skipped without torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torchvision_models import models  # noqa: E402

from symconv import count, from_torch  # noqa: E402


class _TrainOnly(nn.Module):
    """A head run only in training mode, and a module never run at all."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.aux = nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
        self.unused = nn.Linear(2, 2)
        self.relu = nn.ReLU()

    def forward(self, x: Any) -> Any:
        x = self.conv(x)
        if self.training:
            return x, self.aux(x)
        return self.relu(x)


def test_the_modules_that_did_not_run_are_named_outermost_first() -> None:
    net = from_torch(_TrainOnly(), (8, 8, 3))
    assert net.not_run == ("aux", "unused")          # not aux.1: its outer module is named
    assert [name for name, _ in net.stages] == ["conv", "relu"]
    assert "not_run" not in repr(net)


def test_googlenet_names_its_auxiliary_classifiers_and_counts_as_without_them() -> None:
    tv = models()
    net = from_torch(tv.googlenet(aux_logits=True, init_weights=False), (224, 224, 3))
    without = from_torch(tv.googlenet(aux_logits=False, init_weights=False), (224, 224, 3))
    assert net.not_run == ("aux1", "aux2")
    assert without.not_run == ()
    assert net == without   # not part of the network's equality
    assert count(net, convention="torch", phase="train") == count(
        without, convention="torch", phase="train")
    assert from_torch(tv.resnet18(), (224, 224, 3)).not_run == ()


def test_the_cli_training_report_names_them(tmp_path: Path) -> None:
    model = tmp_path / "train_only.py"
    here = str(Path(__file__).parent)
    model.write_text(f"import sys\nsys.path.insert(0, {here!r})\nfrom test_not_run import "
                     "_TrainOnly\n\n\ndef build():\n    return _TrainOnly()\n")
    command = [sys.executable, "-m", "symconv", "net", f"{model}:build", "--input", "8x8x3"]
    train = subprocess.run([*command, "--phase", "train"], capture_output=True, text=True,
                           check=True).stdout
    assert "did not run in eval mode" in train and train.rstrip().endswith(": aux, unused.")
    data = json.loads(subprocess.run([*command, "--phase", "train", "--format", "json"],
                                     capture_output=True, text=True, check=True).stdout)
    assert data["not_run"] == ["aux", "unused"]
    forward = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert "did not run" not in forward    # at inference what did not run costs nothing
