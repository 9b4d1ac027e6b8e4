"""``symconv compare --phase`` and ``symconv derive --phase``: the backward pass of each stage of
the founding example, checked against hand counts and against the counts of an execution.

Hand counts, 7×7×3 → 5×5×64 with a 3×3 kernel (25 output positions, 1600 output elements):

* input gradient (scatter form): every output-gradient element times the 3·3·3 weights of its
  kernel, added into the input gradient: 1600·27 = 43200 mults and 43200 adds; depthwise
  25·3·9 = 675; pointwise 1600·3 = 4800;
* weight gradient: every weight a dot product of 25 terms: 1728·25 = 43200 mults and 1728·24 =
  41472 adds; depthwise 27·25 = 675 and 27·24 = 648; pointwise 192·25 = 4800 and 192·24 = 4608;
* bias gradient: every channel a sum of 25 output-gradient elements: 64·24 = 1536 adds.

As a network's first layer (``--no-input-grad``) the standard convolution and the depthwise
stage lose their input gradient; the pointwise stage keeps it (the depthwise stage before it is
trained): separable / standard = (675 + 2·4800) / 43200 = 137/576.
"""

from __future__ import annotations

import json
import re

import pytest

from symconv.cli import main

FOUNDING = ["--input", "7x7x3", "--output", "5x5x64"]
CONTRACT = ["input", "output", "kernel", "stride", "padding", "dilation", "bias", "standard",
            "depthwise", "pointwise", "separable", "ratio"]


def _json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def _values(entry: dict) -> dict:
    return {name: (parts["mults"]["value"], parts["adds"]["value"])
            for name, parts in entry["gradients"].items()}


def test_backward_json_has_the_hand_counts_after_the_contract_keys(capsys):
    report = _json(capsys, "compare", *FOUNDING, "--phase", "backward", "--format", "json")
    assert list(report) == [*CONTRACT, "phase", "input_grad", "backward", "symbols"]
    assert report["standard"]["mults"]["value"] == 43200            # still the forward pass
    assert (report["phase"], report["input_grad"]) == ("backward", True)
    backward = report["backward"]
    assert _values(backward["standard"]) == {"input_grad": (43200, 43200),
                                             "weight_grad": (43200, 41472)}
    assert _values(backward["depthwise"]) == {"input_grad": (675, 675),
                                              "weight_grad": (675, 648)}
    assert _values(backward["pointwise"]) == {"input_grad": (4800, 4800),
                                              "weight_grad": (4800, 4608)}
    assert backward["separable"]["mults"]["value"] == 2 * (675 + 4800)
    for stage in ("standard", "depthwise", "pointwise", "separable"):
        assert backward[stage]["to_forward"]["value"] == "2"
    assert backward["ratio"]["mults"]["formula"] == "k**(-2) + 1/N"
    assert backward["ratio"]["mults"]["value"] == "73/576"


def test_the_first_layer_needs_no_input_gradient(capsys):
    report = _json(capsys, "compare", *FOUNDING, "--phase", "backward", "--no-input-grad",
                   "--format", "json")
    backward = report["backward"]
    assert report["input_grad"] is False
    assert _values(backward["standard"]) == {"weight_grad": (43200, 41472)}
    assert _values(backward["depthwise"]) == {"weight_grad": (675, 648)}
    assert _values(backward["pointwise"]) == {"input_grad": (4800, 4800),
                                              "weight_grad": (4800, 4608)}
    assert [backward[stage]["to_forward"]["value"] for stage in ("standard", "depthwise",
                                                                  "pointwise")] == ["1", "1", "2"]
    assert backward["ratio"]["mults"]["formula"] == "2/k**2 + 1/N"
    assert backward["ratio"]["mults"]["value"] == "137/576"


def test_train_and_bias(capsys):
    report = _json(capsys, "compare", *FOUNDING, "--bias", "--phase", "train", "--format",
                   "json")
    assert list(report)[-4:] == ["input_grad", "backward", "train", "symbols"]
    assert report["backward"]["standard"]["gradients"]["bias_grad"]["adds"]["value"] == 1536
    train = report["train"]
    assert train["standard"]["mults"]["value"] == 3 * 43200
    assert train["standard"]["to_forward"]["value"] == "3"
    # forward adds with bias 1600·27 = 43200, backward 43200 + 41472 + 1536
    assert train["standard"]["adds"]["value"] == 43200 + 43200 + 41472 + 1536
    assert train["ratio"]["mults"]["value"] == "73/576"


