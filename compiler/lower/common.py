"""Helpers shared by the lowerings."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import MobilecError
from ..ir import Graph, Node
from ..kernels import spec


def kernel(kind: str, src: Node, inputs: list[str], outputs: list[str], /, **attrs: Any) -> Node:
    """A runtime kernel call lowered from the ONNX node `src` (whose name it keeps); `kind`
    is a kernel of compiler/kernels.py."""
    spec(kind)
    return Node(kind, src.name, inputs, outputs, attrs, domain="mcr")


def unsupported(message: str) -> MobilecError:
    return MobilecError(f"unsupported: {message}")


def contiguous_strides(shape: tuple[int, ...] | list[int]) -> list[int]:
    out, acc = [], 1
    for d in reversed(list(shape)):
        out.append(acc)
        acc *= int(d)
    return out[::-1]


def broadcast_strides(shape: tuple[int, ...], out_shape: tuple[int, ...],
                      strides: list[int] | None = None) -> list[int]:
    """Element strides that read `shape` broadcast (numpy rules) to `out_shape`; `strides`
    are the tensor's own per-dim strides (default: contiguous, row-major)."""
    pad = len(out_shape) - len(shape)
    full = (1,) * pad + tuple(shape)
    st = [0] * pad + (list(strides) if strides is not None else contiguous_strides(shape))
    return [0 if d == 1 and o != 1 else s for d, o, s in zip(full, out_shape, st)]


def norm_axis(axis: int, rank: int) -> int:
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < max(rank, 1):
        raise unsupported(f"axis {axis} out of range for rank {rank}")
    return a


def const_input(node: Node, graph: Graph, index: int, what: str) -> np.ndarray | None:
    """The constant value of input `index`, None when absent; error when computed at run
    time (mobilec needs such inputs at compile time)."""
    if index >= len(node.inputs) or not node.inputs[index]:
        return None
    value = graph.const(node.inputs[index])
    if value is None:
        raise unsupported(f"{what} must be a compile-time constant")
    return value


def prod(xs: Any) -> int:
    return int(np.prod(list(xs), dtype=np.int64))


def copy_piece(src: int, shape: list[int], dst_offset: int, dst_strides: list[int],
               src_offset: int, src_strides: list[int]) -> dict[str, Any]:
    """One strided copy inside a 'copy' kernel: input `src` -> the output."""
    return {"src": src, "shape": [int(s) for s in shape], "doff": int(dst_offset),
            "dstride": [int(s) for s in dst_strides], "soff": int(src_offset),
            "sstride": [int(s) for s in src_strides]}


def simplify_piece(piece: dict[str, Any]) -> dict[str, Any]:
    """Drop size-1 dimensions and merge dimensions that are contiguous in both operands,
    so that most copies become a few long memcpy rows."""
    dims = [(n, d, s) for n, d, s in zip(piece["shape"], piece["dstride"], piece["sstride"])
            if n != 1]
    merged: list[tuple[int, int, int]] = []
    for n, d, s in dims:
        if merged:
            pn, pd, ps = merged[-1]
            if pd == d * n and ps == s * n:
                merged[-1] = (pn * n, d, s)
                continue
        merged.append((n, d, s))
    if not merged:
        merged = [(1, 1, 1)]
    out = dict(piece)
    out["shape"] = [m[0] for m in merged]
    out["dstride"] = [m[1] for m in merged]
    out["sstride"] = [m[2] for m in merged]
    return out


def epilogue_attrs(node: Node, residual: str | None) -> dict[str, Any]:
    """The fused epilogue of a mobilec.Conv/MatMul (attributes set by fuse_epilogues)."""
    return {"act": node.attrs.get("act"), "alpha": float(node.attrs.get("alpha", 0.0)),
            "beta": float(node.attrs.get("beta", 0.0)), "has_residual": bool(residual)}
