"""Every torchvision classification model through ``from_torch``, against every peer (issue 11).

For each model, each peer convention must equal what that tool prints for the same model (in
eval mode, a batch of one), to the unit, wherever the tool runs on it; a tool that crashes on a
model is left out of that model's comparison (the crash is shown in the test's output, and
``docs/conventions.md`` lists them). A model ``from_torch`` still refuses is an expected failure
(``xfail``) carrying the refusal: it turns into a real comparison as soon as it is accepted.

* The normal suite runs a representative subset at a small input (64×64), in well under a
  minute: ResNet-18, MobileNet V2, MobileNet V3 Small, EfficientNet-B0, ShuffleNet V2 ×0.5,
  DenseNet-121, Swin-T (padded to its 7×7 windows at that size: F.pad, crops; about 1 s), and
  ViT-B/16 at 224×224 (its only size: it asserts the image size), about 25 s of the subset's
  time.
* ``python -m pytest -m sweep tests/test_torchvision_sweep.py`` runs every model of
  ``torchvision.models.list_models(module=torchvision.models)`` at 224×224 (299×299 for
  Inception V3), as the tools are usually run: slow (minutes; the big ViTs dominate), so
  deselected by default (``-m "not sweep"`` in pyproject.toml). ``benchmarks/torchvision_sweep.py``
  runs the same comparison as a script, with symconv's and ptflops' times side by side.

The expected numbers are the tools' own, computed here by running them (tests/torch_nets.py's
``peer_count``); torchvision is imported as tests/torchvision_models.py explains.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch_nets import installed_peers, peer_count  # noqa: E402
from torchvision_models import models  # noqa: E402

from symconv import SymconvError, count, from_torch  # noqa: E402

PEERS_HERE = installed_peers()

#: The subset the normal suite runs, at 64×64 (FIXED_SIZE: at that size).
SUBSET = ("resnet18", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
          "shufflenet_v2_x0_5", "densenet121", "vit_b_16", "swin_t")
#: Models that take one input size only (ViT asserts its image size).
FIXED_SIZE = {"vit_b_16": 224}


def _all_models() -> list[str]:
    try:
        import torchvision.models as tv  # conftest.py makes it importable
    except Exception:  # collected without torchvision: the tests skip
        return list(SUBSET)
    return list(tv.list_models(module=tv))


def build(name: str) -> Any:
    """The untrained torchvision model in eval mode (no auxiliary heads: inference)."""
    tv = models()
    kwargs: dict[str, Any] = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, init_weights=False)
    return tv.get_model(name, **kwargs).eval()


def compare(name: str, size: int) -> dict[str, str]:
    """Each installed peer's verdict on one model at ``size``×``size``: asserts equality where
    the tool runs; returns the crashes."""
    model = build(name)
    try:
        net = from_torch(model, (size, size, 3))
    except SymconvError as error:
        pytest.xfail(f"from_torch refuses {name}: {str(error)[:300]}")
    crashes: dict[str, str] = {}
    for peer in PEERS_HERE:
        try:
            printed = peer_count(peer, model, (3, size, size))
        except Exception as error:  # the tool's own crash: recorded, not compared
            crashes[peer] = f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"
            continue
        assert count(net, convention=peer) == printed, (name, peer)
    return crashes


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("name", SUBSET)
def test_representative_models_equal_every_peer(name: str) -> None:
    crashes = compare(name, FIXED_SIZE.get(name, 64))
    if crashes:
        print(f"{name}: tools that crash: {crashes}")


@pytest.mark.sweep
@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("name", _all_models())
def test_every_torchvision_model_equals_every_peer(name: str) -> None:
    crashes = compare(name, 299 if name == "inception_v3" else 224)
    if crashes:
        print(f"{name}: tools that crash: {crashes}")
