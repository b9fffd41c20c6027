"""fold_constants: evaluate at compile time every node whose inputs are all known.

Shape arithmetic (Shape -> Gather -> Concat -> Reshape and the like) disappears. A node is
evaluated by onnxruntime — the implementation `verify` compares against — so the folded
value is not ours. onnx's own reference evaluator is only the fallback for what
onnxruntime does not load: the differential tests found it wrong on valid nodes
(Squeeze/Unsqueeze-11 with negative axes, Pad-2 with negative pads, GlobalMaxPool of a
rank-3 input).
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from ..errors import MobilecError
from ..ir import Graph, Node, Tensor

# Never folded: their value is not a function of their inputs.
NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                    "Multinomial", "Bernoulli"}
# Folding a node whose output is larger than this would bloat the weights for nothing
# (e.g. Expand of a scalar to an activation-sized tensor).
MAX_FOLD_ELEMENTS = 1 << 24


def _shape_of(node: Node, tensors: dict[str, Tensor]) -> list[np.ndarray] | None:
    """Shape and Size need only the input's static shape, not its value."""
    src = tensors.get(node.inputs[0]) if node.inputs else None
    if src is None:
        return None
    if node.op == "Size":
        return [np.array(src.size, dtype=np.int64)]
    rank = len(src.shape)
    start = node.attr("start", 0)
    end = node.attr("end", rank)
    start = max(0, min(rank, start + rank if start < 0 else start))
    end = max(0, min(rank, end + rank if end < 0 else end))
    return [np.array(src.shape[start:end], dtype=np.int64)]


def _evaluate(model: onnx.ModelProto) -> list[np.ndarray]:
    """Run a one-node model without inputs: onnxruntime, else onnx's reference evaluator
    when onnxruntime will not load the node (no kernel for it, an opset it does not
    release yet).
    Imported here, not at the top: `bench --onnxruntime-isa` must load its own copy of
    onnxruntime before anything else does (compiler/ort_isa.py)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 4  # its errors reach us as exceptions: no lines on stderr
    try:
        sess = ort.InferenceSession(model.SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime raises its own exception types
        return [np.asarray(v) for v in ReferenceEvaluator(model).run(None, {})]
    return [np.asarray(v) for v in sess.run(None, {})]


def try_fold(node: Node, tensors: dict[str, Tensor], opset: int,
             path: str = "<graph>") -> list[np.ndarray] | None:
    """The values of `node`'s outputs when they can be known at compile time, else None."""
    if node.domain not in ("", "ai.onnx") or node.op in NONDETERMINISTIC:
        return None
    if node.op in ("Shape", "Size"):
        return _shape_of(node, tensors)
    if node.op == "CastLike" and tensors[node.inputs[0]].is_const:
        # Needs only the element type of its second input, not its value.
        data = tensors[node.inputs[0]].data
        assert data is not None
        return [np.asarray(data.astype(tensors[node.inputs[1]].dtype), order="C")]
    ins = [i for i in node.inputs if i]
    if not all(tensors[i].is_const for i in ins):
        return None
    if node.op != "Constant" and not ins:
        return None
    inits = [numpy_helper.from_array(tensors[i].data, i) for i in dict.fromkeys(ins)]
    outs = [helper.make_empty_tensor_value_info(o) for o in node.outputs if o]
    proto = helper.make_node(node.op, node.inputs, node.outputs, name=node.name, **node.attrs)
    graph = helper.make_graph([proto], "fold", [], outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = min(model.ir_version, 10)  # what onnxruntime reads (onnx writes newer)
    try:
        values = _evaluate(model)
    except Exception as err:
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MobilecError(f"cannot evaluate a constant node: {msg}", path=path,
                           stage="fold_constants", node=node.name, op=node.op) from None
    arrays = [np.asarray(v, order="C") for v in values]
    if node.op not in ("Constant", "ConstantOfShape") and any(
            a.size > MAX_FOLD_ELEMENTS for a in arrays):
        return None
    result: list[np.ndarray] = []
    it = iter(arrays)
    for o in node.outputs:
        result.append(next(it) if o else np.zeros(0, np.float32))
    return result


def run(graph: Graph) -> Graph:
    """Fold every node of `graph` whose inputs are constants."""
    kept: list[Node] = []
    for node in graph.nodes:
        values = try_fold(node, graph.tensors, graph.opset, graph.path)
        if values is None:
            kept.append(node)
            continue
        for out, arr in zip(node.outputs, values):
            if out:
                graph.tensors[out] = Tensor(out, tuple(arr.shape), arr.dtype, arr)
    graph.nodes = kept
    return graph
