"""fuse_conv_dw: a dense conv whose large output only a depthwise conv reads becomes one
conv_dw_nhwc kernel (by rows); results unchanged vs onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.kernels import DWCONV_NHWC_BIG_INPUT
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build, kernel_counts

rng = np.random.default_rng(12)
N = helper.make_node
K = 32  # the stem's channels


def gelu(x: str, y: str) -> list[onnx.NodeProto]:
    """GELU in its erf form, as exported."""
    return [N("Div", [x, "sqrt2"], [f"{y}_d"]), N("Erf", [f"{y}_d"], [f"{y}_e"]),
            N("Add", [f"{y}_e", "one"], [f"{y}_e1"]), N("Mul", [x, f"{y}_e1"], [f"{y}_m"]),
            N("Mul", [f"{y}_m", "half"], [y])]


def stem(mult: int = 1, extra: list[onnx.NodeProto] | None = None) -> list[onnx.NodeProto]:
    """MCi's stem: 3x3/2 conv to K channels, GELU, depthwise 3x3/2 (K * mult outputs), GELU."""
    return ([N("Conv", ["x", "w", "b"], ["s"], strides=[2, 2], pads=[1, 1, 1, 1])]
            + gelu("s", "g") + [N("Conv", ["g", "dw", "db"], ["d"], strides=[2, 2],
                                  pads=[1, 1, 1, 1], group=K)]
            + gelu("d", "y") + (extra or []))


def consts(mult: int = 1) -> dict[str, object]:
    return {"w": rng.standard_normal((K, 3, 3, 3)) * 0.3, "b": rng.standard_normal(K) * 0.1,
            "dw": rng.standard_normal((K * mult, 1, 3, 3)) * 0.3,
            "db": rng.standard_normal(K * mult) * 0.1,
            "sqrt2": np.float32(np.sqrt(2)), "one": np.float32(1), "half": np.float32(0.5)}


CASES = {
    # name: (nodes, outputs, multiplier, image side, kernels expected (lowered names))
    # the conv's output, 130 x 130 x 32 floats, is over DWCONV_NHWC_BIG_INPUT: fused
    "stem": (stem(), ["y"], 1, 259, {"conv_dw_nhwc": 1}),
    # 32 x 32 x 32 floats stay in L2: the depthwise kernel's channel groups
    "small": (stem(), ["y"], 1, 64, {"conv2d_gemm": 1, "dwconv2d": 1}),
    "read twice": (stem(extra=[N("ReduceMean", ["g"], ["r"], axes=[1], keepdims=1)]),
                   ["y", "r"], 1, 259, {"conv2d_gemm": 1, "dwconv2d": 1, "reduce": 1}),
    "multiplier 2": (stem(2), ["y"], 2, 259, {"conv2d_gemm": 1, "dwconv2d": 1}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fuse_conv_dw(name: str, workdir: Path) -> None:
    nodes, outputs, mult, side, kernels = CASES[name]
    half = (side + 1) // 2
    assert (half * half * K > DWCONV_NHWC_BIG_INPUT) == (side > 64)
    m = build(nodes, [("x", [1, 3, side, side])], outputs, consts(mult))
    assert_matches(m, [rng.standard_normal((1, 3, side, side)).astype(np.float32)], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    g = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m").graph
    counts = kernel_counts(g.nodes)
    assert {k: v for k, v in counts.items() if k != "copy"} == kernels
