"""canonicalize: no-ops disappear.

Identity, Dropout (inference), Cast/CastLike to the type it already has, Reshape/Flatten/Squeeze/
Unsqueeze that keep the shape, Transpose by the identity permutation, Pad by nothing.
A node whose output is a graph output stays: that name must still be written.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node

SHAPE_ONLY = {"Reshape", "Flatten", "Squeeze", "Unsqueeze"}


def is_noop(node: Node, graph: Graph) -> bool:
    if node.domain != "" or not node.inputs or not node.inputs[0]:
        return False
    x = graph.t(node.inputs[0])
    y = graph.t(node.outputs[0])
    if node.op == "Identity":
        return True
    if node.op == "Dropout":
        training = graph.const(node.inputs[2]) if len(node.inputs) > 2 else None
        if training is not None and bool(np.asarray(training).reshape(-1)[0]):
            return False
        return len(node.outputs) == 1 or not node.outputs[1]
    if node.op in ("Cast", "CastLike"):
        return x.dtype == y.dtype
    if node.op in SHAPE_ONLY:
        return x.shape == y.shape
    if node.op == "Transpose":
        perm = node.attr("perm")
        return perm is not None and list(perm) == list(range(len(x.shape)))
    if node.op == "Pad":
        pads = node.attr("pads") if graph.opset < 11 else graph.const(
            node.inputs[1] if len(node.inputs) > 1 else "")
        return pads is not None and not np.any(np.asarray(pads)) and x.shape == y.shape
    return False


def run(graph: Graph) -> Graph:
    kept = []
    for node in graph.nodes:
        if is_noop(node, graph) and node.outputs[0] not in graph.outputs:
            graph.replace_uses(node.outputs[0], node.inputs[0])
        else:
            kept.append(node)
    graph.nodes = kept
    graph.remove_dead()
    return graph
