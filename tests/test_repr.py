"""REPL manners (issue 17): a Cost, a network and a verification print in a line or two, with a
hint of how to see more; the long forms stay available."""

from __future__ import annotations

from symconv import Conv2d, DepthwiseSeparableConv2d, cost, verify
from symconv.verify import Verification
from symconv.zoo import mobilenet_v1, mobilenet_v2


def test_a_network_cost_prints_its_totals_in_one_line() -> None:
    network = cost(mobilenet_v1())
    text = repr(network)
    assert "\n" not in text and len(text) < 400
    assert text.startswith("Cost(sequential of ") and "mults=" in text and "params=4231976" in text
    assert len(network.long_repr()) > 10_000            # every field is still there
    assert "stages=" in network.long_repr()


def test_a_single_layer_cost_shows_counts_and_shapes() -> None:
    # by hand: 5·5·64 outputs of 27 products, 26 additions each
    assert repr(cost(Conv2d(3, 64, 3), (7, 7, 3))).startswith(
        "Cost(standard: mults=43200, adds=41600, params=1728")


def test_networks_print_their_layer_names_elided() -> None:
    text = repr(mobilenet_v2())
    assert "\n" not in text and len(text) < 200 and "…" in text and "input 224×224×3" in text
    assert len(mobilenet_v2().long_repr()) > 5_000


def test_a_verification_says_which_stages_fail() -> None:
    check = verify(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    assert repr(check).startswith("Verification(ok: 2 of 2 stages match")
    failing = Verification(ok=False, stages=(check.stages[0],
                                             type(check.stages[1])(**{**check.stages[1].__dict__,
                                                                      "match": False})),
                           layer=check.layer, input_shape=check.input_shape)
    assert "MISMATCH in pointwise" in repr(failing) and "1 of 2" in repr(failing)
