"""layout: a tensor only 1x1 convolutions touch goes to pixel panels; results unchanged
vs onnxruntime; anything else read by another kernel, a graph output, or a pixel count
off the panel width stays NCHW."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from compiler.frontend import import_graph
from compiler.pipeline import compile_graph
from helpers import assert_matches, build_model as build

rng = np.random.default_rng(5)
N = helper.make_node
W1 = rng.standard_normal((24, 8, 1, 1)) * 0.3
W2 = rng.standard_normal((8, 24, 1, 1)) * 0.3
W3 = rng.standard_normal((8, 24, 1, 1)) * 0.3
# conv1 expands (its erf fused), conv2 projects back (the residual add fused).
MLP = [N("Conv", ["x", "w1"], ["h"], name="conv1"), N("Erf", ["h"], ["e"]),
       N("Conv", ["e", "w2"], ["c"], name="conv2"), N("Add", ["c", "x"], ["y"])]

CASES = {
    # (nodes, input shape, outputs, {conv: panels flags (1: reads x in panels, 2: writes y)})
    "mlp": (MLP, [2, 8, 8, 12], ["y"], {"conv1": 2, "conv2": 1}),  # 3 panels per image
    "two readers": (MLP + [N("Conv", ["e", "w3"], ["z"], name="conv3")], [1, 8, 4, 16],
                    ["y", "z"], {"conv1": 2, "conv2": 1, "conv3": 1}),
    "off the panel width": (MLP, [1, 8, 7, 7], ["y"], {"conv1": 0, "conv2": 0}),
    "read by another op": (MLP + [N("Sigmoid", ["e"], ["s"])], [1, 8, 8, 8], ["y", "s"],
                           {"conv1": 0, "conv2": 0}),
    "graph output": (MLP, [1, 8, 8, 8], ["y", "e"], {"conv1": 0, "conv2": 0}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_layout(workdir: Path, name: str) -> None:
    nodes, shape, outputs, expect = CASES[name]
    m = build(nodes, [("x", shape)], outputs, {"w1": W1, "w2": W2, "w3": W3})
    assert_matches(m, [rng.standard_normal(shape).astype(np.float32)], workdir)
    onnx.save(m, str(workdir / "m.onnx"))
    c = compile_graph(import_graph(str(workdir / "m.onnx"), name="m"), "m")
    # Kernels keep their ONNX node's name.
    assert {n.name: n.attrs["panels"] for n in c.graph.nodes if n.op == "conv1x1"} == expect