def test_the_report_equals_what_an_execution_counts(capsys):
    report = _json(capsys, "compare", *FOUNDING, "--phase", "backward", "--format", "json")
    checked = _json(capsys, "verify", *FOUNDING, "--phase", "backward", "--format", "json")
    counted = {stage["name"].split()[0]: stage["counted"] for stage in checked["stages"]}
    for stage in ("standard", "depthwise", "pointwise"):
        assert counted[stage] == {"mults": report["backward"][stage]["mults"]["value"],
                                  "adds": report["backward"][stage]["adds"]["value"]}


def test_the_forward_report_is_unchanged_by_the_option(capsys):
    plain = _json(capsys, "compare", *FOUNDING, "--format", "json")
    forward = _json(capsys, "compare", *FOUNDING, "--phase", "forward", "--format", "json")
    assert plain == forward and list(plain) == [*CONTRACT, "symbols"]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html"])
def test_every_format_shows_formula_substitution_and_value(fmt, lang, capsys):
    assert main(["compare", *FOUNDING, "--phase", "train", "--format", fmt, "--lang", lang]) == 0
    out = capsys.readouterr().out
    title = {"en": "Backward pass", "zh": "反向传播"}[lang]
    assert title in out
    out = re.sub(r"<[^>]+>", "", out).replace(" ", "").replace(r"\frac{73}{576}", "73/576")
    assert "41472" in out and "43200+43200" in out and "86400" in out   # weight grad; total
    assert "1350+9600" in out and "10950" in out                         # separable
    assert "43200+86400" in out and "129600" in out                      # training step
    assert "73/576" in out


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex", "html", "json"])
def test_derive_phase_in_every_format(fmt, capsys):
    assert main(["derive", "separable", "--phase", "backward", "--no-input-grad",
                 "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        report = json.loads(out)
        backward = report["backward"]
        assert backward["depthwise"]["to_forward"]["formula"] == "1"
        assert backward["pointwise"]["to_forward"]["formula"] == "2"
        assert backward["ratio"]["mults"]["formula"] == "2/k**2 + 1/N"
        assert list(backward["pointwise"]["gradients"]) == ["input_grad", "weight_grad"]
    else:
        expected = {"text": "2/k² + 1/N", "markdown": r"\frac{2}{k^{2}} + \frac{1}{N}",
                    "latex": r"\frac{2}{k^{2}} + \frac{1}{N}",
                    "html": "<mfrac><mn>2</mn><msup><mi>k</mi><mn>2</mn></msup></mfrac>"}[fmt]
        assert expected in out


def test_derive_standard_backward_ratio_is_two(capsys):
    report = _json(capsys, "derive", "standard", "--dims", "3", "--phase", "train", "--format",
                   "json")
    assert report["backward"]["standard"]["to_forward"]["formula"] == "2"
    assert report["train"]["standard"]["to_forward"]["formula"] == "3"
    assert report["backward"]["standard"]["gradients"]["weight_grad"]["mults"]["formula"] == (
        "D_o*H_o*M*N*W_o*k**3")


@pytest.mark.parametrize(("kind", "form", "wrong"), [
    ("standard", "is a transposed convolution of the output gradient (scatter form)", "gather"),
    ("transposed", "is a direct convolution of the output gradient (gather form", "scatter"),
])
def test_derive_backward_says_which_form_the_input_gradient_takes(kind, form, wrong, capsys):
    assert main(["derive", kind, "--phase", "backward"]) == 0
    text = capsys.readouterr().out
    assert form in text and wrong not in text
    # the formula printed is that form: a transposed convolution's input gradient has one dot
    # product of k²·N terms per input element (k²·N − 1 adds each); a convolution's scatter
    # adds every product once
    adds = "H·W·M·(k²·N − 1)" if kind == "transposed" else "H_o·W_o·k²·M·N"
    assert re.search(r"input gradient +multiplications .*\n +additions +" + re.escape(adds),
                     text)


@pytest.mark.parametrize(("argv", "message"), [
    (["compare", *FOUNDING, "--no-input-grad"], "--no-input-grad is about the backward pass"),
    (["compare", *FOUNDING, "--phase", "sideways"], "--phase sideways is unknown"),
    (["derive", "standard", "--phase", "both"], "--phase both is unknown"),
    (["net", "mobilenet_v1", "--optimizer", "adam"], "--optimizer adds a step of training"),
    (["net", "mobilenet_v1", "--phase", "train", "--optimizer", "lion"],
     "--optimizer lion is unknown"),
    (["net", "mobilenet_v1", "--phase", "train", "--optimizer", "adam", "--memory"],
     "--optimizer goes with the cost report, not --memory"),
    (["net", "mobilenet_v1", "--phase", "train", "--optimizer", "adam",
      "--compare-conventions"], "--optimizer goes with the cost report or --verify"),
    (["net", "mobilenet_v1", "--alpha", "1", "--resolution", "224", "--compare-conventions",
      "--phase", "train", "--format", "json"],
     "--phase train does nothing with --compare-conventions"),
    (["net", "mobilenet_v1", "--compare-conventions", "--phase", "backward"],
     "--phase backward does nothing with --compare-conventions"),
    (["net", "mobilenet_v1", "--memory", "--phase", "train"],
     "--phase train does nothing with --memory"),
    (["net", "mobilenet_v1", "--memory", "--phase", "sideways"], "--phase sideways is unknown"),
    (["verify", *FOUNDING, "--no-input-grad"], "--no-input-grad is about the backward pass"),
])
def test_bad_phase_options_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# MobileNet V1 at 64×64, not 32×32: at 32 its last blocks run on 1×1, one value per channel, on
# which a training step's BatchNorm is refused (as PyTorch refuses it):
def test_net_train_refuses_batchnorm_on_one_value_per_channel(capsys):
    code = main(["net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "32", "--phase",
                 "train"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "block12.depthwise_bn" in err and "1 value per channel" in err


def test_net_optimizer_adds_a_row_and_its_operations(capsys):
    base = _json(capsys, "net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "64",
                 "--phase", "train", "--convention", "ops", "--format", "json")
    adam = _json(capsys, "net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "64",
                 "--phase", "train", "--convention", "ops", "--optimizer", "adam", "--format",
                 "json")
    params = base["total"]["params"]["value"]
    assert adam["total"]["ops"]["value"] == base["total"]["ops"]["value"] + 13 * params
    assert adam["layers"][-1]["name"] == "optimizer"
    assert adam["layers"][-1]["mults"] == 5 * params


def test_net_verify_executes_the_optimizer_step(capsys):
    report = _json(capsys, "net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "64",
                   "--phase", "train", "--optimizer", "sgd_momentum", "--verify", "--format",
                   "json")
    assert report["ok"] is True
    step = report["stages"][-1]
    assert step["name"] == "optimizer" and step["match"] is True
    params = _json(capsys, "net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "64",
                   "--format", "json")["total"]["params"]["value"]
    # every later step of SGD with momentum: 3 mults and 2 adds per parameter
    assert step["counted"] == {"mults": 3 * params, "adds": 2 * params}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_net_verify_with_adam_shows_its_square_roots(lang, capsys):
    code = main(["net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "64", "--phase",
                 "train", "--optimizer", "adam", "--verify", "--lang", lang])
    out = capsys.readouterr().out
    assert code == 0
    assert {"en": "transcendentals", "zh": "超越函数次数"}[lang] in out


def test_forward_phase_stays_accepted_with_memory_and_compare_conventions(capsys):
    plain = _json(capsys, "net", "mobilenet_v1", "--alpha", "1", "--resolution", "224",
                  "--compare-conventions", "--format", "json")
    forward = _json(capsys, "net", "mobilenet_v1", "--alpha", "1", "--resolution", "224",
                    "--compare-conventions", "--phase", "forward", "--format", "json")
    assert forward == plain
    assert main(["net", "mobilenet_v1", "--memory", "--phase", "forward"]) == 0


def test_verify_without_the_first_layers_input_gradient(capsys):
    def counted(*extra):
        report = _json(capsys, "verify", *FOUNDING, "--phase", "backward", *extra,
                       "--format", "json")
        assert report["ok"] is True and all(stage["match"] for stage in report["stages"])
        return {stage["name"]: stage["counted"] for stage in report["stages"]}

    inside, first = counted(), counted("--no-input-grad")
    # by hand, 5·5 output positions: the standard convolution's weight gradient is 1728 weights
    # × 25 products (24 additions each); its input gradient as many products again, each added
    # into the gradient (scattered); the depthwise one's weight gradient 27 weights × 25; the
    # pointwise one still passes a gradient to the depthwise output, so it keeps both (4800
    # products and additions each, its weights 192 × 25)
    assert inside["standard (backward)"] == {"mults": 2 * 43200, "adds": 1728 * 24 + 43200}
    assert first["standard (backward)"] == {"mults": 43200, "adds": 1728 * 24}
    assert first["depthwise (backward)"] == {"mults": 675, "adds": 27 * 24}
    assert first["pointwise (backward)"] == inside["pointwise (backward)"] == {
        "mults": 2 * 4800, "adds": 192 * 24 + 4800}
