"""attention_views: the attention kernel reads q, kᵀ and v where the copies that made them
read, and writes its output where the copy that reads it writes (runs after
compose_copies, on kernel graphs).

Exporters slice q, k and v out of one qkv matrix and transpose the output back: after
compose_copies, ViT-B/16 still has per layer three copies out of qkv ([tokens][3][heads]
[dim]) and one of the output into [tokens][heads][dim], 1.8 ms of its 143 at one thread.
The attention kernel takes each operand as a strided view (mcr.h: offset, batch, head, row
and column strides) and packs kᵀ and v itself, once per head, so those copies are not
needed. An operand is redirected when the copy is one piece writing its output whole, and
every element of the operand, as the kernel indexes it, lands on one offset + strides
address (checked element by element); q's and the output's columns must stay contiguous
(the GEMM reads q's rows and writes the output's in place). The output is redirected when
the attention's only reader is a copy that moves every element once (a permutation), so
that each output element has one place in the copy's output. The copies become dead and
are dropped when nothing else reads them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import Graph, Node
from .compose_copies import CHECK_LIMIT, whole_writer

Piece = dict[str, Any]


def source_offsets(piece: Piece) -> np.ndarray:
    """The source offset each element of a whole-writer piece's output is read from, in
    the output's row-major order."""
    shape = piece["shape"]
    grid = np.indices(shape).reshape(len(shape), -1) if shape else np.zeros((0, 1), int)
    return np.asarray(piece["soff"] + sum(g * s for g, s in zip(grid, piece["sstride"])),
                      dtype=np.int64).reshape(-1)


def fit_view(offsets: np.ndarray, dims: list[int]) -> list[int] | None:
    """[offset, strides...] with offsets[row-major index of i] = offset + i · strides for
    every index i of an array of shape `dims`, or None when no such strides exist."""
    off = offsets.reshape(dims)
    base = int(off[(0,) * len(dims)])
    strides = []
    for axis, n in enumerate(dims):
        step = [0] * len(dims)
        step[axis] = 1
        strides.append(int(off[tuple(step)]) - base if n > 1 else 0)
    expect = base + sum(g * s for g, s in zip(np.indices(dims), strides))
    return [base, *strides] if np.array_equal(expect, off) else None


def operand_dims(node: Node) -> list[list[int]]:
    """The kernel's [batch, heads, rows, cols] of q, kᵀ, v and the output."""
    a = node.attrs
    b, h = a["batch"], a["heads"]
    return [[b, h, a["m"], a["d"]], [b, h, a["d"], a["n"]], [b, h, a["n"], a["dv"]],
            [b, h, a["m"], a["dv"]]]


def gemm_ready(view: list[int], dims: list[int]) -> bool:
    """Whether the GEMM can read (q) or write (the output) the view's rows in place:
    contiguous columns, rows forward."""
    return (dims[3] == 1 or view[4] == 1) and min(view[1:]) >= 0


def redirect_inputs(graph: Graph, node: Node) -> None:
    producers, roots = graph.producers(), graph.view_roots()
    dims = operand_dims(node)
    for i in range(3):
        src = roots.get(node.inputs[i], node.inputs[i])
        size = graph.t(src).size
        piece = whole_writer(producers.get(src), size)
        if piece is None or size > CHECK_LIMIT:
            continue
        view = fit_view(source_offsets(piece), dims[i])
        if view is None or (i == 0 and not gemm_ready(view, dims[i])):
            continue
        node.inputs[i] = producers[src].inputs[piece["src"]]
        node.attrs["views"][i] = view


def redirect_output(graph: Graph, node: Node) -> None:
    out = node.outputs[0]
    if out in graph.outputs:
        return
    roots = graph.view_roots()
    readers = [n for n in graph.nodes for i in n.inputs if i and roots.get(i, i) == out]
    copies = [n for n in readers if n.op == "copy"]
    if len(copies) != 1 or any(n.op != "alias" for n in readers if n is not copies[0]):
        return
    copy = copies[0]
    dst = copy.outputs[0]
    size = graph.t(out).size
    piece = whole_writer(copy, graph.t(dst).size)
    if piece is None or size > CHECK_LIMIT or graph.t(dst).size != size or dst in graph.outputs \
            or roots.get(copy.inputs[piece["src"]]) != out:
        return
    read = source_offsets(piece)
    if not np.array_equal(np.sort(read), np.arange(size)):
        return  # not a permutation of the output's elements
    lands = np.empty(size, np.int64)
    lands[read] = np.arange(size)  # where each output element is written
    view = fit_view(lands, operand_dims(node)[3])
    if view is None or not gemm_ready(view, operand_dims(node)[3]):
        return
    node.outputs[0] = dst
    node.attrs["views"][3] = view
    graph.nodes.remove(copy)


def run(graph: Graph) -> Graph:
    for node in list(graph.nodes):
        if node.op == "attention":
            redirect_inputs(graph, node)
            redirect_output(graph, node)
    graph.remove_dead()
    return graph
