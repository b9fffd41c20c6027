"""slice_rows: compute only the rows that are read (runs last before lowering).

ViT-B/16's embedding is one token of the last block's output -- the class token, taken by
a Gather after the final LayerNorm -- but the block computes its LayerNorms, MLP, output
projection and attention queries for all 197 tokens: 6% of the model's multiply-adds for
rows nobody reads. Knowing every shape, the compiler moves the selection up instead:

- a Gather of one constant index becomes a Slice of one row along its axis (then a
  Reshape, a free view, to the Gather's shape);
- a Slice moves above the node producing its input while that node works row by row
  along the sliced axis and the Slice is its output's only reader: elementwise ops (each
  operand that has the axis is sliced, broadcast ones not), a LayerNormalization over
  later axes, a MatMul (and its residual) over a row that is not the reduced one,
  attention along its query axis, a Transpose (the axis permuted), a Reshape that keeps
  the dims up to the axis. The node then computes the slice; its operands get Slices of
  their own, shared when two readers ask for the same one, and those move on in turn.

In ViT-B/16 the Slice ends on the queries (q of the class token, 12 heads) and on the
residual stream entering the last block; the keys and values stay whole, as the class
token attends to all tokens. Results are the same numbers: each row was computed alone.
"""
from __future__ import annotations

import numpy as np

from ..ir import Graph, Node, Tensor
from ..lower.common import norm_axis
from ..lower.elementwise import BINARY, UNARY

Key = tuple[str, int, int, int]  # (tensor, axis, start, length)
ELEMENTWISE_BINARY = set(BINARY) - {"Sum"}


def operand_axes(node: Node, graph: Graph, axis: int) -> dict[int, int] | None:
    """{input index: its axis} to slice so that `node` computes only a slice of its
    output along `axis`, or None when it does not work row by row along it."""
    out_rank = len(graph.t(node.outputs[0]).shape)
    if len(node.outputs) != 1:
        return None
    if node.domain == "" and node.op in UNARY:
        return {0: axis}
    if node.domain == "" and node.op in ELEMENTWISE_BINARY:
        axes = {}
        for i, name in enumerate(node.inputs):
            shape = graph.t(name).shape
            a = axis - (out_rank - len(shape))
            if a >= 0 and shape[a] != 1:
                axes[i] = a
        return axes
    if node.domain == "" and node.op == "LayerNormalization":
        return {0: axis} if norm_axis(int(node.attr("axis", -1)), out_rank) > axis else None
    if node.op == "MatMul":  # ONNX's, or mobilec's with bias, epilogue and residual
        w = graph.const(node.inputs[1])
        if w is None or w.ndim != 2 or axis >= out_rank - 1:
            return None
        axes = {0: axis}
        if len(node.inputs) > 3 and node.inputs[3]:
            axes[3] = axis
        return axes
    if node.domain == "mobilec" and node.op == "Attention":
        return {0: axis} if axis == out_rank - 2 else None
    if node.domain == "" and node.op == "Transpose":  # no perm: the dims reversed
        perm = node.attr("perm")
        return {0: list(perm)[axis] if perm is not None else out_rank - 1 - axis}
    if node.domain == "" and node.op == "Reshape":
        src, dst = graph.t(node.inputs[0]).shape, graph.t(node.outputs[0]).shape
        return {0: axis} if src[:axis + 1] == dst[:axis + 1] else None
    return None


class Slicer:
    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.made: dict[Key, Node] = {}  # the Slices this pass made, by what they take

    def slice_of(self, x: str, axis: int, start: int, length: int, reader: Node) -> str:
        """The output of a Slice of `x` for `reader` (shared when one exists). It is placed
        right after x's producer, so that it comes before every reader it may get."""
        key = (x, axis, start, length)
        if key not in self.made:
            shape = list(self.g.t(x).shape)
            shape[axis] = length
            out = self.g.add_tensor(f"{x}_rows{start}", tuple(shape), self.g.t(x).dtype)
            consts = [self.g.add_const(f"{x}_rows_{n}", np.array([v], np.int64))
                      for n, v in (("starts", start), ("ends", start + length), ("axes", axis))]
            node = Node("Slice", f"{reader.name}/slice_rows", [x, *consts], [out], {})
            producer = self.g.producers().get(x)
            at = next((i + 1 for i, n in enumerate(self.g.nodes) if n is producer), 0)
            self.g.nodes.insert(at, node)
            self.made[key] = node
        return self.made[key].outputs[0]

    def movable(self, x: str, axis: int) -> Node | None:
        """The producer of `x` when a slice of `x` along `axis` can move above it."""
        producer = self.g.producers().get(x)
        if producer is None or x in self.g.outputs or len(self.g.consumers().get(x, [])) != 1:
            return None
        return producer if operand_axes(producer, self.g, axis) is not None else None

    def from_gather(self, gather: Node) -> None:
        """Gather(x, one constant index) as Reshape(Slice(x)), when the Slice can move."""
        idx = self.g.const(gather.inputs[1])
        if gather.domain != "" or idx is None or idx.size != 1:
            return
        x = gather.inputs[0]
        rank = len(self.g.t(x).shape)
        axis = norm_axis(int(gather.attr("axis", 0)), rank)
        if self.movable(x, axis) is None:
            return
        start = int(idx.ravel()[0])
        start = start + self.g.t(x).shape[axis] if start < 0 else start
        out = self.slice_of(x, axis, start, 1, gather)
        shape = self.g.add_const(f"{gather.outputs[0]}_shape",
                                 np.array(self.g.t(gather.outputs[0]).shape, np.int64))
        gather.op, gather.inputs, gather.attrs = "Reshape", [out, shape], {}

    def move_up(self, key: Key) -> bool:
        """Move the Slice made for `key` above its input's producer, if it can."""
        x, axis, start, length = key
        producer = self.movable(x, axis)
        if producer is None:
            return False
        s = self.made.pop(key)
        axes = operand_axes(producer, self.g, axis)
        assert axes is not None
        for i, a in axes.items():
            producer.inputs[i] = self.slice_of(producer.inputs[i], a, start, length, producer)
        if producer.op == "Reshape":
            shape = list(self.g.t(x).shape)
            shape[axis] = length
            producer.inputs[1] = self.g.add_const(f"{x}_shape", np.array(shape, np.int64))
        # The producer now writes the slice itself, under its own output's name.
        self.g.tensors[x] = Tensor(x, self.g.t(s.outputs[0]).shape, self.g.t(x).dtype)
        self.g.row_slices.setdefault(x, []).append((axis, start, length))
        self.g.replace_uses(s.outputs[0], x)
        self.g.nodes = [n for n in self.g.nodes if n is not s]
        return True


def run(graph: Graph) -> Graph:
    slicer = Slicer(graph)
    for node in list(graph.nodes):
        if node.op == "Gather":
            slicer.from_gather(node)
    moved = True
    while moved:  # until no Slice moves (one that shares its input may move later)
        moved = any([slicer.move_up(key) for key in list(slicer.made)])
    graph.remove_dead()
    return graph
