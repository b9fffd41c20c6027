"""recognize: decompositions become the single ops the runtime implements directly.

- GELU, erf form: 0.5 · x · (1 + erf(x / √2)), the √2 as Div or as Mul by 1/√2, and the
  0.5 applied to x, to (1 + erf) or to the product (the exporters differ) -> Gelu.
- GELU, tanh form: 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))), x³ as Pow(x, 3) or
  x·x·x -> Gelu(approximate="tanh").
- LayerNorm: mean -> center -> mean of squares -> + eps -> sqrt -> divide (-> · γ -> + β)
  over the last axis -> LayerNormalization.
- Attention: MatMul(q, kᵀ) -> Softmax(last axis) -> MatMul(·, v), with a constant scale
  on the product or on q and k (Mul or Div) -> Attention (mobilec's op:
  softmax(scale·q·kᵀ)·v per batch entry).

Only nodes whose results are read by nothing but the next node of the pattern are
replaced; anything else is left as it is.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..ir import Graph, Node

Match = tuple[Node, list[Node]]  # (the replacement, the nodes it replaces)


def _scalar(graph: Graph, name: str) -> float | None:
    v = graph.const(name)
    if v is None or v.size != 1:
        return None
    return float(np.asarray(v).reshape(-1)[0])


def _near(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-5)


class Matcher:
    """Graph queries shared by the patterns."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph
        self.prod = graph.producers()
        self.users = graph.consumers()

    def only_reader(self, name: str) -> Node | None:
        users = self.users.get(name, [])
        return users[0] if len(users) == 1 and name not in self.g.outputs else None

    def producer(self, name: str, op: str) -> Node | None:
        n = self.prod.get(name)
        return n if n is not None and n.op == op and n.domain == "" else None

    def split_const(self, node: Node) -> tuple[str, float | None]:
        """(the runtime operand, the scalar constant operand) of a binary node."""
        a, b = node.inputs[0], node.inputs[1]
        if self.g.const(b) is not None:
            return a, _scalar(self.g, b)
        return b, _scalar(self.g, a)

    def other(self, node: Node, name: str) -> str:
        return node.inputs[1] if node.inputs[0] == name else node.inputs[0]


def _gelu_tail(m: Matcher, x: str, v: str, used: list[Node]) -> Match | None:
    """Given v = 1 + erf(...) (or 1 + tanh(...)) of x, find 0.5 · x · v."""
    g = m.g
    first = m.only_reader(v)
    if first is None or first.op != "Mul":
        return None
    other = m.other(first, v)
    if other == x:  # x · v, then · 0.5
        second = m.only_reader(first.outputs[0])
        if second is None or second.op != "Mul" or not _near(m.split_const(second)[1], 0.5):
            return None
        return second, used + [first, second]
    if _near(_scalar(g, other), 0.5):  # 0.5 · v, then · x
        second = m.only_reader(first.outputs[0])
        if second is None or second.op != "Mul" or m.other(second, first.outputs[0]) != x:
            return None
        return second, used + [first, second]
    half = m.producer(other, "Mul")  # (0.5 · x) · v
    if half is not None and m.only_reader(other) is first:
        rest, c = m.split_const(half)
        if rest == x and _near(c, 0.5):
            return first, used + [half, first]
    return None


def gelu_erf(m: Matcher, erf: Node) -> Match | None:
    g = m.g
    scaled = erf.inputs[0]
    div, mul = m.producer(scaled, "Div"), m.producer(scaled, "Mul")
    if div is not None and g.const(div.inputs[1]) is not None and _near(_scalar(g, div.inputs[1]), math.sqrt(2)):
        x, pre = div.inputs[0], div
    elif mul is not None:
        x, c = m.split_const(mul)
        if not _near(c, 1 / math.sqrt(2)):
            return None
        pre = mul
    else:
        return None
    if m.only_reader(scaled) is not erf:
        return None
    add = m.only_reader(erf.outputs[0])
    if add is None or add.op != "Add" or not _near(_scalar(g, m.other(add, erf.outputs[0])), 1.0):
        return None
    found = _gelu_tail(m, x, add.outputs[0], [pre, erf, add])
    if found is None:
        return None
    last, nodes = found
    return Node("Gelu", last.name, [x], [last.outputs[0]]), nodes


