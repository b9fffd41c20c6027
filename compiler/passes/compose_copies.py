"""compose_copies: a copy that reads what another copy wrote reads that copy's input
instead (runs after layout, on kernel graphs).

Movement ops lower to strided copies (lower/movement.py), and chains of them are common:
ViT-B/16 and MCi's attention reshape qkv, transpose it to [3, heads, tokens, dim], split
it into q, k and v, then transpose k again: in ViT-B/16, per layer, five copies writing
1.06 M floats where three strided reads of qkv (0.45 M) suffice. The copy written first
becomes dead and is dropped when nothing else reads it.

Views (reshapes, squeezes) between the two copies are seen through: they are the same
bytes. A copy piece reads its source at addresses off + sum(j_m * s_m). When the source was
written whole by one other piece, as the contiguous array of shape P, each of those
strides that is a multiple of one of P's strides walks that one dim of P, and so the
first piece's source through its stride for that dim: the composition is again one
strided piece. Dims merged across P's dims (a contiguous slice of a transpose's output)
are split along P first. Every composed piece is checked element by element against the
two-step mapping before it is kept; pieces that do not compose are left as they are.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import Graph, Node
from ..lower.common import contiguous_strides, prod, simplify_piece

Piece = dict[str, Any]
CHECK_LIMIT = 1 << 22  # elements checked per composed piece; larger pieces stay as they are


def whole_writer(node: Node | None, size: int) -> Piece | None:
    """The one piece of a copy that writes its output whole and contiguously, if it is one."""
    if node is None or node.op != "copy" or node.attrs.get("fill") is not None:
        return None
    pieces = node.attrs["pieces"]
    if len(pieces) != 1:
        return None
    p = pieces[0]
    if p["doff"] != 0 or prod(p["shape"]) != size or \
            p["dstride"] != contiguous_strides(p["shape"]):
        return None
    return p  # type: ignore[no-any-return]


def split_along(piece: Piece, shape: list[int], strides: list[int]) -> list[tuple[int, int, int]]:
    """The piece's dims as (size, dst stride, src stride), a dim that steps through
    several of `shape`'s dims with stride 1 in the innermost split into one per dim."""
    out: list[tuple[int, int, int]] = []
    for n, d, s in zip(piece["shape"], piece["dstride"], piece["sstride"]):
        parts: list[tuple[int, int, int]] = []
        while s > 0 and s in strides:
            k = strides.index(s)
            if n <= shape[k] or n % shape[k]:
                break
            parts.append((shape[k], d, s))
            n, d, s = n // shape[k], d * shape[k], s * shape[k]
        parts.append((n, d, s))
        out.extend(reversed(parts))
    return out


def compose(second: Piece, first: Piece, src: int) -> Piece | None:
    """`second` (reading `first`'s output) as a piece reading `first`'s source, or None."""
    shape, sstride = list(first["shape"]), list(first["sstride"])
    strides = contiguous_strides(shape)
    dims = split_along(second, shape, strides)
    soff = first["soff"] + sum(int(i) * s for i, s in
                               zip(np.unravel_index(second["soff"], shape), sstride))
    new_s: list[int] = []
    for _, _, s in dims:
        k = next((k for k, st in enumerate(strides) if s > 0 and s % st == 0
                  and s // st < shape[k]), None)
        if s != 0 and k is None:
            return None
        new_s.append(0 if s == 0 else s // strides[k] * sstride[k])  # type: ignore[index]
    sizes = [n for n, _, _ in dims]
    if prod(sizes) > CHECK_LIMIT:
        return None
    # Check: the two-step address of every element equals the composed one.
    grid = np.indices(sizes).reshape(len(sizes), -1) if sizes else np.zeros((0, 1), int)
    mid = second["soff"] + sum(g * s for g, (_, _, s) in zip(grid, dims))
    two_step = first["soff"] + sum(i * s for i, s in zip(np.unravel_index(mid, shape), sstride))
    one_step = soff + sum(g * s for g, s in zip(grid, new_s))
    if not np.array_equal(np.asarray(two_step), np.asarray(one_step)):
        return None
    return simplify_piece({"src": src, "shape": sizes, "doff": second["doff"],
                           "dstride": [d for _, d, _ in dims], "soff": int(soff),
                           "sstride": new_s})


def run(graph: Graph) -> Graph:
    producers = graph.producers()
    roots = graph.view_roots()  # through views (reshapes): the same bytes
    for node in graph.nodes:  # in order: a chain collapses from its first copy on
        if node.op != "copy":
            continue
        inputs = list(node.inputs)
        pieces = []
        for piece in node.attrs["pieces"]:
            src = roots.get(inputs[piece["src"]], inputs[piece["src"]])
            first = whole_writer(producers.get(src), graph.t(src).size)
            new = None
            if first is not None and src not in graph.outputs:
                source = producers[src].inputs[first["src"]]
                if source not in inputs:
                    inputs.append(source)
                new = compose(piece, first, inputs.index(source))
            pieces.append(new or piece)
        used = sorted({p["src"] for p in pieces})
        node.inputs = [inputs[i] for i in used]
        node.attrs["pieces"] = [dict(p, src=used.index(p["src"])) for p in pieces]
    graph.remove_dead()
    return graph
