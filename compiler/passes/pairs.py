"""fuse_pairs: the rule fuse_mlp and fuse_conv_dw share -- a kernel whose output one other
kernel alone reads, and which may be fused into it, becomes one kernel at the reader's
place (a helper of those passes, not a pass)."""
from __future__ import annotations

from typing import Callable

from ..ir import Graph, Node


def fuse_pairs(graph: Graph, first_op: str, fusable: Callable[[Graph, Node, Node], bool],
               fuse: Callable[[Graph, Node, Node], Node]) -> Graph:
    """Each `first_op` node whose output only one node reads, with fusable(graph, node,
    reader), replaced by fuse(graph, node, reader) where the reader was; a node already
    taken into a pair (as either side) is not paired again."""
    users = graph.consumers()
    fused: dict[int, Node] = {}  # id of the reader -> its replacement
    dropped: set[int] = set()
    for node in graph.nodes:
        if node.op != first_op or id(node) in fused or id(node) in dropped:
            continue
        readers = users.get(node.outputs[0], [])
        if len(readers) == 1 and id(readers[0]) not in fused \
                and fusable(graph, node, readers[0]):
            fused[id(readers[0])] = fuse(graph, node, readers[0])
            dropped.add(id(node))
    graph.nodes = [fused.get(id(n), n) for n in graph.nodes if id(n) not in dropped]
    graph.remove_dead()
    return graph