def _cube_of(m: Matcher, name: str) -> tuple[str, list[Node]] | None:
    """x for name = x³ (Pow(x, 3) or x·x·x), with the nodes."""
    pw = m.producer(name, "Pow")
    if pw is not None and _near(_scalar(m.g, pw.inputs[1]), 3.0):
        return pw.inputs[0], [pw]
    outer = m.producer(name, "Mul")
    if outer is None:
        return None
    for sq_name in outer.inputs:
        sq = m.producer(sq_name, "Mul")
        if sq is not None and sq.inputs[0] == sq.inputs[1] and m.other(outer, sq_name) == sq.inputs[0] \
                and m.only_reader(sq_name) is outer:
            return sq.inputs[0], [sq, outer]
    return None


def gelu_tanh(m: Matcher, tanh: Node) -> Match | None:
    g = m.g
    k = m.producer(tanh.inputs[0], "Mul")
    if k is None or m.only_reader(tanh.inputs[0]) is not tanh:
        return None
    inner, c = m.split_const(k)
    if not _near(c, math.sqrt(2 / math.pi)):
        return None
    add = m.producer(inner, "Add")
    if add is None or m.only_reader(inner) is not k:
        return None
    for x in add.inputs:
        term = m.producer(m.other(add, x), "Mul")
        if term is None or m.only_reader(term.outputs[0]) is not add:
            continue
        cube_name, c3 = m.split_const(term)
        cube = _cube_of(m, cube_name)
        if cube is None or cube[0] != x or not _near(c3, 0.044715) or m.only_reader(cube_name) is not term:
            continue
        one = m.only_reader(tanh.outputs[0])
        if one is None or one.op != "Add" or not _near(_scalar(g, m.other(one, tanh.outputs[0])), 1.0):
            return None
        found = _gelu_tail(m, x, one.outputs[0], cube[1] + [term, add, k, tanh, one])
        if found is None:
            return None
        last, nodes = found
        return Node("Gelu", last.name, [x], [last.outputs[0]], {"approximate": "tanh"}), nodes
    return None


def _last_axis_mean(m: Matcher, node: Node | None) -> bool:
    if node is None or node.op != "ReduceMean" or not node.attr("keepdims", 1):
        return False
    rank = len(m.g.t(node.inputs[0]).shape)
    axes = node.attr("axes")
    if axes is None and len(node.inputs) > 1 and node.inputs[1]:
        axes = m.g.const(node.inputs[1])
    return axes is not None and [int(a) % rank for a in np.asarray(axes).reshape(-1)] == [rank - 1]


def _row_const(m: Matcher, name: str, op: str, n: int) -> tuple[np.ndarray, Node] | None:
    """(the constant as n values, the node) when `name` is read only by `op` with a
    constant of n or 1 elements over the last axis."""
    node = m.only_reader(name)
    if node is None or node.op != op:
        return None
    c = m.g.const(m.other(node, name))
    if c is None or c.size not in (1, n) or m.g.t(node.outputs[0]).shape != m.g.t(name).shape:
        return None
    return np.broadcast_to(c.reshape(-1), (n,)).astype(np.float32), node


def layernorm(m: Matcher, sub: Node) -> Match | None:
    g = m.g
    x, mean_name = sub.inputs
    mean = m.producer(mean_name, "ReduceMean")
    if mean is None or mean.inputs[0] != x or not _last_axis_mean(m, mean):
        return None
    d = sub.outputs[0]
    readers = list({id(r): r for r in m.users.get(d, [])}.values())
    sq = next((r for r in readers if (r.op == "Pow" and r.inputs[0] == d and _near(_scalar(g, r.inputs[1]), 2.0))
               or (r.op == "Mul" and r.inputs == [d, d])), None)
    div = next((r for r in readers if r.op == "Div" and r.inputs[0] == d), None)
    if sq is None or div is None or len(readers) != 2 or len(m.users.get(mean_name, [])) != 1:
        return None
    var = m.only_reader(sq.outputs[0])
    if not _last_axis_mean(m, var):
        return None
    assert var is not None
    add = m.only_reader(var.outputs[0])
    if add is None or add.op != "Add":
        return None
    eps = _scalar(g, m.other(add, var.outputs[0]))
    sqrt = m.only_reader(add.outputs[0])
    if eps is None or sqrt is None or sqrt.op != "Sqrt" or div.inputs[1] != sqrt.outputs[0] \
            or m.only_reader(sqrt.outputs[0]) is not div:
        return None
    nodes = [mean, sub, sq, var, add, sqrt, div]
    n = g.t(x).shape[-1]
    out, last = div.outputs[0], div
    gamma = np.ones(n, np.float32)
    beta: np.ndarray | None = None
    found = _row_const(m, out, "Mul", n)
    if found is not None:
        gamma, last = found
        nodes.append(last)
        out = last.outputs[0]
        found = _row_const(m, out, "Add", n)
        if found is not None:
            beta, last = found
            nodes.append(last)
            out = last.outputs[0]
    ins = [x, g.add_const(f"{last.name}_gamma", gamma)]
    if beta is not None:
        ins.append(g.add_const(f"{last.name}_beta", beta))
    return Node("LayerNormalization", last.name, ins, [out], {"axis": -1, "epsilon": eps}), nodes


