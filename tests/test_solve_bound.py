"""``solve("bound", ...)`` / ``symconv solve bound``: the smallest batch, resolution or channel
count from which a layer is compute-bound. Expected answers are worked out by hand below, or
checked by evaluating the intensity independently (a concrete layer, a concrete batch) at the
answer and one below it."""

from __future__ import annotations

import json

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import Conv2d, DepthwiseConv2d, Linear
from symconv.cli import main
from symconv.design import solve
from symconv.errors import SymconvError
from symconv.networks.roofline import device, intensity
from symconv.symbols import H


def test_linear_by_hand():
    # b examples: 1024·1024·b mults; bytes 4·(1024·b inputs + 1024·b outputs + 1024·1024 + 1024
    # weights and biases); the T4's ridge is 405/16 FLOPs/byte, 405/32 mults/byte (a
    # multiply-add is 2 FLOPs): 2^20·b / (4·(2048·b + 1049600)) = 256·b/(2·b + 1025) ≥ 405/32
    # <=>  8192·b ≥ 810·b + 415125  <=>  7382·b ≥ 415125  <=>  b ≥ 56.2
    answer = solve("bound", layer=Linear(1024, 1024), input_shape=(1024,), device="t4")
    assert (answer.relation, answer.value) == (">=", 57)
    assert 7382 * 57 >= 415125 > 7382 * 56
    # counted in FLOPs, 512·b/(2·b + 1025) ≥ 405/16: the same inequality, the same answer
    flops = solve("bound", layer=Linear(1024, 1024), input_shape=(1024,), device="t4",
                  work="flops")
    assert flops.value == 57 and flops.inequality.rhs == sympy.Rational(405, 16)
    assert answer.inequality.rhs == sympy.Rational(405, 32)
    assert "405/32 mults/byte = 405/16 FLOPs/byte" in answer.text()


def test_resolution_by_hand():
    # 3x3 conv 16 -> 16, padding 1, on HxHx16: 2304·H² mults; 4·(32·H² + 2304) bytes;
    # 10^12 FLOP/s over 2·10^11 B/s is 5 FLOPs/byte, 5/2 mults/byte:
    # 18·H²/(H² + 72) ≥ 5/2  <=>  31·H² ≥ 360  <=>  H ≥ 4 (3² = 9 < 11.6 ≤ 16)
    gpu = device(peak=10**12, bandwidth=2 * 10**11)
    answer = solve("bound", layer=Conv2d(16, 16, 3, padding=1), input_shape=(H, H, 16), vary=H,
                   device=gpu)
    assert answer.value == 4
    assert sympy.simplify(answer.inequality.lhs - 18 * H**2 / (H**2 + 72)) == 0


def test_a_depthwise_layer_is_never_compute_bound_on_a_t4():
    # 9 mults per output element, per example 2 elements moved per output: 9/8 mults per byte
    with pytest.raises(SymconvError, match=r"never compute-bound .* approaches 9/8"):
        solve("bound", layer=DepthwiseConv2d(32, 3, padding=1), input_shape=(56, 56, 32))


def test_a_strided_layer_is_scanned_and_checked_independently():
    gpu = device(peak=10**12, bandwidth=2 * 10**11)
    layer = Conv2d(16, 16, 3, stride=2, padding=1)
    answer = solve("bound", layer=layer, input_shape=(H, H, 16), vary=H, device=gpu, limit=64)
    found = int(answer.value)

    def compute_bound(size):       # 5 FLOPs/byte: 5/2 mults/byte
        return intensity(Conv2d(16, 16, 3, stride=2, padding=1), (size, size, 16)) >= \
            sympy.Rational(5, 2)

    assert compute_bound(found) and not compute_bound(found - 1)
    assert all(compute_bound(size) for size in range(found, 65))


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 64), st.integers(1, 64), st.sampled_from([1, 3]), st.integers(1, 16),
       st.sampled_from(["t4", "a100", "jetson-nano"]))
