"""Data movement. Reshape-like ops are free views ("alias"); everything else is one
strided copy kernel ("copy") made of pieces: transpose, slice, concat, split, gather,
expand and pad."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import Graph, Node
from .common import (broadcast_strides, const_input, contiguous_strides, copy_piece, kernel,
                     norm_axis, simplify_piece, unsupported)


def copy(src: Node, inputs: list[str], output: str, pieces: list[dict[str, Any]],
         fill: float | None = None, fill_n: int = 0) -> Node:
    """Pieces copied into `output`, after filling its first `fill_n` elements when `fill`
    is given (the border of a Pad)."""
    return kernel("copy", src, inputs, [output], pieces=[simplify_piece(p) for p in pieces],
                  fill=fill, fill_n=fill_n)


def lower_alias(node: Node, graph: Graph) -> list[Node]:
    """Same bytes, another shape: Reshape, Flatten, Squeeze, Unsqueeze, Identity, ..."""
    if node.op == "Dropout":
        if len(node.outputs) > 1 and node.outputs[1]:
            raise unsupported("Dropout's mask output")
        training = const_input(node, graph, 2, "Dropout training_mode")
        if training is not None and bool(np.asarray(training).reshape(-1)[0]):
            raise unsupported("Dropout in training mode (random)")
    if node.op in ("Cast", "CastLike") and graph.t(node.outputs[0]).dtype != graph.t(node.inputs[0]).dtype:
        raise unsupported(f"Cast to {graph.t(node.outputs[0]).dtype} at run time")
    return [kernel("alias", node, [node.inputs[0]], [node.outputs[0]])]


def lower_transpose(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    rank = len(x.shape)
    perm = list(node.attr("perm", list(range(rank))[::-1]))
    st = contiguous_strides(x.shape)
    out_shape = [x.shape[p] for p in perm]
    piece = copy_piece(0, out_shape, 0, contiguous_strides(out_shape), 0, [st[p] for p in perm])
    call = copy(node, [node.inputs[0]], node.outputs[0], [piece])
    call.attrs["transpose"] = perm  # the layout pass may make it a view
    return [call]


def lower_slice(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    rank = len(x.shape)
    if node.attr("starts") is not None:  # Slice-1 (opset < 10); passes make Slice-10s
        starts = list(node.attr("starts"))
        ends = list(node.attr("ends"))
        axes = list(node.attr("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts = [int(v) for v in const_input(node, graph, 1, "Slice starts")]
        ends = [int(v) for v in const_input(node, graph, 2, "Slice ends")]
        a = const_input(node, graph, 3, "Slice axes")
        axes = [int(v) for v in a] if a is not None else list(range(len(starts)))
        s = const_input(node, graph, 4, "Slice steps")
        steps = [int(v) for v in s] if s is not None else [1] * len(starts)
    begin = [0] * rank
    step = [1] * rank
    for st, en, ax, sp in zip(starts, ends, axes, steps):
        ax = norm_axis(ax, rank)
        dim = x.shape[ax]
        if sp == 0:
            raise unsupported("Slice step 0")
        # ONNX clamps starts to [0, dim] (or [0, dim-1] for negative steps).
        st = st + dim if st < 0 else st
        st = max(0, min(dim, st)) if sp > 0 else max(0, min(dim - 1, st))
        begin[ax], step[ax] = st, sp
    out_shape = list(graph.t(node.outputs[0]).shape)
    xs = contiguous_strides(x.shape)
    soff = sum(b * s for b, s in zip(begin, xs))
    piece = copy_piece(0, out_shape, 0, contiguous_strides(out_shape), soff,
                       [s * p for s, p in zip(xs, step)])
    return [copy(node, [node.inputs[0]], node.outputs[0], [piece])]


def lower_concat(node: Node, graph: Graph) -> list[Node]:
    out = graph.t(node.outputs[0])
    axis = norm_axis(node.attr("axis"), len(out.shape))
    ost = contiguous_strides(out.shape)
    pieces, inputs, at = [], [], 0
    for name in node.inputs:
        t = graph.t(name)
        if t.shape[axis] == 0:
            continue
        pieces.append(copy_piece(len(inputs), list(t.shape), at * ost[axis], ost, 0,
                                 contiguous_strides(t.shape)))
        inputs.append(name)
        at += t.shape[axis]
    return [copy(node, inputs, node.outputs[0], pieces)]


def lower_split(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    axis = norm_axis(node.attr("axis", 0), len(x.shape))
    xs = contiguous_strides(x.shape)
    calls, at = [], 0
    for name in node.outputs:
        t = graph.t(name)
        if name:
            piece = copy_piece(0, list(t.shape), 0, contiguous_strides(t.shape), at * xs[axis], xs)
            calls.append(copy(node, [node.inputs[0]], name, [piece]))
        at += t.shape[axis]
    return calls


def lower_gather(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    idx = const_input(node, graph, 1, "Gather indices")
    assert idx is not None
    axis = norm_axis(node.attr("axis", 0), len(x.shape))
    dim = x.shape[axis]
    flat = [int(i) + dim if int(i) < 0 else int(i) for i in np.asarray(idx).ravel()]
    if any(not 0 <= i < dim for i in flat):
        raise unsupported("Gather index out of range")
    xs = contiguous_strides(x.shape)
    outer = list(x.shape[:axis])
    inner = list(x.shape[axis + 1:])
    # Output viewed as [outer..., len(flat), inner...]; one piece per index.
    oview = outer + [len(flat)] + inner
    ost = contiguous_strides(oview)
    shape = outer + inner
    dst_strides = ost[:axis] + ost[axis + 1:]
    src_strides = xs[:axis] + xs[axis + 1:]
    pieces = [copy_piece(0, shape, j * ost[axis], dst_strides, i * xs[axis], src_strides)
              for j, i in enumerate(flat)]
    return [copy(node, [node.inputs[0]], node.outputs[0], pieces)]


def lower_expand(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    out = graph.t(node.outputs[0])
    piece = copy_piece(0, list(out.shape), 0, contiguous_strides(out.shape), 0,
                       broadcast_strides(x.shape, out.shape))
    return [copy(node, [node.inputs[0]], node.outputs[0], [piece])]


def lower_pad(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    rank = len(x.shape)
    mode = node.attr("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise unsupported(f"Pad mode '{mode}'")
    if graph.opset < 11:
        pads = list(node.attr("pads"))
        value = float(node.attr("value", 0.0))
    else:
        p = const_input(node, graph, 1, "Pad pads")
        assert p is not None
        pads = [int(v) for v in p]
        v = const_input(node, graph, 2, "Pad constant_value")
        value = float(np.asarray(v).ravel()[0]) if v is not None and np.size(v) else 0.0
        a = const_input(node, graph, 3, "Pad axes")
        if a is not None:
            axes = [norm_axis(int(v), rank) for v in a]
            full = [0] * (2 * rank)
            for k, ax in enumerate(axes):
                full[ax], full[ax + rank] = pads[k], pads[k + len(axes)]
            pads = full
    begin, end = pads[:rank], pads[rank:]
    out = graph.t(node.outputs[0])
    ost = contiguous_strides(out.shape)
    xs = contiguous_strides(x.shape)
    # Negative pads crop: start inside the source instead.
    shape = [x.shape[d] + min(begin[d], 0) + min(end[d], 0) for d in range(rank)]
    doff = sum(max(begin[d], 0) * ost[d] for d in range(rank))
    soff = sum(max(-begin[d], 0) * xs[d] for d in range(rank))
    pieces = [copy_piece(0, shape, doff, ost, soff, xs)] if min(shape, default=1) > 0 else []
    needs_fill = any(v > 0 for v in pads)
    return [copy(node, [node.inputs[0]], node.outputs[0], pieces,
                 fill=value if needs_fill else None, fill_n=out.size)]


def lower_tile(node: Node, graph: Graph) -> list[Node]:
    x = graph.t(node.inputs[0])
    reps = const_input(node, graph, 1, "Tile repeats")
    assert reps is not None
    rank = len(x.shape)
    out = graph.t(node.outputs[0])
    ost = contiguous_strides(out.shape)
    xs = contiguous_strides(x.shape)
    # View the output as [reps0, x0, reps1, x1, ...]: the source repeats with stride 0.
    shape, dst, src = [], [], []
    for d in range(rank):
        shape += [int(reps[d]), x.shape[d]]
        dst += [x.shape[d] * ost[d], ost[d]]
        src += [0, xs[d]]
    return [copy(node, [node.inputs[0]], node.outputs[0], [copy_piece(0, shape, 0, dst, 0, src)])]


LOWERINGS = {
    "Reshape": lower_alias, "Flatten": lower_alias, "Squeeze": lower_alias,
    "Unsqueeze": lower_alias, "Identity": lower_alias, "Dropout": lower_alias,
    "Cast": lower_alias, "CastLike": lower_alias,
    "Transpose": lower_transpose, "Slice": lower_slice, "Concat": lower_concat,
    "Split": lower_split, "Gather": lower_gather, "Expand": lower_expand, "Pad": lower_pad,
    "Tile": lower_tile,
}
