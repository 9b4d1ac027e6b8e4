"""Issue 11: every torchvision classification model through ``from_torch``, against every peer.

Run by hand from the repository root, with torch, torchvision (``--no-deps``) and the peers
installed::

    python benchmarks/torchvision_sweep.py [--models resnet18,mobilenet_v2] [--out sweep.jsonl]
                                           [--peers-cache peers.jsonl] [--skip-unsupported]
                                           [--repeat 5] [--cpu-time]

For each model of ``torchvision.models.list_models(module=torchvision.models)`` (input 224×224×3,
299 for ``inception_v3``), in eval mode, one line is printed and one JSON object appended to
``--out``:

* whether ``from_torch`` accepts it, or the refusal (its first 160 characters);
* for each peer (ptflops, thop, fvcore, torch's FlopCounterMode, torchinfo): what the tool
  prints, what symconv's convention gives, ``equal`` / ``DIFFERENT`` / the tool's crash;
* the time symconv takes (``from_torch`` on the concrete shape plus
  ``count(net, convention="ptflops")``, SymPy's cache cleared first) beside the time ptflops'
  ``get_model_complexity_info`` takes, and their ratio (the issue's target: below 1). With
  ``--repeat N`` both are timed N times, in turn, and the least kept; with ``--cpu-time`` in CPU
  seconds of the process with one torch thread (steadier on a shared machine: ptflops runs the
  model's real convolutions, whose wall time swings tenfold with the machine's load).

The tools' numbers do not depend on symconv, so ``--peers-cache`` keeps them (JSON lines, one
per model) and a second run reads them instead of running the tools again; ptflops is then
timed again right after symconv, on the same model (so both see the same load). One run per
model: the timings are single measurements on a shared 2-core machine, to be read as ratios.
torchvision is imported with its compiled operators' meta registrations replaced by an empty
module (tests/torchvision_models.py says why). No assertion.

Recorded (torchvision 0.28, torch 2.13 CPU, the machine shared with a test run, load about 3):
no tool crashed on any of the 80 models; from_torch accepts 41 (AlexNet, VGG ×8, ResNet ×5,
ResNeXt ×3, Wide ResNet ×2, RegNetX ×7, DenseNet ×4, GoogLeNet, Inception V3, SqueezeNet ×2,
MNASNet ×4, MobileNet V2, V3 Large and Small), and on each of them all five conventions equal
the tools' numbers to the unit. symconv against ptflops, seconds: ResNet-50 0.10 / 0.16 (0.63),
ResNet-101 0.38 / 0.54 (0.71, the largest ratio), MobileNet V2 0.14 / 1.50 (0.10), MobileNet V3
Large 0.23 / 1.04 (0.22), DenseNet-121 1.26 / 6.43 (0.20), Inception V3 2.77 / 7.12 (0.39),
VGG-16 0.05 / 0.41 (0.11); every one of these 41 below 1. Then, with SiLU and Sigmoid mapped,
EfficientNet ×8, EfficientNetV2 ×3 and RegNetY ×8 accepted too (60 of 80), all five conventions
equal on each; RegNetY below 1 (0.12–0.78), but EfficientNet not: 0.69–3.4 (B0: symconv 0.23 s,
ptflops 0.08 s), so the speed target is not met there. Refused (20): ConvNeXt, Swin, MaxViT and
ViT (permute, reshape, LayerNorm, F.gelu, attention), ShuffleNet V2 (view/transpose channel
shuffle, chunk), each by name.

Then (the cnn branch) ShuffleNet V2 ×0.5/×1.0/×1.5/×2.0 accepted (64 of 80): the channel shuffle
as ChannelShuffle, chunk as Slices; all five conventions equal the tools on each. The EfficientNet
speed, ``--repeat 5 --cpu-time`` (load about 7 on 2 cores), symconv / ptflops CPU seconds
(ratio), before → after shape-only pooling and activations inside layers, convolution shapes by
formula and integer fast paths in derive: B0 0.058 / 0.032 (1.83) → 0.028 / 0.033 (0.84);
B1 1.46 → 0.83; B2 → 0.80; B3 1.18 → 0.65; B4 → 0.61; B5 → 0.49; B6 → 0.41;
B7 0.61 → 0.36; V2-S 0.90 → 0.51; V2-M → 0.41; V2-L 0.46 → 0.34: every EfficientNet below 1
now. ShuffleNet V2 is not: 0.025 / 0.018 (1.38), 1.34, 1.18 and 0.73 for ×0.5 to ×2.0 (a small
model, whose real convolutions cost ptflops little). Wall-time ratios on the loaded machine
were 0.2–0.7 for the EfficientNets after, single measurements.

Then, with permutes as changes of axis order, LayerNorm and Linear on channels-last tensors,
F.layer_norm, F.gelu, layer scale, reshapes, the class token, the position embedding and
nn.MultiheadAttention mapped (same machine, loaded by a concurrent test run): ConvNeXt tiny,
small, base, large and ViT B/16, B/32, L/16, L/32, H/14 accepted (with ShuffleNet V2's four, 73 of 80), all five
conventions equal to the tools on each (fvcore run with gradients enabled, as its documentation
does: under torch.no_grad() it counts the fused attention as 0, docs/conventions.md item 5;
FlopCounterMode, then run under no_grad, since also with gradients enabled).
symconv against ptflops, seconds: ConvNeXt-T 1.63 / 3.22 (0.51), -S 2.44 / 9.64 (0.25), -B
1.72 / 9.68 (0.18), -L 1.43 / 14.54 (0.10); ViT-B/16 0.96 / 8.96 (0.11), B/32 0.94 / 5.75
(0.16), L/16 1.75 / 16.35 (0.11), L/32 1.18 / 12.49 (0.09), H/14 2.83 / 29.48 (0.10). Swin
(t, s, b, v2_t, v2_s, v2_b) and MaxViT-T are still refused by name: Swin's F.pad of NHWC
tensors, F.linear on tokens, torch.roll, the batch axis merged with the windows
(reshape(B·nW, N, C)) and its attention mask built in forward, v2's cpb_mlp on a constant
table and F.normalize; MaxViT's chunk and einsum. After the merge with the cnn and speed
branches, ``--repeat 5 --cpu-time`` (load about 3), symconv / ptflops CPU seconds (ratio):
ConvNeXt-T 0.018 / 0.126 (0.15), ConvNeXt-L 0.050 / 0.871 (0.06), ViT-B/16 0.032 / 0.431
(0.07), ViT-B/32 0.021 / 0.143 (0.14), ViT-L/16 0.051 / 1.387 (0.04), ViT-H/14 0.085 / 3.799
(0.02); five peers equal on each.

Then (the swin branch), with F.linear, torch.roll, F.pad, strided and cropping slices, windows
merged with a batch of one (reshape(B·nW, N, C)), products of permuted operands, constants made
from shapes (the attention mask) left uncounted as every tool leaves them, F.normalize, a product
with a constant (the logit scale), torch.nn layers run on a constant table (cpb_mlp), einsum of
batched products and chunk of channels-last tokens mapped: Swin T, S, B, Swin V2 T, S, B and
MaxViT-T accepted, **80 of 80**, all five conventions equal to the tools on every one (a full run
of the 80, load about 4). ``--repeat 5 --cpu-time`` (load about 3), symconv / ptflops CPU
seconds (ratio): Swin-T 0.113 / 0.153 (0.74), -S 0.187 / 0.292 (0.64), -B 0.191 / 0.470
(0.41), V2-T 0.184 / 0.202 (0.91), V2-S 0.265 / 0.369 (0.72), V2-B 0.398 / 0.637 (0.62),
MaxViT-T 0.230 / 0.275 (0.84): every one below 1, after F.linear in forward ran shape-only
(before, Swin-S 0.52 CPU s symconv, about 1.06 in ratio).

Then (the tracespeed branch), DenseNet and ShuffleNet V2, whose ratio was above 1: ``torch.cat``
and ``.contiguous()`` of tensors computed from the input run shape-only in the tracer (DenseNet
copied its growing feature list at every layer, ShuffleNet its shuffled channels), and the size
checks of the stages DenseNet's concatenations make (2 412 Cat stages in DenseNet-201: each
compared its spatial sizes with ``sympy.Eq``), Slice's bounds, ``as_size`` of ints and the
conventions' sums take integer fast paths. ``--models densenet169,densenet201,
shufflenet_v2_x0_5,shufflenet_v2_x1_0,resnet50,efficientnet_b0,vit_b_16 --repeat 5 --cpu-time``
(load about 3.5), symconv / ptflops CPU seconds (ratio), before → after (each run timing ptflops
again): DenseNet-169 0.122 / 0.126 (0.97) → 0.092 / 0.129 (0.71); DenseNet-201 0.167 / 0.166
(1.01) → 0.114 / 0.153 (0.75); ShuffleNet V2 ×0.5 0.024 / 0.017 (1.36) → 0.018 / 0.016 (1.09);
×1.0 0.023 / 0.019 (1.23) → 0.017 / 0.018 (0.92); ResNet-50 0.018 / 0.095 (0.19) → 0.016 /
0.099 (0.17); EfficientNet-B0 0.026 / 0.032 (0.80) → 0.025 / 0.033 (0.75); ViT-B/16 0.029 /
0.433 (0.07) → 0.022 / 0.418 (0.05). ShuffleNet V2 ×0.5 is still above 1: of its ~17 ms about
10 are the tracer (PyTorch's module hooks and the mode's per-call bookkeeping, ~300 calls), a
model whose real convolutions cost ptflops little.

Then (the tracespeed2 branch), the smallest models, still at the edge (``--repeat 3
--cpu-time``: MobileNet V3 Small 1.04, ShuffleNet V2 ×0.5 0.76–1.09, ×1.0 0.85, ×1.5 0.70,
DenseNet-169/201 0.70/0.76, MNASNet 0.5 0.83): ``count`` derives no memory traffic (no
convention reads it; ``derive.derivation.counts_only``), a derivation derives each equal
(layer, input shape) once, ``a + b``, ``a * b``, ``x += y`` and ``F.relu`` in forward run
shape-only in the tracer (SE's ``scale * x`` computed its products for real), the input is zeros
(``randn`` took 0.7 ms a trace), and window sizes, broadcasts, the build's shape comparisons,
parameter counts, totals and the peers' bias additions take integer fast paths (several still
went through ``sympy.Eq``); every count unchanged. The same process alternating the old and the
new code and ptflops, 15 runs each, least CPU time kept (after the merge, load about 2):
MobileNet V3 Small 14.4 → 10.4 ms (ptflops 12.7: ratio 1.13 → 0.82), ShuffleNet V2 ×0.5
19.9 → 14.2 ms (16.9: 1.18 → 0.84), DenseNet-169 88.1 → 64.3 ms (123.7: 0.71 → 0.52), about
0.72 of the time before. A full run of the 80
after merging main (``--repeat 3 --cpu-time``, load about 2.5): 80 of 80 accepted, every peer
equal on every model (the ViTs' ``torch`` against tool numbers measured again: the peers cache
of /work/snap predates main's FlopCounterMode-with-gradients change); symconv / ptflops CPU
seconds: median ratio 0.23, largest 0.79 (ShuffleNet V2 ×0.5, 0.016 / 0.020), then ×1.0 0.76,
MobileNet V3 Small 0.69 (0.012 / 0.018), Swin V2-T 0.65, MNASNet 0.5 0.60, ×1.5 0.60,
DenseNet-201 0.58, EfficientNet-B0 0.57, DenseNet-169 0.49. The smallest, ``--repeat 10``:
MobileNet V3 Small 0.0103 / 0.0126 (0.82), ShuffleNet V2 ×0.5 0.70, ×1.0 0.59, ×1.5 0.52,
MNASNet 0.5 0.61, DenseNet-169 0.51, -201 0.53, Swin V2-T 0.67. Single min-of-3 ratios of the
smallest still move by ±0.1 between runs on the shared machine (MobileNet V3 Small 0.69–0.87
over four full runs today): every model below 1, the smallest near 0.8 rather than clearly
under it. What remains is per call: about 20 µs of the tracer's bookkeeping per module and
15 µs of derivation per stage, against ptflops' hooks and real convolutions on a model of
~200 small modules.
Then (the paramchain branch), parameter chains as stages (Swin's and MaxViT's bias tables
gathered, Swin V2's 16·sigmoid and logit scale: symconv.layers.learned): all five conventions
still equal the tools on Swin-T, -S, -B, V2-T, -S, -B and MaxViT-T. ``--models
swin_t,swin_v2_t,maxvit_t --repeat 5 --cpu-time`` (load about 2), run in turn with main's tree
twice, symconv / ptflops CPU seconds (ratio), main → paramchain: Swin-T 0.133 / 0.182 (0.73),
0.081 / 0.130 (0.63) → 0.114 / 0.152 (0.75), 0.101 / 0.144 (0.71); Swin V2-T 0.124 / 0.197
(0.63), 0.127 / 0.166 (0.76) → 0.204 / 0.180 (1.13), 0.176 / 0.171 (1.03); MaxViT-T 0.223 /
0.271 (0.82), 0.134 / 0.192 (0.70) → 0.177 / 0.254 (0.70), 0.178 / 0.239 (0.75). Swin V2-T is
above 1 again: its 12 blocks gain 10 stages each (a parameter, clamp, exp, a gather, sigmoid,
×16 and their routing), and each of its distinct gathers is a tuple of heads·N² ints built and
checked once (~8 ms for 24 heads of 64² positions).
Then (the gatherrows branch), the chains' cost: a gather of whole table rows taken column by
column (each head a column: Swin's, Swin V2's and MaxViT's bias) is ``Gather(rows, shape,
columns=heads)``, an index of N² rows instead of heads·N² positions (Swin V2-T's largest, 24
heads of 64² tokens: 4 096 ints, not 98 304), and the tracer's id tensors are one shared
``arange`` per size, left uncopied by ``contiguous``/``clone``, equal gathers found by a sum and
a comparison (no 0.8 MB bytes key per block); every count unchanged (the sweep's five peers
equal on all five models in every run). Under cProfile, Swin V2-T's chain work per
``from_torch`` + ``count`` went from 48–58 to ~21 ms (Gather's constructor 10–14 → 0.7 ms).
``--models swin_v2_t,swin_v2_s,swin_v2_b,maxvit_t,swin_t --repeat 5 --cpu-time`` (load 1–1.5),
main's tree and this branch run in turn, ratios: Swin V2-T 0.84, 0.73, 0.78, 0.72, 0.83 →
0.70, 0.70, 0.80, 0.64; V2-S 0.75, 0.99, 0.67, 0.96, 0.88 → 0.76, 0.72, 1.02, 0.72; V2-B
0.43–0.63 → 0.39–0.50; MaxViT-T 0.52–0.68 → 0.53–0.67; Swin-T 0.52–0.68 → 0.53–0.66. With
``--models swin_v2_t,swin_v2_s,maxvit_t --repeat 15``, twice each in turn: V2-T 0.85, 0.80 →
0.59, 0.69 (symconv 0.137, 0.140 → 0.096, 0.121 s); V2-S 0.72, 0.72 → 0.62, 0.62; MaxViT-T
0.52, 0.53 → 0.56, 0.60. The sweep's min-of-N still moves by ±0.15 between runs on this
machine; one process loading the old and the new package alternately (10–12 rounds, least CPU
time of 5 runs per round) is steadier: Swin V2-T 107 → 96 ms and 114 → 97 ms (the new over the
old per round, median 0.90 and 0.85), Swin-T 72 → 66 ms (0.87), MaxViT-T 113 → 123 and 113 → 111
ms (median 0.99 and 1.04: unchanged, its gathers were 2–16 heads of 49² and cheap already).

Last full run (main after the tracespeed2, paramchain and gatherrows merges, and the tracer's
shape-only ``a @ b``, softmax, roll and F.normalize; FlopCounterMode run with gradients, the
peers cache regenerated for the five ViTs' ``torch`` numbers): ``--repeat 3 --cpu-time``, load
about 1.5 with one other engineer's runs: 80 of 80 accepted, all five peers equal on all 80,
symconv / ptflops CPU time median 0.22, the largest ShuffleNet V2 ×0.5 0.81, MobileNet V3 Small
0.81, Swin V2-S 0.76, ShuffleNet V2 ×1.0 0.72, DenseNet-169 0.69, MaxViT-T 0.68, Swin V2-T 0.65.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.modules.setdefault("torchvision._meta_registrations",
                       types.ModuleType("torchvision._meta_registrations"))

import torch  # noqa: E402  imported before any timing
import torchvision  # noqa: E402
from sympy.core.cache import clear_cache  # noqa: E402
from torch_nets import peer_count  # noqa: E402

from symconv import SymconvError, count, from_torch  # noqa: E402
from symconv.frontends.torch import uncounted  # noqa: E402

PEERS = ("ptflops", "thop", "fvcore", "torch", "torchinfo")


def resolution(name: str) -> int:
    """The input size torchvision's weights were trained at: 299 for Inception V3, else 224."""
    return 299 if name == "inception_v3" else 224


