"""Lowering: every ONNX node becomes runtime kernel calls (nodes of domain "mcr").

One module per op family; each maps ONNX op types to a function (node, graph) -> list of
kernel nodes. A new op adds one entry here, one template in templates/kernels/, and one
runtime kernel with its tests.
"""
from __future__ import annotations

from typing import Callable

from ..errors import MobilecError
from ..ir import Graph, Node
from . import attention, conv, elementwise, matmul, movement, normalization, pool
from .common import contiguous_strides, copy_piece
from .movement import copy

Lowering = Callable[[Node, Graph], list[Node]]

LOWERINGS: dict[str, Lowering] = {
    **attention.LOWERINGS,
    **conv.LOWERINGS,
    **elementwise.LOWERINGS,
    **matmul.LOWERINGS,
    **movement.LOWERINGS,
    **normalization.LOWERINGS,
    **pool.LOWERINGS,
}

# The ONNX ops mobilec compiles. Keys "mobilec.X" are ops that passes make (domain mobilec).
SUPPORTED_OPS: frozenset[str] = frozenset(k for k in LOWERINGS if "." not in k)


def lowering_key(node: Node) -> str:
    return node.op if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op}"


def check_supported(graph: Graph) -> None:
    """Fail on the first node that no lowering takes, before any work is done."""
    for node in graph.nodes:
        if node.domain != "mcr" and lowering_key(node) not in LOWERINGS:
            raise MobilecError("unsupported op", path=graph.path, node=node.name, op=node.op)


def run(graph: Graph) -> Graph:
    """Lower every ONNX node of `graph`; the result holds kernel calls only."""
    check_supported(graph)
    lowered: list[Node] = []
    for node in graph.nodes:
        if node.domain == "mcr":
            lowered.append(node)
            continue
        try:
            lowered.extend(LOWERINGS[lowering_key(node)](node, graph))
        except MobilecError as err:
            if err.node is None:
                err.node, err.op = node.name, node.op
            err.path = err.path or graph.path
            raise MobilecError(err.message, path=err.path, node=err.node, op=err.op) from None
    graph.nodes = lowered
    bind_outputs(graph)
    return graph


def bind_outputs(graph: Graph) -> None:
    """Each graph output must own its bytes, since it is written to the caller's output
    buffer: an output that is a view of an input, a constant or another output gets a
    copy kernel of its own."""
    root = graph.view_roots()
    taken: set[str] = set()
    for k, name in enumerate(graph.outputs):
        r = root.get(name, name)
        if r in taken or r in graph.inputs or graph.t(r).is_const:
            t = graph.t(name)
            dst = graph.add_tensor(f"{name}_out", t.shape)
            n = Node("Identity", f"output_{k}", [name], [dst])
            graph.nodes.append(copy(n, [name], dst, [copy_piece(
                0, list(t.shape), 0, contiguous_strides(t.shape), 0, contiguous_strides(t.shape))]))
            graph.outputs[k] = dst
            r = dst
        taken.add(r)
