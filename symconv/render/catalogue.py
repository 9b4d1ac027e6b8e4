"""Every user-facing string of the reports, one catalogue per language.

Renderers ask :func:`message` for a key; a key missing from a language falls back to English, and
an unknown language is a :class:`~symconv.errors.SymconvError`.

Examples
--------
>>> message("standard", "en"), message("standard", "zh")
('Standard convolution', '标准卷积')
>>> message("standard", "fr")
Traceback (most recent call last):
...
symconv.errors.SymconvError: --lang fr is not known; choose one of: en, zh
"""

from __future__ import annotations

from symconv.errors import SymconvError, shown

__all__ = ["CATALOGUES", "LANGUAGES", "message", "check_language", "convention_text",
           "reference_text"]

EN: dict[str, str] = {
    "standard": "Standard convolution",
    "depthwise": "Depthwise stage",
    "pointwise": "Pointwise stage",
    "separable": "Depthwise separable convolution",
    "standard.detail": "{N} kernels of {k}×{M}",
    "depthwise.detail": "{M} kernels of {k}×1, one per channel",
    "pointwise.detail": "{N} kernels of 1×1×{M}",
    "separable.detail": "depthwise then pointwise",
    "ratio": "Separable / standard",
    "total": "total",
    "mults": "multiplications",
    "adds": "additions",
    "params": "parameters",
    "inferred": "kernel {kernel} inferred",
    "given": "kernel {kernel}",
    "setting": "stride {stride}, padding {padding}, dilation {dilation}",
    "output_size": "Output size",
    "fewer": "{factor}× fewer",
    "counting": (
        "Counted: scalar multiplications and additions of a direct evaluation "
        "(no Winograd or FFT); parameters are weights{bias}."
    ),
    "with_bias": " and biases",
    "no_bias": " (no biases)",
    "formula": "formula",
    "value": "value",
    "quantity": "quantity",
    "stage": "stage",
    "title": "Cost of a depthwise separable convolution",
    "title.verify": "Formulas verified by execution",
    "conventions.title": "{title}: input {shape}, every convention, differences from {baseline} by kind of layer",
    "conventions.convention": "convention",
    "conventions.description": "what it counts",
    "conventions.difference": "difference",
    "conventions.reason": "why (the tool's source)",
    "title.derive": "General formulas: {kind}",
    "grouped": "Grouped convolution",
    "transposed": "Transposed convolution",
    "verify.title": (
        "Verification: {layer} on {shape}, executed with NumPy (float64, seed {seed}); operations "
        "counted while running (fast executor: per NumPy operation, from the shapes involved)"
    ),
    "counted": "counted",
    "derived": "formula",
    "match": "match",
    "output_shape": "output shape",
    "divs": "divisions",
    "comparisons": "comparisons",
    "transcendentals": "transcendentals",
    "all_match": "All {count} stages match their formulas.",
    "mismatch": "{count} of {total} stages do NOT match their formulas.",
    "yes": "yes",
    "no": "NO",
    "net.input": "input {shape}",
    "net.convention": "Convention {name}: {description}",
    "net.at": "at {point}",
    "net.value": "value",
    "net.exact": (
        "Formulas in rho are exact where 224·rho is a multiple of 32. Formulas in alpha take "
        "every channel count as alpha·c, unrounded (MobileNet V2 keeping 1280 last channels): an "
        "approximation, exact only where the network's own rounding changes nothing (V1: "
        "32·alpha whole; V2: alpha = 1); symconv.zoo's rounding=\"exact\" gives formulas exact "
        "for every alpha. The values are derived from the network itself, its rounding included, "
        "with floor arithmetic."
    ),
    "layer": "layer",
    "kind": "kind",
    "input": "input",
    "output": "output",
    "macs": "MACs",
    "flops": "FLOPs",
    "ops": "operations",
    "diagram.standard": "Standard convolution: {count} {kernels} of {kernel}",
    "diagram.depthwise": "Depthwise convolution: {count} {kernels} of {kernel}, one per input channel",
    "diagram.pointwise": "Pointwise convolution: {count} {kernels} of {kernel}",
    "diagram.standard_note": "replaced by a depthwise separable convolution: depthwise, then pointwise",
    "diagram.depthwise_note": "depthwise separable convolution, stage 1 of 2",
    "diagram.pointwise_note": "depthwise separable convolution, stage 2 of 2",
    "diagram.counts": "{mults} multiplications, {params} parameters",
    "diagram.counts_bias": "{mults} multiplications, {params} parameters (weights and biases)",
    "diagram.geometry": "stride {stride}, padding {padding}, dilation {dilation}",
    "diagram.scale": "lengths drawn on a logarithmic scale; labels are exact",
    "diagram.scale_linear": "lengths drawn to scale",
    "diagram.channel": "channel {channel}",
    "diagram.input": "input {shape}",
    "diagram.kernel_label": "{count} {kernels} {kernel}",
    "diagram.kernel": "kernel",
    "diagram.kernels": "kernels",
    "diagram.output": "output {shape}",
    "report.stages": "Each stage: formula, substitution, value",
    "report.substituted": "substituted",
    "report.comparison": "Comparison",
    "report.diagrams": "The three convolutions, drawn",
    "report.verification": "Checked by execution",
    "aside": "{main} ({aside})",
    "labelled": "{label}: {text}",
    "headline": "{shapes}: {how} ({setting})",
    "net.reference_alpha": "alpha = 1",
    "net.reference_pixels": "224×224 pixels (rho = 1)",
    "share": "share",
    "legend.title": "Symbols",
    "legend.symbol": "symbol",
    "legend.meaning": "meaning",
    "legend.M": "input channels",
    "legend.N": "output channels",
    "legend.k": "kernel size (the same along every axis)",
    "legend.k2": "kernel size (k×k)",
    "legend.kk": "kernel height and width",
    "legend.g": "groups",
    "legend.L": "input length",
    "legend.HW": "input height and width",
    "legend.DHW": "input depth, height and width",
    "legend.L_o": "output length",
    "legend.out": "output height and width",
    "legend.out3": "output depth, height and width",
    "legend.spd": "stride, padding, dilation",
    "legend.s": "stride",
    "legend.p": "zero padding",
    "legend.d": "dilation",
    "legend.a": "output padding of a transposed convolution",
    "legend.D_K": "kernel size, as the MobileNet paper writes it",
    "legend.D_F": "feature-map size, as the MobileNet paper writes it (square maps)",
    "phase.backward": "Backward pass",
    "phase.train": "Training step (forward + backward)",
    "phase.inside": (
        "The layer is taken to sit inside a network: the gradient with respect to its input is "
        "computed, besides its weights' (--no-input-grad: a network's first layer, whose input "
        "is data)."
    ),
    "phase.first": (
        "The layer is taken to be a network's first (--no-input-grad): its input is data and "
        "gets no gradient; its weights' gradients are computed (in the separable convolution the "
        "pointwise stage still needs its input's gradient: the depthwise stage before it is "
        "trained)."
    ),
    "phase.counting": (
        "Counted as the forward pass is: the input gradient is a transposed convolution of the "
        "output gradient (scatter form), the weight gradient a correlation of the input with the "
        "output gradient, the bias gradient a sum of the output gradient."
    ),
    "phase.counting_transposed": (
        "Counted as the forward pass is: the input gradient of a transposed convolution is a "
        "direct convolution of the output gradient (gather form: one dot product per input "
        "element), the weight gradient a correlation of the output gradient with the input, the "
        "bias gradient a sum of the output gradient."
    ),
    "phase.train_counting": "Each stage's forward and backward counts added: forward + backward.",
    "phase.to_forward": "Backward / forward (multiplications)",
    "phase.train_to_forward": "Training step / forward (multiplications)",
    "phase.ratio": "Separable / standard, backward pass",
    "phase.train_ratio": "Separable / standard, training step",
    "grad.input_grad": "input gradient",
    "grad.weight_grad": "weight gradient",
    "grad.bias_grad": "bias gradient",
}

