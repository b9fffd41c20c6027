"""Shared helpers: compile an in-memory ONNX model, build it, run it, compare with
onnxruntime."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures"


def fixture(name: str) -> Path:
    """A file of ../shared/fixtures; the test skips, naming the file, where it is missing
    (a plain clone of the project has no ../shared)."""
    import pytest
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"missing fixture {path}")
    return path

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from compiler.frontend import import_graph  # noqa: E402
from compiler.pipeline import compile_graph  # noqa: E402
from compiler.ir import Node  # noqa: E402
from compiler.verify import build_driver, compare, onnxruntime_session, run_driver  # noqa: E402

# The layout pass's kernels under the names of the kernels they stand for.
AS_LOWERED = {"conv2d_gemm_nhwc": "conv2d_gemm", "dwconv2d_nhwc": "dwconv2d"}


def kernel_counts(nodes: list[Node]) -> Counter[str]:
    """Kernel calls per kind as lowering made them, for the tests of the passes before
    the layout pass: views and the layout's reorders left out, the channels-last kernels
    under their lowered names (a 1x1 conv over NHWC, a GEMM, as conv1x1)."""
    out: Counter[str] = Counter()
    for n in nodes:
        if n.op == "alias" or n.attrs.get("reorder"):
            continue
        pointwise = n.op == "matmul_packed" and n.attrs.get("pointwise")
        out["conv1x1" if pointwise else AS_LOWERED.get(n.op, n.op)] += 1
    return out


def run_both(model: onnx.ModelProto, inputs: list[np.ndarray], tmp: Path,
             name: str = "t") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(mobilec outputs, onnxruntime outputs) for `model` on `inputs`."""
    path = tmp / f"{name}.onnx"
    onnx.save(model, str(path))
    graph = import_graph(str(path), name=name)
    compiled = compile_graph(graph, name)
    exe = build_driver(compiled, tmp)
    got, _ = run_driver(exe, inputs, [compiled.graph.t(o).shape for o in compiled.graph.outputs], tmp)
    sess = onnxruntime_session(str(path))
    ref = sess.run(None, {i.name: x for i, x in zip(sess.get_inputs(), inputs)})
    return got, ref


def assert_matches(model: onnx.ModelProto, inputs: list[np.ndarray], tmp: Path,
                   rel: float = 1e-5) -> None:
    got, ref = run_both(model, inputs, tmp)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == tuple(r.shape), (g.shape, r.shape)
        c = compare("out", g, r)
        assert c.rel <= rel and (c.cosine >= 0.99999 or not np.any(r)), c




def build_model(nodes: list[onnx.NodeProto], inputs: list[tuple[str, list]], outputs: list[str],
                inits: dict[str, object] | list[tuple[str, object]] = (), opset: int = 17,
                ) -> onnx.ModelProto:
    """A float32 model from onnx.helper nodes; the outputs typed by ONNX's shape inference
    (so it passes the checker). Float constants are stored as float32, others as given."""
    pairs = list(inits.items()) if isinstance(inits, dict) else list(inits)
    tensors = []
    for name, value in pairs:
        arr = np.asarray(value)
        if arr.dtype.kind == "f":
            arr = arr.astype(np.float32)
        tensors.append(numpy_helper.from_array(arr, name))
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_empty_tensor_value_info(o) for o in outputs], tensors)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    inferred = onnx.shape_inference.infer_shapes(m)
    types = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for out in m.graph.output:
        out.CopyFrom(types[out.name])
    return m
