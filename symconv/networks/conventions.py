"""Named counting conventions: one registry, :data:`CONVENTIONS`, of small pure functions.

A :class:`~symconv.derive.Cost` keeps every kind of operation apart (mults, adds, divs,
comparisons) for every layer. A *convention* selects and combines them into the one number a
paper or a tool reports; ``docs/conventions.md`` has the table. Each convention is a function
of the network's per-layer rows (:class:`~symconv.networks.rows.LayerRow`, single layers only) to a
SymPy number or expression; its docstring's first line describes it.

Examples
--------
>>> from symconv.networks.zoo import mobilenet_v1
>>> net = mobilenet_v1()
>>> count(net, convention="macs")            # what the MobileNet paper reports: 569 million
568740352
>>> count(net, convention="flops")
1137480704
>>> ', '.join(sorted(CONVENTIONS))
'adds, comparisons, divs, flops, fvcore, macs, mults, ops, params, ptflops, thop, torch, torchinfo, transcendentals'
>>> count(net, convention="ptflops")         # what ptflops prints for the same model in PyTorch
589012456
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy

from symconv.derive import Cost
from symconv.errors import SymconvError
from symconv.layers import PADDING_STRINGS, Layer
from symconv.networks.conventions_transformer import RULES as _TRANSFORMER_RULES
from symconv.networks.rows import LayerRow, as_cost, rows

__all__ = ["CONVENTIONS", "MAC_KINDS", "PEERS", "Convention", "Rule", "count", "breakdown", "describe",
           "rules"]

#: A convention: the rows of a network's single layers to one count.
Convention = Callable[[Sequence[LayerRow]], sympy.Expr]

_CONV_KINDS = ("standard", "pointwise", "depthwise", "grouped")
#: Convolutions whose padding was written ``"same"`` or ``"valid"``: ``"standard:same"``, ...
_STRING_PADDED = tuple(f"{kind}:{written}" for kind in _CONV_KINDS for written in PADDING_STRINGS)

#: The kinds of layer whose multiplications are multiply-accumulates: convolutions (their
#: padding written as numbers or as a string) and linear layers.
MAC_KINDS = frozenset({*_CONV_KINDS, *_STRING_PADDED, "transposed", "linear"})


def _sum(layer_rows: Sequence[LayerRow], kind: str) -> sympy.Expr:
    return sympy.Add(*(getattr(row, kind) for row in layer_rows))


def macs(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
    """Multiply-accumulates of convolutions and linear layers only, biases excluded (MobileNet papers)."""
    return _sum([row for row in layer_rows if row.kind in MAC_KINDS], "mults")


def flops(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
    """Twice the MACs: a multiply and an add each (PyTorch, TensorFlow profilers)."""
    return 2 * macs(layer_rows)


def ops(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
    """Every arithmetic operation of every layer: mults + adds + divs + comparisons + transcendentals."""
    return _sum(layer_rows, "ops")


def _total(kind: str, doc: str) -> Convention:
    """The convention that sums one field of every row."""

    def total(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
        return _sum(layer_rows, kind)

    total.__name__ = total.__qualname__ = kind
    total.__doc__ = doc
    return total



# --- Peers: what other tools count, rule by rule, from their source -------------------------
#
# Each peer convention reproduces one tool's total on the PyTorch model that the symconv network
# describes (counts per example, as the tools report for a batch of one). A rule says what the
# tool counts for one kind of layer and where its source says so; a kind without a rule raises,
# so that nothing is counted as zero because a table missed it.

#: Reshaping, routing, and empty networks (a network without layers is one row of its kind):
#: no tool counts anything for them.
_ZERO_KINDS = ("flatten", "reuse", "graph", "sequential")


@dataclass(frozen=True)
class Rule:
    """What a tool counts for one kind of layer: ``count(row)``, and why (with the source)."""

    count: Callable[[LayerRow], sympy.Expr]
    reason: str


def _numel(shape: Sequence[sympy.Expr]) -> sympy.Expr:
    if all(isinstance(size, (int, sympy.Integer)) for size in shape):  # without SymPy's Mul
        return sympy.Integer(math.prod(int(size) for size in shape))
    return sympy.Mul(*shape)


def _elements_in(row: LayerRow) -> sympy.Expr:
    return _numel(row.input_shape)


def _elements_out(row: LayerRow) -> sympy.Expr:
    return _numel(row.output_shape)


def _bias_adds(row: LayerRow) -> sympy.Expr:
    """A convolution's or linear layer's bias additions, read back from its counts: a dot
    product of L terms has L mults and L − 1 adds (scatter form: L and L), the bias one more."""
    adds, mults = row.adds, row.mults
    if isinstance(adds, sympy.Integer) and isinstance(mults, sympy.Integer):  # without SymPy
        out = _elements_out(row) if row.kind != "transposed" else 0
        if isinstance(out, (int, sympy.Integer)):
            return sympy.Integer(int(adds) - int(mults) + int(out))
    extra = adds - mults
    if row.kind != "transposed":
        extra += _elements_out(row)
    return extra if isinstance(extra, sympy.Integer) else sympy.expand(extra)


def _zero(row: LayerRow) -> sympy.Expr:
    return sympy.Integer(0)


def _times(factor: int, of: Callable[[LayerRow], sympy.Expr]) -> Callable[[LayerRow], sympy.Expr]:
    return lambda row: factor * of(row)


def _mults(row: LayerRow) -> sympy.Expr:
    return row.mults


def _mults_and_bias(row: LayerRow) -> sympy.Expr:
    return row.mults + _bias_adds(row)


def _gather_form(row: LayerRow) -> sympy.Expr:
    """A transposed convolution counted like a convolution over its output:
    ``H_o·W_o·N·(M/g)·k_h·k_w`` (symconv's scatter mults times output over input positions)."""
    return row.mults * _numel(row.output_shape[:-1]) / _numel(row.input_shape[:-1])


def _params_per_output_position(row: LayerRow) -> sympy.Expr:
    return row.params * _numel(row.output_shape[:-1])


def _params(row: LayerRow) -> sympy.Expr:
    return row.params


#: A part ``from_torch(..., unsupported="skip")`` counted as zero on the user's request: zero
#: under every convention, the tool's own count of it included (listed by
#: ``symconv.frontends.torch.uncounted`` and in every report, never silently zero).
_UNCOUNTED = Rule(_zero, "not counted: symconv cannot count it and the user asked to skip it "
                  "(from_torch unsupported='skip'); listed as uncounted, 0 here whatever the "
                  "tool counts for it")


def _peer(name: str, doc: str, rules: dict[str, Rule]) -> Convention:
    """The convention that sums a tool's rule over every row; unknown kinds raise."""

    def peer(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
        total: list[sympy.Expr] = []
        for row in layer_rows:
            rule = rules.get(row.kind)
            if rule is None:
                raise SymconvError(
                    f"convention {name!r} has no rule for layer {row.name} of kind {row.kind!r}; "
                    f"it knows {', '.join(rules)}"
                )
            total.append(rule.count(row))
        if all(isinstance(value, (int, sympy.Integer)) for value in total):  # without Add
            return sympy.Integer(sum(int(value) for value in total))
        return sympy.Add(*total)

    rules = {**rules, **{kind: Rule(counter, reason) for kind, (counter, reason)
                         in _TRANSFORMER_RULES.get(name, {}).items()}, "uncounted": _UNCOUNTED}
    peer.__name__ = peer.__qualname__ = name
    peer.__doc__ = doc
    peer.rules = rules  # type: ignore[attr-defined]
    return peer


def _rules(source: str, table: dict[tuple[str, ...], tuple[Callable[[LayerRow], sympy.Expr], str]]
           ) -> dict[str, Rule]:
    """Expand ``{kinds: (count, reason)}`` into one :class:`Rule` per kind; ``source`` prefixes
    the file of each reason."""
    rules: dict[str, Rule] = {}
    for kinds, (counter, reason) in table.items():
        for kind in kinds:
            rules[kind] = Rule(counter, f"{reason} [{source}]" if source else reason)
    return rules


_ELEMENTWISE = ("relu", "relu6", "leakyrelu", "hardtanh", "hardswish", "hardsigmoid")
_FUNCTIONAL = tuple(f"F.{name}" for name in _ELEMENTWISE)
_TORCH_CALLS = tuple(f"torch.{name}" for name in _ELEMENTWISE)
#: Broadcast arithmetic of two tensors (``a * b``, ``a - b``, ``a / b``) and the mean over axes.
_BROADCAST = ("mul", "sub", "div")
#: BatchNorm without running statistics (``track_running_stats=False``): the batch's in eval
#: mode too, ``F.batch_norm(..., training=True)``.
_BATCH_STATS = "batchnorm:batch_stats"
#: Activations that evaluate a transcendental function, in their three spellings.
_TRANSCENDENTAL = ("sigmoid", "silu", "tanh", "gelu", "gelu_tanh", "elu", "softplus", "mish")
_T_MODULE = _TRANSCENDENTAL
_T_F = tuple(f"F.{name}" for name in _TRANSCENDENTAL)
_T_TORCH = tuple(f"torch.{name}" for name in _TRANSCENDENTAL)
#: Data movement and identities at inference: no tool counts anything for them.
_MOVEMENT = ("slice", "channelshuffle", "identity", "dropout", "stochasticdepth", "pad",
             "featuredropout", "alphadropout", "featurealphadropout")
#: Pooling called as a function in forward (F.adaptive_avg_pool2d(x, 1), F.avg_pool2d, ...).
_F_POOLS = ("F.globalavgpool", "F.avgpool", "F.maxpool")
#: Resizing (nn.Upsample, F.interpolate; nearest and bilinear) and PReLU.
_UPSAMPLE = ("upsample:nearest", "upsample:bilinear")
_INTERPOLATE = ("F.interpolate:nearest", "F.interpolate:bilinear")
_RESIZE = (*_UPSAMPLE, *_INTERPOLATE, "prelu")
_NOT_MAC = (*_RESIZE, "batchnorm", _BATCH_STATS, *_T_MODULE, *_T_F, *_T_TORCH, *_MOVEMENT, "softmax", "logsoftmax",
            "layernorm", "groupnorm", "layerscale", *_BROADCAST, "mean", "adaptiveavgpool", "adaptivemaxpool", "cat", *_F_POOLS,
            "avgpool", "maxpool", "globalavgpool", "add", "torch.add",
            *_ELEMENTWISE, *_FUNCTIONAL, *_TORCH_CALLS, *_ZERO_KINDS)

#: ptflops 0.7.5, default pytorch backend: module hooks (``MODULES_MAPPING``) plus patched
#: ``torch.nn.functional`` calls and ``torch.add``/``Tensor.add`` (``FUNCTIONAL_MAPPING``,
#: ``TENSOR_OPS_MAPPING``), all in ptflops/pytorch_ops.py, patched in pytorch_engine.py.
_PTFLOPS = _rules("ptflops 0.7.5, ptflops/pytorch_ops.py", {
    (*_CONV_KINDS, *_STRING_PADDED, "transposed"): (
        _mults_and_bias, "conv_flops_counter_hook: kernel·M·N/g per output position (per input "
        "position when transposed, as symconv's mults), plus N per output position for a bias; "
        "a module hook, from the output's shape, so padding='same' / 'valid' counts alike"),
    ("linear",): (_mults_and_bias, "linear_flops_counter_hook: in·out, plus out for the bias"),
    ("batchnorm", _BATCH_STATS): (lambda row: _elements_in(row) * (2 if row.params != 0 else 1),
                                  "bn_flops_counter_hook: 1 per input element, 2 with affine"),
    ("relu",): (_times(2, _elements_out), "relu_flops_counter_hook counts each output element, "
                "and the patched F.relu that nn.ReLU calls counts it again: 2 per element "
                "(a double count)"),
    ("relu6", "leakyrelu"): (_elements_out, "relu_flops_counter_hook: 1 per output element "
                             "(nn.ReLU6 calls F.hardtanh, nn.LeakyReLU F.leaky_relu: not patched)"),
    ("hardtanh", "hardswish", "hardsigmoid"): (_zero, "no hook for the module, its F function "
                                               "not patched: 0"),
    ("F.relu", "F.relu6"): (_elements_in, "patched F.relu / F.relu6 "
                            "(_numel_functional_flops_hook), when forward looks F.relu up as it "
                            "calls it: 1 per input element"),
    (*(f"F.{name}" for name in _ELEMENTWISE[2:]), *_TORCH_CALLS): (
        _zero, "not in FUNCTIONAL_MAPPING (torch.relu and x.relu() bypass the patched F.relu): 0"),
    ("maxpool", "avgpool", "globalavgpool"): (_times(2, _elements_in), "pool_flops_counter_hook "
                                              "counts each input element, and the patched "
                                              "F.max_pool2d / F.avg_pool2d / "
                                              "F.adaptive_avg_pool2d the module calls counts it "
                                              "again: 2 per input element"),
    ("adaptiveavgpool", "adaptivemaxpool"): (
        _times(2, _elements_in), "pool_flops_counter_hook (nn.AdaptiveAvgPool2d / "
        "nn.AdaptiveMaxPool2d) counts each input element, and the patched F.adaptive_avg_pool2d "
        "/ F.adaptive_max_pool2d the module calls counts it again: 2 per input element"),
    ("cat",): (_zero, "torch.cat is not patched: 0"),
    ("elu", "gelu", "gelu_tanh"): (_times(2, _elements_out), "relu_flops_counter_hook for "
                                   "nn.ELU / nn.GELU counts each output element, and the patched "
                                   "F.elu / F.gelu the module calls counts it again: 2 per element"),
    ("silu",): (_elements_in, "no module hook; nn.SiLU calls the patched F.silu: 1 per element"),
    ("sigmoid", "tanh", "softplus", "mish"): (_zero, "no module hook, and the function the "
                                              "module calls (torch.sigmoid, torch.tanh, "
                                              "F.softplus, F.mish) is not patched: 0"),
    ("F.elu", "F.gelu", "F.gelu_tanh", "F.silu"): (_elements_in, "patched F.elu / F.gelu / "
                                                   "F.silu: 1 per input element"),
    ("F.sigmoid", "F.tanh", "F.softplus", "F.mish", *_T_TORCH): (
        _zero, "not in FUNCTIONAL_MAPPING: 0"),
    ("softmax",): (_elements_in, "no module hook; nn.Softmax calls the patched F.softmax: 1 per "
                   "input element"),
    ("logsoftmax",): (_zero, "F.log_softmax is not patched: 0"),
    ("layernorm",): (_elements_in, "bn_flops_counter_hook: 1 per input element (nn.LayerNorm "
                     "has elementwise_affine, not the affine attribute the hook doubles for)"),
    ("groupnorm",): (lambda row: _elements_in(row) * (2 if row.params != 0 else 1),
                     "bn_flops_counter_hook: 1 per input element, 2 with affine"),
    ("layerscale",): (_zero, "a parameter times a tensor with *: Tensor.__mul__, not patched: 0"),
    _MOVEMENT: (_zero, "no hook: 0"),
    _F_POOLS: (_elements_in, "patched F.adaptive_avg_pool2d / F.avg_pool2d / F.max_pool2d "
               "(_numel_functional_flops_hook) called in forward: 1 per input element (no "
               "module hook: once)"),
    ("add",): (_zero, "a + b calls Tensor.__add__, which is not patched: 0"),
    ("torch.add",): (_elements_out, "patched torch.add / Tensor.add "
                     "(_elementwise_tensor_flops_hook): 1 per element"),
    ("mul",): (_zero, "a * b and a *= b call Tensor.__mul__ / mul_, which are not patched "
               "(TENSOR_OPS_MAPPING patches torch.mul and the attribute Tensor.mul, which "
               "from_torch refuses for now): 0"),
    ("sub", "div"): (_zero, "torch.sub / torch.div and their operators are not in "
                     "TENSOR_OPS_MAPPING: 0"),
    ("mean",): (_zero, "torch.mean / Tensor.mean are not in FUNCTIONAL_MAPPING or "
                "TENSOR_OPS_MAPPING: 0"),
    _ZERO_KINDS: (_zero, "no hook: 0"),
    # resizing and PReLU
    _UPSAMPLE: (_times(2, _elements_out), "upsample_flops_counter_hook counts each output "
                "element, and the patched F.interpolate the module calls "
                "(_interpolate_functional_flops_hook) counts them again: 2 per output element "
                "(the hook computes input elements · scale_factor², not the output's size, "
                "for a scale factor that is not an integer: docs/conventions.md)"),
    _INTERPOLATE: (_elements_out, "patched F.interpolate (_interpolate_functional_flops_hook): "
                   "1 per output element (size given, or an integer scale factor)"),
    ("prelu",): (_times(2, _elements_out), "relu_flops_counter_hook counts each output "
                 "element, and the patched F.prelu nn.PReLU calls counts each input element: "
                 "2 per element"),
})

#: thop 0.1.1.post2209072238 (``thop.profile``): module hooks only (``register_hooks`` in
#: thop/profile.py; the counters in thop/vision/basic_hooks.py and calc_func.py).
_THOP = _rules("thop 0.1.1, thop/vision/basic_hooks.py", {
    (*_CONV_KINDS, *_STRING_PADDED): (_mults, "count_convNd: output elements · M/g · kernel, "
                                      "bias ignored (a module hook, from the output's shape: "
                                      "padding='same' / 'valid' counts alike)"),
    ("transposed",): (_gather_form, "count_convNd treats it as a convolution over its output: "
                      "H_o·W_o·N·(M/g)·k², not the products a transposed convolution does "
                      "(H·W·M·(N/g)·k²); bias ignored"),
    ("linear",): (_mults, "count_linear: in_features per output element, bias ignored"),
    ("batchnorm", _BATCH_STATS): (lambda row: _elements_in(row) * (4 if row.params != 0 else 2),
                                  "count_normalization: calculate_norm gives 2 per input "
                                  "element, doubled for affine: 4 per element"),
    ("relu", "relu6", "leakyrelu"): (_zero, "zero_ops / count_relu (calculate_relu_flops "
                                     "returns 0): 0"),
    ("hardtanh", "hardswish", "hardsigmoid"): (_zero, "no rule in register_hooks: 0"),
    (*_FUNCTIONAL, *_TORCH_CALLS, "add", "torch.add", *_BROADCAST, "mean"): (
        _zero, "thop hooks modules only; functions and tensor arithmetic (+, *, -, /, mean): 0"),
    ("maxpool", "adaptivemaxpool"): (_zero, "zero_ops: 0"),
    ("adaptiveavgpool",): (lambda row: _elements_in(row) + _elements_out(row),
                           "count_adap_avgpool: (kernel + 1) per output element, kernel = "
                           "(H/H_o)·(W/W_o) in floating point: H·W·C + H_o·W_o·C, exact where "
                           "the floats are (every torchvision model)"),
    ("cat", *_F_POOLS): (_zero, "not a module: 0"),
    (*_T_MODULE, *_T_F, *_T_TORCH, "logsoftmax", "groupnorm", "layerscale", *_MOVEMENT): (
        _zero, "no rule in register_hooks (thop/profile.py), or not a module: 0"),
    ("softmax",): (lambda row: 3 * _elements_in(row) - row.divs,
                   "count_softmax: per softmax of F features, F exps, F − 1 adds and F divs "
                   "(calculate_softmax): 3·elements − rows, along any axis (symconv divides "
                   "once per row)"),
    ("layernorm",): (lambda row: _elements_in(row) * (4 if row.params != 0 else 2),
                     "count_normalization: calculate_norm 2 per input element, doubled with "
                     "elementwise_affine"),
    ("avgpool",): (_elements_out, "count_avgpool: 1 per output element"),
    ("upsample:nearest",): (_elements_out, "count_upsample: calculate_upsample('nearest'), "
                            "1 per output element"),
    ("upsample:bilinear",): (_times(11, _elements_out), "count_upsample: "
                             "calculate_upsample('bilinear'), 11 per output element"),
    _INTERPOLATE: (_zero, "not a module: 0"),
    ("prelu",): (_elements_in, "count_prelu: calculate_relu(input elements) when not "
                 "training: 1 per element"),
    ("globalavgpool",): (lambda row: _elements_in(row) + _elements_out(row),
                         "count_adap_avgpool: (kernel + 1) per output element, kernel = H·W: "
                         "(H·W + 1)·C"),
    _ZERO_KINDS: (_zero, "no rule: 0"),
})

#: fvcore 0.1.5.post20221221 ``FlopCountAnalysis(model.eval(), x).total()``: TorchScript-traced
#: aten ops with a handle in ``_DEFAULT_SUPPORTED_OPS`` (fvcore/nn/flop_count.py); the handles
#: are in fvcore/nn/jit_handles.py. Other ops are skipped with a warning.
_FVCORE = _rules("fvcore 0.1.5, fvcore/nn/jit_handles.py", {
    (*_CONV_KINDS, "transposed"): (_mults, "conv_flop_jit / conv_flop_count: batch·prod(w_shape)·"
                                   "output positions (input positions when transposed), "
                                   "bias ignored"),
    _STRING_PADDED: (_zero, "with padding='same' / 'valid' F.conv*d runs "
                     "aten::_convolution_mode (ATen's Convolution.cpp), traced as that op, which "
                     "has no handle in _DEFAULT_SUPPORTED_OPS "
                     "(fvcore/nn/flop_count.py; conv_flop_jit is the handle of "
                     "aten::_convolution only): skipped, 0"),
    ("linear",): (_mults, "linear_flop_jit: prod(input shape)·out, bias ignored"),
    ("batchnorm",): (lambda row: _elements_in(row) * (2 if row.params != 0 else 1),
                     "batchnorm_flop_jit at inference: 1 per input element, 2 with affine (5 "
                     "per element in training mode)"),
    (_BATCH_STATS,): (lambda row: _elements_in(row) * (5 if row.params != 0 else 4),
                      "batchnorm_flop_jit: without running statistics aten::batch_norm is "
                      "traced with training=True in eval mode too, counted by "
                      "norm_flop_counter(1): 5 per input element with affine, 4 without"),
    ("layernorm", "groupnorm"): (lambda row: _elements_in(row) * (5 if row.params != 0 else 4),
                                 "norm_flop_counter(2) for aten::layer_norm / aten::group_norm: "
                                 "5 per input element with affine, 4 without"),
    ("globalavgpool", "adaptiveavgpool", "F.globalavgpool"): (_elements_in, "aten::adaptive_avg_pool2d: "
                                           "elementwise_flop_counter(1, 0), 1 per input element"),
    ("upsample:nearest", "F.interpolate:nearest"): (
        _elements_out, "aten::upsample_nearest2d: elementwise_flop_counter(0, 1), 1 per output "
        "element (fvcore/nn/flop_count.py)"),
    ("upsample:bilinear", "F.interpolate:bilinear"): (
        _times(4, _elements_out), "aten::upsample_bilinear2d: elementwise_flop_counter(0, 4), "
        "4 per output element (fvcore/nn/flop_count.py)"),
    ("prelu",): (_zero, "aten::prelu has no handle in _DEFAULT_SUPPORTED_OPS: skipped, 0"),
    ("maxpool", "avgpool", "add", "torch.add", *_ELEMENTWISE, *_FUNCTIONAL, *_TORCH_CALLS,
     *_ZERO_KINDS, *_BROADCAST, "mean", "adaptivemaxpool", "cat", "F.avgpool", "F.maxpool",
     *_T_MODULE, *_T_F, *_T_TORCH, "softmax", "logsoftmax", "layerscale", *_MOVEMENT): (
        _zero, "no handle in _DEFAULT_SUPPORTED_OPS (fvcore/nn/flop_count.py; aten::mul, "
        "aten::sub, aten::div, aten::mean included): skipped, 0"),
})

#: PyTorch 2.13.0 ``torch.utils.flop_counter.FlopCounterMode``: aten ops in its registry
#: (torch/utils/flop_counter.py); everything else is not counted.
_TORCH = _rules("torch 2.13.0, torch/utils/flop_counter.py", {
    (*_CONV_KINDS, "transposed"): (_times(2, _mults), "conv_flop_count: 2 · prod(w_shape) · "
                                   "output positions (input positions when transposed), bias "
                                   "ignored"),
    _STRING_PADDED: (_times(2, _mults), "aten._convolution_mode (padding='same' / 'valid') is "
                     "CompositeImplicitAutograd (native_functions.yaml): it decomposes into "
                     "aten.convolution before FlopCounterMode sees it, which conv_flop_count "
                     "counts as any convolution: 2 · prod(w_shape) · output positions"),
    ("linear",): (_times(2, _mults), "addmm_flop / mm_flop: 2·in·out, bias ignored"),
    _NOT_MAC: (_zero, "no formula in the registry: 0"),
})

#: torchinfo 1.8.0 ``summary(model, input_data=x).total_mult_adds``: the sum over leaf layers of
#: ``LayerInfo.calculate_macs`` (torchinfo/layer_info.py), from parameters and output shapes.
_TORCHINFO = _rules("torchinfo 1.8.0, torchinfo/layer_info.py", {
    (*_CONV_KINDS, *_STRING_PADDED): (_params_per_output_position, "calculate_macs: a Conv "
                                      "layer's parameters (weight and bias) per output "
                                      "position, whatever its padding"),
    ("transposed",): (_params_per_output_position, "calculate_macs: parameters per *output* "
                      "position, as for a convolution: H_o·W_o·(k²·M·N/g + N), more than the "
                      "products a transposed convolution does"),
    ("linear", "batchnorm", _BATCH_STATS): (_params, "calculate_macs: batch size times the "
                                            "layer's parameters (BatchNorm's γ and β too)"),
    ("maxpool", "avgpool", "globalavgpool", "add", "torch.add", *_ELEMENTWISE, *_FUNCTIONAL,
     *_TORCH_CALLS, *_ZERO_KINDS): (_zero, "no parameters: 0"),
    (*_BROADCAST, "mean", "cat", *_F_POOLS): (_zero, "not a module, so not a layer of the "
                                               "summary: 0"),
    ("adaptiveavgpool", "adaptivemaxpool", *_T_MODULE, *_T_F, *_T_TORCH, "softmax",
     "logsoftmax", *_MOVEMENT): (_zero, "no parameters: 0"),
    ("layernorm", "groupnorm"): (_params, "calculate_macs: the layer's parameters "
                                 "(γ and β) once per example"),
    ("layerscale",): (_zero, "calculate_macs counts a leaf layer's parameters named (or "
                      "containing) weight or bias; a layer scale is neither (ConvNeXt's "
                      "layer_scale, a parameter of the CNBlock, which is no leaf): 0"),
    _UPSAMPLE: (_zero, "no parameters: 0"),
    _INTERPOLATE: (_zero, "not a module, so not a layer of the summary: 0"),
    ("prelu",): (_params, "calculate_macs: the layer's parameters (its slopes: 1, or one per "
                 "channel) once per example"),
})

#: The one registry of conventions, by name.
CONVENTIONS: dict[str, Convention] = {
    "macs": macs,
    "flops": flops,
    "ops": ops,
    "mults": _total("mults", "Every multiplication of every layer (BatchNorm's included)."),
    "adds": _total("adds", "Every addition of every layer (biases, BatchNorm, pooling, residuals included)."),
    "divs": _total("divs", "Every division (average pooling: one per output element)."),
    "comparisons": _total("comparisons", "Every comparison (ReLU, ReLU6, max pooling)."),
    "transcendentals": _total("transcendentals", "Every evaluation of exp, log, erf, tanh, sqrt, "
                              "rsqrt or a non-integer power (SiLU, GELU, Softmax, normalisations)."),
    "params": _total("params", "Learned parameters: weights, biases where present, BatchNorm's γ and β."),
    "ptflops": _peer("ptflops", "MACs of ptflops 0.7.5 (pytorch backend): convolutions and linear "
                     "layers with their biases, BatchNorm, some activations and pooling, some "
                     "counted twice.", _PTFLOPS),
    "thop": _peer("thop", "MACs of thop 0.1.1: convolutions and linear layers without biases, "
                  "BatchNorm at 4 per element, average pooling.", _THOP),
    "fvcore": _peer("fvcore", "Flops of fvcore 0.1.5 (one per multiply-add): convolutions (not "
                    "those with padding='same' or 'valid'), linear layers, BatchNorm and "
                    "adaptive pooling.", _FVCORE),
    "torch": _peer("torch", "PyTorch 2.13's FlopCounterMode: 2 per multiply-add of convolutions "
                   "and matrix products only.", _TORCH),
    "torchinfo": _peer("torchinfo", "Total mult-adds of torchinfo 1.8.0: each layer's parameters "
                       "times its output positions (convolutions) or once (other layers).",
                       _TORCHINFO),
}

#: The conventions that reproduce another tool's number (each has ``.rules``: kind -> Rule).
PEERS = ("ptflops", "thop", "fvcore", "torch", "torchinfo")


def _convention(name: object) -> Convention:
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise SymconvError(
            f"convention={name!r} is unknown; use one of {', '.join(CONVENTIONS)}"
        )
    return CONVENTIONS[name]


def describe(convention: str) -> str:
    """One line saying what a convention counts.

    Examples
    --------
    >>> describe("flops")
    'Twice the MACs: a multiply and an add each (PyTorch, TensorFlow profilers).'
    """
    doc = _convention(convention).__doc__ or convention
    return doc.strip().splitlines()[0]


def count(
    model: Layer | Cost, input_shape: object = None, *, convention: str = "macs",
    phase: str = "forward", input_grad: bool | None = None, frozen: object = (),
    optimizer: object = None,
) -> sympy.Expr:
    """The count of ``model`` under a named convention.

    Parameters
    ----------
    model
        A layer or network (or the :class:`~symconv.derive.Cost` derived from one).
    input_shape
        Channels-last input shape; not needed for networks that carry their own.
    convention
        A name in :data:`CONVENTIONS`: ``"macs"`` (default), ``"flops"``, ``"ops"``,
        ``"mults"``, ``"adds"``, ``"divs"``, ``"comparisons"``, ``"params"``, or a peer tool's
        (:data:`PEERS`): ``"ptflops"``, ``"thop"``, ``"fvcore"``, ``"torch"``, ``"torchinfo"``.
    phase, input_grad, frozen
        ``"forward"`` (the default), ``"backward"`` or ``"train"`` (forward plus backward), with
        :func:`symconv.derive.cost`'s ``input_grad`` and ``frozen``; see
        :mod:`symconv.networks.training` (only the ``torch`` peer counts a backward pass).
    optimizer
        With ``phase="train"``: one optimizer step (``"sgd"``, ``"sgd_momentum"``, ``"adam"``,
        ``"adamw"``, or :mod:`symconv.layers.optimizers`' ``SGD(...)``/``Adam(...)``) on the
        trainable parameters, convention ``torch.optim`` of ``docs/conventions.md``.

    Returns
    -------
    sympy.Expr
        An exact integer for concrete shapes, a closed form for symbolic ones.

    Raises
    ------
    SymconvError
        For an unknown convention (the message lists the known ones) or bad shapes.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.symbols import H, W, M, N, k
    >>> count(Conv2d(M, N, k, bias=True), (H, W, M), convention="flops")
    2*M*N*k**2*(H - k + 1)*(W - k + 1)
    >>> count(Conv2d(3, 64, 3), (7, 7, 3), convention="gflops")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: convention='gflops' is unknown; use one of macs, flops, ops, mults, adds, divs, comparisons,
    transcendentals, params, ptflops, thop, fvcore, torch, torchinfo
    """
    chosen = _convention(convention)
    if phase != "forward" or input_grad is not None or frozen != () or optimizer is not None:
        from symconv.networks.training import phase_count

        return phase_count(model, input_shape, convention, chosen, phase=phase,
                           input_grad=input_grad, frozen=frozen, peer=convention in PEERS,
                           optimizer=optimizer)
    return chosen(rows(as_cost(model, input_shape, traffic=False)))


def breakdown(
    model: Layer | Cost, input_shape: object = None, *, convention: str = "ops"
) -> dict[str, sympy.Expr]:
    """A convention's count split by kind of layer, in the order the kinds first appear.

    Kinds that count nothing under the convention are left out.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.layers import BatchNorm2d, ReLU6, Sequential
    >>> net = Sequential(Conv2d(3, 8, 3), BatchNorm2d(8), ReLU6())
    >>> breakdown(net, (7, 7, 3))
    {'standard': 10600, 'batchnorm': 400, 'relu6': 400}
    >>> breakdown(net, (7, 7, 3), convention="macs")
    {'standard': 5400}
    """
    chosen = _convention(convention)
    by_kind: dict[str, list[LayerRow]] = {}
    for row in rows(as_cost(model, input_shape, traffic=False)):
        by_kind.setdefault(row.kind, []).append(row)
    counted = {kind: chosen(group) for kind, group in by_kind.items()}
    return {kind: value for kind, value in counted.items() if value != 0}


def rules(convention: str) -> dict[str, Rule]:
    """A peer convention's rules, by layer kind (empty for symconv's own conventions).

    Examples
    --------
    >>> print(rules("thop")["batchnorm"].reason)
    count_normalization: calculate_norm gives 2 per input element, doubled for affine: 4 per element
    [thop 0.1.1, thop/vision/basic_hooks.py]
    >>> rules("macs")
    {}
    """
    return dict(getattr(_convention(convention), "rules", {}))
