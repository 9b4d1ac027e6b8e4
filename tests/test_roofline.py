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
    # the datasheet's ridge is in FLOPs/byte: 8.1 TFLOPS / 320 GB/s; a multiply-add is two of
    # those FLOPs, so in mults/byte it is half: 8100 / (2·320) = 405/32
    t4 = device("t4")
    assert t4.ridge == sympy.Rational(8_100, 320) == t4.ridge_in("flops")
    assert t4.ridge_in("mults") == sympy.Rational(8_100, 2 * 320)
    assert t4.rate("mults") == 4_050 * 10**9 and t4.rate("flops") == 8_100 * 10**9
    with pytest.raises(SymconvError, match="work='macs'"):
        t4.rate("macs")


def test_bad_devices():
    with pytest.raises(SymconvError, match="unknown"):
        device("tpu")
    with pytest.raises(SymconvError, match="peak=0"):
        device(peak=0, bandwidth=1)
    with pytest.raises(SymconvError, match="not both"):
        device("t4", peak=1)


def test_bounds_and_times():
    # 10^12 FLOP/s over 10^11 B/s: ridge 10 FLOPs/byte = 5 mults/byte (5·10^11 mults/s)
    gpu = device(peak=10**12, bandwidth=10**11)
    net = Sequential(("dw", DepthwiseConv2d(64, 3, padding=1)), ("pw", Conv2d(64, 256, 1)))
    rows = {row.name: row for row in roofline(net, (28, 28, 64), device_=gpu)}
    # dw: 28·28·64·9 = 451584 mults over 4·(2·28·28·64 + 576) = 403712 bytes: 1.1 < 5
    # pw: 12845056 mults over 1069056 bytes: 12.0 ≥ 5
    assert rows["dw"].bound == "memory" and rows["pw"].bound == "compute"
    pw = rows["pw"]
    mults = 28 * 28 * 64 * 256
    moved = 4 * (28 * 28 * 64 + 64 * 256 + 28 * 28 * 256)
    assert pw.bytes == moved
    # each mult is a multiply-add, 2 of the peak's FLOPs: 2·mults / 10^12 s ≈ 2.57e-5 s beats
    # 1069056 / 10^11 ≈ 1.07e-5 s
    assert pw.seconds == max(sympy.Rational(2 * mults, 10**12), sympy.Rational(moved, 10**11))
    assert pw.seconds == sympy.Rational(2 * mults, 10**12)


def test_near_the_t4_ridge_by_hand():
    # 1x1 c -> c on 56x56, float32, on a T4 (8.1·10^12 FLOP/s, 3.2·10^11 B/s: 405/32 ≈ 12.656
    # mults/byte): 3136·c² mults, 4·(2·3136·c + c²) bytes, 784·c/(c + 6272) ≥ 405/32
    # <=>  24683·c ≥ 2540160  <=>  c ≥ 102.91. c = 102: 39984/3187 ≈ 12.546 < 12.656;
    # c = 103: 80752/6375 ≈ 12.667 ≥ 12.656. The old code compared mults/byte with the
    # FLOPs/byte ridge 405/16 and called both memory-bound.
    t4 = device("t4")
    for c, expected in ((102, "memory"), (103, "compute")):
        (row,) = roofline(Sequential(("pw", Conv2d(c, c, 1))), (56, 56, c), device_=t4)
        mults, moved = 3136 * c * c, 4 * (2 * 3136 * c + c * c)
        assert (row.work, row.bytes, row.bound) == (mults, moved, expected)
        # lower-bound times: 2·mults FLOPs at 8.1·10^12 FLOP/s, bytes at 3.2·10^11 B/s;
        # c = 102: 8.056e-6 s < 8.127e-6 s (memory); c = 103: 8.215e-6 s > 8.208e-6 s (compute)
        compute = sympy.Rational(2 * mults, 8_100 * 10**9)
        memory = sympy.Rational(moved, 320 * 10**9)
        assert row.seconds == max(compute, memory)
        assert (compute >= memory) == (expected == "compute")
    assert intensity(Conv2d(102, 102, 1), (56, 56, 102)) == sympy.Rational(39984, 3187)
    assert intensity(Conv2d(103, 103, 1), (56, 56, 103)) == sympy.Rational(80752, 6375)
    c = sympy.Symbol("c", positive=True, integer=True)
    assert crossover(Conv2d(c, c, 1), (56, 56, c), c, t4) == [sympy.Rational(2540160, 24683)]


