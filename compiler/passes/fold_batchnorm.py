"""fold_batchnorm: inference BatchNormalization disappears into the layers around it.

1. Conv -> BN (the conv's output read by nothing else): into the conv's weights and bias.
2. BN -> (Reshape | Flatten | Transpose | Squeeze | Unsqueeze)* -> MatMul with a constant
   2-D right operand, when the BN's channel axis arrives as the MatMul's K axis (MCi's
   attention: norm -> flatten -> transpose -> qkv): y = (x*s + t) @ W = x @ (s*W) + t @ W,
   so W is scaled and t @ W becomes a bias (a mobilec.MatMul, which has one).
3. Any other BN on a 4-D tensor becomes a 1x1 depthwise Conv with kernel s and bias t, a
   per-channel affine that merge_branches can fold into sibling convolutions (lowering
   runs a lone one as the channel_affine kernel).

A BN with non-constant statistics or in training mode is left as it is.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..ir import Graph, Node

VIEW_OPS = {"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"}


def bn_affine(node: Node, graph: Graph) -> tuple[np.ndarray, np.ndarray] | None:
    """(scale, shift) in float64, or None when the BN cannot fold."""
    if node.op != "BatchNormalization" or node.attr("training_mode", 0):
        return None
    if any(o for o in node.outputs[1:]):
        return None
    params = [graph.const(i) for i in node.inputs[1:5]]
    if any(p is None for p in params):
        return None
    gamma, beta, mean, var = (np.asarray(p, np.float64) for p in params)  # type: ignore[arg-type]
    scale = gamma / np.sqrt(var + float(node.attr("epsilon", 1e-5)))
    return scale, beta - mean * scale


def _single_reader(name: str, graph: Graph, users: dict[str, list[Node]]) -> Node | None:
    readers = users.get(name, [])
    if len(readers) != 1 or name in graph.outputs:
        return None
    return readers[0]


def _fold_into_conv(bn: Node, graph: Graph, producers: dict[str, Node],
                    users: dict[str, list[Node]]) -> bool:
    conv = producers.get(bn.inputs[0])
    if conv is None or conv.op != "Conv" or _single_reader(bn.inputs[0], graph, users) is not bn:
        return False
    w = graph.const(conv.inputs[1])
    b = graph.const(conv.inputs[2]) if len(conv.inputs) > 2 and conv.inputs[2] else None
    affine = bn_affine(bn, graph)
    if w is None or affine is None or (len(conv.inputs) > 2 and conv.inputs[2] and b is None):
        return False
    s, t = affine
    w2 = w.astype(np.float64) * s.reshape(-1, *([1] * (w.ndim - 1)))
    b2 = (b.astype(np.float64) if b is not None else 0.0) * s + t
    conv.inputs = [conv.inputs[0], graph.add_const(f"{conv.name}_w_bn", w2.astype(np.float32)),
                   graph.add_const(f"{conv.name}_b_bn", b2.astype(np.float32))]
    conv.outputs = [bn.outputs[0]]
    return True


def _channel_axis_after(node: Node, axis: int, graph: Graph) -> int | None:
    """Where the channel axis `axis` of node's input lands in its output, if intact."""
    src = graph.t(node.inputs[0]).shape
    dst = graph.t(node.outputs[0]).shape
    if node.op == "Transpose":
        perm = list(node.attr("perm", list(range(len(src)))[::-1]))
        return perm.index(axis)
    # Reshape-like: the channel axis survives when the dims before it are unchanged.
    if axis < len(dst) and dst[axis] == src[axis] and \
            int(np.prod(src[:axis], dtype=np.int64)) == int(np.prod(dst[:axis], dtype=np.int64)):
        return axis
    return None


def _fold_into_matmul(bn: Node, graph: Graph, users: dict[str, list[Node]]) -> bool:
    affine = bn_affine(bn, graph)
    if affine is None or len(graph.t(bn.inputs[0]).shape) < 2:
        return False
    axis, cur = 1, bn.outputs[0]
    chain: list[Node] = []
    while True:
        nxt = _single_reader(cur, graph, users)
        if nxt is None:
            return False
        if nxt.op in VIEW_OPS and nxt.inputs[0] == cur:
            new_axis = _channel_axis_after(nxt, axis, graph)
            if new_axis is None:
                return False
            axis, cur = new_axis, nxt.outputs[0]
            chain.append(nxt)
            continue
        break
    mm = nxt
    if mm.op != "MatMul" or mm.inputs[0] != cur:
        return False
    w = graph.const(mm.inputs[1])
    a_rank = len(graph.t(cur).shape)
    if w is None or w.ndim != 2 or axis != a_rank - 1 or w.shape[0] != len(affine[0]):
        return False
    s, t = affine
    w64 = w.astype(np.float64)
    w2 = s[:, None] * w64
    bias = t @ w64
    # The BN goes; its input flows straight into the view chain. The chain's tensors now
    # hold values before the BN: renamed, as their ONNX names promise the values after it.
    first = chain[0] if chain else mm
    first.inputs = [bn.inputs[0] if i == bn.outputs[0] else i for i in first.inputs]
    for view in chain:
        old = view.outputs[0]
        new = graph.fresh(f"{old}_before_bn")
        graph.tensors[new] = replace(graph.t(old), name=new)
        graph.replace_uses(old, new)
        view.outputs = [new]
    mm.op = "MatMul"
    mm.domain = "mobilec"
    mm.inputs = [mm.inputs[0], graph.add_const(f"{mm.name}_w_bn", w2.astype(np.float32)),
                 graph.add_const(f"{mm.name}_bias_bn", bias.astype(np.float32))]
    return True


def _to_depthwise(bn: Node, graph: Graph) -> bool:
    affine = bn_affine(bn, graph)
    x = graph.t(bn.inputs[0])
    if affine is None or len(x.shape) != 4:
        return False
    s, t = affine
    c = x.shape[1]
    bn.op = "Conv"
    bn.inputs = [bn.inputs[0], graph.add_const(f"{bn.name}_dw", s.reshape(c, 1, 1, 1).astype(np.float32)),
                 graph.add_const(f"{bn.name}_shift", t.astype(np.float32))]
    bn.attrs = {"group": c, "kernel_shape": [1, 1], "pads": [0, 0, 0, 0], "strides": [1, 1],
                "dilations": [1, 1]}
    bn.outputs = bn.outputs[:1]
    return True


def run(graph: Graph) -> Graph:
    removed: set[int] = set()
    for bn in [n for n in graph.nodes if n.op == "BatchNormalization"]:
        producers, users = graph.producers(), graph.consumers()
        if _fold_into_conv(bn, graph, producers, users) or _fold_into_matmul(bn, graph, users):
            removed.add(id(bn))
        else:
            _to_depthwise(bn, graph)
    graph.nodes = [n for n in graph.nodes if id(n) not in removed]
    graph.remove_dead()
    return graph
