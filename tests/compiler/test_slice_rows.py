"""slice_rows: a Gather of one token computes only that token's rows, through the
row-by-row ops before it (results unchanged vs onnxruntime); ops that mix rows stop it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build

rng = np.random.default_rng(13)
N = helper.make_node
T, D, H = 5, 8, 2  # tokens, width, heads (head dim D // H)
W = {name: rng.standard_normal((D, D)) * 0.3 for name in ("w1", "w2", "w3", "wo")}
W.update({"wqkv": rng.standard_normal((D, 3 * D)) * 0.3, "b": rng.standard_normal(D) * 0.1,
          "g": 1 + rng.standard_normal(D) * 0.1, "zero": np.array(0, np.int64),
          "last": np.array(-1, np.int64), "qkv_shape": np.array([1, T, 3, H, D // H], np.int64),
          "split": np.array([1, 1, 1], np.int64), "out_shape": np.array([1, T, D], np.int64),
          "axis0": np.array([0], np.int64), "scale": np.array(0.5, np.float32)})
# A ViT block's tail: residual stream -> LayerNorm -> MLP with GELU -> residual -> LayerNorm.
MLP = [N("LayerNormalization", ["x", "g", "b"], ["n"], axis=-1),
       N("MatMul", ["n", "w1"], ["h"]), N("Add", ["h", "b"], ["hb"]), N("Erf", ["hb"], ["e"]),
       N("MatMul", ["e", "w2"], ["m"]), N("Add", ["m", "x"], ["r"]),
       N("LayerNormalization", ["r", "g", "b"], ["f"], axis=-1)]
# Attention over the tokens, then the output projection with its residual.
ATTN = [N("MatMul", ["x", "wqkv"], ["qkv"]), N("Reshape", ["qkv", "qkv_shape"], ["q5"]),
        N("Transpose", ["q5"], ["t"], perm=[2, 0, 3, 1, 4]),
        N("Split", ["t", "split"], ["q1", "k1", "v1"], axis=0),
        N("Squeeze", ["q1", "axis0"], ["q"]), N("Squeeze", ["k1", "axis0"], ["k"]),
        N("Squeeze", ["v1", "axis0"], ["v"]), N("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        N("MatMul", ["q", "kt"], ["s"]), N("Mul", ["s", "scale"], ["ss"]),
        N("Softmax", ["ss"], ["p"], axis=-1), N("MatMul", ["p", "v"], ["o"]),
        N("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]), N("Reshape", ["ot", "out_shape"], ["o2"]),
        N("MatMul", ["o2", "wo"], ["po"]), N("Add", ["po", "x"], ["f"])]
CASES = {
    # name: (nodes, rows of the kernels reading a [1, T, D]-shaped activation, expected)
    "mlp, first token": (MLP + [N("Gather", ["f", "zero"], ["y"], axis=1)], 1),
    "mlp, last token": (MLP + [N("Gather", ["f", "last"], ["y"], axis=1)], 1),
    "attention, first token": (ATTN + [N("Gather", ["f", "zero"], ["y"], axis=1)], 1),
    # Through a Transpose without perm (the dims reversed) and back.
    "reversed twice": ([N("MatMul", ["x", "w1"], ["h"]), N("Transpose", ["h"], ["ht"]),
                        N("Relu", ["ht"], ["r"]), N("Transpose", ["r"], ["f"]),
                        N("Gather", ["f", "zero"], ["y"], axis=1)], 1),
    # Softmax over the tokens mixes them: every row is still computed.
    "softmax across tokens": ([N("MatMul", ["x", "w1"], ["h"]), N("Softmax", ["h"], ["p"], axis=1),
                               N("Gather", ["p", "zero"], ["y"], axis=1)], T),
    # A column of a MatMul needs every input column: nothing to slice above it.
    "a column": ([N("MatMul", ["x", "w1"], ["h"]), N("Gather", ["h", "zero"], ["y"], axis=2)], T),
}


def matmul_rows(model: onnx.ModelProto, tmp: Path) -> set[int]:
    """The row counts (dim 1) of the outputs of the compiled MatMuls (an MLP's two are one
    mlp_packed kernel: fuse_mlp)."""
    onnx.save(model, str(tmp / "m.onnx"))
    c = compile_graph(import_graph(str(tmp / "m.onnx"), name="m"), "m")
    return {c.graph.t(n.outputs[0]).shape[1] for n in c.graph.nodes
            if (n.op.startswith("matmul") or n.op == "mlp_packed")
            and len(c.graph.t(n.outputs[0]).shape) == 3}


@pytest.mark.parametrize("name", list(CASES))
def test_slice_rows(workdir: Path, name: str) -> None:
    nodes, rows = CASES[name]
    m = build(nodes, [("x", [1, T, D])], ["y"], W)
    assert_matches(m, [rng.standard_normal((1, T, D)).astype(np.float32)], workdir)
    got = matmul_rows(m, workdir)
    if name.startswith("attention"):  # qkv stays whole (keys and values), the rest one row
        assert got == {T, 1}, got
    else:
        assert got == {rows}, got


def test_a_token_read_twice_is_not_sliced(workdir: Path) -> None:
    """The LayerNorm's output is also a graph output: all its rows are needed."""
    m = build(MLP + [N("Gather", ["f", "zero"], ["y"], axis=1)], [("x", [1, T, D])], ["y", "f"], W)
    assert_matches(m, [rng.standard_normal((1, T, D)).astype(np.float32)], workdir)
    assert matmul_rows(m, workdir) == {T}
