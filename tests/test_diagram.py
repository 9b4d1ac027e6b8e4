"""Diagrams of the founding example: files, labels, languages, and refusals that write nothing."""

from __future__ import annotations

import os
import pathlib
import sys
import types
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from symconv import SymconvError
from symconv.render import diagram
from symconv.render.diagram import draw_separable_stages, stage_shapes
from symconv.symbols import H, s

pytest.importorskip("matplotlib")

# (input_shape, out_channels, kernel_size, geometry) -> labels every figure must carry, by stage
LABELLED = [
    ((7, 7, 3), 64, 3, {}, {
        "standard": ["input 7×7×3", "64 kernels 3×3×3", "output 5×5×64", "×64",
                     "Standard convolution: 64 kernels of 3×3×3",
                     "43200 multiplications, 1728 parameters"],
        "depthwise": ["input 7×7×3", "3 kernels 3×3×1", "output 5×5×3", "×3", "channel 3",
                      "675 multiplications, 27 parameters"],
        "pointwise": ["input 5×5×3", "64 kernels 1×1×3", "output 5×5×64",
                      "4800 multiplications, 192 parameters"],
    }),
    ((224, 224, 32), 64, 3, {"stride": 2, "padding": 1}, {
        "standard": ["input 224×224×32", "output 112×112×64", "224", "112", "32", "64",
                     "stride 2, padding 1, dilation 1"],
        "depthwise": ["32 kernels 3×3×1", "channel 1", "channel 32", "output 112×112×32"],
        "pointwise": ["input 112×112×32", "64 kernels 1×1×32", "output 112×112×64"],
    }),
    ((224, 224, 32), 64, (3, 5), {"stride": (2, 1), "padding": (1, 2)}, {
        "standard": ["64 kernels 3×5×32", "output 112×224×64",
                     "stride (2, 1), padding (1, 2), dilation 1"],
        "depthwise": ["32 kernels 3×5×1", "stride (2, 1), padding (1, 2), dilation 1"],
        "pointwise": ["input 112×224×32", "64 kernels 1×1×32"],
    }),
    ((5, 5, 1), 1, 3, {}, {
        "standard": ["Standard convolution: 1 kernel of 3×3×1", "output 3×3×1"],
        "depthwise": ["1 kernel 3×3×1", "channel 1", "×1"],
        "pointwise": ["Pointwise convolution: 1 kernel of 1×1×1"],
    }),
    ((112, 112, 512), 1024, 3, {}, {
        "standard": ["input 112×112×512", "1024 kernels 3×3×512", "output 110×110×1024", "×1024"],
        "depthwise": ["512 kernels 3×3×1", "channel 512", "output 110×110×512"],
        "pointwise": ["1024 kernels 1×1×512", "output 110×110×1024"],
    }),
]

CHINESE = {
    "standard": "标准卷积：64 个 3×3×3 卷积核",
    "depthwise": "深度卷积：3 个 3×3×1 卷积核，每个输入通道一个",
    "pointwise": "逐点卷积：64 个 1×1×3 卷积核",
}


def svg_texts(path: pathlib.Path) -> list[str]:
    """The text of every ``<text>`` element of an SVG file."""
    root = ET.parse(path).getroot()
    return ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]


def listing(directory: pathlib.Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def installed_cjk_families() -> list[str]:
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return [family for family in diagram._CJK_FAMILIES if family in installed]


@pytest.mark.parametrize(("image", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG"),
                                              ("pdf", b"%PDF")])
def test_three_files_of_each_format(tmp_path: pathlib.Path, image: str, magic: bytes) -> None:
    # PDF embeds its fonts, slowly: one run checks the Chinese glyphs come from a CJK font too.
    lang = "zh" if image == "pdf" and installed_cjk_families() else "en"
    paths = draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path, image=image, lang=lang)
    names = [f"{stage}.{image}" for stage in ("standard", "depthwise", "pointwise")]
    assert paths == [tmp_path / name for name in names]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)  # no leftovers
    for path in paths:
        assert path.read_bytes().startswith(magic)
    if lang == "zh":
        family = installed_cjk_families()[0]
        assert family.replace(" ", "").lower().encode() in paths[1].read_bytes().lower()


@pytest.mark.parametrize(("shape", "out_channels", "kernel", "geometry", "expected"), LABELLED)
def test_labels_are_the_exact_sizes(
    tmp_path: pathlib.Path, shape: tuple[int, int, int], out_channels: int, kernel: int,
    geometry: dict[str, Any], expected: dict[str, list[str]],
) -> None:
    draw_separable_stages(shape, out_channels, kernel, out_dir=tmp_path, **geometry)
    for stage, labels in expected.items():
        texts = svg_texts(tmp_path / f"{stage}.svg")
        for label in labels:
            assert label in texts, (stage, label, texts)