ZH: dict[str, str] = {
    "standard": "标准卷积",
    "depthwise": "深度卷积",
    "pointwise": "逐点卷积",
    "separable": "深度可分离卷积",
    "standard.detail": "{N} 个 {k}×{M} 的卷积核",
    "depthwise.detail": "{M} 个 {k}×1 的卷积核，每个通道一个",
    "pointwise.detail": "{N} 个 1×1×{M} 的卷积核",
    "separable.detail": "深度卷积后接逐点卷积",
    "ratio": "深度可分离卷积 / 标准卷积",
    "total": "合计",
    "mults": "计算量（乘法次数）",
    "adds": "加法次数",
    "params": "参数量",
    "inferred": "推断卷积核为 {kernel}",
    "given": "卷积核 {kernel}",
    "setting": "步长 {stride}，填充 {padding}，膨胀 {dilation}",
    "output_size": "输出尺寸",
    "fewer": "约为标准卷积的 1/{factor}",
    "counting": "计数方式：直接计算中的标量乘法与加法（不使用 Winograd 或 FFT）；参数量为权重{bias}。",
    "with_bias": "与偏置",
    "no_bias": "（无偏置）",
    "formula": "公式",
    "value": "数值",
    "quantity": "指标",
    "stage": "阶段",
    "title": "深度可分离卷积的计算量分析",
    "title.verify": "公式的执行验证",
    "conventions.title": "{title}：输入 {shape}，各计数约定的总数，以及与 {baseline} 按层类型的差异（规则引自各工具源码，英文）",
    "conventions.convention": "计数约定",
    "conventions.description": "计数内容",
    "conventions.difference": "差值",
    "conventions.reason": "原因（引自工具源码）",
    "title.derive": "一般公式：{kind}",
    "grouped": "分组卷积",
    "transposed": "转置卷积",
    "verify.title": (
        "验证：{layer}，输入 {shape}，用 NumPy 实际执行（float64，种子 {seed}）；"
        "运算在执行时计数（快速执行器：按每次 NumPy 运算所涉及的数组形状计数）"
    ),
    "counted": "实测",
    "derived": "公式",
    "match": "一致",
    "output_shape": "输出形状",
    "divs": "除法次数",
    "comparisons": "比较次数",
    "transcendentals": "超越函数次数",
    "all_match": "全部 {count} 个阶段与公式一致。",
    "mismatch": "{total} 个阶段中有 {count} 个与公式不一致。",
    "yes": "是",
    "no": "否",
    "net.input": "输入 {shape}",
    "net.convention": "计数约定 {name}：{description}",
    "net.at": "取 {point}",
    "net.value": "数值",
    "net.exact": (
        "关于 rho 的公式在 224·rho 为 32 的倍数时精确。关于 alpha 的公式把每个通道数取为 alpha·c、不取整"
        "（MobileNet V2 最后一层保持 1280 个通道）：这是近似，只在网络自身的取整不起作用时精确"
        "（V1：32·alpha 为整数；V2：alpha = 1）；symconv.zoo 的 rounding=\"exact\" 给出对任意 alpha "
        "都精确的公式。数值由网络本身（含其取整）按向下取整的尺寸推导。"
    ),
    "layer": "层",
    "kind": "类型",
    "input": "输入",
    "output": "输出",
    "macs": "乘加次数（MACs）",
    "flops": "浮点运算数（FLOPs）",
    "ops": "运算总数",
    "diagram.standard": "标准卷积：{count} 个 {kernel} {kernels}",
    "diagram.depthwise": "深度卷积：{count} 个 {kernel} {kernels}，每个输入通道一个",
    "diagram.pointwise": "逐点卷积：{count} 个 {kernel} {kernels}",
    "diagram.standard_note": "可由深度可分离卷积代替：先深度卷积，再逐点卷积",
    "diagram.depthwise_note": "深度可分离卷积，第 1 步（共 2 步）",
    "diagram.pointwise_note": "深度可分离卷积，第 2 步（共 2 步）",
    "diagram.counts": "乘法 {mults} 次，参数 {params} 个",
    "diagram.counts_bias": "乘法 {mults} 次，参数 {params} 个（权重与偏置）",
    "diagram.geometry": "步长 {stride}，填充 {padding}，膨胀 {dilation}",
    "diagram.scale": "长度按对数比例绘制；标注为精确值",
    "diagram.scale_linear": "长度按实际比例绘制",
    "diagram.channel": "通道 {channel}",
    "diagram.input": "输入 {shape}",
    "diagram.kernel_label": "{count} 个{kernels} {kernel}",
    "diagram.kernel": "卷积核",
    "diagram.kernels": "卷积核",
    "diagram.output": "输出 {shape}",
    "report.stages": "各阶段：公式、代入、数值",
    "report.substituted": "代入",
    "report.comparison": "对比",
    "report.diagrams": "三种卷积示意图",
    "report.verification": "执行验证",
    "aside": "{main}（{aside}）",
    "labelled": "{label}：{text}",
    "headline": "{shapes}：{how}（{setting}）",
    "net.reference_alpha": "alpha = 1",
    "net.reference_pixels": "224×224 像素（rho = 1）",
    "share": "占比",
    "legend.title": "符号",
    "legend.symbol": "符号",
    "legend.meaning": "含义",
    "legend.M": "输入通道数",
    "legend.N": "输出通道数",
    "legend.k": "卷积核尺寸（各轴相同）",
    "legend.k2": "卷积核尺寸（k×k）",
    "legend.kk": "卷积核的高和宽",
    "legend.g": "分组数",
    "legend.L": "输入长度",
    "legend.HW": "输入的高和宽",
    "legend.DHW": "输入的深、高和宽",
    "legend.L_o": "输出长度",
    "legend.out": "输出的高和宽",
    "legend.out3": "输出的深、高和宽",
    "legend.spd": "步长、填充、膨胀",
    "legend.s": "步长",
    "legend.p": "零填充",
    "legend.d": "膨胀",
    "legend.a": "转置卷积的输出填充",
    "legend.D_K": "卷积核尺寸（MobileNet 论文的写法）",
    "legend.D_F": "特征图尺寸（MobileNet 论文的写法，方形特征图）",
    "phase.backward": "反向传播",
    "phase.train": "训练步（前向 + 反向）",
    "phase.inside": "将该层视为网络中间的一层：除权重的梯度外，还计算对其输入的梯度（--no-input-grad：网络的第一层，其输入为数据）。",
    "phase.first": (
        "将该层视为网络的第一层（--no-input-grad）：输入为数据，不计算其梯度，只计算权重的梯度"
        "（深度可分离卷积的逐点卷积仍需计算其输入的梯度，因为其前面的深度卷积需要训练）。"
    ),
    "phase.counting": "计数方式同前向：输入梯度为输出梯度的转置卷积（散射形式），权重梯度为输入与输出梯度的相关，偏置梯度为输出梯度之和。",
    "phase.counting_transposed": (
        "计数方式同前向：转置卷积的输入梯度为输出梯度的直接卷积（聚集形式：每个输入元素一个点积），"
        "权重梯度为输出梯度与输入的相关，偏置梯度为输出梯度之和。"
    ),
    "phase.train_counting": "每个阶段的前向与反向计数相加：前向 + 反向。",
    "phase.to_forward": "反向 / 前向（乘法次数）",
    "phase.train_to_forward": "训练步 / 前向（乘法次数）",
    "phase.ratio": "深度可分离卷积 / 标准卷积（反向传播）",
    "phase.train_ratio": "深度可分离卷积 / 标准卷积（训练步）",
    "grad.input_grad": "输入梯度",
    "grad.weight_grad": "权重梯度",
    "grad.bias_grad": "偏置梯度",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}

