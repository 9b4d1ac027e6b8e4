"""Diagrams of the founding example: files, labels, languages, and refusals that write nothing."""

from __future__ import annotations

import errno
import math
import os
import pathlib
import stat
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


def postscript_names(family: str) -> set[str]:
    """The PostScript names of the installed faces of ``family``, read from the font files
    (a family's name without spaces is not always its PostScript name: "AR PL UMing CN" is
    "UMingCN")."""
    from matplotlib import font_manager, ft2font

    names = set()
    for entry in font_manager.fontManager.ttflist:
        if entry.name == family:
            face = ft2font.FT2Font(entry.fname, face_index=getattr(entry, "index", 0))
            names.add(face.postscript_name)
    return names


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
        names = postscript_names(installed_cjk_families()[0])
        if not names:
            pytest.skip("the CJK font's PostScript name cannot be read from its file")
        embedded = paths[1].read_bytes()
        assert any(name.encode() in embedded for name in names), (names, "not embedded")


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
    ({"out_dir": "missing/inner", "image": "jpg"}, "image='jpg' is not known"),
    ({"out_dir": "missing/inner", "kernel_size": 9}, "kernel_size=9"),
    ({"out_dir": ""}, "out_dir='' is empty"),
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
    if isinstance(call["out_dir"], str) and call["out_dir"]:
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


