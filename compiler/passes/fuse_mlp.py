"""fuse_mlp: a packed GEMM whose output only another packed GEMM reads becomes one
mlp_packed kernel (the last pass on kernel graphs before fit_ranks).

MCi's ConvFFN -- a 1x1 conv expanding c channels to h = 3c or 4c, GELU, a 1x1 conv back --
writes the largest tensor of its stage and reads it straight back: 4096 x 192 floats (3 MB)
in MCi1's first stage at 256x256, more than any L2. mlp_packed (runtime/src/mlp.c)
computes both by blocks of rows, each block's hidden rows in the kernel's scratch, so the
hidden tensor never leaves L2 (nor takes arena space). The weights are read once per block
instead of once, so only pairs whose weights together stay within MAX_WEIGHT_BYTES are
fused. The outputs keep their bits: each block is the two GEMMs on its rows.
"""
from __future__ import annotations

from ..ir import Graph, Node
from ..kernels import with_scratch
from .pairs import fuse_pairs

# Both weights, float32. Measured on MCi's shapes alone (AVX2, AMD EPYC Zen 3, 512 KB
# L2; runtime/src/mlp.c): 96 KB of weights 0.78 of the time of two calls, 393 KB 0.90-0.94,
# 614 KB 0.89, 1.5 MB 0.97, 3.5 MB 1.10 (slower).
MAX_WEIGHT_BYTES = 1 << 20


def fusable(graph: Graph, first: Node, second: Node) -> bool:
    """first's output is second's row-major left operand and nothing else's."""
    a, b = first.attrs, second.attrs
    hidden = first.outputs[0]
    return (first.op == second.op == "matmul_packed" and second.inputs[0] == hidden
            and hidden not in graph.outputs and not a.get("has_residual")
            and a["lda"] == a["k"] and a["ldc"] == a["n"] == b["k"] == b["lda"]
            and b["ldc"] == b["n"] and a["m"] == b["m"]
            and 4 * a["n"] * (a["k"] + b["n"]) <= MAX_WEIGHT_BYTES)


def fuse(graph: Graph, first: Node, second: Node) -> Node:
    a, b = first.attrs, second.attrs
    res = second.inputs[3:4] if b.get("has_residual") else []
    attrs = dict(m=a["m"], c=a["k"], h=a["n"], n=b["n"], has_bias1=a["has_bias"],
                 act1=a["act"], alpha1=a["alpha"], beta1=a["beta"], has_bias=b["has_bias"],
                 act=b["act"], alpha=b["alpha"], beta=b["beta"],
                 has_residual=b["has_residual"],
                 pointwise=bool(a.get("pointwise") and b.get("pointwise")))
    return with_scratch(graph, Node(
        "mlp_packed", second.name, [first.inputs[0], first.inputs[1], first.inputs[2],
                                    second.inputs[1], second.inputs[2]] + res,
        [second.outputs[0]], attrs, domain="mcr"))


def run(graph: Graph) -> Graph:
    return fuse_pairs(graph, "matmul_packed", fusable, fuse)