def build(name: str) -> torch.nn.Module:
    """The torchvision model, untrained, in eval mode (``aux_logits`` off where it exists, as the
    tools would see it at inference)."""
    factory = torchvision.models.get_model_builder(name)
    kwargs: dict[str, Any] = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, init_weights=False)
    model = factory(**kwargs)
    return model.eval()


def tool_numbers(name: str, model: torch.nn.Module, size: int) -> dict[str, Any]:
    """What each tool prints for the model, or its crash; ptflops' time."""
    numbers: dict[str, Any] = {}
    for peer in PEERS:
        start = time.perf_counter()
        # fvcore and FlopCounterMode as their documentation runs them, gradients enabled (main()
        # disables them): under torch.no_grad() nn.MultiheadAttention takes its fused kernel,
        # which both count as 0 (docs/conventions.md, item 5)
        grad = torch.enable_grad() if peer in ("fvcore", "torch") else contextlib.nullcontext()
        try:
            with grad:
                numbers[peer] = peer_count(peer, model, (3, size, size))
        except Exception as error:  # a crash is the result
            numbers[peer] = f"crash: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
        if peer == "ptflops":
            numbers["ptflops_seconds"] = time.perf_counter() - start
    return numbers


def best_times(model: torch.nn.Module, size: int, repeat: int, clock: Any,
               options: dict[str, Any]) -> tuple[float, float]:
    """symconv's (``from_torch`` + ``count(net, convention="ptflops")``) and ptflops' least
    time over ``repeat`` runs, taken in turn (so that both see the same load), SymPy's cache
    cleared before each."""
    ours, theirs = [], []
    for _ in range(repeat):
        clear_cache()
        start = clock()
        count(from_torch(model, (size, size, 3), **options), convention="ptflops")
        ours.append(clock() - start)
        clear_cache()
        start = clock()
        peer_count("ptflops", model, (3, size, size))
        theirs.append(clock() - start)
    return min(ours), min(theirs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated names (default: every model)")
    parser.add_argument("--out", default="torchvision_sweep.jsonl")
    parser.add_argument("--peers-cache", default=None)
    parser.add_argument("--skip-unsupported", action="store_true",
                        help="count refused parts as zero (listed) instead of refusing")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time symconv and ptflops this many times each, in turn, and keep "
                             "the least (default 1: one measurement)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time in CPU seconds of this process (time.process_time) with one "
                             "torch thread: steadier than wall time on a shared machine")
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu_time else time.perf_counter
    if args.cpu_time:
        torch.set_num_threads(1)
    names = (args.models.split(",") if args.models
             else torchvision.models.list_models(module=torchvision.models))
    cache: dict[str, dict[str, Any]] = {}
    if args.peers_cache and Path(args.peers_cache).exists():
        for line in Path(args.peers_cache).read_text().splitlines():
            entry = json.loads(line)
            cache[entry["model"]] = entry
    torch.set_grad_enabled(False)
    for name in names:
        size = resolution(name)
        model = build(name)
        clear_cache()
        start = time.perf_counter()
        result: dict[str, Any] = {"model": name, "input": size}
        try:
            options = {"unsupported": "skip"} if args.skip_unsupported else {}
            net = from_torch(model, (size, size, 3), **options)
            result["ptflops_convention"] = int(count(net, convention="ptflops"))
            result["symconv_seconds"] = time.perf_counter() - start
            result["accepted"] = True
            result["uncounted"] = uncounted(net)
        except SymconvError as error:
            result["accepted"] = False
            result["refusal"] = str(error)[:400]
            net = None
        if name in cache:
            tools = cache[name]
        else:
            tools = {"model": name, **tool_numbers(name, model, size)}
            if args.peers_cache:
                with open(args.peers_cache, "a") as stream:
                    stream.write(json.dumps(tools) + "\n")
        result["ptflops_seconds"] = tools.get("ptflops_seconds")
        if result["accepted"] and (args.repeat > 1 or args.cpu_time):
            result["symconv_seconds"], result["ptflops_seconds"] = best_times(
                model, size, max(args.repeat, 1), clock, options)
        elif name in cache and result["accepted"]:  # timed again, right after symconv
            clear_cache()
            start = time.perf_counter()
            peer_count("ptflops", model, (3, size, size))
            result["ptflops_seconds"] = time.perf_counter() - start
        verdicts = {}
        for peer in PEERS:
            printed = tools.get(peer)
            if isinstance(printed, str):
                verdicts[peer] = printed
            elif net is None:
                verdicts[peer] = f"tool {printed}"
            else:
                try:
                    ours = int(count(net, convention=peer))
                    verdicts[peer] = "equal" if ours == printed else f"DIFFERENT {ours} vs {printed}"
                except SymconvError as error:
                    verdicts[peer] = f"no rule: {str(error)[:120]}"
        result["peers"] = verdicts
        with open(args.out, "a") as stream:
            stream.write(json.dumps(result) + "\n")
        ratio = ""
        if result.get("symconv_seconds") and result["ptflops_seconds"]:
            ratio = (f"symconv {result['symconv_seconds']:.3f} s, ptflops "
                     f"{result['ptflops_seconds']:.3f} s, "
                     f"ratio {result['symconv_seconds'] / result['ptflops_seconds']:.2f}")
        state = "accepted" if result["accepted"] else f"refused: {result['refusal'][:160]}"
        shown = ", ".join(f"{peer} {verdict[:40]}" for peer, verdict in verdicts.items())
        print(f"{name} @{size}: {state}; {shown}; {ratio}", flush=True)


if __name__ == "__main__":
    main()