def test_the_batch_threshold_holds_at_the_answer_and_not_below(m, n, k, size, name):
    layer, shape = Conv2d(m, n, k), (size + k - 1, size + k - 1, m)
    try:
        answer = solve("bound", layer=layer, input_shape=shape, device=name)
    except SymconvError as error:
        assert "never compute-bound" in str(error)
        far = intensity(layer, shape, batch=10**9)
        assert far < device(name).ridge / 2
        return
    b = int(answer.value)
    ridge = device(name).ridge / 2     # the datasheet's FLOPs/byte; a mult is 2 FLOPs
    assert intensity(layer, shape, batch=b) >= ridge
    assert b == 1 or intensity(layer, shape, batch=b - 1) < ridge
    assert intensity(layer, shape, batch=10 * b) >= ridge


def test_cli_network_layer_by_hand(capsys):
    # MobileNet V2's block16.project: 1x1, 960 -> 160 on 7x7. Per example 7526400 mults and
    # 47040 + 7840 activations moved; 153600 weights once. 7526400·b/(4·(54880·b + 153600))
    # = 11760·b/(343·b + 960) ≥ 405/32 mults/byte (the T4's 405/16 FLOPs/byte halved)
    # <=>  376320·b ≥ 138915·b + 388800  <=>  237405·b ≥ 388800  <=>  b ≥ 2 (1.64 rounded up)
    assert main(["solve", "bound", "--network", "mobilenet_v2", "--layer", "block16.project",
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["answer"], report["relation"], report["variable"]) == (2, ">=", "b")
    assert report["inequality"]["formula"] == "11760*b/(343*b + 960) >= 405/32"
    assert (report["device"]["ridge"], report["device"]["ridge_unit"]) == ("405/32", "mults/byte")
    assert 237405 * 2 >= 388800 > 237405 * 1


@pytest.mark.parametrize(("fmt", "shown"), [("text", "≥ 405/32 mults/byte"),
                                            ("markdown", r"\geq"),
                                            ("latex", r"\geq \frac{405}{32}"),
                                            ("json", '"answer": 1')])
def test_cli_single_convolution_in_every_format(capsys, fmt, shown):
    # 3x3 256 -> 256 on 14x14: 14112·b/(49·b + 288) ≥ 405/32 already at b = 1 (41.9)
    assert main(["solve", "bound", "--channels", "256", "--out-channels", "256", "--kernel", "3",
                 "--padding", "1", "--resolution", "14", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert shown in out


def test_cli_channels_by_hand(capsys):
    # 1x1 C -> C on 56x56: 3136·C² mults, 4·(2·3136·C + C²) bytes; 1 TFLOP/s over 100 GB/s
    # is 10 FLOPs/byte, 5 mults/byte: 784·C/(C + 6272) ≥ 5  <=>  779·C ≥ 31360  <=>  C ≥ 41
    # (40.26 rounded up)
    assert main(["solve", "bound", "--vary", "channels", "--kernel", "1", "--resolution", "56",
                 "--peak-flops", "1T", "--bandwidth", "100G", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] == 41
    assert 779 * 41 >= 31360 > 779 * 40


@pytest.mark.parametrize(("argv", "message"), [
    (["--vary", "width"], "--vary width is unknown"),
    (["--network", "mobilenet_v2"], "give both"),
    (["--network", "mobilenet_v2", "--layer", "nope"], "is not a layer of"),
    (["--network", "mobilenet_v2", "--layer", "conv1.conv", "--vary", "resolution"],
     "batch only"),
    (["--network", "mobilenet_v2", "--layer", "block3.depthwise"], "never compute-bound"),
    (["--channels", "8"], "needs --out-channels"),
    (["--batch", "4", "--channels", "8", "--out-channels", "8"], "--batch is what"),
    (["--budget", "3M"], "not an option of 'solve bound'"),
    (["--channels", "8", "--out-channels", "8", "--device", "t4", "--bandwidth", "1G"],
     "not both"),
])
def test_cli_refusals_are_one_line(capsys, argv, message):
    assert main(["solve", "bound", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