def _scalar_scaled(m: Matcher, name: str, reader: Node) -> tuple[str, float, list[Node]]:
    """(x, c, nodes) for name = x · c or x / c with a scalar constant c read only by
    `reader`; (name, 1, []) otherwise."""
    node = m.prod.get(name)
    if node is not None and node.op in ("Mul", "Div") and m.only_reader(name) is reader:
        x, c = m.split_const(node)
        if c is not None and c != 0 and (node.op == "Mul" or m.g.const(node.inputs[1]) is not None):
            return x, (1.0 / c if node.op == "Div" else c), [node]
    return name, 1.0, []


def attention(m: Matcher, sm: Node) -> Match | None:
    """softmax(scale · q·k) · v, the scale applied to the product or to q and k (the
    exporters of torch's scaled_dot_product_attention scale q and k by √scale each)."""
    g = m.g
    rank = len(g.t(sm.inputs[0]).shape)
    axis = sm.attr("axis", -1 if g.opset >= 13 else 1)
    if rank < 3 or axis % rank != rank - 1:
        return None
    logits, scale, nodes = _scalar_scaled(m, sm.inputs[0], sm)
    qk = m.producer(logits, "MatMul")
    if qk is None or m.only_reader(logits) is not (nodes[0] if nodes else sm):
        return None
    q, cq, nq = _scalar_scaled(m, qk.inputs[0], qk)
    k, ck, nk = _scalar_scaled(m, qk.inputs[1], qk)
    pv = m.only_reader(sm.outputs[0])
    if pv is None or pv.op != "MatMul" or pv.inputs[0] != sm.outputs[0]:
        return None
    v = pv.inputs[1]
    shapes = [g.t(t).shape for t in (q, k, v)]
    if any(len(s) != rank for s in shapes) or len({s[:-2] for s in shapes}) != 1:
        return None  # batch dims must agree exactly (no broadcasting)
    if any(g.t(t).is_const for t in (q, k, v)):
        return None
    return (Node("Attention", pv.name, [q, k, v], [pv.outputs[0]], {"scale": scale * cq * ck},
                 domain="mobilec"), nq + nk + [qk] + nodes + [sm, pv])


PATTERNS: list[tuple[str, Callable[[Matcher, Node], Match | None]]] = [
    ("Erf", gelu_erf), ("Tanh", gelu_tanh), ("Sub", layernorm), ("Softmax", attention),
]


def run(graph: Graph) -> Graph:
    for anchor, pattern in PATTERNS:
        m = Matcher(graph)
        replace: dict[int, Node] = {}
        drop: set[int] = set()
        for node in list(graph.nodes):
            if node.op != anchor or node.domain != "" or id(node) in drop:
                continue
            found = pattern(m, node)
            if found is None:
                continue
            new, nodes = found
            if any(id(n) in drop for n in nodes):
                continue
            # The replacement takes the place of the pattern's last node: all its inputs
            # exist by then.
            last = max(nodes, key=graph.nodes.index)
            replace[id(last)] = new
            drop.update(id(n) for n in nodes if n is not last)
        graph.nodes = [replace.get(id(n), n) for n in graph.nodes if id(n) not in drop]
        graph.remove_dead()
    return graph
