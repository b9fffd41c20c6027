"""mobilec.Attention (made by the recognize pass) -> one attention call, with scratch for
a tile of score rows."""
from __future__ import annotations

from ..ir import Graph, Node
from ..kernels import with_scratch
from .common import kernel, prod


def lower_attention(node: Node, graph: Graph) -> list[Node]:
    q, k, v = (graph.t(i).shape for i in node.inputs)
    n = k[-1]
    return [with_scratch(graph, kernel("attention", node, list(node.inputs), [node.outputs[0]],
                                       batch=prod(q[:-2]), m=q[-2], n=n, d=q[-1], dv=v[-1],
                                       scale=float(node.attrs["scale"])))]


LOWERINGS = {"mobilec.Attention": lower_attention}

