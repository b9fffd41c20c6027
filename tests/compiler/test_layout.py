"""layout: images channels-last from the first convolution on, reorders only where a kernel
cannot take the layout it gets (and at the graph's edges); results unchanged vs
onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.ir import Node
from compiler.passes.layout import channels_last, reshape_layout
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build

rng = np.random.default_rng(5)
N = helper.make_node
C, H, W = 8, 6, 10
WEIGHTS = {
    "stem": rng.standard_normal((C, 3, 3, 3)) * 0.3,      # dense 3x3 stride 2, reads NCHW
    "dw": rng.standard_normal((C, 1, 3, 3)) * 0.3,        # depthwise
    "dw2": rng.standard_normal((2 * C, 1, 7, 7)) * 0.1,   # depthwise 7x7/2, multiplier 2
    "pw": rng.standard_normal((2 * C, C, 1, 1)) * 0.3,    # 1x1 expand
    "pw2": rng.standard_normal((C, 2 * C, 1, 1)) * 0.3,   # 1x1 project
    "mm": rng.standard_normal((C, C)) * 0.3,              # a linear layer over tokens
    "shape3": np.array([1, C, H * W // 4], np.int64),
    "shape4": np.array([1, C, H // 2, W // 2], np.int64),
}
STEM = [N("Conv", ["x", "stem"], ["s"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1])]
TOKENS = [  # NHWC image -> tokens -> linear -> back, as MCi's attention stage does
    N("Reshape", ["s", "shape3"], ["t"]), N("Transpose", ["t"], ["tt"], perm=[0, 2, 1]),
    N("MatMul", ["tt", "mm"], ["u"]), N("Transpose", ["u"], ["ut"], perm=[0, 2, 1]),
    N("Reshape", ["ut", "shape4"], ["v"]), N("Add", ["v", "s"], ["y"])]

CASES = {
    # name: (nodes, outputs, kernels expected, reorders expected)
    "conv chain": (STEM + [
        N("Conv", ["s", "dw"], ["d"], group=C, pads=[1, 1, 1, 1]), N("Add", ["d", "s"], ["r"]),
        N("Conv", ["r", "pw"], ["h"]), N("Erf", ["h"], ["e"]),
        N("Conv", ["e", "pw2"], ["p"]), N("Add", ["p", "r"], ["y"])], ["y"],
        {"conv2d_gemm_nhwc": 1, "dwconv2d_nhwc": 1, "mlp_packed": 1}, 1),  # fuse_mlp's
    "depthwise stride 2, multiplier 2": (STEM + [
        N("Conv", ["s", "dw2"], ["y"], group=C, strides=[2, 2], pads=[3, 3, 3, 3])], ["y"],
        {"conv2d_gemm_nhwc": 1, "dwconv2d_nhwc": 1}, 1),
    "1x1 conv on the input": ([N("Conv", ["x8", "pw"], ["y"])], ["y"],
                              {"matmul_packed": 1}, 2),
    "tokens and back": (STEM + TOKENS, ["y"], {"conv2d_gemm_nhwc": 1, "matmul_packed": 1,
                                              "binary": 1}, 1),
    "squeeze-excite": (STEM + [
        N("ReduceMean", ["s"], ["m"], axes=[2, 3], keepdims=1), N("Conv", ["m", "pw"], ["h"]),
        N("Sigmoid", ["h"], ["g"]), N("Conv", ["g", "pw2"], ["g2"]), N("Mul", ["s", "g2"], ["y"])],
        ["y"], {"conv2d_gemm_nhwc": 1, "reduce": 1, "mlp_packed": 1,  # fuse_mlp's
                "binary": 1}, 1),
    "a kernel that wants NCHW": (STEM + [
        N("MaxPool", ["s"], ["y"], kernel_shape=[2, 2], strides=[2, 2])], ["y"],
        {"conv2d_gemm_nhwc": 1, "pool2d": 1}, 1),
    # Concat reads row-major: the layout pass reorders both images, then compose_copies
    # makes the concat read the NHWC images through strides instead -- no reorder left.
    "concat of two images": (STEM + [
        N("Conv", ["s", "dw"], ["d"], group=C, pads=[1, 1, 1, 1]),
        N("Concat", ["s", "d"], ["y"], axis=1)], ["y"],
        {"conv2d_gemm_nhwc": 1, "dwconv2d_nhwc": 1}, 0),
}


def compiled_kernels(nodes: list[Node]) -> tuple[dict[str, int], int]:
    """(calls per kernel, not counting copies and views; reorder copies)."""
    counts: dict[str, int] = {}
    for n in nodes:
        if n.op not in ("alias", "copy"):
            counts[n.op] = counts.get(n.op, 0) + 1
    return counts, sum(1 for n in nodes if n.attrs.get("reorder"))


@pytest.mark.parametrize("name", list(CASES))
def test_layout(workdir: Path, name: str) -> None:
    nodes, outputs, kernels, reorders = CASES[name]
    shape = [1, C, H, W] if name == "1x1 conv on the input" else [1, 3, H, W]
    inp = "x8" if name == "1x1 conv on the input" else "x"
    m = build(nodes, [(inp, shape)], outputs, WEIGHTS)
    assert_matches(m, [rng.standard_normal(shape).astype(np.float32)], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    c = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m")
    assert compiled_kernels(c.graph.nodes) == (kernels, reorders)


def test_no_copy_between_image_and_tokens(workdir: Path) -> None:
    """Both transposes of "tokens and back" cancel the layout: they become views."""
    m = build(STEM + TOKENS, [("x", [1, 3, H, W])], ["y"], WEIGHTS)
    onnx.save(m, str(workdir / "m.onnx"))
    c = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m")
    copies = [n.name for n in c.graph.nodes if n.op == "copy"]
    assert copies == ["output_0/reorder"]


def test_reshape_layout() -> None:
    nhwc = channels_last(4)
    # h and w merge into tokens: the tokens' layout is [1][hw][c].
    assert reshape_layout((1, 8, 4, 5), nhwc, (1, 8, 20)) == (0, 2, 1)
    # ... and split back.
    assert reshape_layout((1, 8, 20), (0, 2, 1), (1, 8, 4, 5)) == (0, 2, 3, 1)
    # Flattening c, h, w together: not a layout of the same bytes.
    assert reshape_layout((1, 8, 4, 5), nhwc, (1, 160)) is None
    # Unit dims don't matter: a 1x1 image is the same bytes in any layout.
    assert reshape_layout((1, 8, 1, 1), nhwc, (1, 8)) == (0, 1)
    # Row-major stays row-major.
    assert reshape_layout((2, 3, 4), (0, 1, 2), (6, 4)) == (0, 1)
