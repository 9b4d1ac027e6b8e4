"""from_torch counts what the model runs, or refuses by name (issue 16's wrong counts).

Each model here is one of the patterns where symconv once counted something other than what
PyTorch runs: an ``nn.Sequential`` subclass with its own ``forward``, hooks that change a
layer's input or output, call-time arguments of a layer, a replaced ``forward``, a model that
returns a size. The expected numbers come from PyTorch itself (``FlopCounterMode``: 2 per
multiply-accumulate of a convolution or linear layer), from the peers, or from a hand count
written out beside the test; never from symconv.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

import sympy  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torch_nets import installed_peers, peer_count  # noqa: E402

from symconv import SymconvError, count, from_torch  # noqa: E402
from symconv.networks.rows import rows  # noqa: E402
from symconv.symbols import H, W  # noqa: E402


def torch_flops(model: nn.Module, chw: tuple[int, ...]) -> int:
    """What FlopCounterMode counts for one run of ``model`` (2 per MAC of convs and linears)."""
    model.eval()
    with FlopCounterMode(display=False) as counter, torch.enable_grad():
        model(torch.randn(1, *chw))
    return int(counter.get_total_flops())


def channels_last(chw: tuple[int, ...]) -> tuple[int, ...]:
    return (*chw[1:], chw[0])


def names(model: nn.Module, shape: tuple[Any, ...]) -> list[str]:
    return [row.name for row in rows(from_torch(model, shape))]


def assert_counts_what_torch_runs(model: nn.Module, chw: tuple[int, ...]) -> None:
    net = from_torch(model, channels_last(chw))
    assert count(net, convention="torch") == torch_flops(model, chw)
    assert 2 * count(net, convention="macs") == torch_flops(model, chw)


class RunsTwice(nn.Sequential):
    """Every layer twice, in a loop under a condition on sizes (torch.fx cannot trace it)."""

    def forward(self, x: Any) -> Any:
        for _ in range(2):
            if x.size(1) == self[0].in_channels:
                for layer in self:
                    x = layer(x)
        return x


class RunsFirst(nn.Sequential):
    """Only ``self[0]``; the other layers are never called."""

    def forward(self, x: Any) -> Any:
        return self[0](x) if x.shape[1] == 4 else self[1](self[2](x))


def test_a_sequential_subclass_running_its_layers_twice_is_counted_twice() -> None:
    model = RunsTwice(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    # two 3×3 convs 4→4 on 8×8, twice: 4 · 64·4·4·9 = 36864 MACs
    assert count(from_torch(model, (8, 8, 4)), convention="macs") == 4 * 64 * 4 * 4 * 9
    assert_counts_what_torch_runs(model, (4, 8, 8))
    assert names(model, (8, 8, 4)) == ["0", "1", "2", "0#2", "1#2", "2#2"]


def test_a_sequential_subclass_running_one_layer_counts_that_layer_only() -> None:
    model = RunsFirst(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3, padding=1),
                      nn.Conv2d(4, 4, 3, padding=1))
    assert count(from_torch(model, (8, 8, 4)), convention="macs") == 64 * 4 * 4  # 1024
    assert_counts_what_torch_runs(model, (4, 8, 8))
    assert names(model, (8, 8, 4)) == ["0"]


def test_a_forward_hook_that_resizes_the_output_is_refused_naming_module_and_function() -> None:
    model = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3))
    model[0].register_forward_hook(lambda module, args, out: F.interpolate(out, scale_factor=2,
                                                                             mode="bicubic"))
    with pytest.raises(SymconvError, match=r"cannot count 1 part of the model: 0\.interpolate "
                                           r"\(torch\.nn\.functional\.interpolate in a forward "
                                           r"hook of 0: "):
        from_torch(model, (5, 5, 4))


def test_hooks_that_change_values_are_counted_where_they_run() -> None:
    model = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3))
    # a residual addition in a forward hook, an F.relu in a pre-hook of the next layer
    model[0].register_forward_hook(lambda module, args, out: out + args[0])
    model[1].register_forward_pre_hook(lambda module, args: (F.relu(args[0]),))
    net = from_torch(model, (5, 5, 4))
    assert [(row.name, row.kind) for row in rows(net)] == [
        ("0", "pointwise"), ("0.add", "add"), ("1.relu", "F.relu"), ("1", "standard")]
    assert count(net, convention="adds") == (
        25 * 4 * 3 + 25 * 4      # conv 0: 4-term dot products (3 adds) plus its bias
        + 25 * 4                 # the hook's addition
        + 9 * 4 * 35 + 9 * 4     # conv 1: 36-term dot products on 3×3 outputs, plus its bias
    )
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (4, 5, 5)), peer


def test_a_global_hook_of_the_users_is_counted_where_it_runs() -> None:
    from torch.nn.modules.module import register_module_forward_hook

    def relu_after_convolutions(module: nn.Module, args: Any, out: Any) -> Any:
        return F.relu(out) if isinstance(module, nn.Conv2d) else None

    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1))
    handle = register_module_forward_hook(relu_after_convolutions)
    try:
        net = from_torch(model, (5, 5, 3))
    finally:
        handle.remove()
    assert [(row.name, row.kind) for row in rows(net)] == [
        ("0", "pointwise"), ("relu", "F.relu"), ("1", "pointwise"), ("relu#2", "F.relu")]


def test_a_hook_that_flattens_feeds_the_next_layer_what_it_made() -> None:
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Linear(18, 5))
    model[0].register_forward_hook(lambda module, args, out: torch.flatten(out, 1))
    assert_counts_what_torch_runs(model, (3, 5, 5))  # conv 9·2·27 = 486, linear 90


class Upsampler(nn.Module):
    def __init__(self, positional: bool = False) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 8, 3, stride=2, padding=1)
        self.positional = positional

    def forward(self, x: Any) -> Any:
        if self.positional:
            return self.up(x, [10, 10])
        return self.up(x, output_size=[10, 10])


@pytest.mark.parametrize("positional", [False, True])
def test_call_time_output_size_of_a_transposed_convolution_is_what_runs(positional: bool) -> None:
    model = Upsampler(positional)
    net = from_torch(model, (5, 5, 4))
    [row] = rows(net)
    assert row.output_shape == (10, 10, 8)  # 9×9 without output_size
    for peer in installed_peers():  # thop and torchinfo count per output position
        assert count(net, convention=peer) == peer_count(peer, model, (4, 5, 5)), peer
    # thop's number by hand: output positions · N · M · k²
    assert count(net, convention="thop") == 10 * 10 * 8 * 4 * 9


def test_call_time_output_size_is_refused_for_a_symbolic_shape() -> None:
    class SkipSized(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
            self.up = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1)

        def forward(self, x: Any) -> Any:
            return self.up(self.down(x), output_size=x.shape[2:])

    assert rows(from_torch(SkipSized(), (9, 9, 4)))[-1].output_shape == (9, 9, 4)
    with pytest.raises(SymconvError, match=r"up \(called with output_size=.*\): its layer depends "
                                           "on the input size"):
        from_torch(SkipSized(), (H, W, 4))


def test_a_replaced_forward_is_what_runs() -> None:
    model = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3))
    model[1].forward = lambda x: x  # the 3×3 convolution no longer runs
    assert names(model, (5, 5, 4)) == ["0"]
    assert_counts_what_torch_runs(model, (4, 5, 5))
    convolving = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 3))
    conv = convolving[1]
    conv.forward = lambda x: F.conv2d(x, conv.weight, stride=2)
    with pytest.raises(SymconvError, match=r"1\.conv2d \(torch\.conv2d: symconv has no layer"):
        from_torch(convolving, (5, 5, 4))


def test_a_forward_replaced_on_the_class_is_not_taken_for_the_layer() -> None:
    class Halved(nn.Conv2d):
        def forward(self, x: Any) -> Any:
            return super().forward(x[:, :, ::2, ::2])

    # x[:, :, ::2, ::2] is followed (a Strided view); the convolution is not
    with pytest.raises(SymconvError, match=r"1 part of the model: 0\.conv2d \(torch\.conv2d"):
        from_torch(nn.Sequential(Halved(4, 4, 1)), (6, 6, 4))


@pytest.mark.parametrize(("returned", "words"), [
    (lambda y, x: y.size(0), "model (returns int, not one tensor"),
    (lambda y, x: x.shape, "model (returns Size, not one tensor"),
    (lambda y, x: (y, y), "model (returns tuple, not one tensor"),
    (lambda y, x: torch.zeros(2), "zeros (torch.zeros: symconv has no layer"),
])
def test_a_model_that_returns_no_tensor_it_computed_is_refused(returned: Any, words: str) -> None:
    class Returns(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 1)

        def forward(self, x: Any) -> Any:
            return returned(self.conv(x), x)

    with pytest.raises(SymconvError, match=words.replace("(", r"\(")):
        from_torch(Returns(), (5, 5, 4))


def test_modules_in_lists_made_in_forward_or_called_by_keyword_are_what_runs() -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList([nn.Conv2d(3, 3, 1) for _ in range(2)])

        def forward(self, x: Any) -> Any:
            for block in self.blocks:
                x = block(x) + x
            # a module that is no part of the model runs its own F.relu: ptflops patches that
            # call but hooks only the model's modules, so it is the F.relu spelling
            return nn.ReLU()(x)

    model = Model()
    net = from_torch(model, (4, 4, 3))
    assert [(row.name, row.kind) for row in rows(net)] == [
        ("blocks.0", "pointwise"), ("add", "add"), ("blocks.1", "pointwise"), ("add#2", "add"),
        ("relu", "F.relu")]
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (3, 4, 4)), peer
    # called by keyword (ptflops' hooks fail on that: they read the positional input)
    keyword = nn.Sequential()
    keyword.forward = lambda x: model.blocks[1](input=model.blocks[0](input=x))  # type: ignore[method-assign]
    keyword.blocks = model.blocks
    assert names(keyword, (4, 4, 3)) == ["blocks.0", "blocks.1"]


def test_a_layer_called_around_its_hooks_is_refused_by_name() -> None:
    class Direct(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x: Any) -> Any:
            return self.conv.forward(x)  # no module call: its F.conv2d runs in the model

    with pytest.raises(SymconvError, match=r"part of the model: conv2d \(torch\.conv2d: "):
        from_torch(Direct(), (4, 4, 3))


def test_a_layer_that_does_not_fit_its_input_is_the_model_raising() -> None:
    # the convolution kernel is not computed inside nn.Conv2d, but PyTorch's shape checks run
    for model, words in [(nn.Conv2d(4, 3, 1), "expected input.* to have 4 channels"),
                         (nn.Sequential(nn.Conv2d(3, 3, 1), nn.BatchNorm2d(5)),
                          "running_mean should contain 3 elements not 5"),
                         (nn.Sequential(nn.Flatten(), nn.Linear(10, 3)),
                          r"mat1 and mat2 shapes cannot be multiplied")]:
        with pytest.raises(SymconvError, match=r"the model raised RuntimeError when run on an "
                                               r"input of PyTorch shape 1×3×4×4: .*" + words):
            from_torch(model, (4, 4, 3))


def test_an_input_written_channels_first_gets_did_you_mean() -> None:
    # (3, 8, 8) for a model taking 3 channels: PyTorch's error, then the likely fix
    with pytest.raises(SymconvError, match=r"to have 3 channels, but got 8 channels.*"
                                           r"input_shape=\(3, 8, 8\): the model's first layer "
                                           r"\(0, nn\.Conv2d\) takes 3 channels, and symconv's "
                                           r"shapes are channels last: did you mean \(8, 8, 3\)\?"):
        from_torch(nn.Sequential(nn.Conv2d(3, 4, 1)), (3, 8, 8))
    # a model that fails for another reason gets no such hint
    with pytest.raises(SymconvError) as error:
        from_torch(nn.Sequential(nn.Flatten(), nn.Linear(10, 3)), (4, 4, 3))
    assert "did you mean" not in str(error.value)


def test_an_input_too_big_to_run_is_refused_before_torch_allocates_it() -> None:
    # 3·10⁶·10⁶ float32s: 10.9 TiB
    with pytest.raises(SymconvError, match=r"PyTorch shape 1×3×1000000×1000000: that input "
                                           r"alone takes 10\.9 TiB \(float32\), over the limit"):
        from_torch(nn.Conv2d(3, 4, 1), (10**6, 10**6, 3))


def test_control_flow_on_values_computed_from_the_input_is_refused_on_parameters_it_runs() -> None:
    class Gate(nn.Module):
        def __init__(self, on_parameter: bool) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.head = nn.Linear(3, 1)
            self.gate = nn.Parameter(torch.ones(()))
            self.on_parameter = on_parameter

        def forward(self, x: Any) -> Any:
            y = torch.flatten(self.conv(x), 1)
            read = self.gate if self.on_parameter else self.head(y)
            return self.conv(x) if read.item() > 0 else x

    assert names(Gate(on_parameter=True), (1, 1, 3)) == ["conv", "flatten", "reuse:input", "conv#2"]
    with pytest.raises(SymconvError, match=r"item \(Tensor\.item: it reads the values of a tensor "
                                           "computed from the input into Python"):
        from_torch(Gate(on_parameter=False), (1, 1, 3))


def test_size_arithmetic_in_forward_simply_runs() -> None:
    class Halves(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 1)
            self.small = nn.Conv2d(8, 4, 1)

        def forward(self, x: Any) -> Any:
            torch._assert(x.shape[1] == 8, "8 channels")
            half = x.size(1) // 2
            y = self.conv(x)
            y = self.small(y) if y.size(1) // 2 == half else y
            return y.view(y.size(0), -1)

    model = Halves()
    net = from_torch(model, (3, 3, 8))
    assert [row.name for row in rows(net)] == ["conv", "small", "view"]
    assert_counts_what_torch_runs(model, (8, 3, 3))


def test_symbolic_shapes_follow_the_model_at_two_sizes() -> None:
    model = RunsTwice(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2))
    formula = count(from_torch(model, (H, W, 4)), convention="macs")
    for h, w in [(9, 11), (16, 16)]:
        assert formula.subs({H: h, W: w}) == torch_flops(model, (4, h, w)) // 2

    class BiggerRunsMore(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x: Any) -> Any:
            return self.conv(self.conv(x)) if x.shape[2] > 240 else self.conv(x)

    with pytest.raises(SymconvError, match=r"runs other layers at H=224, W=256 than at H=256, "
                                           r"W=288 \(.*\); its structure depends on "
                                           "the input size"):
        from_torch(BiggerRunsMore(), (H, W, 3))
    assert count(from_torch(BiggerRunsMore(), (8, 8, 3))) == count(
        from_torch(nn.Conv2d(3, 3, 3, padding=1), (8, 8, 3)))


def test_a_shared_module_called_again_is_named_again_and_in_place_ops_follow_the_tensor() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x: Any) -> Any:
            out = self.relu(self.conv1(x))
            out = self.conv2(out)
            out += x  # torchvision's ResNet: in place, then the shared ReLU again
            return self.relu(out)

    model = Block()
    net = from_torch(model, (6, 6, 4))
    assert [(row.name, row.kind) for row in rows(net)] == [
        ("conv1", "standard"), ("relu", "relu"), ("conv2", "standard"), ("add", "add"),
        ("relu#2", "relu")]
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (4, 6, 6)), peer


@pytest.mark.parametrize(("write", "kind"), [
    (lambda a, b: a + b, "add"),
    (lambda a, b: a.add(b), "torch.add"),
    (lambda a, b: torch.add(a, b), "torch.add"),
    (lambda a, b: a.add_(b), "add"),  # ptflops patches torch.add and Tensor.add, not add_
    (lambda a, b: b.__radd__(a), "add"),
    (lambda a, b: sum([a, b]), None),  # 0 + a + b: a number added
])
def test_additions_keep_their_spelling(write: Any, kind: str | None) -> None:
    class Sum(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x: Any) -> Any:
            return write(self.conv(x), x)

    model = Sum()
    if kind is None:
        with pytest.raises(SymconvError, match="cannot count"):
            from_torch(model, (4, 4, 3))
        return
    net = from_torch(model, (4, 4, 3))
    assert rows(net)[-1].kind == kind
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (3, 4, 4)), peer
    assert torch.Tensor.add is torch._C.TensorBase.add  # the tracer's patch is gone


@pytest.mark.parametrize(("forward", "words"), [
    # (x + self.scale is counted: a learned additive tensor, tests/test_transformer.py)
    # (x * self.scale too: a MulParameter, tests/test_swin.py)
    (lambda self, x: torch.mul(x, x), r"mul \(torch\.mul: ptflops counts torch\.mul"),
    (lambda self, x: x + 1, r"add \(Tensor\.add: adds int 1; symconv adds two tensors"),
    (lambda self, x: torch.add(x, x, alpha=2), r"add \(torch\.add: only a \+ b"),
    (lambda self, x: F.dropout(x, 0.5), r"dropout \(torch\.nn\.functional\.dropout: "
                                        "training=True"),
    (lambda self, x: x.roll(1, 0), r"roll \(Tensor\.roll: it acts along the batch axis"),
    (lambda self, x: F.pad(x, (0, 0, 0, 0, 1, 0)), r"pad \(torch\.nn\.functional\.pad: pads the "
                                                  "channels"),
])
def test_functions_symconv_cannot_follow_are_refused_by_name(forward: Any, words: str) -> None:
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(1, 3, 4, 4))

    Model.forward = forward  # type: ignore[assignment]
    with pytest.raises(SymconvError, match=words):
        from_torch(Model(), (4, 4, 3))


def test_a_reshape_of_a_batch_of_one_keeps_its_rows_as_the_one_examples() -> None:
    # x.view(-1, 3) at batch 1: 16 rows of 3, PyTorch's order of (C, H, W): a copy of the
    # channels-last array in that order (Swin's windows, reshape(B·nW, N, C), are such rows)
    class Model(nn.Module):
        def forward(self, x: Any) -> Any:
            return x.view(-1, 3)

    net = from_torch(Model(), (4, 4, 3))
    assert [(row.kind, tuple(row.output_shape)) for row in rows(net)] == [("rearrange", (16, 3))]


def test_functional_dropout_follows_the_module_mode() -> None:
    """``training=self.training``: a dropout stage (the identity at inference, counted in a
    training step: tests/test_functional_dropout.py); a literal ``training=False``: none."""
    class Model(nn.Module):
        def __init__(self, literal: bool) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.literal = literal

        def forward(self, x: Any) -> Any:
            if self.literal:
                return F.dropout(self.conv(x), 0.5, training=False).contiguous()
            return F.dropout(self.conv(x), 0.5, training=self.training).contiguous()

    assert names(Model(literal=False), (4, 4, 3)) == ["conv", "dropout"]
    assert names(Model(literal=True), (4, 4, 3)) == ["conv"]


def test_the_model_is_counted_in_eval_mode_and_left_as_it_was() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(), nn.ReLU())
    model.train()
    model[3].eval()
    hooks = [(dict(module._forward_hooks), dict(module._forward_pre_hooks))
             for module in model.modules()]
    mean = model[1].running_mean.clone()
    net = from_torch(model, (5, 5, 3))
    # Dropout: its own row (counted in a training step), nothing at inference (eval mode)
    assert [row.name for row in rows(net)] == ["0", "1", "2", "3"]
    assert rows(net)[2].kind == "dropout"
    assert (rows(net)[2].mults, rows(net)[2].adds, rows(net)[2].divs) == (0, 0, 0)
    assert [module.training for module in model.modules()] == [True, True, True, True, False]
    assert torch.equal(model[1].running_mean, mean)  # BatchNorm ran on running statistics
    assert hooks == [(dict(module._forward_hooks), dict(module._forward_pre_hooks))
                     for module in model.modules()]


def test_a_model_that_raises_is_one_line_and_ctrl_c_goes_through() -> None:
    class Broken(nn.Module):
        def forward(self, x: Any) -> Any:
            raise RuntimeError("no\nweights")

    with pytest.raises(SymconvError, match=r"^from_torch: the model raised RuntimeError when run "
                                           r"on an input of PyTorch shape 1×3×4×4: no$"):
        from_torch(Broken(), (4, 4, 3))

    class Interrupted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x: Any) -> Any:
            self.conv(x)
            raise KeyboardInterrupt

    model = Interrupted()
    with pytest.raises(KeyboardInterrupt):
        from_torch(model, (4, 4, 3))
    assert not model.conv._forward_hooks and torch.Tensor.add is torch._C.TensorBase.add


def test_symbolic_channels_are_refused() -> None:
    with pytest.raises(SymconvError, match=r"the channels .* must be a number"):
        from_torch(nn.Conv2d(3, 3, 1), (H, W, sympy.Symbol("C", positive=True, integer=True)))


# --- unsupported="skip": counted as zero on request, and listed ---------------------------------


class Scan(nn.Module):
    """conv → ``torch.cumsum`` (no symconv layer: a scan) → conv; hand count below."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.second = nn.Conv2d(4, 2, 1, bias=False)

    def forward(self, x: Any) -> Any:
        return self.second(torch.cumsum(self.first(x), dim=1))


