"""mobilec diff: where the generated C and onnxruntime part ways, tensor by tensor.

Both sides are traced. onnxruntime (graph optimizations off) runs a copy of the model
whose every intermediate float tensor is also an output. The generated C is built with
-DMOBILEC_TRACE, so that each kernel call hands its outputs to the test driver's tracer
(product builds do not compile those calls). A tensor that keeps its ONNX name in the
compiled graph holds that tensor's value, in the layout the layout pass gave it and, after
slice_rows, only the rows it kept (ir.Graph.layouts, row_slices): it is read back in
ONNX's layout and compared. An ONNX tensor that no kernel writes (fused into a kernel's
epilogue, folded into a convolution, a view the compiler removed) is listed with the
first compared tensor downstream of it, "fused into" that tensor's kernel.

--isolate runs each kernel on the reference's values of its inputs (the tracer overwrites
them before the call), so each row shows the kernel's own error; --reference float64 takes
those values from a float64 run instead (onnx's reference evaluator), which is how the
kernels' errors against exact arithmetic were measured (ARCHITECTURE.md, "Summation");
--inject perturbs one kernel's output (a test switch: diff must then name that tensor
first).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from .codegen import trace_points
from .errors import MobilecError
from .pipeline import Compiled, compile_file, write_atomic
from .verify import (FP16_MAX_REL_DIFF, MAX_REL_DIFF, build_driver, compare, make_inputs,
                     onnxruntime_session, read_input, run_driver)
from .widen import is_float16

FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE,
               TensorProto.BFLOAT16)


@dataclass
class Row:
    tensor: str
    node: str
    op: str
    shape: list[int]
    max_abs: float | None = None
    rel: float | None = None
    cosine: float | None = None
    compared: bool = False
    fused_into: str | None = None
    kernel: str | None = None
    note: str = ""


@dataclass
class OnnxTensor:
    name: str
    node: str
    op: str
    order: int


def _progress(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"mobilec: {msg}", file=sys.stderr, flush=True)


def onnx_tensors(model: onnx.ModelProto) -> tuple[list[OnnxTensor], dict[str, list[str]],
                                                  dict[str, int]]:
    """The float tensors nodes compute at run time, in graph order; each tensor's readers'
    outputs (for "fused into"); every tensor's element type. Constants and what only they
    feed are left out: the compiler computes those at compile time, with onnxruntime."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
    types = {v.name: v.type.tensor_type.elem_type
             for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    const = {i.name for i in model.graph.initializer} | {""}
    rows: list[OnnxTensor] = []
    downstream: dict[str, list[str]] = {}
    for node in model.graph.node:
        outs = [o for o in node.output if o]
        if node.op_type == "Constant" or all(i in const for i in node.input):
            const.update(outs)
            continue
        for i in node.input:
            downstream.setdefault(i, []).extend(outs)
        for o in outs:
            if types.get(o) in FLOAT_TYPES:
                rows.append(OnnxTensor(o, node.name, node.op_type, len(rows)))
    return rows, downstream, types


def reference_values(model: onnx.ModelProto, names: list[str], types: dict[str, int],
                     feeds: list[np.ndarray], workdir: Path) -> dict[str, np.ndarray]:
    """onnxruntime's value of every tensor in `names` (graph optimizations off)."""
    exposed = onnx.ModelProto()
    exposed.CopyFrom(model)
    have = {o.name for o in exposed.graph.output}
    for n in names:
        if n not in have and n in types:
            exposed.graph.output.append(helper.make_tensor_value_info(n, types[n], None))
    path = workdir / "exposed.onnx"
    onnx.save(exposed, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="exposed.weights", size_threshold=1024)
    sess = onnxruntime_session(str(path))
    feed = {i.name: x.astype(np.float16) if i.type == "tensor(float16)" else x
            for i, x in zip(sess.get_inputs(), feeds)}
    outs = [o.name for o in sess.get_outputs()]
    return {n: np.asarray(v) for n, v in zip(outs, sess.run(outs, feed))}


def float64_values(model: onnx.ModelProto, names: list[str],
                   feeds: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Every tensor in `names` computed in float64 (--reference float64): onnx's reference
    evaluator on a copy of the model whose float weights, constants, casts and inputs are
    float64. What a kernel's own error is measured against, where onnxruntime's float32
    values carry errors of their own."""
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator
    m = onnx.ModelProto()
    m.CopyFrom(model)
    narrow = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16)

    def widen(t: onnx.TensorProto) -> None:
        if t.data_type in narrow:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float64),
                                               t.name))

    for init in m.graph.initializer:
        widen(init)
    for vi in list(m.graph.input) + list(m.graph.output):
        if vi.type.tensor_type.elem_type in narrow:
            vi.type.tensor_type.elem_type = TensorProto.DOUBLE
    del m.graph.value_info[:]
    for node in m.graph.node:
        for a in node.attribute:
            if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                widen(a.t)
            if a.name == "to" and a.i in narrow:
                a.i = TensorProto.DOUBLE
    try:
        ev = ReferenceEvaluator(m)
        feed = {i.name: x.astype(np.float64) for i, x in zip(m.graph.input, feeds)}
        return dict(zip(names, ev.run(names, feed)))
    except Exception as err:  # onnx.reference's own exception types
        raise MobilecError(f"the float64 reference (onnx.reference) cannot run this model: "
                           f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                           ) from None


def read_trace(path: Path) -> dict[tuple[int, int], np.ndarray]:
    """The tracer's records: (call, index) -> float32 values."""
    raw = np.fromfile(path, dtype=np.uint8)
    out: dict[tuple[int, int], np.ndarray] = {}
    at = 0
    while at < raw.size:
        call, index = np.frombuffer(raw[at:at + 8], dtype="<i4")
        count = int(np.frombuffer(raw[at + 8:at + 16], dtype="<i8")[0])
        at += 16
        out[(int(call), int(index))] = np.frombuffer(raw[at:at + 4 * count], dtype="<f4")
        at += 4 * count
    return out


def _record(call: int, index: int, values: np.ndarray) -> bytes:
    head = np.array([call, index], "<i4").tobytes() + np.array([values.size], "<i8").tobytes()
    return head + np.ascontiguousarray(values, dtype="<f4").tobytes()


class Trace:
    """The compiled graph's tensors, found in a trace of its kernel calls."""

    def __init__(self, compiled: Compiled) -> None:
        self.g = compiled.graph
        self.points = trace_points(self.g, compiled.plan)
        self.producer = self.g.producers()
        self.roots = self.g.view_roots()
        self.writer: dict[str, tuple[int, int]] = {}  # tensor -> (call, index)
        for step, (_, outs) in self.points.items():
            for k, t in outs:
                self.writer[t] = (step, k)

    def kernel(self, tensor: str) -> str | None:
        """"<kernel> #<call>" that writes the tensor's bytes, or None."""
        root = self.roots.get(tensor, tensor)
        if root not in self.writer:
            return None
        step = self.writer[root][0]
        what = f"{self.g.nodes[step].op} #{step}"
        return what if root == tensor else f"view of {what}"

    def layout(self, tensor: str) -> tuple[int, ...]:
        return self.g.layouts.get(tensor, tuple(range(len(self.g.t(tensor).shape))))

    def value(self, tensor: str, trace: dict[tuple[int, int], np.ndarray]) -> np.ndarray | None:
        """The tensor's value in ONNX's layout (its kept rows only), or None."""
        root = self.roots.get(tensor, tensor)
        if root not in self.writer or self.writer[root] not in trace:
            return None
        shape, perm = self.g.t(tensor).shape, self.layout(tensor)
        mem = trace[self.writer[root]].reshape([shape[d] for d in perm])
        return mem.transpose(np.argsort(perm))

    def expected(self, tensor: str, ref: dict[str, np.ndarray]) -> np.ndarray | None:
        """onnxruntime's value of the tensor as the compiled graph keeps it (its rows)."""
        if tensor not in ref:
            return None
        v = ref[tensor]
        for axis, start, length in self.g.row_slices.get(tensor, []):
            v = np.take(v, np.arange(start, start + length), axis=axis)
        return v if tuple(v.shape) == self.g.t(tensor).shape else None

    def feed(self, ref: dict[str, np.ndarray]) -> bytes:
        """Records that give every kernel the reference's values of its inputs (--isolate):
        an input, or the tensor it is a view of, that has an ONNX value."""
        parts = []
        for step in sorted(self.points):
            for k, name in self.points[step][0]:
                cur: str | None = name
                while cur is not None:
                    v = self.expected(cur, ref)
                    if v is not None:
                        mem = v.astype(np.float32).transpose(self.layout(cur)).ravel()
                        parts.append(_record(step, k, mem))
                        break
                    p = self.producer.get(cur)
                    cur = p.inputs[0] if p is not None and p.op == "alias" else None
        return b"".join(parts)


def read_inputs(compiled: Compiled, input_file: str | None, model_path: str) -> list[np.ndarray]:
    """--input's image, or verify's seed-0 inputs."""
    if not input_file:
        return make_inputs(compiled, 0)
    if len(compiled.graph.inputs) != 1:
        raise MobilecError("--input needs a model with one input", path=model_path)
    return [read_input(compiled, input_file)]


def compare_rows(tensors: list[OnnxTensor], tr: Trace, trace: dict[tuple[int, int], np.ndarray],
                 ref: dict[str, np.ndarray]) -> dict[str, Row]:
    """A row per ONNX tensor, compared where a kernel wrote it (fused ones filled later)."""
    g = tr.g
    rows: dict[str, Row] = {}
    for t in tensors:
        shape = list(ref[t.name].shape) if t.name in ref else []
        row = rows[t.name] = Row(t.name, t.node, t.op, shape)
        if t.name not in g.tensors:
            continue
        got, want = tr.value(t.name, trace), tr.expected(t.name, ref)
        row.kernel = tr.kernel(t.name)
        if got is None:
            root = tr.roots.get(t.name, t.name)
            if root in g.inputs:
                row.note = "a view of the model's input (no kernel computes it)"
            elif g.t(root).is_const:
                row.note = "a constant after folding (computed at compile time)"
            continue
        if want is None:
            row.note = (f"not compared: the compiled tensor is {list(g.t(t.name).shape)}, "
                        f"the reference's {shape}")
            continue
        c = compare(t.name, got, want)
        row.max_abs, row.rel, row.cosine, row.compared = c.max_abs, c.rel, c.cosine, True
        if g.row_slices.get(t.name):
            row.note = "rows " + ", ".join(f"{s}:{s + n} of axis {a}"
                                           for a, s, n in g.row_slices[t.name])
    return rows


def fused_into(t: OnnxTensor, rows: dict[str, Row], downstream: dict[str, list[str]],
               order: dict[str, int]) -> str | None:
    """The kernel of the first compared tensor downstream of t, or None."""
    seen, queue, found = {t.name}, deque([t.name]), []
    while queue:
        for nxt in downstream.get(queue.popleft(), []):
            if nxt in seen:
                continue
            seen.add(nxt)
            r = rows.get(nxt)
            if r is not None and r.compared:
                found.append(nxt)
            else:
                queue.append(nxt)
    if not found:
        return None
    first = rows[min(found, key=lambda n: order.get(n, 1 << 60))]
    return f"{first.kernel} ('{first.tensor}')"


def diff(model_path: str, *, name: str = "model", target: str = "generic",
         input_file: str | None = None, input_shapes: dict[str, tuple[int, ...]] | None = None,
         optimize: bool = True, tolerance: float | None = None, isolate: bool = False,
         json_path: str | None = None, plot_path: str | None = None,
         inject: str | None = None, quiet: bool = False, weights: str = "auto",
         reference: str = "onnxruntime") -> bool:
    """Print the per-tensor table and the verdict; True when nothing diverges."""
    compiled = compile_file(model_path, name, target, input_shapes, quiet=quiet,
                            weights=weights, optimize=optimize)
    model = onnx.load(model_path)
    if tolerance is None:
        tolerance = FP16_MAX_REL_DIFF if is_float16(model) else MAX_REL_DIFF
    g = compiled.graph
    tensors, downstream, types = onnx_tensors(model)
    by_name = {t.name: t for t in tensors}
    tr = Trace(compiled)
    env: dict[str, str] = {}
    if inject is not None:
        if inject not in by_name:
            raise MobilecError(f"--inject: '{inject}' is not a float tensor the model computes "
                               "at run time", path=model_path)
        if inject not in tr.writer:
            what = tr.kernel(inject) if inject in g.tensors else None
            raise MobilecError(f"--inject: no kernel writes '{inject}' ("
                               f"{what or 'fused into another kernel'}); inject into a "
                               "tensor a kernel writes", path=model_path)
        env["MOBILEC_TRACE_INJECT"] = "%d %d" % tr.writer[inject]

    xs = read_inputs(compiled, input_file, model_path)
    with tempfile.TemporaryDirectory(prefix="mobilec-diff-") as tmp:
        work = Path(tmp)
        names = [t.name for t in tensors]
        if reference == "float64":
            _progress(f"computing {len(tensors)} tensors in float64 (onnx.reference)", quiet)
            ref = float64_values(model, names, xs)
        else:
            _progress(f"running onnxruntime with {len(tensors)} intermediate tensors exposed",
                      quiet)
            ref = reference_values(model, names, types, xs, work)
        _progress(f"building the trace build ({compiled.target}, -DMOBILEC_TRACE)", quiet)
        exe = build_driver(compiled, work, model_flags=["-DMOBILEC_TRACE"])
        env["MOBILEC_TRACE_OUT"] = str(work / "trace.bin")
        if isolate:
            (work / "feed.bin").write_bytes(tr.feed(ref))  # float64 values: rounded to float32
            env["MOBILEC_TRACE_FEED"] = str(work / "feed.bin")
        _progress("running the trace build" + (" (each kernel on the reference's inputs)"
                                               if isolate else ""), quiet)
        run_driver(exe, xs, [g.t(o).shape for o in g.outputs], work, env=env)
        trace = read_trace(work / "trace.bin")

        rows = compare_rows(tensors, tr, trace, ref)
    order = {t.name: t.order for t in tensors}
    for t in tensors:
        r = rows[t.name]
        if not r.compared and not r.note:
            r.fused_into = fused_into(t, rows, downstream, order)
            r.note = f"fused into {r.fused_into}" if r.fused_into else "no kernel computes it"
    table = [rows[t.name] for t in tensors]
    first = next((r for r in table
                  if r.compared and not (r.rel is not None and r.rel <= tolerance)), None)
    print_rows(table, first)
    n_cmp = sum(r.compared for r in table)
    n_fused = sum(r.fused_into is not None for r in table)
    if json_path:
        keys = ("tensor", "node", "op", "shape", "max_abs", "rel", "cosine", "compared",
                "fused_into", "kernel")
        doc = {"model": model_path, "target": compiled.target, "reference": reference,
               "isolate": isolate,
               "tolerance": tolerance, "inject": inject,
               "rows": [{k: _finite(asdict(r)[k]) for k in keys} for r in table]}
        write_atomic(Path(json_path), json.dumps(doc, indent=1) + "\n")
    if plot_path:
        from .plot import plot_errors
        plot_errors([(r.tensor, r.rel) for r in table if r.compared], Path(plot_path),
                    f"{Path(model_path).name}: {compiled.target} against {reference}"
                    f"{', isolated kernels' if isolate else ''}", tolerance,
                    first.tensor if first else None)
        _progress(f"wrote {plot_path}", quiet)
    if first is None:
        print(f"diff: no divergence ({n_cmp} tensors compared, {n_fused} fused)")
        return True
    print(f"diff: first divergence at '{first.tensor}' (node '{first.node}', op {first.op}, "
          f"kernel {first.kernel})")
    return False


def _finite(v: Any) -> Any:
    """JSON has no inf or nan: those become strings."""
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


def print_rows(rows: list[Row], first: Row | None) -> None:
    tw = min(max((len(r.tensor) for r in rows), default=6), 48)
    nw = min(max((len(r.node) for r in rows), default=4), 48)
    print(f"{'#':>5}  {'tensor':<{tw}}  {'node':<{nw}}  {'op':<18}  {'shape':<18}  "
          f"{'max|diff|':>10}  {'rel':>10}  {'cosine':>12}  note")
    for k, r in enumerate(rows):
        shape = "x".join(map(str, r.shape)) or "scalar"
        if r.compared:
            nums = f"{r.max_abs:>10.3e}  {r.rel:>10.3e}  {r.cosine:>12.9f}"
        else:
            nums = f"{'-':>10}  {'-':>10}  {'-':>12}"
        mark = "  <-- first divergence" if r is first else ""
        kernel = f"[{r.kernel}] " if r.compared and r.kernel else ""
        print(f"{k:>5}  {r.tensor:<{tw}}  {r.node:<{nw}}  {r.op:<18}  {shape:<18}  {nums}  "
              f"{kernel}{r.note}{mark}".rstrip())
