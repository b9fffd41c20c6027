"""mobilec.Attention (made by the recognize pass) -> one attention call, with scratch for
a tile of score rows."""
from __future__ import annotations

from ..ir import Graph, Node
from .common import kernel, prod


def lower_attention(node: Node, graph: Graph) -> list[Node]:
    q, k, v = (graph.t(i).shape for i in node.inputs)
    n = k[-1]
    scratch = graph.add_tensor(f"{node.outputs[0]}_scores", (attention_scratch_floats(q[-2], n),))
    return [kernel("attention", node, list(node.inputs), [node.outputs[0], scratch],
                   batch=prod(q[:-2]), m=q[-2], n=n, d=q[-1], dv=v[-1],
                   scale=float(node.attrs["scale"]))]


LOWERINGS = {"mobilec.Attention": lower_attention}


ATTN_ROWS = 256  # ATTN_ROWS in runtime/src/attention.c (a test checks they agree)


def attention_scratch_floats(m: int, n: int) -> int:
    """mcr_attention_scratch_floats: a tile of query rows' scores."""
    return min(m, ATTN_ROWS) * n
