"""fuse_epilogues: what follows a Conv or MatMul is done by that kernel as it stores.

A Conv or MatMul whose result is read only by
  - (MatMul) an Add of a constant over its last axis: the bias,
  - then a unary activation (ReLU, GELU, sigmoid, ...),
  - then an Add of another tensor of the same shape: the residual,
becomes one mobilec.Conv / mobilec.MatMul with inputs [x, w, bias or "", residual] and the
activation in its attributes; it takes the place of the last node it absorbs, where every
input it reads exists. Per-channel bias and layer-scale Muls after a Conv were already
folded into its weights by merge_branches.
"""
from __future__ import annotations

import numpy as np

from ..errors import MobilecError
from ..ir import Graph, Node
from ..lower.elementwise import UNARY, unary_params

PRODUCERS = {"Conv", "MatMul"}


def _only_reader(graph: Graph, users: dict[str, list[Node]], name: str) -> Node | None:
    readers = {id(r): r for r in users.get(name, [])}
    if len(readers) != 1 or name in graph.outputs:
        return None
    return next(iter(readers.values()))


def _bias_vector(graph: Graph, add: Node, out: str) -> np.ndarray | None:
    other = add.inputs[1] if add.inputs[0] == out else add.inputs[0]
    c = graph.const(other)
    shape = graph.t(out).shape
    if c is None or not shape or graph.t(add.outputs[0]).shape != shape:
        return None
    n = shape[-1]
    if c.size not in (1, n) or any(d != 1 for d in c.shape[:-1]):
        return None
    return np.broadcast_to(c.reshape(-1), (n,)).astype(np.float32)


def run(graph: Graph) -> Graph:
    users = graph.consumers()
    replace: dict[int, Node] = {}
    drop: set[int] = set()
    claimed: set[int] = set()  # nodes already absorbed by a fusion, its last one included
    for node in graph.nodes:
        if node.op not in PRODUCERS or node.domain not in ("", "mobilec") or id(node) in claimed:
            continue
        if node.op == "Conv" and graph.const(node.inputs[1]) is None:
            continue
        ins = list(node.inputs) + [""] * (3 - len(node.inputs))
        attrs = dict(node.attrs)
        out, last, absorbed = node.outputs[0], node, [node]
        has_act = bool(attrs.get("act"))
        residual = ins[3] if len(ins) > 3 else ""
        while True:
            r = _only_reader(graph, users, out)
            if r is None or r.domain != "" or id(r) in claimed:
                break
            vec = _bias_vector(graph, r, out) if r.op == "Add" else None
            if vec is not None:
                if node.op != "MatMul" or ins[2] or has_act or residual:
                    break
                ins[2] = graph.add_const(f"{node.name}_bias", vec)
            elif r.op in UNARY and not has_act and not residual and r.inputs[0] == out:
                try:
                    act, alpha, beta = unary_params(r, graph)
                except MobilecError:
                    break
                attrs.update(act=act, alpha=alpha, beta=beta)
                has_act = True
            elif r.op == "Add" and not residual and len(set(r.inputs)) == 2:
                other = r.inputs[1] if r.inputs[0] == out else r.inputs[0]
                t = graph.t(other)
                if t.is_const or t.shape != graph.t(out).shape or graph.t(r.outputs[0]).shape != t.shape:
                    break
                residual = other
            else:
                break
            absorbed.append(r)
            out, last = r.outputs[0], r
        if last is node:
            continue
        fused = Node(node.op, node.name, ins[:3] + ([residual] if residual else []), [out], attrs,
                     domain="mobilec")
        replace[id(last)] = fused
        drop.update(id(n) for n in absorbed if n is not last)
        claimed.update(id(n) for n in absorbed)
    graph.nodes = [replace.get(id(n), n) for n in graph.nodes if id(n) not in drop]
    graph.remove_dead()
    return graph
