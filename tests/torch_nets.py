"""PyTorch twins of the zoo networks, and the peers run on a model: helpers of test_peers.py
(and of benchmarks/torch_bridge.py). Skipped, as a module, where torch is not installed."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import warnings

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

#: The peer tools by the symconv convention that reproduces each, and the package it needs.
PEER_PACKAGES = {"ptflops": "ptflops", "thop": "thop", "fvcore": "fvcore", "torch": "torch",
                 "torchinfo": "torchinfo"}


def installed_peers() -> list[str]:
    """The peers whose package is importable here."""
    return [name for name, package in PEER_PACKAGES.items()
            if importlib.util.find_spec(package) is not None]


def _unit(cin: int, cout: int, k: int, stride: int, groups: int = 1,
          activation: type[nn.Module] = nn.ReLU) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout), activation()]


def mobilenet_v1() -> nn.Sequential:
    """MobileNet V1 (Howard et al. 2017, Table 1), as symconv.networks.zoo.mobilenet_v1 builds it."""
    layers = _unit(3, 32, 3, 2)
    channels = 32
    for out, stride in [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                        (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]:
        layers += _unit(channels, channels, 3, stride, groups=channels) + _unit(channels, out, 1, 1)
        channels = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000))


class InvertedResidual(nn.Module):
    """MobileNet V2's bottleneck; ``x + self.block(x)`` when the shapes allow."""

    def __init__(self, cin: int, cout: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = cin * expansion
        layers = _unit(cin, hidden, 1, 1, activation=nn.ReLU6) if expansion != 1 else []
        layers += _unit(hidden, hidden, 3, stride, groups=hidden, activation=nn.ReLU6)
        layers += [nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.residual else self.block(x)


def mobilenet_v2() -> nn.Sequential:
    """MobileNet V2 (Sandler et al. 2018, Table 2), as symconv.networks.zoo.mobilenet_v2 builds it:
    153 modules, 52 convolutions."""
    layers: list[nn.Module] = _unit(3, 32, 3, 2, activation=nn.ReLU6)
    channels = 32
    for expansion, out, repeats, first_stride in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
                                                  (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                                                  (6, 320, 1, 1)]:
        for repeat in range(repeats):
            layers.append(InvertedResidual(channels, out, first_stride if repeat == 0 else 1,
                                           expansion))
            channels = out
    layers += _unit(channels, 1280, 1, 1, activation=nn.ReLU6)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(1280, 1000, 1, bias=True)]
    return nn.Sequential(*layers)


def peer_count(peer: str, model: nn.Module, input_chw: tuple[int, ...], batch: int = 1) -> int:
    """What ``peer`` reports for ``model`` on a batch of inputs of PyTorch shape ``input_chw``
    (model in eval mode), as an int."""
    model.eval()
    x = torch.randn(batch, *input_chw)
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if peer == "ptflops":
            from ptflops import get_model_complexity_info

            macs, _ = get_model_complexity_info(model, tuple(input_chw), as_strings=False,
                                                print_per_layer_stat=False,
                                                input_constructor=lambda _: x)
            value: float = macs
        elif peer == "thop":
            from thop import profile

            value, _ = profile(model, inputs=(x,), verbose=False)
        elif peer == "fvcore":
            from fvcore.nn import FlopCountAnalysis

            logging.getLogger("fvcore").setLevel(logging.ERROR)
            analysis = FlopCountAnalysis(model, x)
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            value = analysis.total()
        elif peer == "torch":
            from torch.utils.flop_counter import FlopCounterMode

            # as its documentation runs it, gradients enabled (docs/conventions.md, item 5)
            with FlopCounterMode(display=False) as counter, torch.enable_grad():
                model(x)
            value = counter.get_total_flops()
        elif peer == "torchinfo":
            from torchinfo import summary

            value = summary(model, input_data=x, verbose=0).total_mult_adds
        else:
            raise ValueError(f"unknown peer {peer!r}")
    assert value == int(value), (peer, value)
    return int(value)
