"""ONNX's own backend node tests (built in memory by the onnx package), for every case
whose ops are all ones mobilec claims, compiled, built, run and compared with onnx's
expected outputs at onnx's tolerances.

mobilec is an ahead-of-time compiler for float32 graphs with static shapes, so:
- a case is in scope when its first input and all its outputs are float32;
- non-float inputs (shapes, axes, indices) are bound as compile-time constants with the
  case's values; when the compiler then says a float parameter (conv weights, clip
  bounds, ...) must be constant, the case is retried with every input but the first bound;
- a case the compiler refuses with a clear "unsupported: ..." (a feature of a claimed op
  that is not implemented, e.g. Pad mode 'reflect') is reported as skipped with that reason.
  Anything else -- a wrong value, a crash, a build failure -- fails.
The per-op counts are printed at the end of the run.
"""
from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper
from onnx.backend.test.loader import load_model_tests

from compiler.errors import MobilecError
from compiler.frontend import import_graph
from compiler.lower import SUPPORTED_OPS
from compiler.pipeline import compile_graph
from compiler.verify import build_driver, run_driver

FOLDED_ONLY = {"Constant"}
RESULTS: dict[str, Counter[str]] = {}


def _in_scope(case) -> bool:  # type: ignore[no-untyped-def]
    m = case.model
    if m is None or not m.graph.input:
        return False
    ops = {n.op_type for n in m.graph.node}
    if not ops or not ops <= (SUPPORTED_OPS | FOLDED_ONLY):
        return False
    if any(n.domain not in ("", "ai.onnx") for n in m.graph.node):
        return False
    if m.graph.input[0].type.tensor_type.elem_type != TensorProto.FLOAT:
        return False
    return all(o.type.tensor_type.elem_type == TensorProto.FLOAT for o in m.graph.output)


def _main_op(case) -> str:  # type: ignore[no-untyped-def]
    ops = [n.op_type for n in case.model.graph.node if n.op_type not in FOLDED_ONLY]
    # Name the case after the op its test is about: the one in its name, else the first.
    for op in ops:
        if op.lower() in case.name.lower().replace("_", ""):
            return op
    return ops[0] if ops else "Constant"


CASES = [c for c in load_model_tests(kind="node") if _in_scope(c)]


def _bind(model: onnx.ModelProto, inputs: list[np.ndarray], bind_all: bool) -> tuple[onnx.ModelProto, list[int]]:
    """A copy of `model` with some inputs turned into initializers; returns it and the
    indices of the inputs that stay run-time inputs."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    keep = []
    graph_inputs = list(m.graph.input)
    del m.graph.input[:]
    for k, (vi, x) in enumerate(zip(graph_inputs, inputs)):
        is_float = vi.type.tensor_type.elem_type == TensorProto.FLOAT
        if k == 0 or (is_float and not bind_all):
            m.graph.input.append(vi)
            keep.append(k)
        else:
            m.graph.initializer.append(numpy_helper.from_array(np.asarray(x), vi.name))
    return m, keep


def _run_case(case, inputs: list[np.ndarray], workdir: Path) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    for bind_all in (False, True):
        model, keep = _bind(case.model, inputs, bind_all)
        path = workdir / "case.onnx"
        onnx.save(model, str(path))
        # Static shapes are given at compile time, as a user gives --input-shape.
        shapes = {model.graph.input[i].name: tuple(np.shape(inputs[k]))
                  for i, k in enumerate(keep)}
        try:
            compiled = compile_graph(import_graph(str(path), shapes, name="case"), "case")
        except MobilecError as err:
            if not bind_all and "compile-time constant" in str(err):
                continue
            raise
        exe = build_driver(compiled, workdir)
        g = compiled.graph
        outs, _ = run_driver(exe, [inputs[k] for k in keep], [g.t(o).shape for o in g.outputs],
                             workdir)
        return outs
    raise AssertionError("unreachable")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node(case) -> None:  # type: ignore[no-untyped-def]
    op = _main_op(case)
    counts = RESULTS.setdefault(op, Counter())
    with tempfile.TemporaryDirectory(prefix="mobilec-node-") as d:
        for inputs, expected in case.data_sets:
            inputs = [np.asarray(x) for x in inputs]
            try:
                got = _run_case(case, inputs, Path(d))
            except MobilecError as err:
                if "unsupported" in str(err):
                    counts["refused"] += 1
                    pytest.skip(f"refused: {err.message}")
                counts["failed"] += 1
                raise
            except BaseException:
                counts["failed"] += 1
                raise
            try:
                assert len(got) == len(expected)
                for g, e in zip(got, expected):
                    np.testing.assert_allclose(g, np.asarray(e).reshape(g.shape),
                                               rtol=case.rtol, atol=case.atol)
                    assert g.shape == np.asarray(e).shape
            except AssertionError:
                counts["failed"] += 1
                raise
    counts["passed"] += 1
