"""merge_branches: reparameterization as one rule.

A tensor that is a linear function of one input x built only from
  - Conv(x, W, b) with constant W, b (2-D, any kernel size, groups, stride, padding),
  - x itself (an identity kernel),
  - Add and Sub of two such tensors of the same x,
  - Mul by a per-channel constant (shape [K,1,1], [1,K,1,1] or a scalar),
  - Add of a per-channel constant (a bias)
is ONE convolution of x. MobileOne (k×k branches + 1×1 branch + BN identity, the BN already
a 1×1 depthwise conv after fold_batchnorm), RepMixer (x + ls·(mixer(x) − norm(x))), RepCPE
(x + pe(x)), the large+small kernel conv, and a conv followed by its layer scale are all
this one rule.

Kernels of different sizes are placed in a common window: their windows (start = −pad,
step = dilation) must sit on one grid, with the same stride and dilation. Groups combine to
their gcd (a depthwise kernel embeds into a dense one block-diagonally). The merge is
refused -- the graph is left as it is -- when any of that fails, when an op in between is
not one of the above (a non-linearity), when a scale is not per-channel, when shapes
broadcast, or when an intermediate result is also read elsewhere (merging would compute
it twice).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..ir import Graph, Node
from ..lower.conv import resolve_pads


@dataclass
class Lin:
    """y = conv(x; w, b) with this geometry; w, b in float64."""
    x: str
    w: np.ndarray            # [K, C/groups, kh, kw]
    b: np.ndarray            # [K]
    groups: int
    stride: tuple[int, int]
    dil: tuple[int, int]
    begin: tuple[int, int]   # top, left padding
    nodes: list[Node] = field(default_factory=list)  # the nodes it replaces

    @property
    def merged(self) -> bool:
        return len(self.nodes) >= 2


def _regroup(w: np.ndarray, groups: int, new_groups: int, c: int) -> np.ndarray:
    """The same kernel expressed with `new_groups` groups (new_groups divides groups)."""
    if new_groups == groups:
        return w
    k = w.shape[0]
    kg_old, cg_old, cg_new, kg_new = k // groups, c // groups, c // new_groups, k // new_groups
    out = np.zeros((k, cg_new) + w.shape[2:], dtype=w.dtype)
    for oc in range(k):
        g_old, g_new = oc // kg_old, oc // kg_new
        start = g_old * cg_old - g_new * cg_new  # where the old input block sits in the new
        out[oc, start:start + cg_old] = w[oc]
    return out


def _identity(x: str, graph: Graph) -> Lin | None:
    shape = graph.t(x).shape
    if len(shape) != 4:
        return None
    c = shape[1]
    return Lin(x, np.ones((c, 1, 1, 1)), np.zeros(c), c, (1, 1), (1, 1), (0, 0))


def _from_conv(node: Node, graph: Graph) -> Lin | None:
    x = graph.t(node.inputs[0])
    w = graph.const(node.inputs[1])
    has_b = len(node.inputs) > 2 and bool(node.inputs[2])
    b = graph.const(node.inputs[2]) if has_b else None
    if len(x.shape) != 4 or w is None or (has_b and b is None):
        return None
    y = graph.t(node.outputs[0])
    k_sp = list(w.shape[2:])
    strides = list(node.attr("strides", [1, 1]))
    dils = list(node.attr("dilations", [1, 1]))
    pads = resolve_pads(node, list(x.shape[2:]), list(y.shape[2:]), k_sp, strides, dils)
    return Lin(node.inputs[0], w.astype(np.float64),
               b.astype(np.float64) if b is not None else np.zeros(w.shape[0]),
               int(node.attr("group", 1)), (strides[0], strides[1]), (dils[0], dils[1]),
               (pads[0], pads[1]), [node])


def _combine(a: Lin, b: Lin, sign: float, c: int) -> Lin | None:
    """a + sign·b as one Lin, or None when their windows do not line up."""
    if a.x != b.x or a.stride != b.stride or a.w.shape[0] != b.w.shape[0]:
        return None
    dil = a.dil if a.w.shape[2:] != (1, 1) else b.dil
    for lin in (a, b):  # a 1x1 kernel has no dilation to disagree with
        if lin.w.shape[2:] != (1, 1) and lin.dil != dil:
            return None
    begin, size, offs = [], [], [[0, 0], [0, 0]]
    for d in range(2):
        starts = [-a.begin[d], -b.begin[d]]
        ends = [starts[0] + (a.w.shape[2 + d] - 1) * dil[d], starts[1] + (b.w.shape[2 + d] - 1) * dil[d]]
        lo, hi = min(starts), max(ends)
        if any((s - lo) % dil[d] for s in starts):
            return None  # the two windows are not on one grid
        begin.append(-lo)
        size.append((hi - lo) // dil[d] + 1)
        offs[0][d], offs[1][d] = (starts[0] - lo) // dil[d], (starts[1] - lo) // dil[d]
    groups = math.gcd(a.groups, b.groups)
    w = np.zeros((a.w.shape[0], c // groups, size[0], size[1]))
    for lin, off, s in ((a, offs[0], 1.0), (b, offs[1], sign)):
        wg = _regroup(lin.w, lin.groups, groups, c)
        w[:, :, off[0]:off[0] + lin.w.shape[2], off[1]:off[1] + lin.w.shape[3]] += s * wg
    return Lin(a.x, w, a.b + sign * b.b, groups, a.stride, dil, (begin[0], begin[1]),
               a.nodes + b.nodes)


def _per_channel(value: np.ndarray, k: int) -> np.ndarray | None:
    """A constant that scales/shifts each of k channels of an NCHW tensor, as [k]."""
    v = np.asarray(value, np.float64)
    if v.ndim > 4:
        return None
    full = v.reshape((1,) * (4 - v.ndim) + v.shape)
    if full.shape[0] != 1 or full.shape[2:] != (1, 1) or full.shape[1] not in (1, k):
        return None
    return np.broadcast_to(full.reshape(-1), (k,)).copy()


def run(graph: Graph) -> Graph:
    users = graph.consumers()
    lins: dict[str, Lin] = {}

    def operand(name: str, node: Node, x: str | None) -> Lin | None:
        """name as a Lin usable inside `node`'s tree: x itself, or a Lin read only here."""
        if name in lins:
            if len(users.get(name, [])) != 1 or name in graph.outputs:
                return None  # also read elsewhere: merging would compute it twice
            return lins[name]
        if x is not None and name == x:
            return _identity(name, graph)
        return None

    for node in graph.nodes:
        if node.domain or not node.outputs or not node.outputs[0]:
            continue
        out = node.outputs[0]
        if node.op == "Conv":
            lin = _from_conv(node, graph)
            if lin is not None:
                lins[out] = lin
            continue
        if node.op not in ("Add", "Sub", "Mul") or len(node.inputs) != 2:
            continue
        a_name, b_name = node.inputs
        if graph.t(out).shape != graph.t(a_name).shape and graph.t(out).shape != graph.t(b_name).shape:
            continue
        k = graph.t(out).shape[1] if len(graph.t(out).shape) == 4 else 0
        ca, cb = graph.const(a_name), graph.const(b_name)
        if node.op == "Mul" or (node.op in ("Add", "Sub") and (ca is not None or cb is not None)):
            # A tree node with one constant operand: a per-channel scale or bias.
            var, cst = (b_name, ca) if ca is not None else (a_name, cb)
            if cst is None or k == 0 or graph.t(var).shape != graph.t(out).shape:
                continue
            lin = operand(var, node, None)
            vec = _per_channel(cst, k)
            if lin is None or vec is None:
                continue
            if node.op == "Mul":
                new = Lin(lin.x, lin.w * vec[:, None, None, None], lin.b * vec, lin.groups,
                          lin.stride, lin.dil, lin.begin, lin.nodes + [node])
            elif node.op == "Add":
                new = Lin(lin.x, lin.w, lin.b + vec, lin.groups, lin.stride, lin.dil,
                          lin.begin, lin.nodes + [node])
            elif var == a_name:  # x - c
                new = Lin(lin.x, lin.w, lin.b - vec, lin.groups, lin.stride, lin.dil,
                          lin.begin, lin.nodes + [node])
            else:  # c - x
                new = Lin(lin.x, -lin.w, vec - lin.b, lin.groups, lin.stride, lin.dil,
                          lin.begin, lin.nodes + [node])
            lins[out] = new
            continue
        if graph.t(a_name).shape != graph.t(b_name).shape:
            continue  # broadcasting: not a sum of two convs
        # Add/Sub of two tensors: at least one a Lin; the other may be that Lin's x.
        xa = lins[a_name].x if a_name in lins else None
        xb = lins[b_name].x if b_name in lins else None
        la = operand(a_name, node, xb)
        lb = operand(b_name, node, xa)
        if la is None or lb is None or k == 0:
            continue
        c = graph.t(la.x).shape[1]
        merged = _combine(la, lb, -1.0 if node.op == "Sub" else 1.0, c)
        if merged is not None:
            merged.nodes.append(node)
            lins[out] = merged

    # Replace each maximal merged tree (one not absorbed into a larger one) by one Conv.
    absorbed = {id(n) for lin in lins.values() for n in lin.nodes}
    replace: dict[int, Node] = {}
    drop: set[int] = set()
    for out, lin in lins.items():
        root = lin.nodes[-1]
        if not lin.merged or out not in root.outputs:
            continue
        if any(id(u) in absorbed and out in u.inputs and _is_in_larger(u, lins, lin)
               for u in users.get(out, [])):
            continue
        kh, kw = lin.w.shape[2:]
        y = graph.t(out)
        x = graph.t(lin.x)
        end = [(y.shape[2 + d] - 1) * lin.stride[d] + ((kh, kw)[d] - 1) * lin.dil[d] + 1
               - x.shape[2 + d] - lin.begin[d] for d in range(2)]
        if min(end) < 0:
            continue
        conv = Node("Conv", root.name, [lin.x, graph.add_const(f"{root.name}_w_merged", lin.w.astype(np.float32)),
                                        graph.add_const(f"{root.name}_b_merged", lin.b.astype(np.float32))],
                    [out], {"group": lin.groups, "kernel_shape": [kh, kw], "strides": list(lin.stride),
                            "dilations": list(lin.dil),
                            "pads": [lin.begin[0], lin.begin[1], end[0], end[1]]})
        replace[id(root)] = conv
        drop.update(id(n) for n in lin.nodes[:-1])
    graph.nodes = [replace.get(id(n), n) for n in graph.nodes if id(n) not in drop]
    graph.remove_dead()
    return graph


def _is_in_larger(user: Node, lins: dict[str, Lin], lin: Lin) -> bool:
    """Whether `user`'s result is a Lin that contains all of `lin`'s nodes."""
    bigger = lins.get(user.outputs[0]) if user.outputs else None
    return bigger is not None and bigger is not lin and all(
        any(n is m for m in bigger.nodes) for n in lin.nodes)
