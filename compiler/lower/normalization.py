"""BatchNormalization (inference), LayerNormalization and Softmax."""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node
from .common import const_input, contiguous_strides, copy_piece, kernel, norm_axis, prod, unsupported
from .movement import copy


def lower_batchnorm(node: Node, graph: Graph) -> list[Node]:
    """y = (x - mean) / sqrt(var + eps) * gamma + beta = x * scale + shift, with scale and
    shift computed here in float64."""
    if node.attr("training_mode", 0) or any(o for o in node.outputs[1:]):
        raise unsupported("BatchNormalization in training mode")
    x = graph.t(node.inputs[0])
    gamma, beta, mean, var = (const_input(node, graph, i, "BatchNormalization statistics")
                              for i in range(1, 5))
    assert gamma is not None and beta is not None and mean is not None and var is not None
    eps = float(node.attr("epsilon", 1e-5))
    scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
    shift = beta.astype(np.float64) - mean.astype(np.float64) * scale
    s = graph.add_const(f"{node.inputs[1]}_scale", scale.astype(np.float32))
    t = graph.add_const(f"{node.inputs[2]}_shift", shift.astype(np.float32))
    c = x.shape[1] if len(x.shape) > 1 else 1
    return [kernel("channel_affine", node, [node.inputs[0], s, t], [node.outputs[0]],
                   outer=x.shape[0], c=c, inner=prod(x.shape[2:]))]


def lower_layernorm(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    axis = norm_axis(node.attr("axis", -1), len(x.shape))
    inner = tuple(x.shape[axis:])
    n = prod(inner)
    scale = const_input(node, graph, 1, "LayerNormalization scale")
    bias = const_input(node, graph, 2, "LayerNormalization bias")
    assert scale is not None
    ins = [node.inputs[0], graph.add_const(f"{node.inputs[1]}_row",
                                           np.broadcast_to(scale, inner).reshape(n).astype(np.float32))]
    if bias is not None:
        ins.append(graph.add_const(f"{node.inputs[2]}_row",
                                   np.broadcast_to(bias, inner).reshape(n).astype(np.float32)))
    return [kernel("layernorm", node, ins, list(node.outputs), rows=prod(x.shape[:axis]), n=n,
                   eps=float(node.attr("epsilon", 1e-5)), has_bias=bias is not None)]


def lower_softmax(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    rank = len(x.shape)
    if rank == 0:
        raise unsupported("Softmax of a scalar")
    if graph.opset < 13:  # old semantics: the input is coerced to 2-D at `axis`
        axis = norm_axis(node.attr("axis", 1), rank)
        return [kernel("softmax", node, [node.inputs[0]], [node.outputs[0]],
                       rows=prod(x.shape[:axis]), n=prod(x.shape[axis:]))]
    axis = norm_axis(node.attr("axis", -1), rank)
    if axis == rank - 1:
        return [kernel("softmax", node, [node.inputs[0]], [node.outputs[0]],
                       rows=prod(x.shape[:-1]), n=x.shape[-1])]
    # Another axis: move it last, softmax the rows, move it back.
    perm = [d for d in range(rank) if d != axis] + [axis]
    moved = [x.shape[p] for p in perm]
    xs = contiguous_strides(x.shape)
    t1 = graph.add_tensor(f"{node.outputs[0]}_moved", tuple(moved))
    t2 = graph.add_tensor(f"{node.outputs[0]}_rows", tuple(moved))
    ms = contiguous_strides(moved)
    inv = [perm.index(d) for d in range(rank)]
    return [
        copy(node, [node.inputs[0]], t1,
             [copy_piece(0, moved, 0, ms, 0, [xs[p] for p in perm])]),
        kernel("softmax", node, [t1], [t2], rows=prod(moved[:-1]), n=moved[-1]),
        copy(node, [t2], node.outputs[0],
             [copy_piece(0, list(x.shape), 0, xs, 0, [ms[i] for i in inv])]),
    ]


LOWERINGS = {"BatchNormalization": lower_batchnorm, "LayerNormalization": lower_layernorm,
             "Softmax": lower_softmax}