@pytest.mark.parametrize("name", ["t4", "a100", "jetson-nano"])
@pytest.mark.parametrize("batch", [1, 7, 60, 512])
def test_the_unit_does_not_change_the_physics(name, batch):
    # a 2048 -> 2048 linear layer at float32 has 256·b/(b + 1024) mults/byte: on a T4 at b = 60
    # 14.2 mults/byte, above 405/32 ≈ 12.7 and below 405/16 ≈ 25.3, where comparing mults with
    # the FLOP ridge said "memory" and flops with it "compute". The same layer must get the same
    # verdict, the same seconds and the same crossover counted either way.
    chosen = device(name)
    net = Sequential(("fc", Linear(2048, 2048, bias=False)), ("pw", Conv2d(16, 64, 1)))
    shapes = {"fc": (2048,), "pw": (28, 28, 16)}
    for part, layer in net.layers:
        model = Sequential((part, layer))
        (mults,) = roofline(model, shapes[part], device_=chosen, work="mults", batch=batch)
        (flops,) = roofline(model, shapes[part], device_=chosen, work="flops", batch=batch)
        assert flops.work == 2 * mults.work and flops.intensity == 2 * mults.intensity
        assert (mults.bound, mults.seconds) == (flops.bound, flops.seconds)
    b = sympy.Symbol("b", positive=True, integer=True)
    fc = Linear(2048, 2048, bias=False)
    assert crossover(fc, (2048,), b, chosen, batch=b, work="mults") == \
        crossover(fc, (2048,), b, chosen, batch=b, work="flops")


def test_crossover_in_channels_flips_the_bound():
    gpu = device(peak=10**12, bandwidth=10**11)      # 10 FLOPs/byte: 5 mults/byte
    (value,) = crossover(Conv2d(N, N, 1), (56, 56, N), N, gpu)
    # 784·N/(N + 6272) = 5  <=>  779·N = 31360
    assert value == sympy.Rational(31360, 779)
    below, above = int(sympy.floor(value)), int(sympy.ceiling(value))
    assert intensity(Conv2d(below, below, 1), (56, 56, below)) < 5
    assert intensity(Conv2d(above, above, 1), (56, 56, above)) > 5


def test_crossover_in_batch():
    b = sympy.Symbol("b", positive=True, integer=True)
    gpu = device("t4")
    (value,) = crossover(Linear(1024, 1024, bias=False), (1024,), b, gpu, batch=b)
    # b·1024² mults over 4·(2·1024·b + 1024²) bytes, 128·b/(b + 512), = 405/32 mults/byte
    # (the T4's 405/16 FLOPs/byte halved)  <=>  4096·b = 405·b + 207360  <=>  3691·b = 207360
    assert value == sympy.Rational(207360, 3691)
    (flops,) = crossover(Linear(1024, 1024, bias=False), (1024,), b, gpu, batch=b, work="flops")
    assert flops == value


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from symconv.render.roofline import plot_roofline

    net = Sequential(("dw", DepthwiseConv2d(64, 3, padding=1)), ("pw", Conv2d(64, 256, 1)))
    out = plot_roofline(roofline(net, (28, 28, 64), device_=device("t4")), device("t4"),
                        tmp_path / "r.svg")
    text = out.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert ">dw<" in text and ">pw<" in text and "NVIDIA T4 roofline" in text
    assert "12.7 mults/byte = 25.3 FLOPs/byte" in text and "mults per byte" in text


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
    # 1 TFLOP/s over 100 GB/s: 10 FLOPs/byte, 5 mults/byte
    assert (report["device"]["ridge"], report["device"]["ridge_unit"]) == ("5", "mults/byte")
    assert report["device"]["ridge_flops"] == "10" and report["device"]["peak_flops"] == 10**12
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
