"""fuse_epilogues: bias, activation and residual go into the producing Conv/MatMul;
results unchanged vs onnxruntime; a result read elsewhere is not fused."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build, kernel_counts

rng = np.random.default_rng(11)
N = helper.make_node


CASES = {
    "conv+relu": ([N("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["y"])],
                  [("x", [1, 3, 5, 5])], {"w": rng.standard_normal((4, 3, 3, 3)), "b": rng.standard_normal(4)},
                  {"conv2d_gemm": 1}),
    "conv+residual": ([N("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]), N("Sigmoid", ["x"], ["s"]),
                       N("Add", ["s", "c"], ["y"])],
                      [("x", [1, 3, 5, 5])], {"w": rng.standard_normal((3, 3, 3, 3)), "b": rng.standard_normal(3)},
                      {"conv2d_gemm": 1, "unary": 1}),
    "conv+tanh+residual": ([N("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), N("Tanh", ["c"], ["t"]),
                            N("Add", ["x", "t"], ["y"])],
                           [("x", [1, 3, 6, 4])], {"w": rng.standard_normal((3, 3, 3, 3))}, {"conv2d_gemm": 1}),
    "matmul+bias+tanh": ([N("MatMul", ["x", "w"], ["c"]), N("Add", ["c", "b"], ["d"]), N("Tanh", ["d"], ["y"])],
                         [("x", [2, 5, 6])], {"w": rng.standard_normal((6, 7)), "b": rng.standard_normal(7)},
                         {"matmul_packed": 1}),
    "matmul+residual": ([N("MatMul", ["x", "w"], ["c"]), N("Sigmoid", ["x"], ["s"]), N("Add", ["c", "s"], ["y"])],
                        [("x", [2, 6, 6])], {"w": rng.standard_normal((6, 6))}, {"matmul_packed": 1, "unary": 1}),
    "batched+residual": ([N("MatMul", ["x", "z"], ["c"]), N("Add", ["c", "r"], ["y"])],
                         [("x", [2, 3, 4, 5]), ("z", [2, 3, 5, 4]), ("r", [2, 3, 4, 4])], {}, {"matmul": 1}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fused(workdir: Path, name: str) -> None:
    nodes, inputs, inits, expect = CASES[name]
    m = build(nodes, inputs, ["y"], inits)
    assert_matches(m, [rng.standard_normal(s).astype(np.float32) for _, s in inputs], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    c = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m")
    assert kernel_counts(c.graph.nodes) == Counter(expect)


def test_result_read_elsewhere_is_not_fused(workdir: Path) -> None:
    nodes = [N("Conv", ["x", "w"], ["c"]), N("Relu", ["c"], ["y"])]
    m = build(nodes, [("x", [1, 2, 4, 4])], ["y", "c"], {"w": rng.standard_normal((2, 2, 1, 1))})
    assert_matches(m, [rng.standard_normal((1, 2, 4, 4)).astype(np.float32)], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    c = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m")
    assert kernel_counts(c.graph.nodes) == Counter({"conv1x1": 1, "unary": 1})
