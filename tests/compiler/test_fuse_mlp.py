"""fuse_mlp: an expanding GEMM, its activation and the projecting GEMM that alone reads it
become one mlp_packed kernel (by blocks of rows); results unchanged vs onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.passes.fuse_mlp import MAX_WEIGHT_BYTES
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build, kernel_counts

rng = np.random.default_rng(11)
N = helper.make_node


def weights(c: int, h: int) -> dict[str, np.ndarray]:
    return {"stem": rng.standard_normal((c, 3, 3, 3)) * 0.3,
            "up": rng.standard_normal((h, c, 1, 1)) * 0.3, "upb": rng.standard_normal(h) * 0.1,
            "down": rng.standard_normal((c, h, 1, 1)) * 0.1,
            "w1": rng.standard_normal((c, h)) * 0.3, "w2": rng.standard_normal((h, c)) * 0.1}


def ffn(extra: list[onnx.NodeProto] | None = None) -> list[onnx.NodeProto]:
    """MCi's ConvFFN on a channels-last image: 1x1 up, GELU (erf form), 1x1 down, + input."""
    return [N("Conv", ["x", "stem"], ["s"], strides=[2, 2], pads=[1, 1, 1, 1]),
            N("Conv", ["s", "up", "upb"], ["u"]), N("Div", ["u", "sqrt2"], ["ud"]),
            N("Erf", ["ud"], ["e"]), N("Add", ["e", "one"], ["e1"]), N("Mul", ["u", "e1"], ["g"]),
            N("Mul", ["g", "half"], ["gh"]), N("Conv", ["gh", "down"], ["d"]),
            N("Add", ["d", "s"], ["y"])] + (extra or [])


CONSTS = {"sqrt2": np.float32(np.sqrt(2)), "one": np.float32(1), "half": np.float32(0.5)}

CASES = {
    # name: (nodes, outputs, channels, hidden, image side, kernels expected: under their
    # lowered names, as helpers.kernel_counts gives them)
    # 32 x 32 pixels over blocks of 768 rows (h = 32): two blocks, the second short
    "ConvFFN": (ffn(), ["y"], 8, 32, 64, {"conv2d_gemm": 1, "mlp_packed": 1}),
    "hidden read twice": (ffn([N("ReduceMean", ["gh"], ["r"], axes=[1], keepdims=1)]),
                          ["y", "r"], 8, 32, 16,
                          {"conv2d_gemm": 1, "conv1x1": 2, "reduce": 1}),
    # 4 * 1088 * (128 + 128) bytes: above MAX_WEIGHT_BYTES, the two GEMMs stay
    "weights too large": (ffn(), ["y"], 128, 1088, 8,
                          {"conv2d_gemm": 1, "conv1x1": 2}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fuse_mlp(name: str, workdir: Path) -> None:
    nodes, outputs, c, h, side, kernels = CASES[name]
    assert (4 * h * 2 * c > MAX_WEIGHT_BYTES) == (name == "weights too large")
    m = build(nodes, [("x", [1, 3, side, side])], outputs, {**weights(c, h), **CONSTS})
    assert_matches(m, [rng.standard_normal((1, 3, side, side)).astype(np.float32)], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    g = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m").graph
    counts = kernel_counts(g.nodes)
    assert {k: v for k, v in counts.items() if k != "copy"} == kernels


def test_linear_layers(workdir: Path) -> None:
    """ViT's MLP form: MatMuls over tokens, with biases, GELU between (not pointwise)."""
    c, h = 16, 64
    w = weights(c, h)
    nodes = [N("MatMul", ["x", "w1"], ["u0"]), N("Add", ["u0", "b1"], ["u"]),
             N("Div", ["u", "sqrt2"], ["ud"]), N("Erf", ["ud"], ["e"]),
             N("Add", ["e", "one"], ["e1"]), N("Mul", ["u", "e1"], ["g"]),
             N("Mul", ["g", "half"], ["gh"]), N("MatMul", ["gh", "w2"], ["d"]),
             N("Add", ["d", "x"], ["y"])]
    m = build(nodes, [("x", [1, 50, c])], ["y"],
              {"w1": w["w1"], "w2": w["w2"], "b1": w["upb"], **CONSTS})
    assert_matches(m, [rng.standard_normal((1, 50, c)).astype(np.float32)], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    g = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m").graph
    fused = [n for n in g.nodes if n.op == "mlp_packed"]
    assert len(fused) == 1 and fused[0].attrs["act1"] and fused[0].attrs["has_residual"]
    assert "matmul_packed" not in [n.op for n in g.nodes]
