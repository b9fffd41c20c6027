"""ONNX file -> IR with every shape static.

onnx.load -> checker -> float16 widened (widen.py) -> model-level checks (outputs, opset,
initializers, dims) -> input shapes fixed -> one walk in topological order: each node
meets mobilec's own rules (validate.py), then is folded when its inputs are all known
(passes/fold_constants.py) or shaped by ONNX's own shape inference; every output must
have the shape ONNX's whole-model inference gives it. Whatever remains has a static,
non-empty shape, or the import fails in one line naming the node.
"""
from __future__ import annotations

import math
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from .errors import MobilecError
from .ir import Graph, Node, Tensor
from .passes.fold_constants import try_fold
from .validate import check_node
from .widen import is_float16, widen

# Element types a graph may compute with at run time. Integer/bool tensors are fine as
# long as they fold away at compile time (shape arithmetic).
RUNTIME_DTYPES = {np.dtype(np.float32)}


def parse_shape_overrides(specs: list[str] | None) -> dict[str, tuple[int, ...]]:
    """--input-shape NAME=1x3x256x256 (repeatable) -> {NAME: (1, 3, 256, 256)}."""
    out: dict[str, tuple[int, ...]] = {}
    for spec in specs or []:
        name, sep, dims = spec.rpartition("=")
        try:
            shape = tuple(int(d) for d in dims.lower().split("x"))
        except ValueError:
            shape = ()
        if not sep or not name or not shape or min(shape) <= 0:
            raise MobilecError(f"--input-shape '{spec}' is not NAME=D0xD1x...")
        out[name] = shape
    return out


def load_model(path: str) -> onnx.ModelProto:
    if not os.path.isfile(path):
        raise MobilecError("no such file", path=path)
    try:
        model = onnx.load(path)
    except Exception as err:  # protobuf raises DecodeError, RuntimeWarning-like and others
        raise MobilecError(f"not a readable ONNX model ({type(err).__name__}: {err})".strip(),
                           path=path) from None
    if not model.graph.node and not model.graph.output:
        raise MobilecError("not an ONNX model (empty or truncated file)", path=path)
    try:
        onnx.checker.check_model(model)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MobilecError(f"ONNX checker rejects the model: {first}", path=path) from None
    if not is_float16(model):
        return model
    try:
        return widen(model)
    except MobilecError as err:
        raise MobilecError(err.message, path=path) from None


