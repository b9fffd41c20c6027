"""fit_ranks (last): the strided kernels walk a multi-index of at most MCR_MAX_RANK
dimensions (runtime/include/mcr.h; runtime/src/strided.h keeps it on the stack).

A binary kernel's dimensions are merged where they are contiguous in its output and in
both operands, size-1 dimensions dropped — as every copy piece already is (lower/common
`simplify_piece`) — and a kernel whose walk still has more dimensions is refused with
its node named, instead of overrunning the index array at run time.
"""
from __future__ import annotations

from ..errors import MobilecError
from ..ir import Graph

MAX_RANK = 8  # MCR_MAX_RANK in runtime/include/mcr.h (a test checks they agree)


def merge_dims(shape: list[int], *strides: list[int]) -> tuple[list[int], list[list[int]]]:
    """Dimensions of a row-major output over operands with the given strides, size-1
    dimensions dropped and neighbours merged where every operand steps evenly across."""
    dims = [(n, *(s[d] for s in strides)) for d, n in enumerate(shape) if n != 1]
    merged: list[tuple[int, ...]] = []
    for n, *st in dims:
        if merged:
            pn, *pst = merged[-1]
            if all(p == s * n for p, s in zip(pst, st)):
                merged[-1] = (pn * n, *st)
                continue
        merged.append((n, *st))
    if not merged:
        return [1], [[1] for _ in strides]
    return [m[0] for m in merged], [[m[1 + k] for m in merged] for k in range(len(strides))]


def run(graph: Graph) -> Graph:
    for node in graph.nodes:
        a = node.attrs
        if node.op == "binary" and a["shape"]:
            a["shape"], (a["astride"], a["bstride"]) = merge_dims(a["shape"], a["astride"],
                                                                  a["bstride"])
            ranks = [len(a["shape"])]
        elif node.op == "copy":
            ranks = [len(p["shape"]) for p in a["pieces"]]
        else:
            continue
        if max(ranks, default=0) > MAX_RANK:
            raise MobilecError(f"unsupported: a strided {node.op} over {max(ranks)} dimensions "
                               f"that do not merge (the runtime walks at most {MAX_RANK})",
                               node=node.name)
    return graph