def test_a_missing_directory_is_created_with_its_parents(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    paths = draw_separable_stages((7, 7, 3), 64, 3, out_dir="figs/2025/")  # the README's example
    assert [path.name for path in paths] == ["standard.svg", "depthwise.svg", "pointwise.svg"]
    assert sorted(os.listdir(tmp_path / "figs" / "2025")) == sorted(path.name for path in paths)


def test_a_directory_where_a_figure_goes_is_refused_before_anything_is_replaced(
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "standard.svg").write_text("kept")
    (tmp_path / "depthwise.svg").mkdir()
    before = listing_all(tmp_path)
    with pytest.raises(SymconvError, match=r"depthwise.svg' is a directory; move it away"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert listing_all(tmp_path) == before  # standard.svg kept, no hidden .tmp files


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
def test_a_read_only_figure_is_refused_and_kept(tmp_path: pathlib.Path) -> None:
    # Writable figures are replaced (test_files_are_replaced_and_take_the_umask); a read-only
    # one says "keep me", for root too: the refusal reads the mode, not os.access.
    figure = tmp_path / "pointwise.svg"
    figure.write_text("kept")
    figure.chmod(0o444)
    before = listing_all(tmp_path)
    with pytest.raises(SymconvError, match=r"pointwise.svg' is read-only; make it writable"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert listing_all(tmp_path) == before
    figure.chmod(0o644)
    draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert svg_texts(figure)


def full_disk_on(call: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the ``call``-th figure's ``savefig`` fail as a full disk does."""
    real = diagram._draw
    drawn = []

    def drawing(*args: Any) -> Any:
        figure = real(*args)
        drawn.append(figure)
        if len(drawn) == call:
            def full(*_: Any, **__: Any) -> None:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            figure.savefig = full
        return figure

    monkeypatch.setattr(diagram, "_draw", drawing)


def test_a_full_disk_leaves_nothing_behind(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "standard.svg").write_text("kept")
    before = listing_all(tmp_path)
    full_disk_on(2, monkeypatch)
    with pytest.raises(SymconvError, match=r"depthwise.svg' could not be written \(No space left"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert listing_all(tmp_path) == before


def test_a_failure_removes_the_directories_it_created(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_disk_on(3, monkeypatch)
    with pytest.raises(SymconvError, match="No space left"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path / "new" / "figs")
    assert list(tmp_path.iterdir()) == []


def test_a_replacement_failing_midway_leaves_no_temporary_files(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Targets are checked before drawing; only a race (a directory appearing meanwhile) makes a
    # replacement fail. The message says which figures were replaced already.
    real = os.replace
    calls = []

    def replace(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        real(source, target)

    monkeypatch.setattr(diagram.os, "replace", replace)
    with pytest.raises(SymconvError, match=r"depthwise.svg' could not be replaced .*replaced "
                                           r"before it: .*standard.svg"):
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["standard.svg"]


@pytest.mark.parametrize("out_dir", [
    "a" * 5000,  # longer than any file name may be
    "x/" * 3000,  # longer than any path may be
    "fresh/" + "a" * 300,  # "fresh" could be made, its child cannot: "fresh" is removed again
])
def test_impossible_directories_are_one_line_errors(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, out_dir: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SymconvError) as caught:
        draw_separable_stages((7, 7, 3), 64, 3, out_dir=out_dir)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300 and "choose another directory" in message
    assert os.listdir(tmp_path) == []


def listing_all(directory: pathlib.Path) -> dict[str, object]:
    """Every entry, hidden ones included: a file's bytes and mode, a directory's listing."""
    return {
        path.name: (sorted(os.listdir(path)) if path.is_dir() else
                    (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)))
        for path in sorted(directory.iterdir())
    }


def svg_size(svg: bytes) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return float(root.get("width", "0").removesuffix("pt")), float(root.get("height", "0").removesuffix("pt"))


def polygon_colours(svg: bytes) -> list[str]:
    """The fill colour of every filled path (the faces of the cuboids), in drawing order."""
    root = ET.fromstring(svg)
    colours = []
    for path in root.iter("{http://www.w3.org/2000/svg}path"):
        style = path.get("style", "")
        for part in style.split(";"):
            if part.strip().startswith("fill:") and part.strip() != "fill: none":
                colours.append(part.split(":", 1)[1].strip())
    return colours


def test_bias_is_counted_in_the_captions(tmp_path: pathlib.Path) -> None:
    # issue 15: --bias was accepted and ignored. By hand: 1728 + 64 biases, 27 + 3, 192 + 64
    draw_separable_stages((7, 7, 3), 64, 3, bias=True, out_dir=tmp_path)
    expected = {"standard": "43200 multiplications, 1792 parameters (weights and biases)",
                "depthwise": "675 multiplications, 30 parameters (weights and biases)",
                "pointwise": "4800 multiplications, 256 parameters (weights and biases)"}
    for stage, caption in expected.items():
        assert caption in svg_texts(tmp_path / f"{stage}.svg")


@pytest.mark.parametrize("scale", ["log", "linear"])
def test_the_three_figures_share_one_width(scale: str) -> None:
    for shape, out_channels in (((7, 7, 3), 64), ((224, 224, 32), 64), ((5, 5, 1), 1)):
        images = diagram.stage_images(shape, out_channels, 3, scale=scale)
        widths = {svg_size(image)[0] for image in images}
        assert len(widths) == 1, (shape, widths)


def test_linear_scale_draws_sizes_to_scale() -> None:
    # the 5×5×64 output on a linear scale: its receding edge (64) far longer than its front (5);
    # on the log scale 1 + log2(64) = 7 against 1 + log2(5) ≈ 3.3
    log, linear = (diagram._figures(diagram._derive((7, 7, 3), 64, 3, 1, 0, 1), "en", scale)
                   for scale in ("log", "linear"))
    for figures, ratio in ((log, 7 / (1 + math.log2(5))), (linear, 64 / 5)):
        box = figures[0].result.box
        assert box.depth / box.width == pytest.approx(ratio)
    assert linear[0].scale == "lengths drawn to scale"
    svg = diagram.stage_images((7, 7, 3), 64, 3, scale="linear")[0].decode()
    assert "lengths drawn to scale" in svg
    with pytest.raises(SymconvError, match="scale='cubic' is not known"):
        diagram.stage_images((7, 7, 3), 64, 3, scale="cubic")


def test_standard_kernels_show_their_channel_slices() -> None:
    # each of the standard convolution's kernels reads all M = 3 channels: drawn as 3 slices
    # coloured like the input's channels, not as one block
    standard, depthwise, pointwise = diagram.stage_images((7, 7, 3), 64, 3)
    channel = set(diagram._CHANNEL_COLOURS[:3])
    plain = diagram._KERNEL_COLOUR
    for svg in (standard, pointwise):
        colours = [colour.lower() for colour in polygon_colours(svg)]
        assert plain not in colours
        # front faces in the channels' own colours: the input's 3 slices and 3 per kernel drawn
        assert sum(colour in channel for colour in colours) >= 3 + 4 * 3
    # the depthwise kernels are one channel each, as before
    assert sum(colour.lower() in channel for colour in polygon_colours(depthwise)) >= 3