def test_skip_counts_the_rest_and_lists_what_it_skipped() -> None:
    from symconv.frontends.torch import uncounted

    with pytest.raises(SymconvError, match=r"cannot count 1 part of the model: cumsum"):
        from_torch(Scan(), (6, 5, 3))
    net = from_torch(Scan(), (6, 5, 3), unsupported="skip")
    # by hand: 6·5 positions · (27·4 + 4·2) mults; the scan counts nothing
    assert count(net, convention="mults") == 30 * (27 * 4 + 4 * 2)
    assert count(net, convention="mults") == torch_flops(Scan(), (3, 6, 5)) // 2
    assert [name for name in uncounted(net)] == [
        "cumsum (torch.cumsum: symconv has no layer for it)"]
    assert [row.kind for row in rows(net)].count("uncounted") == 1
    # every peer has a rule for it, 0: the same as the model without the scan
    plain = from_torch(nn.Sequential(Scan().first, Scan().second), (6, 5, 3))
    for peer in ("ptflops", "thop", "fvcore", "torch", "torchinfo"):
        assert count(net, convention=peer) == count(plain, convention=peer)


def test_skip_follows_symbolic_sizes_and_several_outputs() -> None:
    class Sorted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1, bias=False)

        def forward(self, x: Any) -> Any:
            values, _ = torch.sort(self.conv(x), dim=1)  # two tensors out, neither counted
            return self.conv2(values) if hasattr(self, "conv2") else values

    net = from_torch(Sorted(), (H, W, 3), unsupported="skip")
    assert sympy.expand(count(net, convention="mults") - 12 * H * W) == 0
    assert [stage.shape for _, stage in net.stages[-2:]] == [(H, W, 4), (H, W, 4)]