#: What each of symconv's own conventions counts, translated; English is the convention's
#: docstring (:func:`symconv.networks.conventions.describe`), and the tools' conventions quote
#: their sources, in English.
CONVENTIONS: dict[str, dict[str, str]] = {"zh": {
        "macs": "仅统计卷积层与全连接层的乘加次数，不含偏置（MobileNet 论文的口径）。",
        "flops": "乘加次数的两倍：每次乘加计为一次乘法和一次加法（PyTorch、TensorFlow 分析工具的口径）。",
        "ops": "所有层的全部算术运算：乘法 + 加法 + 除法 + 比较。",
        "mults": "所有层的全部乘法（含 BatchNorm）。",
        "adds": "所有层的全部加法（含偏置、BatchNorm、池化、残差连接）。",
        "divs": "全部除法（平均池化：每个输出元素一次）。",
        "comparisons": "全部比较（ReLU、ReLU6、最大池化）。",
        "params": "可学习参数：权重、存在时的偏置、BatchNorm 的 γ 和 β。",
}}
LANGUAGES = tuple(CATALOGUES)


def check_language(lang: str) -> str:
    """Return ``lang`` when a catalogue exists for it, else raise."""
    if lang not in CATALOGUES:
        raise SymconvError(f"--lang {shown(lang, bare=True)} is not known; choose one of: {', '.join(LANGUAGES)}")
    return lang


def message(key: str, lang: str = "en", **fields: object) -> str:
    """The string ``key`` in ``lang``, with ``fields`` filled in."""
    catalogue = CATALOGUES[check_language(lang)]
    template = catalogue.get(key, EN[key])
    return template.format(**fields) if fields else template


def convention_text(name: str, description: str, lang: str = "en") -> str:
    """What convention ``name`` counts, in ``lang`` where translated; the tools' own conventions
    quote their sources and stay in English.

    Examples
    --------
    >>> convention_text("params", "Learned parameters.", "zh")
    '可学习参数：权重、存在时的偏置、BatchNorm 的 γ 和 β。'
    >>> convention_text("thop", "MACs of thop.", "zh")
    'MACs of thop.'
    """
    return CONVENTIONS.get(check_language(lang), {}).get(name, description)


def reference_text(text: str, lang: str = "en") -> str:
    """The reference point of a symbolic network (``alpha = 1, 224×224 pixels (rho = 1)``), in
    ``lang``: each English part replaced by its translation."""
    for key in ("net.reference_pixels", "net.reference_alpha"):
        text = text.replace(EN[key], message(key, lang))
    return text.replace(", ", "，") if lang == "zh" else text
