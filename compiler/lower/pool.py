"""Pooling and reductions: AveragePool, MaxPool, GlobalAveragePool, GlobalMaxPool,
ReduceMean/Sum/Max/Min."""
from __future__ import annotations

from ..ir import Graph, Node
from .common import const_input, contiguous_strides, copy_piece, kernel, norm_axis, prod, unsupported
from .conv import as_2d, resolve_pads
from .movement import copy

REDUCE = {"ReduceMean": "MCR_REDUCE_MEAN", "ReduceSum": "MCR_REDUCE_SUM",
          "ReduceMax": "MCR_REDUCE_MAX", "ReduceMin": "MCR_REDUCE_MIN",
          "GlobalAveragePool": "MCR_REDUCE_MEAN", "GlobalMaxPool": "MCR_REDUCE_MAX"}


def lower_pool(node: Node, graph: Graph) -> list[Node]:
    if len(node.outputs) > 1 and node.outputs[1]:
        raise unsupported("MaxPool's Indices output")
    x = graph.t(node.inputs[0])
    y = graph.t(node.outputs[0])
    nd = len(x.shape) - 2
    if nd not in (1, 2):
        raise unsupported(f"{nd}-D pooling")
    k = list(node.attr("kernel_shape"))
    strides = list(node.attr("strides", [1] * nd))
    dils = list(node.attr("dilations", [1] * nd))
    pads = resolve_pads(node, list(x.shape[2:]), list(y.shape[2:]), k, strides, dils)
    begin, end = pads[:nd], pads[nd:]
    if nd == 1:
        k, strides, dils, begin, end = [1] + k, [1] + strides, [1] + dils, [0] + begin, [0] + end
    h, w = as_2d(list(x.shape[2:]))
    oh, ow = as_2d(list(y.shape[2:]))
    op = "MCR_POOL_MAX" if node.op == "MaxPool" else "MCR_POOL_AVG"
    return [kernel("pool2d", node, [node.inputs[0]], [node.outputs[0]], op=op,
                   planes=x.shape[0] * x.shape[1], h=h, w=w, oh=oh, ow=ow, kh=k[0], kw=k[1],
                   sh=strides[0], sw=strides[1], pt=begin[0], pl=begin[1], pb=end[0],
                   pr=end[1], dh=dils[0], dw=dils[1],
                   count_include_pad=int(node.attr("count_include_pad", 0)))]


def reduce_axes(node: Node, graph: Graph, rank: int) -> list[int]:
    if node.op.startswith("Global"):
        return list(range(2, rank))
    if node.op == "ReduceSum" and graph.opset >= 13 or graph.opset >= 18:
        value = const_input(node, graph, 1, f"{node.op} axes")
        axes = [] if value is None else [int(a) for a in value.ravel()]
    else:
        axes = list(node.attr("axes", []))
    if not axes:
        return [] if node.attr("noop_with_empty_axes", 0) else list(range(rank))
    return sorted(norm_axis(a, rank) for a in axes)


def lower_reduce(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    rank = len(x.shape)
    axes = reduce_axes(node, graph, rank)
    op = REDUCE[node.op]
    if not axes:
        return [kernel("alias", node, [node.inputs[0]], [node.outputs[0]])]
    if axes == list(range(axes[0], axes[-1] + 1)):
        return [kernel("reduce", node, [node.inputs[0]], [node.outputs[0]], op=op,
                       outer=prod(x.shape[:axes[0]]), r=prod(x.shape[axes[0]:axes[-1] + 1]),
                       inner=prod(x.shape[axes[-1] + 1:]), axes=axes)]
    # Scattered axes: gather them last with one transpose copy, then reduce the rows.
    kept = [d for d in range(rank) if d not in axes]
    perm = kept + axes
    moved = [x.shape[p] for p in perm]
    xs = contiguous_strides(x.shape)
    tmp = graph.add_tensor(f"{node.outputs[0]}_moved", tuple(moved))
    return [copy(node, [node.inputs[0]], tmp,
                 [copy_piece(0, moved, 0, contiguous_strides(moved), 0, [xs[p] for p in perm])]),
            kernel("reduce", node, [tmp], [node.outputs[0]], op=op,
                   outer=prod(moved[:len(kept)]), r=prod(moved[len(kept):]), inner=1,
                   axes=list(range(len(kept), rank)))]


LOWERINGS = {"AveragePool": lower_pool, "MaxPool": lower_pool,
             **{op: lower_reduce for op in REDUCE}}
