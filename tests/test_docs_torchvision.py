"""docs/pytorch.md's snippet for importing torchvision with the CPU wheel of torch, run as a user
runs it: in a fresh interpreter, without the suite's conftest (which sets the same module first),
so that the snippet alone must make ``import torchvision`` work."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "pytorch.md"

pytestmark = pytest.mark.skipif(
    not (importlib.util.find_spec("torch") and importlib.util.find_spec("torchvision")),
    reason="needs torch and torchvision")


def _snippet() -> str:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- torchvision-snippet:[^\n]*-->\n```python\n(.*?)```", text, re.S)
    assert found, "docs/pytorch.md lost its torchvision snippet"
    return found.group(1)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=environment, timeout=600, check=False)


def test_the_snippet_imports_torchvision_and_counts_resnet18():
    done = _run(_snippet())
    assert done.returncode == 0, done.stderr
    # ResNet-18 at 224: the forward MACs of docs/conventions.md's training table
    assert done.stdout.strip() == "1814073344"


def test_without_the_snippet_the_import_fails_as_the_doc_says():
    """The doc's reason: where the plain import fails, it is with the error the doc quotes (with
    matching wheels it works, and the snippet's line does nothing: nothing to check here)."""
    done = _run("import torchvision")
    if done.returncode == 0:
        pytest.skip("torch and torchvision match here: the plain import works")
    assert "operator torchvision::nms does not exist" in done.stderr
    assert "operator torchvision::nms does not exist" in DOC.read_text(encoding="utf-8")
