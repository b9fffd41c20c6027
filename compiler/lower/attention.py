"""mobilec.Attention (made by the recognize pass) -> one attention call, with scratch for
a tile of score rows and the packed k and v. Its operands are contiguous views here; the
attention_views pass may then point them into the tensors their copies read or write."""
from __future__ import annotations

from ..ir import Graph, Node
from ..kernels import with_scratch
from .common import contiguous_strides, kernel, prod


def view(batch: int, heads: int, rows: int, cols: int) -> list[int]:
    """[offset, batch, head, row and column strides] of a contiguous [batch][heads][rows][cols]."""
    return [0, *contiguous_strides([batch, heads, rows, cols])]


def lower_attention(node: Node, graph: Graph) -> list[Node]:
    q, k, v = (graph.t(i).shape for i in node.inputs)
    batch_dims = list(q[:-2]) or [1]
    batch, heads = prod(batch_dims[:-1]), batch_dims[-1]
    m, d, n, dv = q[-2], q[-1], k[-1], v[-1]
    return [with_scratch(graph, kernel("attention", node, list(node.inputs), [node.outputs[0]],
                                       batch=batch, heads=heads, m=m, n=n, d=d, dv=dv,
                                       scale=float(node.attrs["scale"]),
                                       views=[view(batch, heads, m, d), view(batch, heads, d, n),
                                              view(batch, heads, n, dv),
                                              view(batch, heads, m, dv)]))]


LOWERINGS = {"mobilec.Attention": lower_attention}
