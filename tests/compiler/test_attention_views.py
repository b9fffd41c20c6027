"""attention_views: attention reads q, kᵀ and v out of the qkv matrix and writes its
output where the transpose back would, results unchanged vs onnxruntime; operands whose
layout the kernel cannot take keep their copies."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.passes.attention_views import fit_view
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build

rng = np.random.default_rng(13)
N = helper.make_node
T, H, D = 11, 3, 4  # tokens, heads, head dim
C = H * D
CONST = {"w": rng.standard_normal((C, 3 * C)) * 0.3, "w2": rng.standard_normal((C, C)) * 0.3,
         "qkv_shape": np.array([1, T, 3, H, D], np.int64), "split": np.array([1, 1, 1], np.int64),
         "axis0": np.array([0], np.int64), "scale": D ** -0.5,
         "out_shape": np.array([1, T, C], np.int64),
         "last_shape": np.array([1, T, H, D, 3], np.int64)}


def vit(unbind: list[onnx.NodeProto], out: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """ViT-B/16's attention: qkv -> [3, 1, heads, tokens, dim] -> q, k, v (by `unbind`);
    softmax(q kᵀ · scale) v, then `out` from "o" ([1, heads, tokens, dim])."""
    return [N("MatMul", ["x", "w"], ["qkv"]), N("Reshape", ["qkv", "qkv_shape"], ["r"]),
            N("Transpose", ["r"], ["t"], perm=[2, 0, 3, 1, 4]), *unbind,
            N("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
            N("MatMul", ["q", "kt"], ["s"]), N("Mul", ["s", "scale"], ["sl"]),
            N("Softmax", ["sl"], ["p"], axis=-1), N("MatMul", ["p", "v"], ["o"]), *out]


SPLIT = [N("Split", ["t", "split"], ["q5", "k5", "v5"], axis=0),
         *(N("Squeeze", [f"{x}5", "axis0"], [x]) for x in "qkv")]
GATHER = [N("Gather", ["t", f"i{j}"], [x], axis=0) for j, x in enumerate("qkv")]
BACK = [N("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]), N("Reshape", ["ot", "out_shape"], ["y0"]),
        N("MatMul", ["y0", "w2"], ["y"])]
# q, k and v interleaved innermost ([tokens][heads][dim][3]): q's columns are 3 apart, so
# q keeps its copy (the GEMM reads q's rows in place); kᵀ and v are packed from any strides.
LAST = [N("MatMul", ["x", "w"], ["qkv"]), N("Reshape", ["qkv", "last_shape"], ["r"]),
        N("Transpose", ["r"], ["t"], perm=[4, 0, 2, 1, 3]), *SPLIT,
        N("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]), N("MatMul", ["q", "kt"], ["s"]),
        N("Softmax", ["s"], ["p"], axis=-1), N("MatMul", ["p", "v"], ["o"]), *BACK]
CASES = {
    # name: (nodes, outputs, copies left, attention operands read from qkv)
    "split and squeeze": (vit(SPLIT, BACK), ["y"], 0, 3),
    "gather": (vit(GATHER, BACK), ["y"], 0, 3),
    # The transposed output is a graph output: written by its copy, which stays.
    "output copy is an output": (vit(SPLIT, BACK[:1]), ["ot"], 1, 3),
    # The attention's output itself is read twice: it is written as it is.
    "output read twice": (vit(SPLIT, BACK + [N("Add", ["o", "o"], ["o2"])]), ["y", "o2"], 1, 3),
    "q's columns strided": (LAST, ["y"], 1, 2),
}


def compiled(model: onnx.ModelProto, tmp: Path):  # type: ignore[no-untyped-def]
    onnx.save(model, str(tmp / "m.onnx"))
    return compile_graph(import_graph(str(tmp / "m.onnx"), name="m"), "m")


@pytest.mark.parametrize("name", list(CASES))
def test_attention_views(workdir: Path, name: str) -> None:
    nodes, outputs, copies, from_qkv = CASES[name]
    consts = {**CONST, **{f"i{j}": np.array(j, np.int64) for j in range(3)}}
    m = build(nodes, [("x", [1, T, C])], outputs, consts)
    assert_matches(m, [rng.standard_normal((1, T, C)).astype(np.float32)], workdir)
    g = compiled(m, workdir).graph
    (att,) = [n for n in g.nodes if n.op == "attention"]
    roots = g.view_roots()
    assert sum(roots.get(i, i) == roots.get("qkv", "qkv") for i in att.inputs[:3]) == from_qkv
    assert sum(n.op == "copy" for n in g.nodes) == copies


def test_fit_view() -> None:
    """Strides found from unit steps and checked on every element: a transposed block
    fits, a gather of rows out of order does not."""
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    offsets = (100 + a.transpose(0, 2, 1)).reshape(-1)  # [2][4][3] reading a [2][3][4]
    assert fit_view(offsets, [2, 4, 3]) == [100, 12, 1, 4]
    shuffled = a[:, [0, 2, 1], :].reshape(-1)
    assert fit_view(shuffled, [2, 3, 4]) is None
