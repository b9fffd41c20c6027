"""compose_copies: chains of movement ops become one strided read of their first source,
results unchanged vs onnxruntime; what does not compose stays as it was."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.lower.common import contiguous_strides, copy_piece
from compiler.passes.compose_copies import compose
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build

rng = np.random.default_rng(11)
N = helper.make_node
T, H, D = 7, 3, 4  # tokens, heads, head dim
CONST = {"qkv_shape": np.array([1, T, 3, H, D], np.int64),
         "w": rng.standard_normal((H * D, 3 * H * D)) * 0.3,
         "split": np.array([1, 1, 1], np.int64), "out_shape": np.array([1, T, H * D], np.int64)}
# ViT-B/16's attention plumbing: qkv -> [3, 1, heads, tokens, dim] -> q, k, v; k transposed.
QKV = [N("MatMul", ["x", "w"], ["qkv"]), N("Reshape", ["qkv", "qkv_shape"], ["r"]),
       N("Transpose", ["r"], ["t"], perm=[2, 0, 3, 1, 4]),
       N("Split", ["t", "split"], ["q", "k", "v"], axis=0),
       N("Transpose", ["k"], ["kt"], perm=[0, 1, 2, 4, 3])]
CASES = {
    # name: (nodes, outputs, copies before composing -> after)
    "attention plumbing": (QKV + [
        N("MatMul", ["q", "kt"], ["s"]), N("MatMul", ["s", "v"], ["o"]),
        N("Transpose", ["o"], ["ot"], perm=[0, 1, 3, 2, 4]),
        N("Reshape", ["ot", "out_shape"], ["y"])], ["y"], 6, 4),
    # As ViT-B/16's export has it: a Squeeze (a view) between the split and k's transpose.
    "through a view": (QKV[:4] + [
        N("Squeeze", ["k", "axis0"], ["ks"]), N("Transpose", ["ks"], ["kt"], perm=[0, 1, 3, 2]),
        N("MatMul", ["q", "kt"], ["s"]), N("MatMul", ["s", "v"], ["y"])], ["y"], 5, 3),
    # The transposed whole is also an output: q and v still read it (k's copy, read by
    # nobody, is dropped with the pass's clean-up).
    "intermediate also an output": (QKV + [N("Add", ["q", "v"], ["y"])], ["y", "t"], 4, 3),
    # Pad fills before copying: never the first of a chain.
    "pad then transpose": ([N("Pad", ["x", "pads"], ["p"]),
                            N("Transpose", ["p"], ["y"], perm=[0, 2, 1])], ["y"], 2, 2),
    # A slice of a concat: the concat has two pieces, not composed.
    "slice of a concat": ([N("Concat", ["x", "x"], ["c"], axis=1),
                           N("Slice", ["c", "starts", "ends", "axes"], ["y"])], ["y"], 2, 2),
}
EXTRA = {"axis0": np.array([0], np.int64), "pads": np.array([0, 1, 0, 0, 2, 0], np.int64), "starts": np.array([2], np.int64),
         "ends": np.array([12], np.int64), "axes": np.array([2], np.int64)}


def copies(model: onnx.ModelProto, tmp: Path, compose_them: bool) -> int:
    onnx.save(model, str(tmp / "m.onnx"))
    c = compile_graph(import_graph(str(tmp / "m.onnx"), name="m"), "m")
    record = {r.name: r for r in c.passes}
    if not compose_them:
        return int(record["compose_copies"].ops_before.get("copy", 0))
    return sum(1 for n in c.graph.nodes if n.op == "copy")


@pytest.mark.parametrize("name", list(CASES))
def test_compose_copies(workdir: Path, name: str) -> None:
    nodes, outputs, before, after = CASES[name]
    m = build(nodes, [("x", [1, T, H * D])], outputs, {**CONST, **EXTRA})
    assert_matches(m, [rng.standard_normal((1, T, H * D)).astype(np.float32)], workdir)
    assert (copies(m, workdir, False), copies(m, workdir, True)) == (before, after)


def test_compose_splits_a_merged_dim() -> None:
    """A contiguous slice of a transpose's output (one merged dim) is split along the
    transposed dims; a stride that crosses them does not compose."""
    shape = [3, 4, 5]
    src_strides = [1, 15, 3]  # the transpose of a [4, 5, 3] array
    first = copy_piece(0, shape, 0, contiguous_strides(shape), 7, src_strides)
    second = copy_piece(0, [20], 0, [1], 20, [1])  # element 20.. = the second of 3 slices
    got = compose(second, first, 0)
    assert got is not None
    # (4, 5) elements at strides (15, 3) from 7 + 1: one run of 20 at stride 3.
    assert (got["shape"], got["sstride"], got["soff"]) == ([20], [3], 8)
    odd = copy_piece(0, [6], 0, [1], 0, [7])  # every 7th element: crosses rows of 5
    assert compose(odd, first, 0) is None