def test_skip_is_asked_by_name() -> None:
    with pytest.raises(SymconvError, match=r"unsupported='zero'.*'refuse'.*'skip'"):
        from_torch(Scan(), (6, 5, 3), unsupported="zero")


def test_skip_still_refuses_reading_values_into_python() -> None:
    class Branchy(nn.Module):
        def forward(self, x: Any) -> Any:
            return x if bool(x.sum() > 0) else -x

    with pytest.raises(SymconvError, match=r"cannot be skipped.*reads the values"):
        from_torch(Branchy(), (4, 4, 3), unsupported="skip")


# --- formulas in H and W: polynomials where the sizes are multiples of 32 ----------------------


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v3_large"])
def test_size_multiple_gives_polynomials_equal_to_concrete_counts(name: str) -> None:
    """ResNet-50 and MobileNetV3-Large (issue 11, item 4): with ``size_multiple=32`` every count
    is a polynomial in H and W (no floor left: the shapes a graph records, of a branch's start
    and of an SE scale's operand, are taken as multiples too), equal to the concrete counts at
    224 and 256, each traced and counted on its own. The peers' own numbers at 224 are in
    tests/test_torchvision_sweep.py."""
    from torchvision_models import models

    model = models().get_model(name, weights=None).eval()
    net = from_torch(model, (H, W, 3), size_multiple=32)
    for convention in ("macs", "ops", "params", "ptflops", "torch"):
        formula = count(net, convention=convention)
        assert not formula.has(sympy.floor), (convention, formula)
        assert sympy.Poly(formula, H, W).total_degree() <= 2
        for size in (224, 256):
            concrete = count(from_torch(model, (size, size, 3)), convention=convention)
            assert formula.subs({H: size, W: size}) == concrete, (convention, size)
    # without size_multiple the formula keeps the exact floors, which agree at 224 as well
    exact = count(from_torch(model, (H, W, 3)), convention="macs")
    assert exact.has(sympy.floor)
    assert exact.subs({H: 224, W: 224}) == count(net, convention="macs").subs({H: 224, W: 224})


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
@pytest.mark.parametrize("where", ["inside", "whole"])
def test_torchscript_is_refused_by_name(where: str) -> None:
    """A scripted or traced module runs its own graph: none of its calls reaches the tracer,
    so its output would look like a constant (counted as nothing). Refused instead."""
    conv = nn.Conv2d(3, 4, 3)
    if where == "inside":
        model: Any = nn.Sequential(torch.jit.script(conv), nn.ReLU())
        words = r"module '0' is TorchScript"
    else:
        model = torch.jit.trace(conv, torch.zeros(1, 3, 8, 8))
        words = r"the model is TorchScript"
    with pytest.raises(SymconvError, match=words):
        from_torch(model, (8, 8, 3))
