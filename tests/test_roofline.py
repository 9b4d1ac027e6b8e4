"""Arithmetic intensity, devices, bounds, crossovers and the roofline plot."""

from __future__ import annotations

import pytest
import sympy

from symconv import Conv2d, DepthwiseConv2d, Linear, Sequential
from symconv.errors import SymconvError
from symconv.networks.roofline import DEVICES, crossover, device, intensity, roofline
from symconv.symbols import H, M, N, W


def test_pointwise_intensity_is_shufflenet_v2s():
    # h·w·c1·c2 mults over MAC = h·w·(c1 + c2) + c1·c2 elements
    value = intensity(Conv2d(M, N, 1), (H, W, M), dtype_bytes=1)
    assert sympy.simplify(value - H * W * M * N / (H * W * (M + N) + M * N)) == 0


def test_depthwise_is_far_less_intense_than_standard():
    # by hand, 56x56x32, 3x3, padding 1, float32:
    # standard: 56·56·32·32·9 mults; reads 56·56·32 + 9·32·32; writes 56·56·32
    std = intensity(Conv2d(32, 32, 3, padding=1), (56, 56, 32))
    assert std == sympy.Rational(56 * 56 * 32 * 32 * 9, 4 * (56 * 56 * 32 * 2 + 9 * 32 * 32))
    dw = intensity(DepthwiseConv2d(32, 3, padding=1), (56, 56, 32))
    assert dw == sympy.Rational(56 * 56 * 32 * 9, 4 * (56 * 56 * 32 * 2 + 9 * 32))
    assert std / dw > 25


def test_devices_cite_their_datasheets():
    for preset in DEVICES.values():
        assert "datasheet" in preset.source and preset.peak > 0 and preset.bandwidth > 0
    assert device("t4").ridge == sympy.Rational(8_100, 320)


def test_bad_devices():
    with pytest.raises(SymconvError, match="unknown"):
        device("tpu")
    with pytest.raises(SymconvError, match="peak=0"):
        device(peak=0, bandwidth=1)
    with pytest.raises(SymconvError, match="not both"):
        device("t4", peak=1)


def test_bounds_and_times():
    gpu = device(peak=10**12, bandwidth=10**11)        # ridge 10 mults/byte
    net = Sequential(("dw", DepthwiseConv2d(64, 3, padding=1)), ("pw", Conv2d(64, 256, 1)))
    rows = {row.name: row for row in roofline(net, (28, 28, 64), device_=gpu)}
    assert rows["dw"].bound == "memory" and rows["pw"].bound == "compute"
    pw = rows["pw"]
    mults = 28 * 28 * 64 * 256
    moved = 4 * (28 * 28 * 64 + 64 * 256 + 28 * 28 * 256)
    assert pw.bytes == moved
    assert pw.seconds == max(sympy.Rational(mults, 10**12), sympy.Rational(moved, 10**11))


def test_crossover_in_channels_flips_the_bound():
    gpu = device(peak=10**12, bandwidth=10**11)
    (value,) = crossover(Conv2d(N, N, 1), (56, 56, N), N, gpu)
    below, above = int(sympy.floor(value)), int(sympy.ceiling(value))
    assert intensity(Conv2d(below, below, 1), (56, 56, below)) < gpu.ridge
    assert intensity(Conv2d(above, above, 1), (56, 56, above)) > gpu.ridge


def test_crossover_in_batch():
    b = sympy.Symbol("b", positive=True, integer=True)
    gpu = device("t4")
    (value,) = crossover(Linear(1024, 1024, bias=False), (1024,), b, gpu, batch=b)
    # b·1024² mults over 4·(2·1024·b + 1024²) bytes = ridge  ->  b by hand:
    ridge = gpu.ridge
    assert value == 4 * ridge * 1024**2 / (1024**2 - 8 * 1024 * ridge)


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from symconv.render.roofline import plot_roofline

    net = Sequential(("dw", DepthwiseConv2d(64, 3, padding=1)), ("pw", Conv2d(64, 256, 1)))
    out = plot_roofline(roofline(net, (28, 28, 64), device_=device("t4")), device("t4"),
                        tmp_path / "r.svg")
    text = out.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert ">dw<" in text and ">pw<" in text and "NVIDIA T4 roofline" in text


# ------------------------------------------------------------------ command line

import json  # noqa: E402

from symconv.cli import main  # noqa: E402


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "json"])
def test_net_memory_in_every_format(capsys, fmt):
    assert main(["net", "mobilenet_v1", "--resolution", "32", "--alpha", "0.25", "--memory",
                 "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "block13.pointwise" in out and "memory" in out


def test_net_memory_json_agrees_with_the_api(capsys):
    from symconv.networks.memory import memory
    from symconv.networks.zoo import mobilenet_v2

    assert main(["net", "mobilenet_v2", "--resolution", "64", "--memory", "--peak-flops", "1T",
                 "--bandwidth", "100G", "--format", "json", "--dtype-bytes", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    used = memory(mobilenet_v2(resolution=64), dtype_bytes=2)
    assert report["memory"]["activation_bytes"] == str(used.activation_bytes)
    assert report["device"]["ridge"] == "10"
    first = report["layers"][0]
    assert first["name"] == "conv1.conv" and first["bound"] in ("memory", "compute")


def test_roofline_command_writes_the_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "roofline.svg"
    assert main(["roofline", "mobilenet_v2", "--resolution", "32", "--out", str(out)]) == 0
    assert "block17.project" in out.read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["net", "mobilenet_v1", "--device", "t4"], "add --memory"),
    (["net", "mobilenet_v1", "--memory", "--bandwidth", "3"], "go together"),
    (["net", "mobilenet_v1", "--memory", "--device", "tpu"], "unknown"),
    (["net", "mobilenet_v1", "--memory", "--peak-flops", "fast", "--bandwidth", "1G"],
     "not a rate"),
    (["net", "mobilenet_v1", "--memory", "--per-layer"], "two different reports"),
    (["net", "mobilenet_v1", "--memory", "--format", "html"], "not available"),
    (["roofline", "mobilenet_v1", "--out", "r.txt"], "must end in"),
])
def test_bad_memory_options(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