def _default_opset(model: onnx.ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return 1


def import_graph(path: str, input_shapes: dict[str, tuple[int, ...]] | None = None,
                 model: onnx.ModelProto | None = None, name: str = "model") -> Graph:
    """Load `path` (or the given ModelProto) into a Graph whose shapes are all static."""
    model = model if model is not None else load_model(path)
    input_shapes = dict(input_shapes or {})
    g = model.graph
    opset = _default_opset(model)

    for node in g.node:
        if node.domain not in ("", "ai.onnx"):
            raise MobilecError(f"unsupported op domain '{node.domain}'", path=path,
                               node=node.name, op=node.op_type)

    tensors: dict[str, Tensor] = {}
    if not g.output:
        raise MobilecError("the model has no outputs", path=path)
    if opset > onnx.defs.onnx_opset_version():
        raise MobilecError(f"unsupported: opset {opset} is newer than any this onnx package "
                           f"knows ({onnx.defs.onnx_opset_version()})", path=path)
    for init in g.initializer:
        check_dims(list(init.dims), f"initializer '{init.name}'", path)
        try:
            arr = numpy_helper.to_array(init, base_dir=os.path.dirname(path) if path else "")
        except Exception as err:  # numpy and onnx raise ValueError, TypeError, KeyError, ...
            msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise MobilecError(f"initializer '{init.name}' cannot be read (its data does not "
                               f"match its type and dims?): {msg}", path=path) from None
        tensors[init.name] = Tensor(init.name, tuple(arr.shape), arr.dtype, np.asarray(arr, order="C"))

    inputs: list[str] = []
    unknown = set(input_shapes) - {vi.name for vi in g.input if vi.name not in tensors}
    if unknown:
        raise MobilecError(f"--input-shape names no input of the model: {', '.join(sorted(unknown))}",
                           path=path)
    for vi in g.input:
        if vi.name in tensors:  # an initializer listed as input (old exporters): a constant
            continue
        tt = vi.type.tensor_type
        dtype = _np_dtype(tt.elem_type)
        if dtype is None or dtype not in RUNTIME_DTYPES:
            kind = (onnx.TensorProto.DataType.Name(tt.elem_type)
                    if tt.elem_type in onnx.TensorProto.DataType.values() else
                    f"{tt.elem_type} (no ONNX type)")
            raise MobilecError(f"input '{vi.name}' has element type {kind}; "
                               "mobilec compiles float32 and float16 inputs only", path=path)
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if vi.name in input_shapes:
            shape = input_shapes.pop(vi.name)
            if len(shape) != len(dims) or any(d not in (None, s) for d, s in zip(dims, shape)):
                raise MobilecError(f"--input-shape {vi.name}={'x'.join(map(str, shape))} does not "
                                   f"fit the model's shape {dims}", path=path)
        elif any(d is None for d in dims) or not tt.HasField("shape"):
            example = "x".join(str(d) if d is not None else "1" for d in dims) or "1x3x256x256"
            raise MobilecError(
                f"input '{vi.name}' has a dynamic shape {['?' if d is None else d for d in dims]}; "
                f"give it with --input-shape {vi.name}={example}", path=path)
        else:
            shape = tuple(int(d) for d in dims)
        if min(shape, default=1) <= 0:
            raise MobilecError(f"unsupported: input '{vi.name}' has shape {list(shape)}; mobilec "
                               "compiles non-empty tensors only", path=path)
        check_dims(list(shape), f"input '{vi.name}'", path)
        tensors[vi.name] = Tensor(vi.name, tuple(shape), np.dtype(np.float32))
        inputs.append(vi.name)

    known = _whole_model_shapes(model, {n: tensors[n].shape for n in inputs})
    nodes: list[Node] = []
    for i, pn in enumerate(g.node):
        attrs = {a.name: helper.get_attribute_value(a) for a in pn.attribute}
        node = Node(pn.op_type, pn.name or f"{pn.op_type}_{i}", list(pn.input), list(pn.output),
                    attrs)
        for inp in node.inputs:
            if inp and inp not in tensors:
                raise MobilecError(f"input '{inp}' is produced by no node", path=path,
                                   node=node.name, op=node.op)
        check_node(node, tensors, path, opset)
        folded = try_fold(node, tensors, opset, path)
        if folded is not None:
            for out, arr in zip(node.outputs, folded):
                if out:
                    tensors[out] = Tensor(out, tuple(arr.shape), arr.dtype, arr)
            _check_against_onnx(node, tensors, known, path)
            continue
        for name in node.inputs:  # a kernel would read an empty weight as if it had data
            t = tensors.get(name) if name else None
            if t is not None and t.is_const and t.size == 0 and t.dtype.kind == "f":
                raise MobilecError(f"unsupported: constant input '{name}' has no elements "
                                   f"(shape {list(t.shape)})", path=path, node=node.name,
                                   op=node.op)
        for out, (shape, dtype) in zip(node.outputs,
                                       _node_shapes(node, pn, tensors, known, opset, path)):
            if out:
                if 0 in shape:
                    raise MobilecError(f"unsupported: '{out}' has no elements (shape "
                                       f"{list(shape)}); mobilec compiles non-empty tensors only",
                                       path=path, node=node.name, op=node.op)
                check_dims(list(shape), f"'{out}'", path, node)
                tensors[out] = Tensor(out, shape, dtype)
        _check_against_onnx(node, tensors, known, path)
        nodes.append(node)

    outputs = [o.name for o in g.output]
    for vi in g.output:
        if vi.name not in tensors:
            raise MobilecError(f"output '{vi.name}' is produced by no node", path=path)
        declared = _static_shape(vi)
        t = tensors[vi.name]
        if declared is not None and declared[0] != t.shape:
            raise MobilecError(f"output '{vi.name}' is declared with shape {list(declared[0])} "
                               f"but the graph computes {list(t.shape)}", path=path)
    graph = Graph(name, tensors, nodes, inputs, outputs, opset, path)
    graph.remove_dead()
    for node in graph.nodes:
        for t in node.outputs:
            if t and graph.t(t).dtype not in RUNTIME_DTYPES:
                raise MobilecError(
                    f"unsupported: computes a {graph.t(t).dtype} tensor at run time; mobilec runs float32 "
                    "only (integer math must fold away at compile time)",
                    path=path, node=node.name, op=node.op)
    return graph


# The largest tensor mobilec compiles: 2^29 elements (2 GiB of float32), so that every
# byte offset into a tensor fits a signed 32-bit `long`, the runtime's index type on the
# 32-bit ARM boards it targets (ILP32). Also keeps every size product far from overflow.
MAX_ELEMENTS = 1 << 29


def check_dims(dims: list[int], what: str, path: str, node: Node | None = None) -> None:
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_ELEMENTS:
        raise MobilecError(f"unsupported: {what} has shape {dims}; mobilec compiles tensors "
                           f"of at most 2^29 elements", path=path,
                           node=node.name if node else None, op=node.op if node else None)


def _check_against_onnx(node: Node, tensors: dict[str, Tensor],
                        known: dict[str, tuple[tuple[int, ...], np.dtype]], path: str) -> None:
    """Every shape ONNX's own inference found must be the frontend's (folded constants
    included): a disagreement is a mobilec bug, and compiling on would give a wrong program."""
    for name in node.outputs:
        if not name or name not in known:
            continue
        shape, dtype = known[name]
        t = tensors[name]
        if t.shape != shape or t.dtype != dtype:
            raise MobilecError(
                f"internal error (a mobilec bug): tensor '{name}' is {t.dtype}{list(t.shape)} "
                f"to mobilec but {dtype}{list(shape)} to ONNX's shape inference",
                path=path, stage="frontend", node=node.name, op=node.op)


def _whole_model_shapes(model: onnx.ModelProto,
                        input_shapes: dict[str, tuple[int, ...]]) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Static shapes ONNX's inference finds for the whole model (data propagation on),
    from the inputs and weights alone."""
    # A copy without the weights' bytes (1.3 GB for MCi4): large initializers become typed
    # inputs, which is all the inference needs of them; small ones (shape constants) stay.
    m = onnx.ModelProto()
    m.ir_version = model.ir_version
    m.opset_import.extend(model.opset_import)
    m.functions.extend(model.functions)
    src, g = model.graph, m.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    # Inferred afresh: the model's own declared shapes (value infos, output types) are
    # claims to check against the inference, not inputs to it.
    g.output.extend(helper.make_empty_tensor_value_info(o.name) for o in src.output)
    listed = {vi.name for vi in src.input}
    for t in src.initializer:
        if int(np.prod(t.dims, dtype=np.int64)) <= 4096:
            g.initializer.append(t)
        elif t.name not in listed:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    for vi in m.graph.input:
        if vi.name in input_shapes:
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            for d in input_shapes[vi.name]:
                dims.add().dim_value = d
    try:
        m = shape_inference.infer_shapes(m, data_prop=True)
    except Exception:
        return {}  # the per-node inference below reports the node that fails
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    for vi in list(m.graph.value_info) + list(m.graph.output):
        shape = _static_shape(vi)
        if shape is not None:
            out[vi.name] = shape
    return out


def _static_shape(vi: onnx.ValueInfoProto) -> tuple[tuple[int, ...], np.dtype] | None:
    tt = vi.type.tensor_type
    if not tt.HasField("shape") or not tt.elem_type:
        return None
    dims = []
    for d in tt.shape.dim:
        if not d.HasField("dim_value"):
            return None
        dims.append(int(d.dim_value))
    dtype = _np_dtype(tt.elem_type)
    return None if dtype is None else (tuple(dims), dtype)


def _np_dtype(elem_type: int) -> np.dtype | None:
    """numpy's dtype of an ONNX element type; None for types numpy has none of (and for
    numbers that name no type at all)."""
    try:
        return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        return None


def _node_shapes(node: Node, pn: onnx.NodeProto, tensors: dict[str, Tensor],
                 known: dict[str, tuple[tuple[int, ...], np.dtype]], opset: int,
                 path: str) -> list[tuple[tuple[int, ...], np.dtype]]:
    """Output shapes of one node: from the whole-model inference, else inferred alone with
    its (small) constant inputs visible, so that e.g. a folded Reshape target counts."""
    outs = [o for o in node.outputs if o]
    if all(o in known for o in outs):
        return [known[o] if o else ((), np.dtype(np.float32)) for o in node.outputs]
    inits, ins = [], []
    for name in dict.fromkeys(i for i in node.inputs if i):
        t = tensors[name]
        if t.is_const and t.size <= 4096:
            inits.append(numpy_helper.from_array(t.data, name))
        else:
            ins.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(t.dtype), list(t.shape)))
    graph = helper.make_graph([pn], "node", ins,
                              [helper.make_empty_tensor_value_info(o) for o in outs], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    try:
        m = shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    except Exception as err:
        msg = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise MobilecError(f"shape inference fails: {msg}", path=path, node=node.name,
                           op=node.op) from None
    found = {vi.name: _static_shape(vi) for vi in list(m.graph.output) + list(m.graph.value_info)}
    result = []
    for o in node.outputs:
        if not o:
            result.append(((), np.dtype(np.float32)))
            continue
        s = found.get(o)
        if s is None:
            raise MobilecError(f"unsupported: output '{o}' has no static shape (mobilec "
                               "compiles static shapes only)", path=path, node=node.name,
                               op=node.op)
        result.append(s)
    return result