def test_sizes_come_from_cost() -> None:
    assert stage_shapes((224, 224, 32), 64, (3, 5), stride=(2, 1), padding=(1, 2)) == {
        "standard": ((224, 224, 32), (112, 224, 64)),
        "depthwise": ((224, 224, 32), (112, 224, 32)),
        "pointwise": ((112, 224, 32), (112, 224, 64)),
    }


def test_chinese_captions(tmp_path: pathlib.Path) -> None:
    draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path, lang="zh")
    for stage, caption in CHINESE.items():
        texts = svg_texts(tmp_path / f"{stage}.svg")
        assert caption in texts
        assert any("深度可分离卷积" in text for text in texts)
    assert "输出 5×5×64" in svg_texts(tmp_path / "standard.svg")


def test_same_input_same_bytes(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    draw_separable_stages((7, 7, 3), 64, 3, out_dir=first)
    draw_separable_stages((7, 7, 3), 64, 3, out_dir=second)
    assert listing(first) == listing(second)


def test_without_a_cjk_font_chinese_falls_back_with_a_warning() -> None:
    no_fonts = types.SimpleNamespace(fontManager=types.SimpleNamespace(ttflist=[]))
    with pytest.warns(UserWarning, match="no CJK font found for lang='zh'.*fonts-noto-cjk"):
        assert diagram._font_families("zh", no_fonts) == ["DejaVu Sans"]
    assert diagram._font_families("en", no_fonts) == ["DejaVu Sans"]


def test_files_are_replaced_and_take_the_umask(tmp_path: pathlib.Path) -> None:
    (tmp_path / "standard.svg").write_text("old")
    draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert svg_texts(tmp_path / "standard.svg")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "depthwise.svg").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize(("arguments", "message"), [
    ({"image": "jpg"}, "image='jpg' is not known; use one of svg, png, pdf"),
    ({"lang": "fr"}, "lang='fr' is not known; use one of en, zh"),
    ({"out_dir": "missing"}, "does not exist"),
    ({"out_dir": "a_file"}, "is not a directory"),
    ({"input_shape": (7, 7, H)}, "input_shape has the symbolic size H; diagrams need ints"),
    ({"stride": s}, "stride has the symbolic size s; diagrams need ints"),
    ({"input_shape": (7, 7)}, "must be (H, W, C)"),
    ({"kernel_size": 9}, "kernel_size=9"),
    ({"out_channels": 0}, "out_channels=0"),
])
def test_bad_arguments_write_nothing(
    tmp_path: pathlib.Path, arguments: dict[str, object], message: str
) -> None:
    (tmp_path / "a_file").write_text("kept")
    (tmp_path / "standard.svg").write_text("kept")
    before = listing(tmp_path)
    call: dict[str, Any] = {"input_shape": (7, 7, 3), "out_channels": 64, "kernel_size": 3,
                               "out_dir": tmp_path, **arguments}
    if isinstance(call["out_dir"], str):
        call["out_dir"] = tmp_path / call["out_dir"]
    with pytest.raises(SymconvError, match=message.replace("(", r"\(").replace(")", r"\)")):
        draw_separable_stages(**call)
    assert listing(tmp_path) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_unwritable_out_dir(tmp_path: pathlib.Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(SymconvError, match="is not writable"):
            draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    finally:
        tmp_path.chmod(0o700)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_unwritable_out_dir_even_for_root() -> None:
    # /proc refuses new files whoever asks, root included (CI runs as root)
    before = sorted(os.listdir("/proc/self"))
    with pytest.raises(SymconvError, match="is not writable"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir="/proc/self")
    assert sorted(os.listdir("/proc/self")) == before


def test_failure_midway_leaves_no_partial_files(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "standard.svg").write_text("kept")
    before = listing(tmp_path)
    drawn = []
    real = diagram._draw

    def failing(figure: Any, *args: Any) -> Any:
        drawn.append(figure)
        if len(drawn) == 2:
            raise RuntimeError("disk full")
        return real(figure, *args)

    monkeypatch.setattr(diagram, "_draw", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert listing(tmp_path) == before


def test_without_matplotlib(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SymconvError, match=r"pip install 'symconv\[diagrams\]'"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
