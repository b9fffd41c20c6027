"""layout: choose the memory layout of every activation (runs after lowering).

Images are kept channels-last (NHWC) from the first convolution on: every convolution
kernel writes NHWC (a 1x1 conv becomes a GEMM [pixels][c] x [c][k] whose weights are
packed at compile time; depthwise and dense k x k convs have NHWC kernels), and the
kernels between them follow the layout they are given. Measured reason and figures in
ARCHITECTURE.md ("Layout").

A layout is a permutation: the logical dims (ONNX's, NCHW) in the order they are laid out
in memory, so NHWC is (0, 2, 3, 1). Walking the kernels in order, each tensor gets one:
- convolutions: NHWC out; their x and residual NHWC in (a dense conv also reads NCHW);
- unary: its input's; binary: its full-shaped input's, any operand layout read through
  strides; reduce: its input's, when the reduced dims stay contiguous;
- alias (a reshape): its input's bytes reinterpreted, when that is a layout of the new
  shape (merging NHWC's h and w into tokens is; the transposes around MCi's and
  ViT-B/16's attention then cancel);
- a transpose becomes a view (no copy) when the layout that gives its output is row-major
  or leads, through reshapes, to an NHWC image; else it stays a copy, reading its input
  through strides;
- every other kernel (matmul, attention, softmax, layernorm, ...) reads and writes
  row-major.
Where a kernel gets an input in a layout it does not take, a reorder (a strided copy) is
inserted; a graph output is reordered to row-major. In the MobileCLIP encoders the only
such places are the graph's edges: the input image is read NCHW by the stem convolution,
and the outputs are row-major vectors (tests/compiler/test_layout.py counts them).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..ir import Graph, Node
from ..lower.common import broadcast_strides, contiguous_strides, copy_piece, prod
from ..kernels import spec, with_scratch
from ..lower.matmul import pack_panels
from ..lower.movement import copy

Perm = tuple[int, ...]


def identity(rank: int) -> Perm:
    return tuple(range(rank))


def channels_last(rank: int) -> Perm:
    return (0,) + tuple(range(2, rank)) + (1,)


def same(shape: tuple[int, ...], p: Perm, q: Perm) -> bool:
    """Whether two layouts put the same bytes in the same places (unit dims don't count)."""
    return [d for d in p if shape[d] != 1] == [d for d in q if shape[d] != 1]


def strides(shape: tuple[int, ...], perm: Perm) -> list[int]:
    """Element stride of each logical dim of a tensor laid out as `perm`."""
    st = contiguous_strides([shape[d] for d in perm])
    out = [0] * len(shape)
    for j, d in enumerate(perm):
        out[d] = st[j]
    return out


def reshape_layout(shape: tuple[int, ...], perm: Perm, new: tuple[int, ...]) -> Perm | None:
    """The layout of `new` that the same bytes have, or None when there is none: each
    group of dims that a reshape merges or splits must lie together, in order, in memory."""
    src = [d for d in range(len(shape)) if shape[d] != 1]
    dst = [d for d in range(len(new)) if new[d] != 1]
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(src) and j < len(dst):
        gi, gj = [src[i]], [dst[j]]
        pi, pj = shape[src[i]], new[dst[j]]
        i, j = i + 1, j + 1
        while pi != pj:
            if pi < pj and i < len(src):
                gi.append(src[i])
                pi *= shape[src[i]]
                i += 1
            elif pj < pi and j < len(dst):
                gj.append(dst[j])
                pj *= new[dst[j]]
                j += 1
            else:
                return None
        groups.append((gi, gj))
    if i < len(src) or j < len(dst):
        return None
    mem = [d for d in perm if shape[d] != 1]
    placed = []
    for gi, gj in groups:
        at = mem.index(gi[0])
        if mem[at:at + len(gi)] != gi:
            return None
        placed.append((at, gj))
    order = [d for _, gj in sorted(placed) for d in gj]
    return tuple([d for d in range(len(new)) if new[d] == 1] + order)


class Layouts:
    """The walk over the kernels: each tensor's layout, and the kernels as rewritten."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.perm: dict[str, Perm] = {}
        self.nodes: list[Node] = []
        self.readers: dict[str, list[Node]] = graph.consumers()

    def of(self, name: str) -> Perm:
        return self.perm.get(name, identity(len(self.g.t(name).shape)))

    def is_(self, name: str, p: Perm) -> bool:
        return same(self.g.t(name).shape, self.of(name), p)

    def need(self, name: str, p: Perm, src: Node) -> str:
        """`name` laid out as p: itself, or a reorder copy of it."""
        if not name or self.is_(name, p):
            return name
        t = self.g.t(name)
        dst = self.g.add_tensor(f"{name}_reordered", t.shape)
        piece = copy_piece(0, list(t.shape), 0, strides(t.shape, p), 0,
                           strides(t.shape, self.of(name)))
        reorder = copy(Node("Reorder", f"{src.name}/reorder", [name], [dst]), [name], dst,
                       [piece])
        reorder.attrs["reorder"] = True
        self.nodes.append(reorder)
        self.perm[dst] = p
        return dst

    def row_major(self, node: Node) -> None:
        node.inputs = [self.need(i, identity(len(self.g.t(i).shape)), node) if i else i
                       for i in node.inputs]
        self.nodes.append(node)

    def wanted(self, name: str, p: Perm) -> bool:
        """Whether `name` laid out as p is row-major, or reshapes into an NHWC image."""
        shape = self.g.t(name).shape
        while True:
            if same(shape, p, identity(len(shape))):
                return True
            if len(shape) >= 3 and same(shape, p, channels_last(len(shape))):
                return True
            users = self.readers.get(name, [])
            if len(users) != 1 or users[0].op != "alias" or name in self.g.outputs:
                return False
            out = users[0].outputs[0]
            q = reshape_layout(shape, p, self.g.t(out).shape)
            if q is None:
                return False
            name, shape, p = out, self.g.t(out).shape, q

    # --- one method per kernel kind ------------------------------------------------
    def conv(self, node: Node) -> None:
        a = node.attrs
        y = node.outputs[0]
        rank = len(self.g.t(y).shape)
        cl = channels_last(rank)
        if node.op == "conv2d_gemm" and a["groups"] != 1:
            self.row_major(node)
            return
        x = node.inputs[0]
        if node.op == "conv2d_gemm" and not self.is_(x, cl):
            x = self.need(x, identity(rank), node)
        else:
            x = self.need(x, cl, node)
        res = self.need(node.inputs[3], cl, node) if a.get("has_residual") else ""
        w = self.g.const(node.inputs[1])
        assert w is not None
        bias = node.inputs[2]
        kept = {k: a[k] for k in ("act", "alpha", "beta", "has_residual", "has_bias")}
        if node.op == "conv1x1":
            # y[pixels][k] = x[pixels][c] . w[c][k]: the GEMM with packed weights.
            packed = self.g.add_const(f"{node.inputs[1]}_nhwc",
                                      pack_panels(w.reshape(a["k"], a["c"]).T))
            new = Node("matmul_packed", node.name, [x, packed, bias] + ([res] if res else []),
                       [y], dict(m=a["n"] * a["hw"], k=a["c"], n=a["k"], lda=a["c"],
                                 ldc=a["k"], pointwise=True, **kept), domain="mcr")
        elif node.op == "dwconv2d":
            k = a["c"] * a["mult"]
            wt = self.g.add_const(f"{node.inputs[1]}_nhwc",
                                  w.reshape(k, a["kh"] * a["kw"]).T.astype(np.float32))
            new = with_scratch(self.g, Node("dwconv2d_nhwc", node.name,
                                            [x, wt, bias] + ([res] if res else []), [y],
                                            dict(a), domain="mcr"))
        else:
            c, k = a["c"], a["k"]
            rows = w.transpose(2, 3, 1, 0).reshape(a["kh"] * a["kw"] * c, k)
            packed = self.g.add_const(f"{node.inputs[1]}_nhwc", pack_panels(rows))
            new = with_scratch(self.g, Node(
                "conv2d_gemm_nhwc", node.name, [x, packed, bias] + ([res] if res else []), [y],
                dict(a, x_nhwc=int(self.is_(x, cl) and not self.is_(x, identity(rank)))),
                domain="mcr"))
        self.perm[y] = cl
        self.nodes.append(new)

    def unary(self, node: Node) -> None:
        self.perm[node.outputs[0]] = self.of(node.inputs[0])
        self.nodes.append(node)

    def binary(self, node: Node) -> None:
        y = node.outputs[0]
        shape = self.g.t(y).shape
        rank = len(shape)
        p = identity(rank)
        for i in node.inputs:
            if self.g.t(i).shape == shape and not self.is_(i, identity(rank)):
                p = self.of(i)
                break
        self.perm[y] = p
        if all(self.is_(i, identity(len(self.g.t(i).shape))) for i in node.inputs) and \
                same(shape, p, identity(rank)):
            self.nodes.append(node)
            return
        a = node.attrs
        for key, name in (("astride", node.inputs[0]), ("bstride", node.inputs[1])):
            t = self.g.t(name)
            st = broadcast_strides(t.shape, shape, strides(t.shape, self.of(name)))
            a[key] = [st[d] for d in p]
        a["shape"] = [shape[d] for d in p]
        self.nodes.append(node)

    def reduce(self, node: Node) -> None:
        x, y = node.inputs[0], node.outputs[0]
        xs, p = self.g.t(x).shape, self.of(x)
        axes = node.attrs["axes"]
        mem = [d for d in p if xs[d] != 1 or d in axes]
        at = [mem.index(d) for d in axes]
        if same(xs, p, identity(len(xs))) or at != list(range(at[0], at[0] + len(at))):
            self.row_major(node)
            return
        node.attrs.update(outer=prod(xs[d] for d in mem[:at[0]]),
                          r=prod(xs[d] for d in axes),
                          inner=prod(xs[d] for d in mem[at[-1] + 1:]))
        ys = self.g.t(y).shape
        if len(ys) == len(xs):
            self.perm[y] = p
        else:  # the reduced dims dropped: number the others anew
            kept = [d for d in p if d not in axes]
            self.perm[y] = tuple(sorted(kept).index(d) for d in kept)
        self.nodes.append(node)

    def alias(self, node: Node) -> None:
        x, y = node.inputs[0], node.outputs[0]
        q = reshape_layout(self.g.t(x).shape, self.of(x), self.g.t(y).shape)
        if q is None:
            node.inputs = [self.need(x, identity(len(self.g.t(x).shape)), node)]
            q = identity(len(self.g.t(y).shape))
        self.perm[y] = q
        self.nodes.append(node)

    def copy(self, node: Node) -> None:
        tp = node.attrs.get("transpose")
        x, y = node.inputs[0], node.outputs[0]
        if tp is None:
            self.row_major(node)
            return
        p = self.of(x)
        q = tuple(list(tp).index(d) for d in p)  # y's layout if y were x's bytes
        if self.wanted(y, q) and y not in self.g.outputs:
            self.perm[y] = q
            self.nodes.append(Node("alias", node.name, [x], [y], {}, domain="mcr"))
            return
        if not same(self.g.t(x).shape, p, identity(len(p))):
            xs = strides(self.g.t(x).shape, p)
            ys = list(self.g.t(y).shape)
            node.attrs = copy(node, [x], y, [copy_piece(0, ys, 0, contiguous_strides(ys), 0,
                                                        [xs[d] for d in tp])]).attrs
            node.attrs["transpose"] = tp
        self.nodes.append(node)


# The rule each kernel's spec names (compiler/kernels.py, KernelSpec.layout).
RULES: dict[str, Callable[[Layouts, Node], None]] = {
    "conv": Layouts.conv, "unary": Layouts.unary, "binary": Layouts.binary,
    "reduce": Layouts.reduce, "alias": Layouts.alias, "copy": Layouts.copy,
    "row_major": Layouts.row_major,
}


def run(graph: Graph) -> Graph:
    walk = Layouts(graph)
    for node in graph.nodes:
        RULES[spec(node.op).layout](walk, node)
    # Graph outputs row-major: a reorder where the last kernel wrote another layout.
    for k, name in enumerate(graph.outputs):
        rank = len(graph.t(name).shape)
        if not walk.is_(name, identity(rank)):
            graph.outputs[k] = walk.need(name, identity(rank), Node("Output", f"output_{k}",
                                                                    [], []))
    graph.nodes = walk.nodes
    graph.layouts = dict(walk.perm)
    return graph
