"""Shared helpers: compile an in-memory ONNX model, build it, run it, compare with
onnxruntime."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT.parent / "shared" / "fixtures"

from compiler.frontend import import_graph  # noqa: E402
from compiler.pipeline import compile_graph  # noqa: E402
from compiler.verify import build_driver, compare, onnxruntime_session, run_driver  # noqa: E402


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


